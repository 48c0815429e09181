//! The compute service: worker threads that answer the view's requests
//! (a network's record and loss landscape, correlations, dynamics,
//! hyper-parameter surfaces, clusters, paths, suggestions) and start or stop
//! the trainer. The view never waits on it: answers arrive over the scene
//! channel, exactly one final answer per request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, bail};
use crossbeam_channel::{Receiver, Sender, unbounded};
use mosaic_core::{ArchSpec, Encoder};
use mosaic_core::{EpochMetrics, RunStatus};
use mosaic_landscape::dynamics::dynamics;
use mosaic_landscape::file::{self, DirectionSource};
use mosaic_landscape::hyper::{DEFAULT_SMOOTHING, hyper_surface, importance};
use mosaic_landscape::stats::{Method, correlation_matrix};
use mosaic_manifold::cluster::{auto_eps, dbscan};
use mosaic_protocol::{
    Answer, CorrelationMethod, CorrelationTable, DynamicsSeries, HyperView, LandscapeData, NetworkDetails, PathPoint, PathView,
    SceneUpdate, SuggestionsView, TrainingState, ViewRequest,
};
use mosaic_store::{EmbeddingKind, RunConfig, RunFiles, RunRecord, Store, SweepInfo};

use crate::design::scene_from_specs;
use crate::landscape::{self, LandscapeRequest, Progress};
use crate::live::{Trainer, place_beside, run_label};
use crate::path::{path_between, spec_label};
use crate::suggest::{SuggestSettings, suggest_for};

/// Which store and sweep the explorer shows; point `i` of the scene is run `runs[i]`.
#[derive(Clone, Debug)]
pub struct Shown {
    pub store: PathBuf,
    pub sweep: String,
    pub runs: Vec<i64>,
    /// The embedding that places the scene's networks; `None` when they
    /// stand where their encodings put them.
    pub embedding: Option<EmbeddingKind>,
}

impl Shown {
    /// The store and the shown sweep, opened afresh (the service holds no connection between requests).
    fn open(&self) -> Result<(Box<dyn Store>, SweepInfo)> {
        let store = mosaic_store::open_existing(&self.store)?;
        let sweep = store.sweep(Some(&self.sweep))?;
        Ok((store, sweep))
    }
}

/// Starts the service (`shown`: the store behind the scene, if any;
/// `trainer`: what trains it, if this view trains); answers go to
/// `answers`. Two workers share the requests: one computes landscapes
/// (seconds to minutes, when a run must be replayed), the other everything
/// else, so a correlation or a cluster never waits behind a landscape.
pub fn spawn(shown: Option<Shown>, trainer: Option<Arc<Trainer>>, answers: Sender<SceneUpdate>) -> Result<Sender<ViewRequest>> {
    let (tx, rx) = unbounded::<ViewRequest>();
    let (slow_tx, slow_rx) = unbounded();
    let (quick_tx, quick_rx) = unbounded();
    let (slow_shown, slow_trainer, slow_answers) = (shown.clone(), trainer.clone(), answers.clone());
    std::thread::Builder::new()
        .name("inspect-landscapes".into())
        .spawn(move || serve(slow_shown.as_ref(), slow_trainer.as_ref(), &slow_rx, &slow_answers))?;
    std::thread::Builder::new().name("inspect".into()).spawn(move || serve(shown.as_ref(), trainer.as_ref(), &quick_rx, &answers))?;
    std::thread::Builder::new().name("inspect-router".into()).spawn(move || {
        for request in rx {
            let worker = if matches!(request, ViewRequest::Inspect { .. }) { &slow_tx } else { &quick_tx };
            if worker.send(request).is_err() {
                return;
            }
        }
    })?;
    Ok(tx)
}

