//! The `runs` and `epochs` tables: each run's spec, status and outcome, and its metrics epoch by epoch.

use mosaic_core::params::Params;
use mosaic_core::{ArchSpec, EpochMetrics, RunOutcome, RunStatus};
use rusqlite::params;

use crate::sqlite::{SqliteStore, decode_f64s, encode_f64s, sql_error};
use crate::{Result, RunConfig, RunRecord, StoreError, SweepInfo, SweepSpace};

/// Every run of a sweep, in plan order, with outcomes for finished ones.
pub(crate) fn of_sweep(store: &SqliteStore, sweep: i64) -> Result<Vec<RunRecord>> {
    select(store, "WHERE sweep = ?1 ORDER BY idx", sweep)
}

/// One run by id; `None` if there is none.
pub(crate) fn by_id(store: &SqliteStore, id: i64) -> Result<Option<RunRecord>> {
    Ok(select(store, "WHERE id = ?1", id)?.pop())
}

/// The runs `filter` (a `WHERE … ORDER BY …` over `runs` with one parameter) keeps.
fn select(store: &SqliteStore, filter: &str, arg: i64) -> Result<Vec<RunRecord>> {
    let mut stmt = store
        .conn
        .prepare(&format!(
            "SELECT id, sweep, idx, spec, encoding, status, parameters, test_loss, test_accuracy, seconds, note, params, value
             FROM runs {filter}"
        ))
        .map_err(store.sql())?;
    let rows = stmt
        .query_map([arg], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?),
                (r.get::<_, String>(3)?, r.get::<_, Vec<u8>>(4)?, r.get::<_, String>(5)?),
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<f64>>(7)?,
                r.get::<_, Option<f64>>(8)?,
                r.get::<_, Option<f64>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
                r.get::<_, Option<f64>>(12)?,
            ))
        })
        .map_err(store.sql())?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, sweep, idx), (spec, encoding, status), parameters, test_loss, test_accuracy, seconds, note, params, value) =
            row.map_err(store.sql())?;
        let config = match params {
            Some(json) => RunConfig::Parameters(
                serde_json::from_str::<Params>(&json).map_err(|e| store.invalid(format!("run {id}: unreadable parameters: {e}")))?,
            ),
            None => RunConfig::Architecture(
                ron::from_str::<ArchSpec>(&spec).map_err(|e| store.invalid(format!("run {id}: unreadable spec: {e}")))?,
            ),
        };
        let status = RunStatus::parse(&status).ok_or_else(|| store.invalid(format!("run {id}: unknown status `{status}`")))?;
        let outcome = if status.is_finished() {
            Some(RunOutcome {
                status,
                epochs: epochs(store, id)?,
                test_loss,
                test_accuracy,
                parameters: parameters.unwrap_or(0) as u64,
                seconds: seconds.unwrap_or(0.0),
                note,
            })
        } else {
            None
        };
        out.push(RunRecord { id, sweep, index: idx as usize, config, encoding: decode_f64s(&encoding), status, outcome, value });
    }
    Ok(out)
}

/// A run's epochs, in order; a missing number (stored NULL) reads as NaN.
fn epochs(store: &SqliteStore, run: i64) -> Result<Vec<EpochMetrics>> {
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm, weight_norm, learning_rate, seconds
             FROM epochs WHERE run = ?1 ORDER BY epoch",
        )
        .map_err(store.sql())?;
    let rows = stmt
        .query_map([run], |r| {
            Ok(EpochMetrics {
                epoch: r.get::<_, i64>(0)? as u32,
                train_loss: r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                train_accuracy: r.get::<_, Option<f64>>(2)?.unwrap_or(f64::NAN),
                val_loss: r.get::<_, Option<f64>>(3)?.unwrap_or(f64::NAN),
                val_accuracy: r.get::<_, Option<f64>>(4)?.unwrap_or(f64::NAN),
                grad_norm: r.get::<_, Option<f64>>(5)?.unwrap_or(f64::NAN),
                weight_norm: r.get::<_, Option<f64>>(6)?.unwrap_or(f64::NAN),
                learning_rate: r.get(7)?,
                seconds: r.get(8)?,
            })
        })
        .map_err(store.sql())?;
    rows.collect::<std::result::Result<_, _>>().map_err(store.sql())
}

/// Adds a run of a sweep of parameters, `running`, after the sweep's last run.
pub(crate) fn add_with_params(store: &mut SqliteStore, sweep: &SweepInfo, params: &Params) -> Result<RunRecord> {
    let SweepSpace::Parameters(space) = &sweep.space else {
        return Err(store.invalid(format!(
            "sweep `{}` is a sweep of architectures: its runs come from its plan (mosaic sweep), not from parameters",
            sweep.name
        )));
    };
    space.check(params).map_err(|e| StoreError::BadParams { sweep: sweep.name.clone(), message: e.to_string() })?;
    let encoding = space.encode(params);
    let json = serde_json::to_string(params).expect("parameters always serialise");
    let sql = sql_error(&store.db);
    let tx = store.conn.transaction().map_err(&sql)?;
    let index: i64 = tx.query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM runs WHERE sweep = ?1", [sweep.id], |r| r.get(0)).map_err(&sql)?;
    tx.execute(
        "INSERT INTO runs (sweep, idx, spec, encoding, status, params) VALUES (?1, ?2, '', ?3, 'running', ?4)",
        params![sweep.id, index, encode_f64s(&encoding), json],
    )
    .map_err(&sql)?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(&sql)?;
    Ok(RunRecord {
        id,
        sweep: sweep.id,
        index: index as usize,
        config: RunConfig::Parameters(params.clone()),
        encoding,
        status: RunStatus::Running,
        outcome: None,
        value: None,
    })
}

