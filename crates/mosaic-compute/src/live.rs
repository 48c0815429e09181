//! The explorer's live population: a sweep trained on a background thread
//! while the sphere shows it, each point taking its colour as its run finishes.
//! The sweep lives in a store, so closing the window loses at most the runs
//! in flight and the next launch picks up where this one stopped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use crossbeam_channel::{Receiver, Sender, unbounded};
use mosaic_core::params::ParamSpace;
use mosaic_core::{ArchSpec, Encoder, RunStatus, SearchSpace};
use mosaic_manifold::distance::euclidean;
use mosaic_manifold::phate::{PhateConfig, extend};
use mosaic_protocol::{MetricColumn, OBJECTIVE, SceneUpdate, SphereScene, TrainingState, VAL_ACCURACY, ViewRequest};
use mosaic_store::{EmbeddingKind, RunRecord, Store, SweepInfo, SweepSpace};
use mosaic_train::Device;
use mosaic_train::data::{Dataset, split};
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_sweep};
use mosaic_train::train::Checkpoints;
use mosaic_train::worker::{WorkerEvent, WorkerOptions, run_workers};

use crate::design::{scene_from_params, scene_from_specs};
use crate::embed::{SweepEmbedding, embed_sweep};
use crate::service::{self, Shown};
use crate::suggest::accuracy_of;
use crate::sweeps::{PROBE_SIZE, SweepRequest, load_dataset, open_or_create_sweep, sweep_data, worker_count};

/// Where the explorer keeps its demo sweep unless told otherwise.
pub fn default_store() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")));
    data.map_or_else(|| PathBuf::from("mosaic-demo-store"), |d| d.join("neuromosaic").join("demo"))
}

/// Moves this thread to the idle scheduling class (Linux; the training
/// workers it starts inherit it), so frames come first when training and
/// drawing share the cores, as they do with software rendering.
fn yield_to_the_view() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler on the calling thread (pid 0) with a valid
    // parameter only changes how it is scheduled.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

/// Where the explorer saves its session unless told otherwise (`--session`).
pub fn default_session() -> PathBuf {
    default_store().with_file_name("session.ron")
}

pub struct Population {
    pub store: PathBuf,
    /// The space to sample; default: the one for the data (see `default_space_for`).
    pub space: Option<SearchSpace>,
    /// Which stored sweep; default: the store's only (or, training, newest)
    /// sweep, or the one named after the plan for a new one.
    pub sweep: Option<String>,
    /// Plan and train a new sweep (`sweep`, or named after the plan) even
    /// when the store holds others; without it a training view only trains
    /// a new plan in an empty store.
    pub new_sweep: bool,
    pub dataset: String,
    /// Examples: generated for a built-in task, or a subset of files (None: the default / all).
    pub examples: Option<usize>,
    pub n: usize,
    pub seed: u64,
    pub layout: Layout,
}

/// How the sphere places networks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// By what they compute: PHATE of their hidden representations (from
    /// `mosaic embed --store`, or computed when the explorer's training
    /// ends); the design layout until then.
    #[default]
    Representation,
    /// By PHATE of their architecture encodings (`mosaic embed --store DIR --mode architecture`).
    Architecture,
    /// By PCA of their encodings: no training or embedding needed.
    Design,
}

impl Layout {
    /// The stored embedding this layout reads, if any.
    pub fn embedding(self) -> Option<EmbeddingKind> {
        match self {
            Layout::Representation => Some(EmbeddingKind::Representation),
            Layout::Architecture => Some(EmbeddingKind::Architecture),
            Layout::Design => None,
        }
    }

    /// The name a session file keeps it by (as the command line spells it).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Representation => "representation",
            Layout::Architecture => "architecture",
            Layout::Design => "design",
        }
    }

    pub fn from_name(name: &str) -> Option<Layout> {
        [Layout::Representation, Layout::Architecture, Layout::Design].into_iter().find(|l| l.name().eq_ignore_ascii_case(name))
    }

    fn words(self) -> &'static str {
        match self {
            Layout::Representation => "hidden representations",
            Layout::Architecture => "architecture encodings",
            Layout::Design => "the encodings' principal axes",
        }
    }
}