fn serve(shown: Option<&Shown>, trainer: Option<&Arc<Trainer>>, requests: &Receiver<ViewRequest>, answers: &Sender<SceneUpdate>) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        for (request, superseded) in with_superseded(&batch) {
            let answer = match superseded {
                Some(answer) => answer,
                // A bug in one answer must not take the worker down: the
                // view would wait for this and every later answer.
                None => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self::answer(shown, trainer, request, answers)))
                    .unwrap_or_else(|_| request.failed("an internal error stopped this computation (see the terminal)".into())),
            };
            if answers.send(answer).is_err() {
                return; // the view has closed
            }
        }
    }
}

/// Everything queued at once, in order, each with its answer when a newer
/// request of its kind in the batch replaced it (only the newest of a kind
/// is computed). The replaced ones are answered at once, so the view's
/// count of pending requests stays true.
fn with_superseded(batch: &[ViewRequest]) -> impl Iterator<Item = (&ViewRequest, Option<SceneUpdate>)> {
    batch.iter().enumerate().map(|(i, request)| {
        let replaced = batch[i + 1..].iter().any(|newer| newer.supersedes(request));
        (request, if replaced { request.superseded() } else { None })
    })
}

/// An answer with the whole chain of causes, as the panel shows it.
fn answered<T>(result: Result<T>) -> Answer<T> {
    match result {
        Ok(value) => Answer::Ready(value),
        Err(e) => Answer::Failed(format!("{e:#}")),
    }
}

/// The final answer to a request.
fn answer(shown: Option<&Shown>, trainer: Option<&Arc<Trainer>>, request: &ViewRequest, answers: &Sender<SceneUpdate>) -> SceneUpdate {
    match request {
        ViewRequest::Inspect { index } => SceneUpdate::Landscape {
            index: *index,
            answer: match shown {
                Some(shown) => answered(inspect(shown, *index, answers)),
                None => Answer::Failed(
                    "none: sampled architectures have no weights; train a sweep (`mosaic --store DIR`) to map its networks".into(),
                ),
            },
        },
        ViewRequest::Correlate { method, names, columns } => SceneUpdate::Correlations(Answer::Ready(correlate(*method, names, columns))),
        ViewRequest::Dynamics { index, epochs, window } => {
            SceneUpdate::Dynamics { index: *index, answer: Answer::Ready(training_dynamics(epochs, *window)) }
        }
        ViewRequest::HyperSurface { x, y, target, columns } => SceneUpdate::HyperSurface(answered(hyper_view(x, y, target, columns))),
        ViewRequest::Clusters { positions } => SceneUpdate::Clusters(clusters(positions).into()),
        ViewRequest::Train { run } => train(trainer, *run),
        ViewRequest::TrainSuggestions { ids, positions } => {
            SceneUpdate::Suggestions(answered(train_suggestions(shown, trainer, ids, positions, answers)))
        }
        ViewRequest::Suggest { n, positions } => SceneUpdate::Suggestions(match shown {
            Some(shown) => answered(suggest_view(shown, *n, positions)),
            None => Answer::Failed("suggestions learn from trained networks: open a store (`mosaic --store DIR`)".into()),
        }),
        ViewRequest::Path { from, to, steps } => SceneUpdate::Path {
            from: *from,
            to: *to,
            answer: match shown {
                Some(shown) => answered(path_view(shown, *from, *to, *steps)),
                None => Answer::Failed("paths run between trained networks placed by an embedding: open a store".into()),
            },
        },
    }
}

/// The run behind scene point `index`: the sweep's run of that index (runs
/// added since the view opened, from suggestions, included).
fn run_at(shown: &Shown, index: usize) -> Result<i64> {
    if let Some(id) = shown.runs.get(index) {
        return Ok(*id);
    }
    let (store, sweep) = shown.open()?;
    store.runs(sweep.id)?.iter().find(|r| r.index == index).map(|r| r.id).with_context(|| format!("no run behind point {index}"))
}

/// Clustering is quadratic in the points: above this many the sphere goes without.
const CLUSTER_MOST: usize = 20_000;

