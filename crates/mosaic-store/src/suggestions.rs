//! The `suggestions` table: specs the meta-learner proposed for a sweep, and which were accepted as runs.

use mosaic_core::{ArchSpec, RunStatus};

use crate::db::{Val, args, decode_f64s, encode_f64s, transaction};
use crate::sql_store::SqlStore;
use crate::{Result, RunConfig, RunRecord, SuggestionRecord, runs, spec_to_ron};

/// Stores new suggestions for a sweep (replacing any not yet accepted) and returns them with their ids.
pub(crate) fn save(store: &mut SqlStore, sweep: i64, suggestions: &[SuggestionRecord]) -> Result<Vec<SuggestionRecord>> {
    if let Some(s) = suggestions.iter().find(|s| ![s.mean, s.std, s.score].iter().all(|v| v.is_finite())) {
        return Err(store.invalid(format!("suggestion {} has a non-finite prediction; nothing was stored", s.spec.label())));
    }
    let db = store.db.as_ref();
    transaction(db, || {
        db.exec("DELETE FROM suggestions WHERE sweep = ?1 AND run IS NULL", args![sweep])?;
        let mut out = Vec::with_capacity(suggestions.len());
        for s in suggestions {
            let id = db
                .query_one(
                    "INSERT INTO suggestions (sweep, spec, encoding, mean, std, score, strategy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     RETURNING id",
                    &[
                        Val::Int(sweep),
                        spec_to_ron(&s.spec).into(),
                        encode_f64s(&s.encoding).into(),
                        Val::Real(s.mean),
                        Val::Real(s.std),
                        Val::Real(s.score),
                        s.strategy.as_str().into(),
                    ],
                )?
                .int(0)?;
            out.push(SuggestionRecord { id, run: None, ..s.clone() });
        }
        Ok(out)
    })
}

/// A sweep's suggestions, oldest first; `pending_only` leaves out accepted ones.
pub(crate) fn of_sweep(store: &SqlStore, sweep: i64, pending_only: bool) -> Result<Vec<SuggestionRecord>> {
    let filter = if pending_only { "AND run IS NULL" } else { "" };
    let rows = store.db.query(
        &format!("SELECT id, spec, encoding, mean, std, score, strategy, run FROM suggestions WHERE sweep = ?1 {filter} ORDER BY id"),
        args![sweep],
    )?;
    rows.iter()
        .map(|r| {
            let id = r.int(0)?;
            let spec: ArchSpec = ron::from_str(&r.text(1)?).map_err(|e| store.invalid(format!("suggestion {id}: unreadable spec: {e}")))?;
            Ok(SuggestionRecord {
                id,
                spec,
                encoding: decode_f64s(&r.blob(2)?),
                mean: r.real(3)?,
                std: r.real(4)?,
                score: r.real(5)?,
                strategy: r.text(6)?,
                run: r.opt_int(7)?,
            })
        })
        .collect()
}

/// Adds the pending suggestions `ids` to the sweep as pending runs (after the
/// last run), in one transaction; returns each accepted suggestion's id with
/// its new run. Ids that are unknown or already accepted are skipped.
pub(crate) fn accept(store: &mut SqlStore, sweep: i64, ids: &[i64]) -> Result<Vec<(i64, RunRecord)>> {
    let pending = of_sweep(store, sweep, true)?;
    let db = store.db.as_ref();
    transaction(db, || {
        let mut accepted = Vec::new();
        for s in pending.iter().filter(|s| ids.contains(&s.id)) {
            let (id, index) = runs::insert_next(db, &store.root, sweep, &spec_to_ron(&s.spec), &s.encoding, "pending", None)?;
            db.exec("UPDATE suggestions SET run = ?2 WHERE id = ?1", args![s.id, id])?;
            let run = RunRecord {
                id,
                sweep,
                index: index as usize,
                config: RunConfig::Architecture(s.spec.clone()),
                encoding: s.encoding.clone(),
                status: RunStatus::Pending,
                outcome: None,
                value: None,
            };
            accepted.push((s.id, run));
        }
        Ok(accepted)
    })
}
