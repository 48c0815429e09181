//! Leases: how pull workers share a sweep's runs. A worker claims a pending
//! run (or one whose lease ran out: its worker died) and holds it for a
//! while, renewing as it trains; finishing checks the lease still holds
//! ([`crate::runs::finish`] with a worker), so each run is finished once.
//! Time is the database's clock, whatever the workers' clocks say.

use crate::db::{Val, args, transaction};
use crate::sql_store::SqlStore;
use crate::{Result, RunCounts, RunRecord, runs};

/// Claims the sweep's first claimable run for `worker`, leased for
/// `lease_seconds`; `None` when every run is finished or leased.
pub(crate) fn claim(store: &mut SqlStore, sweep: i64, worker: &str, lease_seconds: f64) -> Result<Option<RunRecord>> {
    let db = store.db.as_ref();
    let backend = db.backend();
    let (now, skip_locked) = (backend.now(), backend.skip_locked());
    // Runs logged as they train are `running` without a lease: `lease_until < now`
    // is never true for them. Queued runs of parameters are claimed like architectures.
    let claimed = transaction(db, || {
        // Two probes, each an index range (sweep, status, idx): a run whose lease ran out
        // first (its worker died: it has waited longest), else the first pending one.
        db.query(
            &format!(
                "UPDATE runs SET status = 'running', worker = ?2, lease_until = {now} + ?3, claims = claims + 1
                 WHERE id = COALESCE(
                     (SELECT id FROM runs WHERE sweep = ?1 AND status = 'running' AND lease_until < {now}
                      ORDER BY idx LIMIT 1 {skip_locked}),
                     (SELECT id FROM runs WHERE sweep = ?1 AND status = 'pending' ORDER BY idx LIMIT 1 {skip_locked}))
                 RETURNING id"
            ),
            &[Val::Int(sweep), worker.into(), Val::Real(lease_seconds)],
        )
    })?;
    match claimed.first() {
        Some(row) => runs::by_id(store, row.int(0)?),
        None => Ok(None),
    }
}

/// How the sweep's runs stand, counted by the database in one query (no run is read).
pub(crate) fn counts(store: &SqlStore, sweep: i64) -> Result<RunCounts> {
    let rows = store.db.query(
        "SELECT status, CASE WHEN lease_until IS NULL THEN 0 ELSE 1 END, COUNT(*) FROM runs WHERE sweep = ?1 GROUP BY 1, 2",
        args![sweep],
    )?;
    let mut counts = RunCounts::default();
    for r in &rows {
        let n = r.int(2)? as usize;
        match (r.text(0)?.as_str(), r.int(1)? == 1) {
            ("pending", _) => counts.pending += n,
            ("running", true) => counts.leased += n,
            ("running", false) => counts.logging += n,
            _ => counts.finished += n,
        }
    }
    Ok(counts)
}

/// Extends `worker`'s lease on `run`; `false` if it no longer holds it.
pub(crate) fn renew(store: &mut SqlStore, run: i64, worker: &str, lease_seconds: f64) -> Result<bool> {
    let now = store.db.backend().now();
    let changed = store.db.exec(
        &format!("UPDATE runs SET lease_until = {now} + ?3 WHERE id = ?1 AND worker = ?2 AND status = 'running'"),
        &[Val::Int(run), worker.into(), Val::Real(lease_seconds)],
    )?;
    Ok(changed == 1)
}

/// Gives `run` back (pending, no lease) if `worker` holds it: a worker that
/// stops cleanly leaves nothing to wait out.
pub(crate) fn release(store: &mut SqlStore, run: i64, worker: &str) -> Result<bool> {
    let changed = store.db.exec(
        "UPDATE runs SET status = 'pending', lease_until = NULL WHERE id = ?1 AND worker = ?2 AND status = 'running'",
        args![run, worker],
    )?;
    Ok(changed == 1)
}