/// DBSCAN clusters of the points on the sphere, as `mosaic embed --store`
/// finds them (radius from the 4th neighbours, 4 points to a core).
fn clusters(positions: &[[f32; 3]]) -> Result<Vec<Option<usize>>, String> {
    if positions.len() > CLUSTER_MOST {
        return Err(format!("{} points: clusters are found for up to {CLUSTER_MOST}", positions.len()));
    }
    let points: Vec<[f64; 3]> = positions.iter().map(|p| p.map(f64::from)).collect();
    Ok(dbscan(&points, auto_eps(&points, 4), 4))
}

/// The architectures between two of the scene's networks, placed as the scene is.
fn path_view(shown: &Shown, from: usize, to: usize, steps: usize) -> Result<PathView> {
    let Some(kind) = shown.embedding else {
        bail!("the sphere is laid out by design (no embedding to place a path in): run `mosaic embed --store DIR` and reopen");
    };
    let id = |i: usize| run_at(shown, i);
    let (store, sweep) = shown.open()?;
    let steps = path_between(&*store, &sweep, id(from)?, id(to)?, steps, kind)?;
    Ok(PathView {
        labels: steps.iter().map(|(spec, _)| spec_label(spec)).collect(),
        positions: steps.into_iter().map(|(_, p)| p).collect(),
    })
}

/// A batch of suggestions for the shown sweep, stored and placed as the scene is laid out.
fn suggest_view(shown: &Shown, n: usize, scene_positions: &[[f32; 3]]) -> Result<SuggestionsView> {
    let (mut store, sweep) = shown.open()?;
    let out = suggest_for(&mut *store, &sweep, n, &SuggestSettings::default())?;
    let specs: Vec<ArchSpec> = out.records.iter().map(|r| r.spec.clone()).collect();
    Ok(SuggestionsView {
        ids: out.records.iter().map(|r| r.id).collect(),
        labels: specs.iter().map(spec_label).collect(),
        positions: place_specs(&*store, &sweep, shown, &specs, scene_positions)?,
        mean: out.records.iter().map(|r| r.mean).collect(),
        std: out.records.iter().map(|r| r.std).collect(),
        notes: out.notes,
    })
}

/// Places specs that have no run beside the scene's networks: by the
/// scene's embedding where it has one (PHATE's out-of-sample extension,
/// nothing embedded moves); otherwise at the weighted mean of the five
/// architecturally nearest points as the scene shows them.
fn place_specs(
    store: &dyn Store,
    sweep: &SweepInfo,
    shown: &Shown,
    specs: &[ArchSpec],
    scene_positions: &[[f32; 3]],
) -> Result<Vec<[f32; 3]>> {
    let runs = store.runs(sweep.id)?;
    let encoder = Encoder::new(sweep.architectures("suggestions are architectures")?.clone());
    if let Some(kind) = shown.embedding
        && let Some((_, coords)) = store.embedding(sweep.id, kind)?.filter(|(_, c)| !c.is_empty())
    {
        let known = runs.iter().filter_map(|r| Some((r.id, r.arch()?.clone()))).collect();
        return Ok(place_beside(known, &coords, &encoder, specs));
    }
    // Scene point i is the sweep's run of index i.
    let shown_runs: Vec<(&ArchSpec, [f32; 3])> = runs.iter().zip(scene_positions).filter_map(|(r, p)| Some((r.arch()?, *p))).collect();
    if shown_runs.is_empty() {
        bail!("the scene has no points to place suggestions beside");
    }
    Ok(specs
        .iter()
        .map(|spec| {
            let mut near: Vec<(f64, [f32; 3])> = shown_runs.iter().map(|(s, p)| (encoder.distance(spec, s), *p)).collect();
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut sum = [0.0f32; 3];
            for (d, p) in near.iter().take(5) {
                (0..3).for_each(|k| sum[k] += p[k] / (*d as f32 + 1e-3));
            }
            let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 1e-9 { sum.map(|v| v / norm) } else { [0.0, 1.0, 0.0] }
        })
        .collect())
}

