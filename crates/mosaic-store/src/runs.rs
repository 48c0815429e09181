//! The `runs`, `epochs` and `metrics` tables: each run's spec, status and
//! outcome, its metrics epoch by epoch, and named per-step values.

use mosaic_core::params::Params;
use mosaic_core::{ArchSpec, EpochMetrics, RunOutcome, RunStatus};

use crate::db::{Db, Row, Val, args, decode_f64s, encode_f64s, finite, transaction};
use crate::sql_store::SqlStore;
use std::path::Path;

use crate::{Result, RunConfig, RunFiles, RunRecord, StoreError, SweepInfo, SweepSpace};

/// Every run of a sweep, in plan order, with outcomes for finished ones.
pub(crate) fn of_sweep(store: &SqlStore, sweep: i64) -> Result<Vec<RunRecord>> {
    select(store, "WHERE sweep = ?1 ORDER BY idx", sweep)
}

/// One run by id; `None` if there is none.
pub(crate) fn by_id(store: &SqlStore, id: i64) -> Result<Option<RunRecord>> {
    Ok(select(store, "WHERE id = ?1", id)?.pop())
}

/// The runs `filter` (a `WHERE … ORDER BY …` over `runs` with one parameter) keeps.
fn select(store: &SqlStore, filter: &str, arg: i64) -> Result<Vec<RunRecord>> {
    let rows = store.db.query(
        &format!(
            "SELECT id, sweep, idx, spec, encoding, status, parameters, test_loss, test_accuracy, seconds, note, params, value
             FROM runs {filter}"
        ),
        args![arg],
    )?;
    rows.iter().map(|r| record(store, r)).collect()
}

fn record(store: &SqlStore, r: &Row) -> Result<RunRecord> {
    let id = r.int(0)?;
    let config = match r.opt_text(11)? {
        Some(json) => RunConfig::Parameters(
            serde_json::from_str::<Params>(&json).map_err(|e| store.invalid(format!("run {id}: unreadable parameters: {e}")))?,
        ),
        None => RunConfig::Architecture(
            ron::from_str::<ArchSpec>(&r.text(3)?).map_err(|e| store.invalid(format!("run {id}: unreadable spec: {e}")))?,
        ),
    };
    let status = r.text(5)?;
    let status = RunStatus::parse(&status).ok_or_else(|| store.invalid(format!("run {id}: unknown status `{status}`")))?;
    let outcome = if status.is_finished() {
        Some(RunOutcome {
            status,
            epochs: epochs(store, id)?,
            test_loss: r.opt_real(7)?,
            test_accuracy: r.opt_real(8)?,
            parameters: r.opt_int(6)?.unwrap_or(0) as u64,
            seconds: r.opt_real(9)?.unwrap_or(0.0),
            note: r.opt_text(10)?,
        })
    } else {
        None
    };
    Ok(RunRecord {
        id,
        sweep: r.int(1)?,
        index: r.int(2)? as usize,
        config,
        encoding: decode_f64s(&r.blob(4)?),
        status,
        outcome,
        value: r.opt_real(12)?,
    })
}

/// A run's epochs so far, in order (also while it is in progress); a missing
/// number (stored NULL) reads as NaN.
pub(crate) fn epochs(store: &SqlStore, run: i64) -> Result<Vec<EpochMetrics>> {
    let rows = store.db.query(
        "SELECT epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm, weight_norm, learning_rate, seconds
         FROM epochs WHERE run = ?1 ORDER BY epoch",
        args![run],
    )?;
    rows.iter()
        .map(|r| {
            Ok(EpochMetrics {
                epoch: r.int(0)? as u32,
                train_loss: r.real_or_nan(1)?,
                train_accuracy: r.real_or_nan(2)?,
                val_loss: r.real_or_nan(3)?,
                val_accuracy: r.real_or_nan(4)?,
                grad_norm: r.real_or_nan(5)?,
                weight_norm: r.real_or_nan(6)?,
                learning_rate: r.real(7)?,
                seconds: r.real(8)?,
            })
        })
        .collect()
}

/// Refuses a new run whose id already has files: the database that knew
/// them was replaced or lost, and training would write over them. Called
/// inside the transaction that creates the run, so nothing is created.
pub(crate) fn refuse_unknown_files(files: &Path, run: i64) -> Result<()> {
    let dir = RunFiles::new(files, run).dir().to_path_buf();
    let holds_files = std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some());
    if holds_files {
        let runs = files.join("runs");
        return Err(StoreError::UnknownRunFiles { dir: dir.display().to_string(), runs: runs.display().to_string() });
    }
    Ok(())
}

/// Inserts a run after the sweep's last one (refused if files of an unknown
/// run already hold its id) and returns its id and index.
pub(crate) fn insert_next(
    db: &dyn Db,
    files: &Path,
    sweep: i64,
    spec: &str,
    encoding: &[f64],
    status: &str,
    params: Option<String>,
) -> Result<(i64, i64)> {
    let index = db.query_one("SELECT COALESCE(MAX(idx) + 1, 0) FROM runs WHERE sweep = ?1", args![sweep])?.int(0)?;
    let id = db
        .query_one(
            "INSERT INTO runs (sweep, idx, spec, encoding, status, params) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            args![sweep, index, spec, encode_f64s(encoding), status, params],
        )?
        .int(0)?;
    refuse_unknown_files(files, id)?;
    Ok((id, index))
}