/// Records (or replaces) one epoch of a run still in progress.
pub(crate) fn record_epoch(store: &mut SqliteStore, run: i64, e: &EpochMetrics) -> Result<()> {
    let sql = sql_error(&store.db);
    let tx = store.conn.transaction().map_err(&sql)?;
    let open: bool = tx
        .prepare("SELECT 1 FROM runs WHERE id = ?1 AND status IN ('running', 'pending')")
        .and_then(|mut stmt| stmt.exists([run]))
        .map_err(&sql)?;
    if !open {
        return Err(StoreError::Invalid {
            path: store.db.clone(),
            message: format!("run {run} does not exist or has finished: its epochs can no longer change"),
        });
    }
    insert_epoch(&tx, run, e).map_err(&sql)?;
    tx.commit().map_err(&sql)
}

/// Writes one epoch's row (replacing one of the same number). Non-finite
/// numbers (a diverged loss) are stored as NULL and read back as NaN.
fn insert_epoch(conn: &rusqlite::Connection, run: i64, e: &EpochMetrics) -> rusqlite::Result<usize> {
    let finite = |v: f64| v.is_finite().then_some(v);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO epochs (run, epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm,
         weight_norm, learning_rate, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        run,
        e.epoch,
        finite(e.train_loss),
        finite(e.train_accuracy),
        finite(e.val_loss),
        finite(e.val_accuracy),
        finite(e.grad_norm),
        finite(e.weight_norm),
        e.learning_rate,
        e.seconds
    ])
}

/// Records the objective a study reported for a run (`None`: none).
pub(crate) fn set_value(store: &mut SqliteStore, run: i64, value: Option<f64>) -> Result<()> {
    let changed = store
        .conn
        .execute("UPDATE runs SET value = ?2 WHERE id = ?1", params![run, value.filter(|v| v.is_finite())])
        .map_err(store.sql())?;
    if changed != 1 {
        return Err(store.invalid(format!("no run with id {run}")));
    }
    Ok(())
}

/// Records (or replaces) named per-step values of a run, in one transaction.
pub(crate) fn record_metrics(store: &mut SqliteStore, run: i64, name: &str, values: &[(u32, f64)]) -> Result<()> {
    let sql = sql_error(&store.db);
    let tx = store.conn.transaction().map_err(&sql)?;
    {
        let mut insert = tx.prepare("INSERT OR REPLACE INTO metrics (run, name, step, value) VALUES (?1, ?2, ?3, ?4)").map_err(&sql)?;
        for (step, v) in values {
            insert.execute(params![run, name, step, v.is_finite().then_some(*v)]).map_err(&sql)?;
        }
    }
    tx.commit().map_err(&sql)
}

/// A run's named per-step values: (name, step, value), by name then step; NULL reads as NaN.
pub(crate) fn metrics(store: &SqliteStore, run: i64) -> Result<Vec<(String, u32, f64)>> {
    let mut stmt =
        store.conn.prepare_cached("SELECT name, step, value FROM metrics WHERE run = ?1 ORDER BY name, step").map_err(store.sql())?;
    let rows = stmt
        .query_map([run], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u32, r.get::<_, Option<f64>>(2)?.unwrap_or(f64::NAN))))
        .map_err(store.sql())?;
    rows.collect::<std::result::Result<_, _>>().map_err(store.sql())
}

/// A run's epochs so far (also for runs still in progress).
pub(crate) fn epochs_of(store: &SqliteStore, run: i64) -> Result<Vec<EpochMetrics>> {
    epochs(store, run)
}

/// Records how a run ended, with all its epochs, in one transaction.
/// Non-finite numbers (a diverged loss) are stored as NULL and read back as NaN.
pub(crate) fn finish(store: &mut SqliteStore, run: i64, outcome: &RunOutcome) -> Result<()> {
    let sql = sql_error(&store.db);
    let finite = |v: f64| v.is_finite().then_some(v);
    let tx = store.conn.transaction().map_err(&sql)?;
    tx.execute("DELETE FROM epochs WHERE run = ?1", [run]).map_err(&sql)?;
    for e in &outcome.epochs {
        insert_epoch(&tx, run, e).map_err(&sql)?;
    }
    let changed = tx
        .execute(
            "UPDATE runs SET status = ?2, parameters = ?3, test_loss = ?4, test_accuracy = ?5, seconds = ?6, note = ?7,
             val_accuracy = ?8 WHERE id = ?1",
            params![
                run,
                outcome.status.as_str(),
                outcome.parameters as i64,
                outcome.test_loss.and_then(finite),
                outcome.test_accuracy.and_then(finite),
                outcome.seconds,
                outcome.note,
                outcome.val_accuracy().and_then(finite)
            ],
        )
        .map_err(&sql)?;
    if changed != 1 {
        return Err(StoreError::Invalid { path: store.db.clone(), message: format!("no run with id {run}") });
    }
    tx.commit().map_err(&sql)
}