/// Adds suggestions to the sweep, shows them as new points (where their
/// ghosts stood) and trains them in the background.
fn train_suggestions(
    shown: Option<&Shown>,
    trainer: Option<&Arc<Trainer>>,
    ids: &[i64],
    positions: &[[f32; 3]],
    answers: &Sender<SceneUpdate>,
) -> Result<SuggestionsView> {
    let Some(shown) = shown else { bail!("suggestions train into a store: open one (`mosaic --store DIR`)") };
    let Some(trainer) = trainer else {
        bail!("this view does not train: run `mosaic search --store {}` to train suggestions", mosaic_store::split_password(&shown.store).0)
    };
    let (mut store, sweep) = shown.open()?;
    let accepted = store.accept_suggestions(sweep.id, ids)?;
    if accepted.is_empty() {
        bail!("these suggestions were trained already; ask for new ones");
    }
    let encoder = Encoder::new(sweep.architectures("suggestions are architectures")?.clone());
    let specs: Vec<ArchSpec> = accepted.iter().filter_map(|(_, r)| r.arch().cloned()).collect();
    let design = scene_from_specs(&encoder, &specs, String::new())?;
    let at = |id: i64| ids.iter().position(|i| *i == id).and_then(|k| positions.get(k)).copied().unwrap_or([0.0, 1.0, 0.0]);
    let update = SceneUpdate::AddPoints {
        labels: accepted.iter().map(|(_, r)| run_label(r)).collect(),
        positions: accepted.iter().map(|(id, _)| at(*id)).collect(),
        columns: design.columns.into_iter().map(|c| (c.name, c.values)).collect(),
    };
    let _ = answers.send(update);
    trainer.start()?;
    trainer.report(false);
    Ok(SuggestionsView {
        notes: vec![format!("training {} suggested networks: they colour in as they finish", accepted.len())],
        ..SuggestionsView::default()
    })
}

/// Starts or stops the trainer, and says where training stands.
fn train(trainer: Option<&Arc<Trainer>>, run: bool) -> SceneUpdate {
    let Some(trainer) = trainer else {
        return SceneUpdate::Training { state: TrainingState::Idle { left: 0 }, answers: true };
    };
    if run {
        if let Err(e) = trainer.start() {
            let _ = trainer.tx().send(SceneUpdate::Status(format!("cannot train here: {e:#}")));
        }
    } else {
        trainer.stop();
    }
    SceneUpdate::Training { state: trainer.state(), answers: true }
}

/// Grid points per axis of a surface through scattered runs.
const HYPER_GRID: usize = 41;

/// `target` over knobs `x` and `y`, and the importance of every knob (the
/// design's knob columns present) for it.
fn hyper_view(x: &str, y: &str, target: &str, columns: &[(String, Vec<f64>)]) -> Result<HyperView> {
    let column =
        |name: &str| columns.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice()).with_context(|| format!("no column `{name}`"));
    let (xs, ys, ts) = (column(x)?, column(y)?, column(target)?);
    let surface = hyper_surface(xs, ys, ts, HYPER_GRID, DEFAULT_SMOOTHING)?;
    let knobs: Vec<(String, Vec<f64>)> =
        columns.iter().filter(|(n, _)| n != target && crate::design::KNOB_COLUMNS.contains(&n.as_str())).cloned().collect();
    let importance = importance(&knobs, ts).map(|v| v.into_iter().map(|i| (i.knob, i.share)).collect()).unwrap_or_default();
    Ok(HyperView {
        x_name: x.to_string(),
        y_name: y.to_string(),
        target: target.to_string(),
        surface: LandscapeData {
            x: surface.x,
            y: surface.y,
            loss: surface.z,
            path: Vec::new(),
            caption: format!("{target} over {x} and {y}"),
        },
        runs: surface.runs,
        exact: surface.exact,
        importance,
    })
}

/// Kendall's tau counts pairs (quadratic): above this many networks it
/// runs on an even sample of them.
const KENDALL_MOST: usize = 3000;