/// Adds a run of a sweep of parameters after the sweep's last run: `running`
/// (logged as it trains), or `pending` (queued for a worker to claim).
pub(crate) fn add_with_params(store: &mut SqlStore, sweep: &SweepInfo, params: &Params, status: RunStatus) -> Result<RunRecord> {
    let SweepSpace::Parameters(space) = &sweep.space else {
        return Err(store.invalid(format!(
            "sweep `{}` is a sweep of architectures: its runs come from its plan (mosaic sweep), not from parameters",
            sweep.name
        )));
    };
    space.check(params).map_err(|e| StoreError::BadParams { sweep: sweep.name.clone(), message: e.to_string() })?;
    let encoding = space.encode(params);
    let json = serde_json::to_string(params).expect("parameters always serialise");
    let db = store.db.as_ref();
    let (id, index) = transaction(db, || insert_next(db, &store.root, sweep.id, "", &encoding, status.as_str(), Some(json)))?;
    Ok(RunRecord {
        id,
        sweep: sweep.id,
        index: index as usize,
        config: RunConfig::Parameters(params.clone()),
        encoding,
        status,
        outcome: None,
        value: None,
    })
}

/// Records (or replaces) one epoch of a run still in progress.
pub(crate) fn record_epoch(store: &mut SqlStore, run: i64, e: &EpochMetrics) -> Result<()> {
    let db = store.db.as_ref();
    transaction(db, || {
        let open = !db.query("SELECT 1 FROM runs WHERE id = ?1 AND status IN ('running', 'pending')", args![run])?.is_empty();
        if !open {
            return Err(store.invalid(format!("run {run} does not exist or has finished: its epochs can no longer change")));
        }
        insert_epoch(db, run, e)
    })
}

/// Writes one epoch's row (replacing one of the same number). Non-finite
/// numbers (a diverged loss) are stored as NULL and read back as NaN.
fn insert_epoch(db: &dyn Db, run: i64, e: &EpochMetrics) -> Result<()> {
    db.exec(
        "INSERT INTO epochs (run, epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm, weight_norm,
         learning_rate, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (run, epoch) DO UPDATE SET train_loss = excluded.train_loss, train_accuracy = excluded.train_accuracy,
         val_loss = excluded.val_loss, val_accuracy = excluded.val_accuracy, grad_norm = excluded.grad_norm,
         weight_norm = excluded.weight_norm, learning_rate = excluded.learning_rate, seconds = excluded.seconds",
        &[
            Val::Int(run),
            Val::Int(e.epoch.into()),
            finite(e.train_loss),
            finite(e.train_accuracy),
            finite(e.val_loss),
            finite(e.val_accuracy),
            finite(e.grad_norm),
            finite(e.weight_norm),
            Val::Real(e.learning_rate),
            Val::Real(e.seconds),
        ],
    )?;
    Ok(())
}

/// Records the objective a study reported for a run (`None`: none).
pub(crate) fn set_value(store: &mut SqlStore, run: i64, value: Option<f64>) -> Result<()> {
    let changed = store.db.exec("UPDATE runs SET value = ?2 WHERE id = ?1", &[Val::Int(run), value.map_or(Val::Null, finite)])?;
    if changed != 1 {
        return Err(store.invalid(format!("no run with id {run}")));
    }
    Ok(())
}

/// Records (or replaces) named per-step values of a run, in one transaction.
pub(crate) fn record_metrics(store: &mut SqlStore, run: i64, name: &str, values: &[(u32, f64)]) -> Result<()> {
    let db = store.db.as_ref();
    transaction(db, || {
        for (step, v) in values {
            db.exec(
                "INSERT INTO metrics (run, name, step, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (run, name, step) DO UPDATE SET value = excluded.value",
                &[Val::Int(run), name.into(), Val::Int((*step).into()), finite(*v)],
            )?;
        }
        Ok(())
    })
}

/// A run's named per-step values: (name, step, value), by name then step; NULL reads as NaN.
pub(crate) fn metrics(store: &SqlStore, run: i64) -> Result<Vec<(String, u32, f64)>> {
    let rows = store.db.query("SELECT name, step, value FROM metrics WHERE run = ?1 ORDER BY name, step", args![run])?;
    rows.iter().map(|r| Ok((r.text(0)?, r.int(1)? as u32, r.real_or_nan(2)?))).collect()
}

/// Records how a run ended, with all its epochs, in one transaction.
/// Non-finite numbers (a diverged loss) are stored as NULL and read back as NaN.
///
/// With `worker`, only while that worker holds the run's lease: `false`
/// (nothing stored) if the lease was lost, so a run is finished once.
pub(crate) fn finish(store: &mut SqlStore, run: i64, outcome: &RunOutcome, worker: Option<&str>) -> Result<bool> {
    let db = store.db.as_ref();
    let holder = if worker.is_some() { " AND worker = ?9 AND status = 'running'" } else { "" };
    transaction(db, || {
        let mut values = vec![
            Val::Int(run),
            outcome.status.as_str().into(),
            Val::Int(outcome.parameters as i64),
            outcome.test_loss.map_or(Val::Null, finite),
            outcome.test_accuracy.map_or(Val::Null, finite),
            Val::Real(outcome.seconds),
            outcome.note.clone().into(),
            outcome.val_accuracy().map_or(Val::Null, finite),
        ];
        values.extend(worker.map(Val::from));
        let changed = db.exec(
            &format!(
                "UPDATE runs SET status = ?2, parameters = ?3, test_loss = ?4, test_accuracy = ?5, seconds = ?6, note = ?7,
                 val_accuracy = ?8, lease_until = NULL WHERE id = ?1{holder}"
            ),
            &values,
        )?;
        if changed != 1 {
            return match worker {
                Some(_) if by_id(store, run)?.is_some() => Ok(false),
                _ => Err(store.invalid(format!("no run with id {run}"))),
            };
        }
        db.exec("DELETE FROM epochs WHERE run = ?1", args![run])?;
        for e in &outcome.epochs {
            insert_epoch(db, run, e)?;
        }
        Ok(true)
    })
}
