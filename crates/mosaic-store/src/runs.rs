//! The `runs` and `epochs` tables: each run's spec, status and outcome, and its metrics epoch by epoch.

use mosaic_core::{ArchSpec, EpochMetrics, RunOutcome, RunStatus};
use rusqlite::params;

use crate::sqlite::{SqliteStore, decode_f64s, sql_error};
use crate::{Result, RunRecord, StoreError};

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
            "SELECT id, sweep, idx, spec, encoding, status, parameters, test_loss, test_accuracy, seconds, note
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
            ))
        })
        .map_err(store.sql())?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, sweep, idx), (spec, encoding, status), parameters, test_loss, test_accuracy, seconds, note) = row.map_err(store.sql())?;
        let spec: ArchSpec = ron::from_str(&spec).map_err(|e| store.invalid(format!("run {id}: unreadable spec: {e}")))?;
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
        out.push(RunRecord { id, sweep, index: idx as usize, spec, encoding: decode_f64s(&encoding), status, outcome });
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

/// Records how a run ended, with all its epochs, in one transaction.
/// Non-finite numbers (a diverged loss) are stored as NULL and read back as NaN.
pub(crate) fn finish(store: &mut SqliteStore, run: i64, outcome: &RunOutcome) -> Result<()> {
    let sql = sql_error(&store.db);
    let finite = |v: f64| v.is_finite().then_some(v);
    let tx = store.conn.transaction().map_err(&sql)?;
    tx.execute("DELETE FROM epochs WHERE run = ?1", [run]).map_err(&sql)?;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO epochs (run, epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm,
                 weight_norm, learning_rate, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(&sql)?;
        for e in &outcome.epochs {
            insert
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
                .map_err(&sql)?;
        }
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