fn correlate(method: CorrelationMethod, names: &[String], columns: &[Vec<f64>]) -> CorrelationTable {
    let method_of = match method {
        CorrelationMethod::Pearson => Method::Pearson,
        CorrelationMethod::Spearman => Method::Spearman,
        CorrelationMethod::Kendall => Method::Kendall,
    };
    let n = columns.first().map_or(0, Vec::len);
    let step = if method == CorrelationMethod::Kendall { n.div_ceil(KENDALL_MOST).max(1) } else { 1 };
    let sampled: Vec<Vec<f64>> = columns.iter().map(|c| c.iter().step_by(step).copied().collect()).collect();
    let slices: Vec<&[f64]> = sampled.iter().map(Vec::as_slice).collect();
    let matrix = correlation_matrix(method_of, &slices);
    let note = if step > 1 { format!("Kendall on every {step}th of {n} networks") } else { String::new() };
    CorrelationTable {
        method,
        names: names.to_vec(),
        r: matrix.iter().map(|row| row.iter().map(|c| c.r).collect()).collect(),
        p: matrix.iter().map(|row| row.iter().map(|c| c.p).collect()).collect(),
        note,
    }
}

/// Validation loss and accuracy of a run, with their change and momentum.
fn training_dynamics(epochs: &[EpochMetrics], window: usize) -> Vec<DynamicsSeries> {
    let series = |name: &str, f: fn(&EpochMetrics) -> f64| {
        let values: Vec<f64> = epochs.iter().map(f).collect();
        let d = dynamics(name, &values, window);
        DynamicsSeries { name: d.name, values: d.values, derivative: d.derivative, momentum: d.momentum }
    };
    vec![series("val loss", |e| e.val_loss), series("val accuracy", |e| e.val_accuracy)]
}

/// Sends the run's details, then finds or computes its landscape.
fn inspect(shown: &Shown, index: usize, answers: &Sender<SceneUpdate>) -> Result<LandscapeData> {
    let id = run_at(shown, index)?;
    let (store, sweep) = shown.open()?;
    let run = store.run(id)?.filter(|r| r.sweep == sweep.id).with_context(|| format!("run {id} is gone from the store"))?;
    let _ = answers.send(SceneUpdate::Details { index, details: details(&run) });
    let files = store.run_files(id);
    drop(store);
    if let Some(found) = stored_landscape(&files)? {
        return Ok(found);
    }
    match run.status {
        RunStatus::Done => {}
        RunStatus::Pending | RunStatus::Running => bail!("not trained yet: it gets a landscape once its run finishes"),
        RunStatus::Diverged | RunStatus::Failed => bail!("run {id} {}: no finite weights to map", run.status.as_str()),
    }
    let progress = |step: Progress| {
        let text = match step {
            Progress::Replay { epoch, epochs, .. } => format!("replaying training to record its path: epoch {epoch} of {epochs}"),
            Progress::Grid { done, total } => format!("computing the surface: {done} of {total} grid points"),
        };
        let _ = answers.send(SceneUpdate::LandscapeProgress { index, text });
    };
    let request = LandscapeRequest::trajectory_of(&shown.store, &shown.sweep, id);
    let (out, _) = landscape::compute(&request, &progress, &AtomicBool::new(false))?;
    read_landscape(&out)
}

/// The run's kept landscape: over its trajectory's plane if there is one
/// (the path lies on it), else over random directions.
fn stored_landscape(files: &RunFiles) -> Result<Option<LandscapeData>> {
    for path in [files.trajectory_npy(), files.landscape_npy()] {
        if path.is_file() && file::sidecar_path(&path).is_file() {
            return read_landscape(&path).map(Some);
        }
    }
    Ok(None)
}

