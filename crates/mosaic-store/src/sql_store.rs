//! [`SqlStore`]: the [`Store`] over either database. A folder opens its
//! SQLite file; a `postgres://` URL opens a shared PostgreSQL store. The
//! queries live with their tables (`sweeps`, `runs`, …) and run on both.

use std::path::{Path, PathBuf};

use mosaic_core::params::{ParamSpace, Params};
use mosaic_core::{EpochMetrics, RunOutcome, RunStatus};

use crate::db::{Db, args};
use crate::postgres::{FinishedRuns, PgLocation, PostgresDb, is_postgres};
use crate::sqlite::SqliteDb;
use crate::store::{Store, TrainingLock};
use crate::{DB_FILE, Embedding, EmbeddingKind, Feature, Result, RunCounts, RunRecord, StoreError, SuggestionRecord, SweepInfo, SweepPlan};
use crate::{embeddings, features, leases, runs, suggestions, sweeps};

/// An experiment store: the records in SQLite (a folder's `mosaic.sqlite`) or
/// PostgreSQL (shared by many machines), the run files in a folder.
pub struct SqlStore {
    /// Where the run files live: the store's folder, or a shared store's `files` folder.
    pub(crate) root: PathBuf,
    pub(crate) db: Box<dyn Db>,
    /// How to reach a PostgreSQL store again (for the training lock's own session).
    postgres: Option<PgLocation>,
}

/// Opens the store at `location` (a folder, created if needed, or a
/// `postgres://` URL), for callers that do not care about the backend.
pub fn open(location: &Path) -> Result<Box<dyn Store>> {
    Ok(Box::new(SqlStore::open(location)?))
}

/// Opens a store that must exist already, for callers that do not care about the backend.
pub fn open_existing(location: &Path) -> Result<Box<dyn Store>> {
    Ok(Box::new(SqlStore::open_existing(location)?))
}

impl SqlStore {
    /// Opens the store at `location`, creating it if needed and bringing an
    /// older database's tables up to date. A folder holds a SQLite store; a
    /// `postgres://USER@HOST/DB?files=/shared/dir` URL a shared one.
    pub fn open(location: &Path) -> Result<SqlStore> {
        if is_postgres(location) {
            return SqlStore::open_postgres(location, true);
        }
        let shown = location.display().to_string();
        std::fs::create_dir_all(location).map_err(|source| StoreError::Io { path: shown, source })?;
        Ok(SqlStore { root: location.to_path_buf(), db: Box::new(SqliteDb::open(location)?), postgres: None })
    }

    /// Opens a store that must exist already: reading never creates one, so
    /// a mistyped folder or database is reported instead of opened empty.
    pub fn open_existing(location: &Path) -> Result<SqlStore> {
        if is_postgres(location) {
            return SqlStore::open_postgres(location, false);
        }
        if !location.join(DB_FILE).is_file() {
            return Err(StoreError::NotAStore { path: location.display().to_string() });
        }
        SqlStore::open(location)
    }

    fn open_postgres(location: &Path, create: bool) -> Result<SqlStore> {
        let loc = PgLocation::parse(location)?;
        if !create {
            let mut client = loc.connect()?;
            let exists: bool = client
                .query_one("SELECT to_regclass('mosaic_schema') IS NOT NULL", &[])
                .and_then(|r| r.try_get(0))
                .map_err(|e| StoreError::Postgres { url: loc.shown.clone(), message: crate::postgres::describe(&e) })?;
            if !exists {
                return Err(StoreError::EmptyDatabase { url: loc.shown.clone() });
            }
        }
        let db = PostgresDb::open(&loc)?;
        let root = shared_files(&db, loc.files.as_deref(), create)?;
        Ok(SqlStore { root, db: Box::new(db), postgres: Some(loc) })
    }

    /// A data problem in the store (an unreadable spec, an unknown status).
    pub(crate) fn invalid(&self, message: String) -> StoreError {
        StoreError::Invalid { path: self.db.shown().to_string(), message }
    }