/// A network's name in the view: its run id and the gist of its spec.
pub fn run_label(run: &RunRecord) -> String {
    format!("run {} · {}", run.id, run.label())
}

/// Sphere positions from a stored embedding. Networks it lacks (diverged,
/// not trained yet) join it as PHATE places new points
/// ([`mosaic_manifold::phate::extend`]), from their architecture distances
/// to the embedded networks, so nothing embedded moves; one whose
/// architecture is embedded already takes that network's place.
pub fn place_runs(specs: &[(i64, ArchSpec)], coords: &[(i64, [f64; 3])], encoder: &Encoder) -> Vec<[f32; 3]> {
    place_by(specs, coords, &|a, b| encoder.distance(a, b))
}

/// [`place_runs`] for any kind of run: `distance` between two runs' descriptions
/// (architectures, or the encodings of a sweep's own parameters).
pub fn place_by<T>(runs: &[(i64, T)], coords: &[(i64, [f64; 3])], distance: &dyn Fn(&T, &T) -> f64) -> Vec<[f32; 3]> {
    let embedded: Vec<Vec<f64>> = coords.iter().map(|(_, c)| c.to_vec()).collect();
    let embedded_specs: Vec<Option<&T>> = coords.iter().map(|(run, _)| runs.iter().find(|(id, _)| id == run).map(|(_, s)| s)).collect();
    let placed: Vec<[f64; 3]> = runs
        .iter()
        .map(|(id, spec)| {
            if let Some((_, c)) = coords.iter().find(|(run, _)| run == id) {
                return *c;
            }
            let d: Vec<f64> = embedded_specs.iter().map(|s| s.map_or(f64::MAX, |s| distance(spec, s))).collect();
            // An architecture already embedded sits where it is.
            if let Some(same) = d.iter().position(|&d| d == 0.0) {
                return coords[same].1;
            }
            let y = extend(&d, &embedded, 5, 40.0).unwrap_or_else(|_| vec![0.0; 3]);
            mosaic_manifold::xyz(&y)
        })
        .collect();
    mosaic_manifold::project_to_sphere(&placed, |_| 1.0).iter().map(|p| p.map(|x| x as f32)).collect()
}

/// Places specs that have no run (a path's steps, suggestions) beside the
/// `known` runs by the embedding `coords`, as [`place_runs`] does, and
/// returns the specs' places only; nothing embedded moves.
pub fn place_beside(mut known: Vec<(i64, ArchSpec)>, coords: &[(i64, [f64; 3])], encoder: &Encoder, specs: &[ArchSpec]) -> Vec<[f32; 3]> {
    let first = known.len();
    // Ids below any run's, so none is mistaken for an embedded network.
    known.extend(specs.iter().enumerate().map(|(i, s)| (-1 - i as i64, s.clone())));
    place_runs(&known, coords, encoder).split_off(first)
}

/// The positions of `runs` from the store's embedding of `layout`, and the
/// words that say so in the title; `None` when the store has none to offer.
fn layout_positions(
    store: &dyn Store,
    sweep: &SweepInfo,
    runs: &[(i64, ArchSpec)],
    layout: Layout,
    encoder: &Encoder,
) -> Result<Option<(Vec<[f32; 3]>, String)>> {
    let Some(kind) = layout.embedding() else { return Ok(None) };
    let Some((t, coords)) = store.embedding(sweep.id, kind)?.filter(|(_, c)| !c.is_empty()) else {
        if layout == Layout::Architecture {
            bail!(
                "the store has no architecture embedding of sweep `{}`: run `mosaic embed --store DIR --mode architecture` first",
                sweep.name
            );
        }
        return Ok(None);
    };
    Ok(Some((place_runs(runs, &coords, encoder), format!(" · placed by PHATE of {} (t = {t})", layout.words()))))
}

/// A sweep as the explorer shows it: the scene, the channel its updates
/// arrive on (training progress, answers about networks), and where the
/// view sends its requests.
pub struct Opened {
    pub scene: SphereScene,
    pub feed: Receiver<SceneUpdate>,
    pub requests: Sender<ViewRequest>,
    /// Scene index of each run, by run id.
    pub runs: Vec<i64>,
    /// The sweep shown (a session keeps it by name).
    pub sweep: String,
    /// What trains the sweep in the background (with `train`).
    pub trainer: Option<Arc<Trainer>>,
}

