//! The experiment store: the records (sweeps, runs, specs, encodings,
//! per-epoch metrics, status) in a database, and beside them the files of
//! each run (`runs/<id>/…`: checkpoints and probe activations).
//!
//! A store is named by a folder (SQLite: `mosaic.sqlite` inside, the run
//! files beside it) or by a `postgres://` URL (a store shared by a cluster's
//! machines; its run files in a shared folder it names). Both backends hold
//! the same tables and answer the same queries ([`SqlStore`] over `db::Db`).
//!
//! Every change is one transaction, and run files are written to a
//! temporary name and renamed before the transaction that records them:
//! killing the process at any moment loses at most the runs in flight,
//! which stay `pending` (or whose leases run out) and are trained again.
//!
//! Callers use the [`Store`] trait (`&dyn Store`, `&mut dyn Store`,
//! `Box<dyn Store>`). The queries are split by table: `sweeps`, `runs`,
//! `leases`, `embeddings`, `suggestions`, `features`, with `schema` (tables,
//! migrations), `copy` (between stores) and `export` (CSV) beside.
//! [`RunFiles`] names the files of a run's folder.

mod copy;
mod db;
mod embeddings;
mod export;
mod features;
mod files;
mod leases;
mod postgres;
mod runs;
mod schema;
mod sql_store;
mod sqlite;
mod store;
mod suggestions;
mod sweeps;
pub mod testing;
mod tls;

use mosaic_core::params::{ParamSpace, Params};
use mosaic_core::{ArchSpec, RunOutcome, RunStatus, SearchSpace};

pub use copy::{CopySummary, copy_store};
pub use embeddings::EmbeddingKind;
pub use export::write_csv;
pub use files::RunFiles;
pub use postgres::{FinishedRuns, is_postgres, redact, split_password};
pub use sql_store::{SqlStore, open, open_existing};
pub use store::{Store, TrainingLock};

/// The database file inside a store folder.
pub const DB_FILE: &str = "mosaic.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use store folder {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The table could not be written where it was going (the caller names where).
    #[error("cannot write the table: {0}")]
    Export(std::io::Error),
    #[error(
        "store {path}: {source} (if the file is damaged, restore it from a backup, or move it and the runs folder beside it away together)"
    )]
    Sql { path: String, source: rusqlite::Error },
    /// A new run's id already has files: the database that knew them was replaced or lost.
    #[error(
        "{dir} holds files of a run this store's database does not know (was the database replaced?); nothing was created, \
         so they are not overwritten: put the old database back, or move {runs} aside (e.g. mv {runs} {runs}.old)"
    )]
    UnknownRunFiles { dir: String, runs: String },
    /// A shared store's database said no, or could not be reached (`url`: without its password).
    #[error("store {url}: {message}")]
    Postgres { url: String, message: String },
    /// [`open_existing`] on a PostgreSQL database without a store's tables.
    #[error(
        "{url} holds no NeuroMosaic store yet: create one with `mosaic sweep --store URL`, or copy one in with `mosaic store copy DIR URL`"
    )]
    EmptyDatabase { url: String },
    #[error("store {path}: {message}")]
    Invalid { path: String, message: String },
    /// [`open_existing`] on a folder without a database.
    #[error("{path} is not a NeuroMosaic store (no {DB_FILE} inside): run `mosaic sweep --store` first")]
    NotAStore { path: String },
    /// [`Store::sweep`] with no name, on a store without sweeps.
    #[error("{path} holds no sweep yet")]
    NoSweep { path: String },
    /// [`Store::sweep`] with no name, on a store with several sweeps.
    #[error("{path} holds {count} sweeps: pass --sweep NAME to pick one ({names})")]
    WhichSweep { path: String, count: usize, names: String },
    /// [`Store::sweep`] with a name the store does not hold.
    #[error("no sweep `{name}` in {path}; it has: {names}")]
    UnknownSweep { path: String, name: String, names: String },
    /// An architecture step (training, a landscape, a path) asked of a sweep
    /// or run of the user's own parameters.
    #[error("{what} holds the user's own parameters (logged from Python or imported), not NeuroMosaic architectures: {needs}")]
    NotArchitectures { what: String, needs: String },
    /// A run's parameters that do not belong to its sweep's space.
    #[error("sweep `{sweep}`: {message}")]
    BadParams { sweep: String, message: String },
    /// [`EmbeddingKind`]'s `from_str` with another name.
    #[error("unknown embedding kind `{kind}`: use representation or architecture")]
    UnknownEmbeddingKind { kind: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An architecture as the `spec` columns hold it (RON).
pub(crate) fn spec_to_ron(spec: &ArchSpec) -> String {
    ron::to_string(spec).expect("a spec always serialises")
}

/// A stored embedding: the diffusion time `t` it was made with, and each run's
/// id with its position, by run id.
pub type Embedding = (usize, Vec<(i64, [f64; 3])>);

/// A named feature of a sweep's runs: its name, and each run's id with its value (NaN: none).
pub type Feature = (String, Vec<(i64, f64)>);

/// What a sweep will train: fixed when it is created, so a resume trains the same runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPlan {
    pub name: String,
    pub dataset: String,
    /// What exactly was trained on (size and a hash of the examples): a
    /// resume with other data is refused.
    pub data: String,
    /// How many examples were generated (built-in tasks) or read (files):
    /// what rebuilds the data.
    pub examples: usize,
    pub seed: u64,
    pub space: SearchSpace,
    pub specs: Vec<ArchSpec>,
    pub encodings: Vec<Vec<f64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SweepInfo {
    pub id: i64,
    pub name: String,
    pub dataset: String,
    /// The data fingerprint; empty for sweeps stored before it was recorded.
    pub data: String,
    /// How many examples were generated or read; `None` for sweeps stored
    /// before it was recorded (an empty `data`, or one it could not be read out of).
    pub examples: Option<usize>,
    pub seed: u64,
    /// What the sweep explores: architectures or the user's own parameters.
    pub space: SweepSpace,
    /// Runs of the plan (runs added from suggestions are not counted).
    pub runs: usize,
}

/// What a sweep explores: NeuroMosaic's architecture families, which it can
/// train, replay and rebuild; or a user's own named parameters, for runs
/// trained elsewhere (logged from Python, imported from Optuna or MLflow).
// One per sweep and rarely moved: the size of the architecture space costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum SweepSpace {
    Architectures(SearchSpace),
    Parameters(ParamSpace),
}

