//! The store's operations, as the rest of NeuroMosaic uses them: a trait,
//! so callers hold any backend (a folder's SQLite, a shared PostgreSQL) alike.

use std::io::Write;
use std::path::{Path, PathBuf};

use mosaic_core::params::{ParamSpace, Params};
use mosaic_core::{EpochMetrics, RunOutcome};

use crate::{
    Embedding, EmbeddingKind, Feature, Result, RunCounts, RunFiles, RunRecord, StoreError, SuggestionRecord, SweepInfo, SweepPlan,
};

/// An experiment store: sweeps, their runs and epochs, embeddings,
/// suggestions and features, and a folder for the runs' files.
///
/// Object safe (`&mut dyn Store`, `Box<dyn Store>`) and `Send` (a store is
/// handed to the thread that trains into it). Each method that changes
/// something is atomic: it happens whole or not at all.
pub trait Store: Send {
    /// The folder of the run files (`runs/<id>/`): the store's folder, or a shared store's files folder.
    fn root(&self) -> &Path;

    /// How messages name the store: its folder, or its URL without the password.
    fn location(&self) -> String {
        self.root().display().to_string()
    }

    /// Claims the store for training: one process trains into a store at a
    /// time (two would train the same pending runs). Held until dropped; the
    /// operating system releases it if the process dies.
    fn lock_for_training(&self) -> Result<TrainingLock>;

    /// The names of a run's files (`runs/<id>/…`); creates nothing.
    fn run_files(&self, run: i64) -> RunFiles {
        RunFiles::new(self.root(), run)
    }

    /// Folder for a run's files, created if needed.
    fn run_dir(&self, run: i64) -> Result<PathBuf> {
        let files = self.run_files(run);
        files.create().map_err(|source| StoreError::Io { path: files.dir().display().to_string(), source })?;
        Ok(files.dir().to_path_buf())
    }

    /// Records a sweep and all its runs as pending, in one transaction.
    fn create_sweep(&mut self, plan: &SweepPlan) -> Result<SweepInfo>;

    /// Records a sweep of the user's own parameters (`dataset`: what its runs
    /// train on, in the user's words), with no runs yet. Refused if the name is taken.
    fn create_param_sweep(&mut self, name: &str, dataset: &str, space: &ParamSpace) -> Result<SweepInfo>;

    /// Adds a run of a sweep of parameters, `running`, after its last run;
    /// the parameters are checked against the sweep's space.
    fn add_run(&mut self, sweep: &SweepInfo, params: &Params) -> Result<RunRecord>;

    /// Queues a run of a sweep of parameters, `pending`, for a worker to
    /// claim ([`Store::claim_run`]): a study's suggestions handed to workers
    /// that train them (the Python client's `Sweep.enqueue`).
    fn queue_run(&mut self, sweep: &SweepInfo, params: &Params) -> Result<RunRecord>;

    /// Records (or replaces) one epoch of a run still in progress, at once
    /// visible to every reader (the explorer shows a sweep as it is logged).
    fn record_epoch(&mut self, run: i64, epoch: &EpochMetrics) -> Result<()>;

    /// A run's epochs so far, in order (also while it is in progress).
    fn epochs(&self, run: i64) -> Result<Vec<EpochMetrics>>;

    /// Records the objective a study reported for a run (an Optuna trial's value; `None`: none).
    fn set_run_value(&mut self, run: i64, value: Option<f64>) -> Result<()>;

    /// Records (or replaces) named per-step values of a run beyond its epochs'
    /// columns (an Optuna trial's intermediate values), in one transaction.
    fn record_metrics(&mut self, run: i64, name: &str, values: &[(u32, f64)]) -> Result<()>;

    /// A run's named per-step values: (name, step, value), by name then step.
    fn metrics(&self, run: i64) -> Result<Vec<(String, u32, f64)>>;

    /// Every sweep, oldest first.
    fn sweeps(&self) -> Result<Vec<SweepInfo>>;

    /// The sweep called `name`, if there is one.
    fn sweep_by_name(&self, name: &str) -> Result<Option<SweepInfo>>;