/// Opens the sweep and returns its scene, with the accuracies of finished
/// runs filled in, and starts the service that answers questions about its
/// networks. With `train`, the sweep is planned if new, and a thread
/// trains the rest and feeds the scene; without, the store must hold the
/// sweep already and nothing is written but landscapes asked for.
pub fn open(p: Population, train: bool) -> Result<Opened> {
    let mut notes = Vec::new();
    let (store, sweep, data) = if train {
        let mut store = mosaic_store::open(&p.store)?;
        let (sweep, data) = sweep_to_train(&mut *store, &p, &mut notes)?;
        (store, sweep, data)
    } else {
        let store = mosaic_store::open_existing(&p.store)?;
        let sweep = store.sweep(p.sweep.as_deref())?;
        (store, sweep, None)
    };
    if let SweepSpace::Parameters(space) = &sweep.space {
        return open_parameters(&*store, &sweep, space, &p);
    }
    let space = sweep.architectures("the explorer")?;
    let runs = store.runs(sweep.id)?;
    let specs: Vec<ArchSpec> = runs.iter().map(|r| r.spec("the explorer").cloned()).collect::<Result<_, _>>()?;
    let title = format!("sweep `{}` on {} · space `{}`", sweep.name, sweep.dataset, space.name);
    let encoder = Encoder::new(space.clone());
    let mut scene = scene_from_specs(&encoder, &specs, title.clone())?;
    // Networks go by their run ids, as `mosaic export` and `mosaic landscape --run` name them.
    scene.labels = runs.iter().map(run_label).collect();
    let (tx, rx) = unbounded();
    let run_ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let placed_runs: Vec<(i64, ArchSpec)> = runs.iter().zip(&specs).map(|(r, s)| (r.id, s.clone())).collect();
    let mut embedding = None;
    if let Some((positions, note)) = layout_positions(&*store, &sweep, &placed_runs, p.layout, &encoder)? {
        scene.positions = positions;
        scene.title.push_str(&note);
        embedding = p.layout.embedding();
    }
    scene.diverged = runs.iter().map(|r| r.status == RunStatus::Diverged).collect();
    // Runs not trained yet have no accuracy: they show grey until they do.
    scene.columns.insert(0, MetricColumn { name: VAL_ACCURACY.into(), values: runs.iter().map(accuracy_of).collect() });
    // Features of the networks' representations (from `mosaic embed --store`).
    scene.columns.extend(feature_columns(&*store, &sweep, &runs)?);
    let done = runs.iter().filter(|r| r.status.is_finished()).count();
    scene.status = format!("{done} of {} trained · store {}", runs.len(), mosaic_store::redact(&p.store));
    if !notes.is_empty() {
        scene.status = format!("{} · {}", scene.status, notes.join(" · "));
    }
    let (sweep_name, sweep_id) = (sweep.name.clone(), sweep.id);
    let shown = Shown { store: p.store.clone(), sweep: sweep.name.clone(), runs: run_ids.clone(), embedding };
    // The trainer (if this view trains) exists before the service that starts and stops it.
    let trainer = data.map(|data| {
        Arc::new(Trainer {
            store: p.store.clone(),
            sweep,
            data,
            seed: p.seed,
            layout: p.layout,
            placed_runs,
            encoder,
            title,
            tx: tx.clone(),
            cancel: Arc::new(AtomicBool::new(false)),
            running: Arc::new(AtomicBool::new(false)),
        })
    });
    hear_of_finished_runs(&p.store, sweep_id, run_ids.clone(), done, tx.clone())?;
    let requests = service::spawn(Some(shown), trainer.clone(), tx)?;
    if let Some(trainer) = &trainer {
        if done < runs.len()
            && let Err(e) = trainer.start()
        {
            scene.status = format!("{done} of {} trained; not training here: {e:#}", runs.len());
        }
        trainer.report(false);
    }
    Ok(Opened { scene, feed: rx, requests, runs: run_ids, sweep: sweep_name, trainer })
}