impl SweepInfo {
    /// The architecture space, or why this sweep has none (`needs`: what asked, e.g. "training needs one").
    pub fn architectures(&self, needs: &str) -> Result<&SearchSpace> {
        match &self.space {
            SweepSpace::Architectures(space) => Ok(space),
            SweepSpace::Parameters(_) => {
                Err(StoreError::NotArchitectures { what: format!("sweep `{}`", self.name), needs: needs.to_string() })
            }
        }
    }

    /// The space's name: the architecture space's, or `parameters (N)`.
    pub fn space_name(&self) -> String {
        match &self.space {
            SweepSpace::Architectures(space) => space.name.clone(),
            SweepSpace::Parameters(space) => format!("parameters ({})", space.params.len()),
        }
    }
}

/// What one run is: a NeuroMosaic architecture, or a point of the user's own space.
#[derive(Clone, Debug, PartialEq)]
pub enum RunConfig {
    Architecture(ArchSpec),
    Parameters(Params),
}

/// How a sweep's runs stand ([`Store::run_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub pending: usize,
    /// Running under a worker's lease (in training, or its worker died and the lease has yet to run out).
    pub leased: usize,
    /// Running without a lease: logged as they train elsewhere (the Python client).
    pub logging: usize,
    /// Done, diverged or failed.
    pub finished: usize,
}

impl RunCounts {
    /// Runs still to finish.
    pub fn open(&self) -> usize {
        self.pending + self.leased + self.logging
    }

    pub fn total(&self) -> usize {
        self.open() + self.finished
    }
}

/// A spec the meta-learner suggested, with what it predicted; `run` is set
/// once the suggestion was accepted into the sweep for training.
#[derive(Clone, Debug, PartialEq)]
pub struct SuggestionRecord {
    pub id: i64,
    pub spec: ArchSpec,
    pub encoding: Vec<f64>,
    pub mean: f64,
    pub std: f64,
    pub score: f64,
    pub strategy: String,
    pub run: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub sweep: i64,
    /// Position in the sweep's plan, 0-based.
    pub index: usize,
    pub config: RunConfig,
    pub encoding: Vec<f64>,
    pub status: RunStatus,
    /// Present once the run finished (done, diverged or failed).
    pub outcome: Option<RunOutcome>,
    /// The objective a study reported for it (an imported Optuna trial's value).
    pub value: Option<f64>,
}

impl RunRecord {
    /// The run's architecture, or why it has none (`needs`: what asked for it).
    pub fn spec(&self, needs: &str) -> Result<&ArchSpec> {
        match &self.config {
            RunConfig::Architecture(spec) => Ok(spec),
            RunConfig::Parameters(_) => Err(StoreError::NotArchitectures { what: format!("run {}", self.id), needs: needs.to_string() }),
        }
    }

    /// The run's architecture, if it is one.
    pub fn arch(&self) -> Option<&ArchSpec> {
        match &self.config {
            RunConfig::Architecture(spec) => Some(spec),
            RunConfig::Parameters(_) => None,
        }
    }

    /// How views and commands name the run: the architecture's gist
    /// (`Mlp 3x64 Relu`), or its parameters (`lr=0.01 layers=3`).
    pub fn label(&self) -> String {
        match &self.config {
            RunConfig::Architecture(spec) => spec.label(),
            RunConfig::Parameters(params) => params.iter().map(|(k, v)| format!("{k}={}", v.short())).collect::<Vec<_>>().join(" "),
        }
    }
}