fn read_landscape(npy: &Path) -> Result<LandscapeData> {
    let (surface, info) = file::read(npy).with_context(|| format!("reading {}", npy.display()))?;
    let Some(y) = surface.y else {
        bail!("{} is a 1-D scan; the view draws 2-D surfaces (compute one with `mosaic landscape --trajectory`)", npy.display());
    };
    let path = info.trajectory.as_ref().map_or_else(Vec::new, |t| {
        t.epochs.iter().zip(&t.coords).zip(&t.loss).map(|((&epoch, c), &loss)| PathPoint { epoch, x: c[0], y: c[1], loss }).collect()
    });
    let directions = match (&info.directions, &info.trajectory) {
        (DirectionSource::Trajectory, Some(t)) => {
            format!("plane of the training path (PC1 {:.0}%, PC2 {:.0}%)", 100.0 * t.explained[0], 100.0 * t.explained[1])
        }
        (DirectionSource::Trajectory, None) => "plane of the training path".into(),
        (DirectionSource::Random, _) => "random filter-normalised directions".into(),
        (DirectionSource::File(f), _) => format!("directions from {f}"),
    };
    Ok(LandscapeData { x: surface.x, y, loss: surface.loss, path, caption: format!("{directions} · {}", info.data) })
}

/// The inspector's facts about a run.
fn details(run: &RunRecord) -> NetworkDetails {
    let mut facts = vec![("status".to_string(), run.status.as_str().to_string())];
    if let Some(o) = &run.outcome {
        if let Some(acc) = o.val_accuracy() {
            facts.push(("val accuracy".into(), format!("{:.1}%", 100.0 * acc)));
        }
        if let Some(acc) = o.test_accuracy {
            facts.push(("test accuracy".into(), format!("{:.1}%", 100.0 * acc)));
        }
        facts.push(("parameters".into(), o.parameters.to_string()));
        let took = if o.seconds < 1.0 { format!("{:.0} ms", 1e3 * o.seconds) } else { format!("{:.1} s", o.seconds) };
        facts.push(("trained in".into(), took));
        if let Some(note) = &o.note {
            facts.push(("note".into(), note.clone()));
        }
    }
    match &run.config {
        RunConfig::Architecture(s) => facts.extend([
            ("layers".into(), format!("{} x {} (taper {:.2})", s.depth, s.width, s.taper)),
            ("activation".into(), format!("{:?}", s.activation)),
            ("norm".into(), format!("{:?}", s.norm)),
            ("skip".into(), s.skip.to_string()),
            ("dropout".into(), format!("{:.2}", s.dropout)),
            ("optimizer".into(), format!("{:?}", s.optimizer)),
            ("learning rate".into(), format!("{:.2e}", s.learning_rate)),
            ("weight decay".into(), format!("{:.1e}", s.weight_decay)),
            ("batch, epochs".into(), format!("{}, {}", s.batch_size, s.epochs)),
        ]),
        RunConfig::Parameters(params) => facts.extend(params.iter().map(|(k, v)| (k.clone(), v.short()))),
    }
    NetworkDetails { title: run_label(run), facts, epochs: run.outcome.as_ref().map_or_else(Vec::new, |o| o.epochs.clone()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use mosaic_protocol::CorrelationMethod;

    fn correlate(name: &str) -> ViewRequest {
        ViewRequest::Correlate { method: CorrelationMethod::Spearman, names: vec![name.into()], columns: vec![vec![1.0, 2.0, 3.0]] }
    }

    #[test]
    fn only_the_newest_request_of_a_kind_in_a_batch_is_computed() {
        let batch = vec![
            correlate("a"),
            ViewRequest::Inspect { index: 1 },
            correlate("b"),
            ViewRequest::Train { run: true },
            ViewRequest::Train { run: false },
            ViewRequest::TrainSuggestions { ids: vec![1], positions: vec![] },
            ViewRequest::TrainSuggestions { ids: vec![2], positions: vec![] },
            ViewRequest::Inspect { index: 2 },
        ];
        let replaced: Vec<bool> = with_superseded(&batch).map(|(_, answer)| answer.is_some()).collect();
        assert_eq!(replaced, [true, true, false, false, false, false, false, false]);
        let answers: Vec<SceneUpdate> = with_superseded(&batch).filter_map(|(_, answer)| answer).collect();
        assert_eq!(
            answers,
            [SceneUpdate::Correlations(Answer::Superseded), SceneUpdate::Landscape { index: 1, answer: Answer::Superseded }]
        );
    }

    /// Every request the view can send, for a service with no store behind it.
    fn one_of_each() -> Vec<ViewRequest> {
        vec![
            ViewRequest::Inspect { index: 0 },
            correlate("depth"),
            ViewRequest::Dynamics { index: 0, epochs: vec![], window: 3 },
            ViewRequest::HyperSurface { x: "depth".into(), y: "width".into(), target: "acc".into(), columns: vec![] },
            ViewRequest::Path { from: 0, to: 1, steps: 4 },
            ViewRequest::Clusters { positions: vec![[1.0, 0.0, 0.0]; 3] },
            ViewRequest::Train { run: true },
            ViewRequest::Suggest { n: 2, positions: vec![] },
            ViewRequest::TrainSuggestions { ids: vec![1], positions: vec![] },
        ]
    }

    /// The updates that arrive until `finals` final answers are in (or the time is up).
    fn collect_finals(answers: &Receiver<SceneUpdate>, finals: usize) -> Vec<SceneUpdate> {
        let mut got = Vec::new();
        while got.iter().filter(|u: &&SceneUpdate| u.is_final_answer()).count() < finals {
            match answers.recv_timeout(Duration::from_secs(60)) {
                Ok(update) => got.push(update),
                Err(e) => panic!("only {got:?} arrived: {e}"),
            }
        }
        got
    }

    #[test]
    fn every_request_gets_exactly_one_final_answer() {
        let (tx, rx) = unbounded();
        let requests = spawn(None, None, tx).unwrap();
        let all = one_of_each();
        for request in &all {
            requests.send(request.clone()).unwrap();
        }
        let got = collect_finals(&rx, all.len());
        // Nothing more follows: no request was answered twice.
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "an extra answer arrived");
        // One final answer of each kind; the two suggestion requests answer with Suggestions.
        let finals: Vec<&SceneUpdate> = got.iter().filter(|u| u.is_final_answer()).collect();
        let kinds = |pick: fn(&SceneUpdate) -> bool| finals.iter().filter(|u| pick(u)).count();
        assert_eq!(kinds(|u| matches!(u, SceneUpdate::Landscape { .. })), 1);
        assert_eq!(kinds(|u| matches!(u, SceneUpdate::Suggestions(_))), 2);
        assert_eq!(kinds(|u| matches!(u, SceneUpdate::Training { answers: true, .. })), 1);
        // With no store, what needs one says how to get one; the rest is computed.
        for update in finals {
            match update {
                SceneUpdate::Landscape { answer: Answer::Failed(e), .. } => assert!(e.contains("--store"), "{e}"),
                SceneUpdate::Suggestions(Answer::Failed(e)) => assert!(e.contains("store"), "{e}"),
                SceneUpdate::Path { answer: Answer::Failed(e), .. } => assert!(e.contains("open a store"), "{e}"),
                SceneUpdate::Correlations(Answer::Ready(table)) => assert_eq!(table.names, ["depth"]),
                SceneUpdate::Dynamics { answer: Answer::Ready(series), .. } => assert_eq!(series.len(), 2),
                SceneUpdate::HyperSurface(Answer::Failed(e)) => assert!(e.contains("no column"), "{e}"),
                SceneUpdate::Clusters(Answer::Ready(labels)) => assert_eq!(labels.len(), 3),
                SceneUpdate::Training { state, .. } => assert_eq!(*state, TrainingState::Idle { left: 0 }),
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }

    #[test]
    fn the_service_ends_when_the_view_closes_its_end() {
        let (tx, rx) = unbounded();
        let requests = spawn(None, None, tx).unwrap();
        requests.send(correlate("depth")).unwrap();
        drop(requests);
        // The answer already asked for still comes; then every worker has gone.
        assert!(matches!(rx.recv_timeout(Duration::from_secs(60)), Ok(SceneUpdate::Correlations(Answer::Ready(_)))));
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Err(crossbeam_channel::RecvTimeoutError::Disconnected));
    }
}