/// A sweep of the user's own parameters, as the explorer shows it: placed
/// by PHATE of the representations where `mosaic embed` made one (runs it
/// lacks join by their parameters), else by the parameters themselves; a
/// column per numeric parameter beside the metrics. Nothing trains it: its
/// runs are trained where they are logged from.
fn open_parameters(store: &dyn Store, sweep: &SweepInfo, space: &ParamSpace, p: &Population) -> Result<Opened> {
    let runs = store.runs(sweep.id)?;
    if runs.is_empty() {
        bail!("sweep `{}` has no runs yet: log some (neuromosaic.Store) and open it again", sweep.name);
    }
    let title = format!("sweep `{}` on {} · {}", sweep.name, sweep.dataset, sweep.space_name());
    let mut scene = scene_from_params(space, &runs, title)?;
    let encoded: Vec<(i64, Vec<f64>)> = runs.iter().map(|r| (r.id, r.encoding.clone())).collect();
    let mut embedding = None;
    if let Some(kind) = p.layout.embedding()
        && let Some((t, coords)) = store.embedding(sweep.id, kind)?.filter(|(_, c)| !c.is_empty())
    {
        scene.positions = place_by(&encoded, &coords, &|a: &Vec<f64>, b: &Vec<f64>| euclidean(a, b));
        scene.title.push_str(&format!(" · placed by PHATE of {} (t = {t})", p.layout.words()));
        embedding = Some(kind);
    }
    scene.labels = runs.iter().map(run_label).collect();
    scene.diverged = runs.iter().map(|r| r.status == RunStatus::Diverged).collect();
    // The objective a study reported (imported Optuna trials have no epochs, only this).
    if runs.iter().any(|r| r.value.is_some()) {
        let values = runs.iter().map(|r| r.value.unwrap_or(f64::NAN)).collect();
        scene.columns.insert(0, MetricColumn { name: OBJECTIVE.into(), values });
    }
    let accuracy: Vec<f64> = runs.iter().map(accuracy_of).collect();
    if accuracy.iter().any(|a| a.is_finite()) {
        scene.columns.insert(0, MetricColumn { name: VAL_ACCURACY.into(), values: accuracy });
    }
    scene.columns.extend(feature_columns(store, sweep, &runs)?);
    let done = runs.iter().filter(|r| r.status.is_finished()).count();
    scene.status = format!("{done} of {} finished · logged elsewhere · store {}", runs.len(), mosaic_store::redact(&p.store));
    let run_ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let (tx, rx) = unbounded();
    let shown = Shown { store: p.store.clone(), sweep: sweep.name.clone(), runs: run_ids.clone(), embedding };
    hear_of_finished_runs(&p.store, sweep.id, run_ids.clone(), done, tx.clone())?;
    let requests = service::spawn(Some(shown), None, tx)?;
    Ok(Opened { scene, feed: rx, requests, runs: run_ids, sweep: sweep.name.clone(), trainer: None })
}

/// On a shared store, runs that other processes finish (workers on other
/// machines, the Python client) reach the view as they finish: a thread
/// listens for the store's announcements (no reading of the whole table)
/// and sends each run's accuracy, objective and divergence. `done`: runs
/// finished when the view opened.
fn hear_of_finished_runs(location: &Path, sweep: i64, runs: Vec<i64>, done: usize, tx: Sender<SceneUpdate>) -> Result<()> {
    if !mosaic_store::is_postgres(location) {
        return Ok(());
    }
    let store = mosaic_store::SqlStore::open_existing(location)?;
    let Some(mut feed) = store.finished_runs(sweep)? else { return Ok(()) };
    let shown = mosaic_store::redact(location);
    std::thread::Builder::new().name("finished-runs".into()).spawn(move || {
        let mut finished: std::collections::HashSet<i64> = std::collections::HashSet::new();
        let heard = (|| -> Result<()> {
            loop {
                for id in feed.next(std::time::Duration::from_secs(5))? {
                    let (Some(index), Some(run)) = (runs.iter().position(|&r| r == id), store.run(id)?) else { continue };
                    finished.insert(id);
                    let mut updates = vec![SceneUpdate::SetValue { column: VAL_ACCURACY.into(), index, value: accuracy_of(&run) }];
                    updates.extend(run.value.map(|value| SceneUpdate::SetValue { column: OBJECTIVE.into(), index, value }));
                    if run.status == RunStatus::Diverged {
                        updates.push(SceneUpdate::Diverged { index });
                    }
                    let now = (done + finished.len()).min(runs.len());
                    updates.push(SceneUpdate::Status(format!("{now} of {} finished · run {id} just now · store {shown}", runs.len())));
                    if updates.into_iter().any(|u| tx.send(u).is_err()) {
                        // The view is closed.
                        return Ok(());
                    }
                }
            }
        })();
        if let Err(e) = heard {
            let _ = tx.send(SceneUpdate::Status(format!("no longer hearing of runs finished elsewhere: {e:#}")));
        }
    })?;
    Ok(())
}