    /// The sweep called `name`, or with no name the store's only sweep. The
    /// error says what the store holds: no sweep, the names to pick from
    /// (`pass --sweep NAME`), or the names beside an unknown one.
    fn sweep(&self, name: Option<&str>) -> Result<SweepInfo> {
        let path = self.location();
        let sweeps = self.sweeps()?;
        let names = || sweeps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
        match name {
            Some(name) => match sweeps.iter().find(|s| s.name == name) {
                Some(s) => Ok(s.clone()),
                None => Err(StoreError::UnknownSweep { path, name: name.to_string(), names: names() }),
            },
            None => match sweeps.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(StoreError::NoSweep { path }),
                many => Err(StoreError::WhichSweep { path, count: many.len(), names: names() }),
            },
        }
    }

    /// Records what a sweep was trained on (the data fingerprint and the example
    /// count), for sweeps made before that was recorded.
    fn set_sweep_data(&mut self, sweep: i64, data: &str, examples: usize) -> Result<()>;

    /// Every run of a sweep, in plan order, with outcomes for finished ones.
    fn runs(&self, sweep: i64) -> Result<Vec<RunRecord>>;

    /// One run by id, with its outcome if it finished; `None` if the store has no such run.
    fn run(&self, id: i64) -> Result<Option<RunRecord>>;

    /// Records how a run ended, with all its epochs, in one transaction.
    /// Non-finite numbers (a diverged loss) are stored as missing and read back as NaN.
    fn finish_run(&mut self, run: i64, outcome: &RunOutcome) -> Result<()>;

    /// Writes one row per run of a sweep (spec knobs, then final metrics) as
    /// CSV, for pandas and Optuna users (see [`crate::write_csv`]).
    fn export_csv(&self, sweep: i64, out: &mut dyn Write) -> Result<()> {
        crate::write_csv(&self.runs(sweep)?, out)
    }

    /// Replaces a sweep's embedding of one kind with `coords` (run id,
    /// position), made with diffusion time `t`; refused whole if a coordinate is not finite.
    fn save_embedding(&mut self, sweep: i64, kind: EmbeddingKind, t: usize, coords: &[(i64, [f64; 3])]) -> Result<()>;

    /// A sweep's stored embedding of one kind: the t used, and run ids with coordinates (by run id).
    fn embedding(&self, sweep: i64, kind: EmbeddingKind) -> Result<Option<Embedding>>;

    /// Stores new suggestions for a sweep (replacing any not yet accepted) and returns them with their ids.
    fn save_suggestions(&mut self, sweep: i64, suggestions: &[SuggestionRecord]) -> Result<Vec<SuggestionRecord>>;

    /// A sweep's suggestions, oldest first; `pending_only` leaves out accepted ones.
    fn suggestions(&self, sweep: i64, pending_only: bool) -> Result<Vec<SuggestionRecord>>;

    /// Adds the pending suggestions `ids` to the sweep as pending runs (after
    /// the last run), in one transaction; returns each accepted suggestion's
    /// id with its new run. Ids that are unknown or already accepted are skipped.
    fn accept_suggestions(&mut self, sweep: i64, ids: &[i64]) -> Result<Vec<(i64, RunRecord)>>;

    /// Replaces one named feature (e.g. `class separation`) of a sweep's runs;
    /// non-finite values are stored as missing and read back as NaN.
    fn save_feature(&mut self, sweep: i64, name: &str, values: &[(i64, f64)]) -> Result<()>;

    /// Every stored feature of a sweep: name, then (run, value) pairs, by name and run.
    fn features(&self, sweep: i64) -> Result<Vec<Feature>>;

    /// Claims the sweep's next run for `worker` (a pending one, or one whose
    /// lease ran out because its worker died), leased for `lease_seconds` of
    /// the database's clock; `None` when every run is finished or leased.
    /// Concurrent claimers never get the same run. Runs logged as they train
    /// ([`Store::add_run`]) hold no lease and are never claimed.
    fn claim_run(&mut self, sweep: i64, worker: &str, lease_seconds: f64) -> Result<Option<RunRecord>>;

    /// How the sweep's runs stand (pending, leased, logged elsewhere,
    /// finished), counted without reading them: what a worker starting or
    /// waiting looks at.
    fn run_counts(&self, sweep: i64) -> Result<RunCounts>;

    /// Extends `worker`'s lease on `run`; `false` if the lease was lost (it
    /// ran out and another worker claimed the run).
    fn renew_lease(&mut self, run: i64, worker: &str, lease_seconds: f64) -> Result<bool>;

    /// [`Store::finish_run`], only while `worker` holds the run's lease;
    /// `false` (nothing stored) if it lost it: a run is finished once.
    fn finish_leased_run(&mut self, run: i64, worker: &str, outcome: &RunOutcome) -> Result<bool>;

    /// Gives a claimed run back, pending, if `worker` holds it (a worker that stops cleanly).
    fn release_run(&mut self, run: i64, worker: &str) -> Result<bool>;
}

/// Proof that this process may train into a store (see [`Store::lock_for_training`]).
/// Whatever the backend holds to keep the claim (a locked file, a database
/// session) is released when this is dropped.
pub struct TrainingLock {
    _held: Box<dyn Send + Sync>,
}

impl TrainingLock {
    /// A claim kept for as long as `held` lives (for backends: a locked file, a session).
    pub fn new(held: impl Send + Sync + 'static) -> TrainingLock {
        TrainingLock { _held: Box::new(held) }
    }
}

impl std::fmt::Debug for TrainingLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrainingLock")
    }
}
