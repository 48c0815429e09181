//! The SQLite backend: `mosaic.sqlite` in the store folder, one connection,
//! each change one transaction. The queries live with their tables
//! (`sweeps`, `runs`, …); this file opens the store and answers [`Store`] with them.

use std::path::{Path, PathBuf};

use mosaic_core::params::{ParamSpace, Params};
use mosaic_core::{ArchSpec, EpochMetrics, RunOutcome};
use rusqlite::Connection;

use crate::store::{Store, TrainingLock};
use crate::{DB_FILE, Embedding, EmbeddingKind, Feature, Result, RunRecord, StoreError, SuggestionRecord, SweepInfo, SweepPlan};
use crate::{embeddings, features, runs, schema, suggestions, sweeps};

/// A store in a folder, backed by SQLite (`mosaic.sqlite`, WAL journal).
pub struct SqliteStore {
    pub(crate) root: PathBuf,
    /// The database file, as errors name it.
    pub(crate) db: String,
    pub(crate) conn: Connection,
}

/// Opens the store in `dir`, creating the folder and the database if needed
/// ([`SqliteStore::open`], for callers that do not care about the backend).
pub fn open(dir: &Path) -> Result<Box<dyn Store>> {
    Ok(Box::new(SqliteStore::open(dir)?))
}

/// Opens a store that must exist already ([`SqliteStore::open_existing`],
/// for callers that do not care about the backend).
pub fn open_existing(dir: &Path) -> Result<Box<dyn Store>> {
    Ok(Box::new(SqliteStore::open_existing(dir)?))
}

impl SqliteStore {
    /// Opens the store in `dir`, creating the folder and the database if
    /// needed, and bringing an older database's tables up to date.
    pub fn open(dir: &Path) -> Result<SqliteStore> {
        let shown = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: shown, source })?;
        let db = dir.join(DB_FILE).display().to_string();
        let conn = schema::connect(&dir.join(DB_FILE), &db)?;
        Ok(SqliteStore { root: dir.to_path_buf(), db, conn })
    }

    /// Opens a store that must exist already: reading never creates one, so
    /// a mistyped folder is reported instead of opened empty.
    pub fn open_existing(dir: &Path) -> Result<SqliteStore> {
        if !dir.join(DB_FILE).is_file() {
            return Err(StoreError::NotAStore { path: dir.display().to_string() });
        }
        SqliteStore::open(dir)
    }

    /// Turns a SQLite error into one that names the database file.
    pub(crate) fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sql_error(&self.db)
    }

    /// A data problem in the store (an unreadable spec, an unknown status).
    pub(crate) fn invalid(&self, message: String) -> StoreError {
        StoreError::Invalid { path: self.root.display().to_string(), message }
    }
}

/// Turns a SQLite error into one that names `db`; for methods that hold
/// `&mut conn` (a transaction) while errors need the path.
pub(crate) fn sql_error(db: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sql { path: db.to_string(), source }
}

impl Store for SqliteStore {
    fn root(&self) -> &Path {
        &self.root
    }

    fn lock_for_training(&self) -> Result<TrainingLock> {
        let path = self.root.join(".training.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(TrainingLock::new(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Invalid {
                path: self.root.display().to_string(),
                message: "another mosaic process is training into this store; wait for it, stop it, or use another --store".into(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io { path: path.display().to_string(), source }),
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
        runs::finish(self, run, outcome)
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
        runs::add_with_params(self, sweep, params)
    }

    fn record_epoch(&mut self, run: i64, epoch: &EpochMetrics) -> Result<()> {
        runs::record_epoch(self, run, epoch)
    }

    fn epochs(&self, run: i64) -> Result<Vec<EpochMetrics>> {
        runs::epochs_of(self, run)
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
}

pub(crate) fn spec_to_ron(spec: &ArchSpec) -> String {
    ron::to_string(spec).expect("a spec always serialises")
}

pub(crate) fn encode_f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn decode_f64s(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_blobs_round_trip() {
        let v = vec![0.0, -1.5, f64::MAX, 1e-300];
        assert_eq!(decode_f64s(&encode_f64s(&v)), v);
    }
}
