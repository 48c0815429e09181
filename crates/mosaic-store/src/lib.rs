//! The experiment store: one folder holding `mosaic.sqlite` (sweeps, runs,
//! specs, encodings, per-epoch metrics, status) and, beside it, the files of
//! each run (`runs/<id>/…`: checkpoints and probe activations).
//!
//! Every change is one SQLite transaction (WAL journal), and run files are
//! written to a temporary name and renamed before the transaction that
//! records them: killing the process at any moment loses at most the runs in
//! flight, which stay `pending` and are trained again on resume.

use std::io::Write;
use std::path::{Path, PathBuf};

use mosaic_core::{ArchSpec, EpochMetrics, Knob, RunOutcome, RunStatus, SearchSpace};
use rusqlite::{Connection, params};

/// Kept here so callers from before it moved to `mosaic-core` still compile.
pub use mosaic_core::fs::write_atomic;

pub const DB_FILE: &str = "mosaic.sqlite";
/// 1: sweeps, runs, epochs. 2: sweeps.data (what was trained on), embeddings.
const SCHEMA_VERSION: i64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use store folder {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("store {path}: {source} (if the file is damaged, move it away; the run files beside it are kept)")]
    Sql { path: String, source: rusqlite::Error },
    #[error("store {path}: {message}")]
    Invalid { path: String, message: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a sweep will train: fixed when it is created, so a resume trains the same runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPlan {
    pub name: String,
    pub dataset: String,
    /// What exactly was trained on (size and a hash of the examples): a
    /// resume with other data is refused.
    pub data: String,
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
    pub data: String,
    pub seed: u64,
    pub space: SearchSpace,
    /// Runs of the plan (runs added from suggestions are not counted).
    pub runs: usize,
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
    pub spec: ArchSpec,
    pub encoding: Vec<f64>,
    pub status: RunStatus,
    /// Present once the run finished (done, diverged or failed).
    pub outcome: Option<RunOutcome>,
}

pub struct Store {
    root: PathBuf,
    conn: Connection,
}

/// Proof that this process may train into a store (see [`Store::lock_for_training`]).
#[derive(Debug)]
pub struct TrainingLock {
    _file: std::fs::File,
}

impl Store {
    /// Opens the store in `dir`, creating the folder and the database if needed.
    pub fn open(dir: &Path) -> Result<Store> {
        let shown = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: shown.clone(), source })?;
        let db = dir.join(DB_FILE);
        let sql = |source| StoreError::Sql { path: db.display().to_string(), source };
        let conn = Connection::open(&db).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
        // A file that is not a database fails here, before anything is written.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Invalid {
                path: db.display().to_string(),
                message: format!("made by a newer NeuroMosaic (schema {version}, this one knows {SCHEMA_VERSION}); upgrade mosaic"),
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        if version == 1 {
            // Stores from before the data fingerprint: add the column, empty
            // ("not recorded"); the next resume records it.
            let has_data = conn
                .prepare("SELECT 1 FROM pragma_table_info('sweeps') WHERE name = 'data'")
                .and_then(|mut s| s.exists([]))
                .map_err(sql)?;
            if !has_data {
                conn.execute_batch("ALTER TABLE sweeps ADD COLUMN data TEXT NOT NULL DEFAULT ''").map_err(sql)?;
            }
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(sql)?;
        Ok(Store { root: dir.to_path_buf(), conn })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Claims the store for training: one process trains into a store at a
    /// time (two would train the same pending runs). Held until dropped; the
    /// operating system releases it if the process dies.
    pub fn lock_for_training(&self) -> Result<TrainingLock> {
        let path = self.root.join(".training.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(TrainingLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Invalid {
                path: self.root.display().to_string(),
                message: "another mosaic process is training into this store; wait for it, stop it, or use another --store".into(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io { path: path.display().to_string(), source }),
        }
    }

    /// Folder for a run's files (created on demand).
    pub fn run_dir(&self, run: i64) -> Result<PathBuf> {
        let dir = self.root.join("runs").join(run.to_string());
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.display().to_string(), source })?;
        Ok(dir)
    }

    fn sql_err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql { path: self.root.join(DB_FILE).display().to_string(), source }
    }

    /// Records a sweep and all its runs as pending, in one transaction.
    pub fn create_sweep(&mut self, plan: &SweepPlan) -> Result<SweepInfo> {
        let path = self.root.join(DB_FILE).display().to_string();
        let sql = |source| StoreError::Sql { path: path.clone(), source };
        if plan.specs.len() != plan.encodings.len() {
            return Err(StoreError::Invalid { path, message: "each spec needs its encoding".into() });
        }
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "INSERT INTO sweeps (name, dataset, data, seed, space) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![plan.name, plan.dataset, plan.data, plan.seed as i64, plan.space.to_ron()],
        )
        .map_err(sql)?;
        let sweep = tx.last_insert_rowid();
        {
            let mut insert =
                tx.prepare("INSERT INTO runs (sweep, idx, spec, encoding, status) VALUES (?1, ?2, ?3, ?4, 'pending')").map_err(sql)?;
            for (i, (spec, enc)) in plan.specs.iter().zip(&plan.encodings).enumerate() {
                insert.execute(params![sweep, i as i64, spec_to_ron(spec), encode_f64s(enc)]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(SweepInfo {
            id: sweep,
            name: plan.name.clone(),
            dataset: plan.dataset.clone(),
            data: plan.data.clone(),
            seed: plan.seed,
            space: plan.space.clone(),
            runs: plan.specs.len(),
        })
    }

    pub fn sweeps(&self) -> Result<Vec<SweepInfo>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.name, s.dataset, s.seed, s.space,
                        (SELECT COUNT(*) FROM runs r WHERE r.sweep = s.id
                          AND r.id NOT IN (SELECT run FROM suggestions WHERE run IS NOT NULL)),
                        s.data
                 FROM sweeps s ORDER BY s.id",
            )
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                    (r.get::<_, i64>(3)?, r.get::<_, String>(4)?, r.get::<_, i64>(5)?, r.get::<_, String>(6)?),
                ))
            })
            .map_err(self.sql_err())?;
        let mut out = Vec::new();
        for row in rows {
            let ((id, name, dataset), (seed, space, runs, data)) = row.map_err(self.sql_err())?;
            let space = SearchSpace::from_ron(&space, &format!("sweep `{name}` in {}", self.root.display()))
                .map_err(|e| StoreError::Invalid { path: self.root.display().to_string(), message: e.to_string() })?;
            out.push(SweepInfo { id, name, dataset, data, seed: seed as u64, space, runs: runs as usize });
        }
        Ok(out)
    }

    /// Records what a sweep was trained on, for sweeps made before that was recorded.
    pub fn set_sweep_data(&mut self, sweep: i64, data: &str) -> Result<()> {
        self.conn.execute("UPDATE sweeps SET data = ?2 WHERE id = ?1", params![sweep, data]).map_err(self.sql_err())?;
        Ok(())
    }

    pub fn sweep_by_name(&self, name: &str) -> Result<Option<SweepInfo>> {
        Ok(self.sweeps()?.into_iter().find(|s| s.name == name))
    }

    /// Every run of a sweep, in plan order, with outcomes for finished ones.
    pub fn runs(&self, sweep: i64) -> Result<Vec<RunRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, idx, spec, encoding, status, parameters, test_loss, test_accuracy, seconds, note
                 FROM runs WHERE sweep = ?1 ORDER BY idx",
            )
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map([sweep], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<f64>>(6)?,
                    r.get::<_, Option<f64>>(7)?,
                    r.get::<_, Option<f64>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                ))
            })
            .map_err(self.sql_err())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, idx, spec, encoding, status, parameters, test_loss, test_accuracy, seconds, note) = row.map_err(self.sql_err())?;
            let invalid = |message: String| StoreError::Invalid { path: self.root.display().to_string(), message };
            let spec: ArchSpec = ron::from_str(&spec).map_err(|e| invalid(format!("run {id}: unreadable spec: {e}")))?;
            let status = RunStatus::parse(&status).ok_or_else(|| invalid(format!("run {id}: unknown status `{status}`")))?;
            let outcome = if status.is_finished() {
                Some(RunOutcome {
                    status,
                    epochs: self.epochs(id)?,
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

    fn epochs(&self, run: i64) -> Result<Vec<EpochMetrics>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm, weight_norm, learning_rate, seconds
                 FROM epochs WHERE run = ?1 ORDER BY epoch",
            )
            .map_err(self.sql_err())?;
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
            .map_err(self.sql_err())?;
        rows.collect::<std::result::Result<_, _>>().map_err(self.sql_err())
    }

    /// Records how a run ended, with all its epochs, in one transaction.
    /// Non-finite numbers (a diverged loss) are stored as NULL and read back as NaN.
    pub fn finish_run(&mut self, run: i64, outcome: &RunOutcome) -> Result<()> {
        let path = self.root.join(DB_FILE).display().to_string();
        let sql = |source| StoreError::Sql { path: path.clone(), source };
        let finite = |v: f64| v.is_finite().then_some(v);
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute("DELETE FROM epochs WHERE run = ?1", [run]).map_err(sql)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO epochs (run, epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm,
                     weight_norm, learning_rate, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(sql)?;
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
                    .map_err(sql)?;
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
            .map_err(sql)?;
        if changed != 1 {
            return Err(StoreError::Invalid { path, message: format!("no run with id {run}") });
        }
        tx.commit().map_err(sql)
    }

    /// Writes one row per run (spec knobs, then final metrics) as CSV, for
    /// pandas and Optuna users.
    pub fn export_csv(&self, sweep: i64, out: &mut dyn Write) -> Result<()> {
        let io = |source| StoreError::Io { path: "export".into(), source };
        let mut header = vec!["run", "status", "family", "activation", "norm", "skip", "optimizer"];
        header.extend(Knob::ALL.iter().map(|k| k.name()));
        header.extend([
            "parameters",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "test_loss",
            "test_accuracy",
            "epochs_trained",
            "seconds",
        ]);
        writeln!(out, "{}", header.join(",")).map_err(io)?;
        let num = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or(String::new(), |x| format!("{x}"));
        for r in self.runs(sweep)? {
            let s = &r.spec;
            let mut row = vec![
                r.index.to_string(),
                r.status.as_str().to_string(),
                format!("{:?}", s.family),
                format!("{:?}", s.activation),
                format!("{:?}", s.norm),
                s.skip.to_string(),
                format!("{:?}", s.optimizer),
            ];
            row.extend(Knob::ALL.iter().map(|k| format!("{}", k.get(s))));
            let o = r.outcome.as_ref();
            let last = o.and_then(|o| o.last());
            row.extend([
                o.map_or(String::new(), |o| o.parameters.to_string()),
                num(last.map(|e| e.train_loss)),
                num(last.map(|e| e.train_accuracy)),
                num(last.map(|e| e.val_loss)),
                num(last.map(|e| e.val_accuracy)),
                num(o.and_then(|o| o.test_loss)),
                num(o.and_then(|o| o.test_accuracy)),
                o.map_or(String::new(), |o| o.epochs.len().to_string()),
                num(o.map(|o| o.seconds)),
            ]);
            writeln!(out, "{}", row.join(",")).map_err(io)?;
        }
        Ok(())
    }
}

impl Store {
    /// Replaces a sweep's embedding of one kind (`representation`,
    /// `architecture`) with `coords`, in one transaction.
    pub fn save_embedding(&mut self, sweep: i64, kind: &str, t: usize, coords: &[(i64, [f64; 3])]) -> Result<()> {
        let path = self.root.join(DB_FILE).display().to_string();
        if let Some((run, _)) = coords.iter().find(|(_, c)| c.iter().any(|v| !v.is_finite())) {
            return Err(StoreError::Invalid { path, message: format!("embedding of run {run} is not finite; nothing was stored") });
        }
        let sql = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute("DELETE FROM embeddings WHERE sweep = ?1 AND kind = ?2", params![sweep, kind]).map_err(sql)?;
        {
            let mut insert =
                tx.prepare("INSERT INTO embeddings (sweep, kind, run, t, x, y, z) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(sql)?;
            for (run, c) in coords {
                insert.execute(params![sweep, kind, run, t as i64, c[0], c[1], c[2]]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    /// A sweep's stored embedding of one kind: run id and coordinates, and the t used.
    pub fn embedding(&self, sweep: i64, kind: &str) -> Result<Option<(usize, Vec<(i64, [f64; 3])>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT run, t, x, y, z FROM embeddings WHERE sweep = ?1 AND kind = ?2 ORDER BY run")
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map(params![sweep, kind], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, [r.get(2)?, r.get(3)?, r.get(4)?])))
            .map_err(self.sql_err())?;
        let mut t = 0;
        let mut coords = Vec::new();
        for row in rows {
            let (run, rt, c) = row.map_err(self.sql_err())?;
            t = rt as usize;
            coords.push((run, c));
        }
        Ok((!coords.is_empty()).then_some((t, coords)))
    }
}

impl Store {
    /// Stores new suggestions for a sweep (replacing any not yet accepted) and returns them with their ids.
    pub fn save_suggestions(&mut self, sweep: i64, suggestions: &[SuggestionRecord]) -> Result<Vec<SuggestionRecord>> {
        let path = self.root.join(DB_FILE).display().to_string();
        if let Some(s) = suggestions.iter().find(|s| ![s.mean, s.std, s.score].iter().all(|v| v.is_finite())) {
            return Err(StoreError::Invalid {
                path,
                message: format!("suggestion {} has a non-finite prediction; nothing was stored", s.spec_label()),
            });
        }
        let sql = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute("DELETE FROM suggestions WHERE sweep = ?1 AND run IS NULL", [sweep]).map_err(sql)?;
        let mut out = Vec::with_capacity(suggestions.len());
        {
            let mut insert = tx
                .prepare("INSERT INTO suggestions (sweep, spec, encoding, mean, std, score, strategy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(sql)?;
            for s in suggestions {
                insert
                    .execute(params![sweep, spec_to_ron(&s.spec), encode_f64s(&s.encoding), s.mean, s.std, s.score, s.strategy])
                    .map_err(sql)?;
                out.push(SuggestionRecord { id: tx.last_insert_rowid(), run: None, ..s.clone() });
            }
        }
        tx.commit().map_err(sql)?;
        Ok(out)
    }

    /// A sweep's suggestions, oldest first; `pending_only` leaves out accepted ones.
    pub fn suggestions(&self, sweep: i64, pending_only: bool) -> Result<Vec<SuggestionRecord>> {
        let filter = if pending_only { "AND run IS NULL" } else { "" };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT id, spec, encoding, mean, std, score, strategy, run FROM suggestions WHERE sweep = ?1 {filter} ORDER BY id"
            ))
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map([sweep], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    [r.get::<_, f64>(3)?, r.get::<_, f64>(4)?, r.get::<_, f64>(5)?],
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            })
            .map_err(self.sql_err())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, spec, encoding, [mean, std, score], strategy, run) = row.map_err(self.sql_err())?;
            let spec: ArchSpec = ron::from_str(&spec).map_err(|e| StoreError::Invalid {
                path: self.root.display().to_string(),
                message: format!("suggestion {id}: unreadable spec: {e}"),
            })?;
            out.push(SuggestionRecord { id, spec, encoding: decode_f64s(&encoding), mean, std, score, strategy, run });
        }
        Ok(out)
    }

    /// Adds the pending suggestions `ids` to the sweep as pending runs (after
    /// the last run), in one transaction; returns each accepted suggestion's
    /// id with its new run. Ids that are unknown or already accepted are skipped.
    pub fn accept_suggestions(&mut self, sweep: i64, ids: &[i64]) -> Result<Vec<(i64, RunRecord)>> {
        let pending = self.suggestions(sweep, true)?;
        let path = self.root.join(DB_FILE).display().to_string();
        let sql = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut next: i64 =
            tx.query_row("SELECT COALESCE(MAX(idx), -1) + 1 FROM runs WHERE sweep = ?1", [sweep], |r| r.get(0)).map_err(sql)?;
        let mut runs = Vec::new();
        for s in pending.iter().filter(|s| ids.contains(&s.id)) {
            tx.execute(
                "INSERT INTO runs (sweep, idx, spec, encoding, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
                params![sweep, next, spec_to_ron(&s.spec), encode_f64s(&s.encoding)],
            )
            .map_err(sql)?;
            let id = tx.last_insert_rowid();
            tx.execute("UPDATE suggestions SET run = ?2 WHERE id = ?1", params![s.id, id]).map_err(sql)?;
            runs.push((
                s.id,
                RunRecord {
                    id,
                    sweep,
                    index: next as usize,
                    spec: s.spec.clone(),
                    encoding: s.encoding.clone(),
                    status: RunStatus::Pending,
                    outcome: None,
                },
            ));
            next += 1;
        }
        tx.commit().map_err(sql)?;
        Ok(runs)
    }
}