/// A column per stored feature of the networks' representations (from
/// `mosaic embed --store`), in the order of `runs` (NaN where a run has none).
fn feature_columns(store: &dyn Store, sweep: &SweepInfo, runs: &[RunRecord]) -> Result<Vec<MetricColumn>> {
    Ok(store
        .features(sweep.id)?
        .into_iter()
        .map(|(name, values)| {
            let by_run: std::collections::HashMap<i64, f64> = values.into_iter().collect();
            MetricColumn { name, values: runs.iter().map(|r| by_run.get(&r.id).copied().unwrap_or(f64::NAN)).collect() }
        })
        .collect())
}

/// The sweep a training view opens, and the data to train it on. A store's
/// sweeps are opened as they are: the one named, the only one, or the newest
/// (said in `notes`); their runs left are trained on the data they were
/// planned with. A new sweep is planned from `p` only in a store with none,
/// or when `p.new_sweep` asks for it. A sweep whose data cannot be rebuilt
/// opens untrained (`None`), with the reason in `notes`.
fn sweep_to_train(store: &mut dyn Store, p: &Population, notes: &mut Vec<String>) -> Result<(SweepInfo, Option<Dataset>)> {
    let sweeps = store.sweeps()?;
    if p.new_sweep || sweeps.is_empty() {
        let data = load_dataset(&p.dataset, p.examples, p.seed)?;
        let request =
            SweepRequest { name: p.sweep.as_deref(), space: p.space.clone(), dataset: &p.dataset, data: &data, n: p.n, seed: p.seed };
        return Ok((open_or_create_sweep(store, request)?, Some(data)));
    }
    let sweep = match &p.sweep {
        Some(name) => sweeps.iter().find(|s| &s.name == name).cloned().with_context(|| {
            let names: Vec<&str> = sweeps.iter().map(|s| s.name.as_str()).collect();
            format!(
                "store {} has no sweep `{name}` (it has {}): pick one with --sweep, or pass --new-sweep to plan and train `{name}`",
                mosaic_store::redact(&p.store),
                names.join(", ")
            )
        })?,
        None => {
            let newest = sweeps.iter().max_by_key(|s| s.id).cloned().context("a store with sweeps has a newest")?;
            if sweeps.len() > 1 {
                notes.push(format!("the newest of {} sweeps (--sweep NAME for another)", sweeps.len()));
            }
            newest
        }
    };
    match sweep_data(&sweep) {
        Ok(data) => Ok((sweep, Some(data))),
        Err(e) => {
            notes.push(format!("not training: {e:#}"));
            Ok((sweep, None))
        }
    }
}

/// Trains the explorer's sweep on a background thread; the panel stops and
/// resumes it. Each start trains the runs left, so nothing is trained twice.
pub struct Trainer {
    store: PathBuf,
    sweep: SweepInfo,
    data: Dataset,
    seed: u64,
    layout: Layout,
    placed_runs: Vec<(i64, ArchSpec)>,
    encoder: Encoder,
    title: String,
    tx: Sender<SceneUpdate>,
    cancel: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
}