    /// A shared store's announcements of the sweep's runs finished by any
    /// process from now on; `None` for a folder store (one process trains it).
    pub fn finished_runs(&self, sweep: i64) -> Result<Option<FinishedRuns>> {
        self.postgres.as_ref().map(|loc| FinishedRuns::listen(loc, sweep)).transpose()
    }
}

/// The shared folder for a PostgreSQL store's run files: recorded in the
/// store the first time it is named (`?files=`), checked on every open.
fn shared_files(db: &PostgresDb, named: Option<&Path>, writable: bool) -> Result<PathBuf> {
    let invalid = |message: String| StoreError::Invalid { path: db.shown().to_string(), message };
    let recorded = |db: &PostgresDb| -> Result<Option<PathBuf>> {
        Ok(db.query("SELECT value FROM settings WHERE key = 'files'", &[])?.first().map(|r| r.text(0)).transpose()?.map(PathBuf::from))
    };
    let dir = match (recorded(db)?, named) {
        (Some(kept), Some(named)) if kept != named => {
            return Err(invalid(format!(
                "this store keeps its run files in {}, not {}: leave files= out of the URL (or move the files and the store with `mosaic store copy`)",
                kept.display(),
                named.display()
            )));
        }
        (Some(kept), _) => kept,
        (None, Some(named)) => {
            if !named.is_absolute() {
                return Err(invalid(format!(
                    "files={} is not an absolute path: name the shared folder as every machine sees it, e.g. files=/shared/mosaic",
                    named.display()
                )));
            }
            // Checked before it is recorded: a folder this machine cannot use is not made the store's.
            check_folder(named, true).map_err(|why| invalid(format!("the run files folder {}: {why}", named.display())))?;
            db.exec(
                "INSERT INTO settings (key, value) VALUES ('files', ?1) ON CONFLICT (key) DO NOTHING",
                args![named.display().to_string()],
            )?;
            // Two first openers at once: the one recorded first wins, and the other is checked against it.
            return shared_files(db, Some(named), writable);
        }
        (None, None) => {
            return Err(invalid(
                "name the shared folder for run files once: add ?files=/shared/dir to the URL (every worker must see it at that path)"
                    .into(),
            ));
        }
    };
    check_folder(&dir, writable).map_err(|why| invalid(format!("the run files folder {}: {why}", dir.display())))?;
    Ok(dir)
}