impl SuggestionRecord {
    fn spec_label(&self) -> String {
        format!("{:?} {}x{}", self.spec.family, self.spec.depth, self.spec.width)
    }
}

impl Store {
    /// Replaces one named feature (e.g. `class separation`) of a sweep's runs.
    pub fn save_feature(&mut self, sweep: i64, name: &str, values: &[(i64, f64)]) -> Result<()> {
        let path = self.root.join(DB_FILE).display().to_string();
        let sql = |source| StoreError::Sql { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute("DELETE FROM features WHERE sweep = ?1 AND name = ?2", params![sweep, name]).map_err(sql)?;
        {
            let mut insert = tx.prepare("INSERT INTO features (sweep, name, run, value) VALUES (?1, ?2, ?3, ?4)").map_err(sql)?;
            for (run, v) in values {
                // NULL for a value that is not finite: read back as NaN (no value).
                insert.execute(params![sweep, name, run, v.is_finite().then_some(*v)]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    /// Every stored feature of a sweep: name, then (run, value) pairs.
    pub fn features(&self, sweep: i64) -> Result<Vec<(String, Vec<(i64, f64)>)>> {
        let mut stmt =
            self.conn.prepare("SELECT name, run, value FROM features WHERE sweep = ?1 ORDER BY name, run").map_err(self.sql_err())?;
        let rows = stmt
            .query_map([sweep], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<f64>>(2)?)))
            .map_err(self.sql_err())?;
        let mut out: Vec<(String, Vec<(i64, f64)>)> = Vec::new();
        for row in rows {
            let (name, run, value) = row.map_err(self.sql_err())?;
            if out.last().is_none_or(|(n, _)| *n != name) {
                out.push((name, Vec::new()));
            }
            out.last_mut().expect("just pushed").1.push((run, value.unwrap_or(f64::NAN)));
        }
        Ok(out)
    }
}

fn spec_to_ron(spec: &ArchSpec) -> String {
    ron::to_string(spec).expect("a spec always serialises")
}

fn encode_f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode_f64s(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sweeps (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    dataset TEXT NOT NULL,
    data    TEXT NOT NULL,
    seed    INTEGER NOT NULL,
    space   TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY,
    sweep         INTEGER NOT NULL REFERENCES sweeps(id),
    idx           INTEGER NOT NULL,
    spec          TEXT NOT NULL,
    encoding      BLOB NOT NULL,
    status        TEXT NOT NULL,
    parameters    INTEGER,
    val_accuracy  REAL,
    test_loss     REAL,
    test_accuracy REAL,
    seconds       REAL,
    note          TEXT,
    UNIQUE (sweep, idx)
);
CREATE TABLE IF NOT EXISTS suggestions (
    -- AUTOINCREMENT: an id never comes back, so a replaced batch's ids stay unknown.
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep    INTEGER NOT NULL REFERENCES sweeps(id),
    spec     TEXT NOT NULL,
    encoding BLOB NOT NULL,
    mean     REAL NOT NULL,
    std      REAL NOT NULL,
    score    REAL NOT NULL,
    strategy TEXT NOT NULL,
    run      INTEGER REFERENCES runs(id),
    created  TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS epochs (
    run            INTEGER NOT NULL REFERENCES runs(id),
    epoch          INTEGER NOT NULL,
    train_loss     REAL,
    train_accuracy REAL,
    val_loss       REAL,
    val_accuracy   REAL,
    grad_norm      REAL,
    weight_norm    REAL,
    learning_rate  REAL NOT NULL,
    seconds        REAL NOT NULL,
    PRIMARY KEY (run, epoch)
);
CREATE TABLE IF NOT EXISTS embeddings (
    sweep INTEGER NOT NULL REFERENCES sweeps(id),
    kind  TEXT NOT NULL,
    run   INTEGER NOT NULL REFERENCES runs(id),
    t     INTEGER NOT NULL,
    x     REAL NOT NULL,
    y     REAL NOT NULL,
    z     REAL NOT NULL,
    PRIMARY KEY (sweep, kind, run)
);
CREATE TABLE IF NOT EXISTS features (
    sweep INTEGER NOT NULL REFERENCES sweeps(id),
    name  TEXT NOT NULL,
    run   INTEGER NOT NULL REFERENCES runs(id),
    value REAL,
    PRIMARY KEY (sweep, name, run)
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_blobs_round_trip() {
        let v = vec![0.0, -1.5, f64::MAX, 1e-300];
        assert_eq!(decode_f64s(&encode_f64s(&v)), v);
    }
}