impl Trainer {
    /// Starts training the runs left, unless it is training already.
    pub fn start(self: &Arc<Self>) -> Result<()> {
        if self.running.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // A folder store is trained by one process; a shared one by leases, beside other workers.
        let opened = mosaic_store::open(&self.store).map_err(anyhow::Error::from).and_then(|s| {
            let lock = if mosaic_store::is_postgres(&self.store) { None } else { Some(s.lock_for_training()?) };
            Ok((s, lock))
        });
        let (store, lock) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                self.running.store(false, Ordering::SeqCst);
                return Err(e);
            }
        };
        self.cancel.store(false, Ordering::SeqCst);
        let me = self.clone();
        std::thread::Builder::new().name("demo-sweep".into()).spawn(move || {
            yield_to_the_view();
            let mut store = store;
            // Runs added while training (trained suggestions) get another round,
            // as long as each round gets somewhere.
            let mut left = me.untrained(&*store);
            let last = loop {
                me.train(&mut *store);
                let now = me.untrained(&*store);
                if me.cancel.load(Ordering::SeqCst) || now == 0 || now >= left {
                    break now;
                }
                left = now;
            };
            // Let go of the store before saying so: a Resume that follows at
            // once must find it free.
            drop((store, lock));
            me.running.store(false, Ordering::SeqCst);
            // Runs added after the last count (suggestions sent to train just
            // then) found training still running: start again for them.
            if !me.cancel.load(Ordering::SeqCst) && matches!(me.state(), TrainingState::Idle { left } if left > last) && me.start().is_ok()
            {
                return;
            }
            me.report(false);
        })?;
        Ok(())
    }

    /// Asks training to stop; the runs in flight stop and stay pending.
    pub fn stop(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Where training stands.
    pub fn state(&self) -> TrainingState {
        match (self.running.load(Ordering::SeqCst), self.cancel.load(Ordering::SeqCst)) {
            (true, false) => TrainingState::Running,
            (true, true) => TrainingState::Stopping,
            (false, _) => {
                let left = mosaic_store::open(&self.store)
                    .and_then(|s| s.runs(self.sweep.id))
                    .map(|runs| runs.iter().filter(|r| !r.status.is_finished()).count())
                    .unwrap_or(0);
                TrainingState::Idle { left }
            }
        }
    }

    /// The channel the view listens on.
    pub fn tx(&self) -> &Sender<SceneUpdate> {
        &self.tx
    }

    /// Tells the view where training stands (`answers`: in reply to a request).
    pub fn report(&self, answers: bool) {
        let _ = self.tx.send(SceneUpdate::Training { state: self.state(), answers });
    }

    fn untrained(&self, store: &dyn Store) -> usize {
        store.runs(self.sweep.id).map_or(0, |runs| runs.iter().filter(|r| !r.status.is_finished()).count())
    }

    fn train(&self, store: &mut dyn Store) {
        let tx = &self.tx;
        // Runs added since the view opened (trained suggestions) are trained and placed too.
        let runs = store.runs(self.sweep.id).unwrap_or_default();
        let placed_runs: Vec<(i64, ArchSpec)> =
            if runs.is_empty() { self.placed_runs.clone() } else { runs.iter().filter_map(|r| Some((r.id, r.arch()?.clone()))).collect() };
        let total = placed_runs.len();
        let splits = split(&self.data, self.seed, PROBE_SIZE);
        let workers = worker_count(None);
        // The best of the whole sweep, runs trained before this round included.
        let best = runs.iter().filter_map(|r| r.outcome.as_ref().and_then(|o| o.val_accuracy())).fold(f64::NAN, f64::max);
        let progress = std::sync::Mutex::new((0usize, best));
        // Each finished run: its colour (or its divergence) and the sweep's progress.
        let on_finished = |run: &RunRecord| {
            let mut progress = progress.lock().unwrap_or_else(|e| e.into_inner());
            progress.0 += 1;
            if run.status == RunStatus::Diverged {
                let _ = tx.send(SceneUpdate::Diverged { index: run.index });
            }
            if let Some(acc) = run.outcome.as_ref().and_then(|o| o.val_accuracy()) {
                progress.1 = if progress.1.is_nan() { acc } else { progress.1.max(acc) };
                let _ = tx.send(SceneUpdate::SetValue { column: VAL_ACCURACY.into(), index: run.index, value: acc });
            }
            let _ = tx.send(SceneUpdate::Status(format!("trained {} of {total} · best {:.1}%", progress.0, 100.0 * progress.1)));
        };
        let _ = tx.send(SceneUpdate::Status(format!("training on {workers} cores…")));
        // A shared store is trained by pull workers (these among any elsewhere); a folder by one sweep.
        let stopped = if mosaic_store::is_postgres(&self.store) {
            let location = self.store.clone();
            let open = move || mosaic_store::open_existing(&location);
            let options = WorkerOptions {
                lease: std::time::Duration::from_secs(60),
                max_runs: None,
                // Runs other workers hold reach the view through the store's announcements.
                idle_exit: std::time::Duration::ZERO,
                poll: std::time::Duration::from_millis(250),
                checkpoints: Checkpoints::Final,
                device: Device::Cpu,
            };
            let name = format!("explorer:{}", std::process::id());
            run_workers(&open, &self.sweep, &splits, &name, workers, &options, &self.cancel, &|event| {
                if let WorkerEvent::Finished { run, .. } = event {
                    on_finished(run);
                }
            })
            .map(|summary| summary.stopped)
        } else {
            let options = SweepOptions { workers, checkpoints: Checkpoints::Final, device: Device::Cpu };
            run_sweep(store, &self.sweep, &splits, &options, &self.cancel, &mut |event| match event {
                SweepEvent::Plan { pending, finished: before } => {
                    progress.lock().unwrap_or_else(|e| e.into_inner()).0 = *before;
                    let _ = tx.send(SceneUpdate::Status(format!("training {pending} networks on {workers} cores…")));
                }
                SweepEvent::Finished { run, .. } => on_finished(run),
            })
            .map(|summary| summary.stopped)
        };
        let (finished, best) = *progress.lock().unwrap_or_else(|e| e.into_inner());
        let last = match stopped {
            Ok(Some(why)) => format!("training stopped: {why}"),
            Ok(None) if self.cancel.load(Ordering::SeqCst) => format!("training paused at {finished} of {total}"),
            Ok(None) => format!("{total} networks trained · best {:.1}%", 100.0 * best),
            Err(e) => format!("training stopped: {e}"),
        };
        let _ = tx.send(SceneUpdate::Status(last.clone()));
        // Embed the new networks once all are trained: afresh, or (when an
        // embedding exists) beside it, so the networks already placed stay.
        if self.layout == Layout::Representation && !self.cancel.load(Ordering::SeqCst) {
            let _ = tx.send(SceneUpdate::Status(format!("{last} · placing them by their hidden representations…")));
            let request =
                SweepEmbedding { mode: EmbeddingKind::Representation, config: PhateConfig::default(), probe_points: 250, refit: false };
            let placed = embed_sweep(store, &self.sweep, &request)
                .and_then(|_| layout_positions(store, &self.sweep, &placed_runs, Layout::Representation, &self.encoder));
            match placed {
                Ok(placed) => {
                    if let Some((positions, note)) = placed {
                        let _ = tx.send(SceneUpdate::Layout { positions, title: format!("{}{note}", self.title) });
                    }
                    let _ = tx.send(SceneUpdate::Status(last));
                }
                Err(e) => {
                    let _ = tx.send(SceneUpdate::Status(format!("{last} · not placed by representations: {e:#}")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_protocol::Answer;
    use std::time::{Duration, Instant};

    fn wait_for(trainer: &Trainer, what: &str, done: impl Fn(TrainingState) -> bool) -> TrainingState {
        let start = Instant::now();
        loop {
            let state = trainer.state();
            if done(state) {
                return state;
            }
            assert!(start.elapsed() < Duration::from_secs(300), "training never got {what}: {state:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `n` small, quick networks (1-2 layers of 8-24, 4-6 epochs) on 300 examples, stored in a fresh `dir`.
    fn tiny_population(dir: &Path, dataset: &str, n: usize, seed: u64) -> Population {
        let _ = std::fs::remove_dir_all(dir);
        let text = mosaic_core::space::DEMO_SPACE_RON
            .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 2)")
            .replace("width: (min: 8, max: 256, log: true)", "width: (min: 8, max: 24, log: true)")
            .replace("epochs: (min: 5, max: 40)", "epochs: (min: 4, max: 6)");
        Population {
            store: dir.join("store"),
            space: Some(SearchSpace::from_ron(&text, "tiny").unwrap()),
            sweep: None,
            new_sweep: false,
            dataset: dataset.into(),
            examples: Some(300),
            n,
            seed,
            layout: Layout::Design,
        }
    }

    #[test]
    fn training_stops_and_resumes_without_losing_or_repeating_a_run() {
        let dir = std::env::temp_dir().join(format!("mosaic-trainer-{}", std::process::id()));
        let opened = open(tiny_population(&dir, "spirals", 40, 3), true).unwrap();
        let trainer = opened.trainer.expect("a trainer");
        trainer.stop();
        let left = match wait_for(&trainer, "to stop", |s| matches!(s, TrainingState::Idle { .. })) {
            TrainingState::Idle { left } => left,
            other => unreachable!("{other:?}"),
        };
        assert!(left > 0, "stopped straight after starting, yet nothing was left");
        trainer.start().unwrap();
        wait_for(&trainer, "to finish", |s| s == TrainingState::Idle { left: 0 });
        let store = mosaic_store::open(&dir.join("store")).unwrap();
        let runs = store.runs(store.sweeps().unwrap()[0].id).unwrap();
        assert_eq!(runs.len(), 40, "no run was added or lost");
        assert!(runs.iter().all(|r| r.status.is_finished()));
        // The view heard where training stood, ending idle with nothing left
        // (that last word may still be on its way when the trainer's state has turned).
        let mut states: Vec<TrainingState> = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while states.last() != Some(&TrainingState::Idle { left: 0 }) && std::time::Instant::now() < deadline {
            if let Ok(SceneUpdate::Training { state, .. }) = opened.feed.recv_timeout(std::time::Duration::from_millis(50)) {
                states.push(state);
            }
        }
        assert_eq!(states.last(), Some(&TrainingState::Idle { left: 0 }), "{states:?}");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn trained_suggestions_join_the_scene_and_colour_in() {
        let dir = std::env::temp_dir().join(format!("mosaic-suggest-train-{}", std::process::id()));
        let opened = open(tiny_population(&dir, "moons", 10, 1), true).unwrap();
        let trainer = opened.trainer.clone().expect("a trainer");
        wait_for(&trainer, "to finish the sweep", |s| s == TrainingState::Idle { left: 0 });
        let positions = opened.scene.positions.clone();
        let next = |what: &str, pick: &dyn Fn(&SceneUpdate) -> bool| -> SceneUpdate {
            let start = Instant::now();
            loop {
                if let Ok(u) = opened.feed.recv_timeout(Duration::from_millis(100))
                    && pick(&u)
                {
                    return u;
                }
                assert!(start.elapsed() < Duration::from_secs(300), "never got {what}");
            }
        };
        opened.requests.send(ViewRequest::Suggest { n: 2, positions }).unwrap();
        let SceneUpdate::Suggestions(Answer::Ready(view)) = next("suggestions", &|u| matches!(u, SceneUpdate::Suggestions(_))) else {
            panic!("suggesting failed")
        };
        assert_eq!((view.ids.len(), view.positions.len()), (2, 2));
        assert!(view.positions.iter().all(|p| (p.iter().map(|v| v * v).sum::<f32>().sqrt() - 1.0).abs() < 1e-3), "placed on the sphere");
        opened.requests.send(ViewRequest::TrainSuggestions { ids: view.ids.clone(), positions: view.positions.clone() }).unwrap();
        let SceneUpdate::AddPoints { labels, positions, columns } = next("new points", &|u| matches!(u, SceneUpdate::AddPoints { .. }))
        else {
            unreachable!()
        };
        assert_eq!(labels.len(), 2);
        assert_eq!(positions, view.positions, "new points stand where their ghosts stood");
        assert!(columns.iter().any(|(n, v)| n == "depth" && v.len() == 2));
        // Both new points (scene indices 10 and 11) get their accuracy once trained.
        let mut coloured = std::collections::BTreeSet::new();
        while coloured.len() < 2 {
            if let SceneUpdate::SetValue { column, index, .. } = next("accuracies", &|u| matches!(u, SceneUpdate::SetValue { .. }))
                && column == VAL_ACCURACY
            {
                assert!(index >= 10, "an old point was retrained: {index}");
                coloured.insert(index);
            }
        }
        // Training them again is refused: they are runs now.
        opened.requests.send(ViewRequest::TrainSuggestions { ids: view.ids.clone(), positions: view.positions }).unwrap();
        let SceneUpdate::Suggestions(Answer::Failed(e)) = next("a refusal", &|u| matches!(u, SceneUpdate::Suggestions(_))) else {
            panic!("trained twice")
        };
        assert!(e.contains("trained already"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