/// Whether the shared folder is there (and, for writers, writable from this machine).
fn check_folder(dir: &Path, writable: bool) -> std::result::Result<(), String> {
    if !writable {
        return if dir.is_dir() { Ok(()) } else { Err("is not there: mount the shared file system on this machine".into()) };
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot be created ({e}): mount the shared file system, or fix its permissions"))?;
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| format!("is not writable from this machine ({e}): fix its permissions"))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

impl Store for SqlStore {
    fn root(&self) -> &Path {
        &self.root
    }

    fn location(&self) -> String {
        match &self.postgres {
            Some(loc) => loc.shown.clone(),
            None => self.root.display().to_string(),
        }
    }

    fn lock_for_training(&self) -> Result<TrainingLock> {
        match &self.postgres {
            Some(loc) => crate::postgres::lock_for_training(loc),
            None => crate::sqlite::lock_for_training(&self.root),
        }
    }

    fn create_sweep(&mut self, plan: &SweepPlan) -> Result<SweepInfo> {
        sweeps::create(self, plan)
    }

    fn sweeps(&self) -> Result<Vec<SweepInfo>> {
        sweeps::all(self)
    }

    fn sweep_by_name(&self, name: &str) -> Result<Option<SweepInfo>> {
        sweeps::by_name(self, name)
    }

    fn set_sweep_data(&mut self, sweep: i64, data: &str, examples: usize) -> Result<()> {
        sweeps::set_data(self, sweep, data, examples)
    }

    fn runs(&self, sweep: i64) -> Result<Vec<RunRecord>> {
        runs::of_sweep(self, sweep)
    }

    fn run(&self, id: i64) -> Result<Option<RunRecord>> {
        runs::by_id(self, id)
    }

    fn finish_run(&mut self, run: i64, outcome: &RunOutcome) -> Result<()> {
        runs::finish(self, run, outcome, None).map(|_| ())
    }

    fn save_embedding(&mut self, sweep: i64, kind: EmbeddingKind, t: usize, coords: &[(i64, [f64; 3])]) -> Result<()> {
        embeddings::save(self, sweep, kind, t, coords)
    }

    fn embedding(&self, sweep: i64, kind: EmbeddingKind) -> Result<Option<Embedding>> {
        embeddings::load(self, sweep, kind)
    }

    fn save_suggestions(&mut self, sweep: i64, suggestions: &[SuggestionRecord]) -> Result<Vec<SuggestionRecord>> {
        suggestions::save(self, sweep, suggestions)
    }

    fn suggestions(&self, sweep: i64, pending_only: bool) -> Result<Vec<SuggestionRecord>> {
        suggestions::of_sweep(self, sweep, pending_only)
    }

    fn accept_suggestions(&mut self, sweep: i64, ids: &[i64]) -> Result<Vec<(i64, RunRecord)>> {
        suggestions::accept(self, sweep, ids)
    }

    fn save_feature(&mut self, sweep: i64, name: &str, values: &[(i64, f64)]) -> Result<()> {
        features::save(self, sweep, name, values)
    }

    fn features(&self, sweep: i64) -> Result<Vec<Feature>> {
        features::of_sweep(self, sweep)
    }

    fn create_param_sweep(&mut self, name: &str, dataset: &str, space: &ParamSpace) -> Result<SweepInfo> {
        sweeps::create_for_params(self, name, dataset, space)
    }

    fn add_run(&mut self, sweep: &SweepInfo, params: &Params) -> Result<RunRecord> {
        runs::add_with_params(self, sweep, params, RunStatus::Running)
    }

    fn queue_run(&mut self, sweep: &SweepInfo, params: &Params) -> Result<RunRecord> {
        runs::add_with_params(self, sweep, params, RunStatus::Pending)
    }

    fn record_epoch(&mut self, run: i64, epoch: &EpochMetrics) -> Result<()> {
        runs::record_epoch(self, run, epoch)
    }

    fn epochs(&self, run: i64) -> Result<Vec<EpochMetrics>> {
        runs::epochs(self, run)
    }

    fn set_run_value(&mut self, run: i64, value: Option<f64>) -> Result<()> {
        runs::set_value(self, run, value)
    }

    fn record_metrics(&mut self, run: i64, name: &str, values: &[(u32, f64)]) -> Result<()> {
        runs::record_metrics(self, run, name, values)
    }

    fn metrics(&self, run: i64) -> Result<Vec<(String, u32, f64)>> {
        runs::metrics(self, run)
    }

    fn claim_run(&mut self, sweep: i64, worker: &str, lease_seconds: f64) -> Result<Option<RunRecord>> {
        leases::claim(self, sweep, worker, lease_seconds)
    }

    fn run_counts(&self, sweep: i64) -> Result<RunCounts> {
        leases::counts(self, sweep)
    }

    fn renew_lease(&mut self, run: i64, worker: &str, lease_seconds: f64) -> Result<bool> {
        leases::renew(self, run, worker, lease_seconds)
    }

    fn finish_leased_run(&mut self, run: i64, worker: &str, outcome: &RunOutcome) -> Result<bool> {
        runs::finish(self, run, outcome, Some(worker))
    }

    fn release_run(&mut self, run: i64, worker: &str) -> Result<bool> {
        leases::release(self, run, worker)
    }
}
