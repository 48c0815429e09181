//! The loss surface around a trained network (a store's run, or a
//! PyTorch MLP's weights), over random filter-normalised directions, given
//! directions, or the plane of its training trajectory; written as .npy
//! with a JSON sidecar.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::backend::Flex;
use burn::backend::flex::FlexDevice;
use mosaic_core::{Activation, RunStatus};
use mosaic_landscape::directions::{self, DirectionOptions, Normalization};
use mosaic_landscape::file::{self, DirectionSource, SurfaceInfo, TrajectoryInfo};
use mosaic_landscape::{Axis, Net, Trajectory, surface, surface_cpu};
use mosaic_store::{RunFiles, RunRecord, SweepInfo};
use mosaic_train::checkpoint::{Arrays, read_safetensors};
use mosaic_train::data::{Dataset, Splits, load_csv};
use mosaic_train::sweep::run_seed;
use mosaic_train::train::{Checkpoints, TrainConfig, train};
use mosaic_train::{CpuBackend, cpu_device};

use crate::sweeps::sweep_splits;

/// Whose surface: a trained run of a store, or weights from elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    StoredRun {
        store: PathBuf,
        /// Default: the store's only sweep.
        sweep: Option<String>,
        run: i64,
        /// The split the loss is measured on.
        split: Split,
        /// Over the plane of the training trajectory (PCA of the per-epoch
        /// checkpoints; the run is replayed, exactly, to record them if the
        /// sweep kept none).
        trajectory: bool,
    },
    /// A PyTorch `nn.Sequential` MLP's state dict (safetensors) and a CSV of
    /// feature columns with an integer class label.
    TorchMlp { weights: PathBuf, activation: Activation, data: PathBuf, label_column: Option<String> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Validation,
    Test,
}

/// What evaluates the grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Fused CPU kernels on every core.
    #[default]
    Cpu,
    /// burn's tensors (the backend-generic path a GPU build runs).
    Burn,
}

/// A loss surface to compute.
#[derive(Clone, Debug, PartialEq)]
pub struct LandscapeRequest {
    pub subject: Subject,
    /// Given directions: tensors `d1.<param>` (and `d2.<param>` for 2-D) in
    /// the weights' layout; used as they are unless `normalize` is given.
    pub directions: Option<PathBuf>,
    /// x axis, `MIN:MAX:NUM` (default -1:1:51; for a trajectory, the path's extent).
    pub x: Option<String>,
    /// y axis, `MIN:MAX:NUM`, or `none` for a 1-D scan along the first direction.
    pub y: Option<String>,
    /// How directions are scaled against the weights (default: filter for
    /// random directions; given directions are used as they are).
    pub normalize: Option<Normalization>,
    /// Move biases and norm parameters too (by default their direction is zero).
    pub keep_bias_norm: bool,
    /// Make the second random direction orthogonal to the first.
    pub orthogonal: bool,
    /// Seed of the random directions.
    pub seed: u64,
    pub engine: Engine,
    /// The loss grid (.npy); a JSON sidecar of the same stem goes beside it.
    /// Default for a stored run: its folder (landscape.npy, or trajectory.npy).
    pub out: Option<PathBuf>,
}

impl LandscapeRequest {
    /// A surface of `subject` with every option at its default.
    pub fn of(subject: Subject) -> Self {
        LandscapeRequest {
            subject,
            directions: None,
            x: None,
            y: None,
            normalize: None,
            keep_bias_norm: false,
            orthogonal: false,
            seed: 0,
            engine: Engine::Cpu,
            out: None,
        }
    }

    /// The explorer's landscape of a stored run: over its training
    /// trajectory, on the training split, kept in the run's folder.
    pub fn trajectory_of(store: &Path, sweep: &str, run: i64) -> Self {
        Self::of(Subject::StoredRun {
            store: store.to_path_buf(),
            sweep: Some(sweep.to_string()),
            run,
            split: Split::Train,
            trajectory: true,
        })
    }

    fn trajectory(&self) -> bool {
        matches!(self.subject, Subject::StoredRun { trajectory: true, .. })
    }
}

/// The network, the data and where the directions come from.
struct Loaded {
    net: Net,
    data: Dataset,
    source: String,
    run: Option<i64>,
    data_name: String,
    default_out: Option<PathBuf>,
    /// Per-epoch checkpoints, oldest first, with their epochs (trajectory only).
    checkpoints: Vec<(u32, Arrays)>,
}

/// How far a landscape computation is.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Replaying a run to record its per-epoch checkpoints (`epoch` done of `epochs`).
    Replay { run: i64, epoch: u32, epochs: u32 },
    /// Evaluating the grid.
    Grid { done: usize, total: usize },
}

/// Computes the surface `request` asks for and writes it (.npy and sidecar);
/// returns where, and what the sidecar says.
pub fn compute(request: &LandscapeRequest, progress: &(dyn Fn(Progress) + Sync), cancel: &AtomicBool) -> Result<(PathBuf, SurfaceInfo)> {
    let subject = match &request.subject {
        Subject::StoredRun { store, sweep, run, split, trajectory } => {
            from_store(store, sweep.as_deref(), *run, *split, *trajectory, progress)?
        }
        Subject::TorchMlp { weights, activation, data, label_column } => from_weights(weights, *activation, data, label_column.as_deref())?,
    };
    let Loaded { net, data, .. } = &subject;
    let normalization = match request.normalize {
        Some(normalization) => normalization,
        // Given directions are the user's own: used as they are unless asked.
        None if request.directions.is_some() => Normalization::None,
        None => Normalization::Filter,
    };
    let mut options = DirectionOptions {
        normalization,
        ignore_bias_and_norm: !request.keep_bias_norm,
        orthogonalize: request.orthogonal,
        seed: request.seed,
    };
    let one_d = request.y.as_deref() == Some("none");
    let mut trajectory = None;
    let (source, d1, d2) = if request.trajectory() {
        let checkpoints: Vec<Arrays> = subject.checkpoints.iter().map(|(_, a)| a.clone()).collect();
        let t = Trajectory::fit(net, &checkpoints, options.ignore_bias_and_norm)?;
        options.normalization = Normalization::None;
        let (d1, d2) = (t.d1.clone(), t.d2.clone());
        trajectory = Some(t);
        (DirectionSource::Trajectory, d1, (!one_d).then_some(d2))
    } else if let Some(path) = &request.directions {
        let (mut d1, mut d2) =
            directions::from_file(read_safetensors(path)?, net).with_context(|| format!("directions in {}", path.display()))?;
        if request.normalize.is_some() {
            directions::normalize(&mut d1, net, normalization, options.ignore_bias_and_norm);
            if let Some(d2) = &mut d2 {
                directions::normalize(d2, net, normalization, options.ignore_bias_and_norm);
            }
        }
        if !one_d && d2.is_none() {
            bail!("{} holds only d1.*: add d2.* tensors for a 2-D surface, or pass --y none for a 1-D scan", path.display());
        }
        (DirectionSource::File(path.display().to_string()), d1, if one_d { None } else { d2 })
    } else {
        let (d1, d2) = directions::surface_directions(net, &options, !one_d);
        (DirectionSource::Random, d1, d2)
    };

    let default_axes = trajectory.as_ref().map(|t| t.axes(0.3, 51));
    let x_axis = match (&request.x, default_axes) {
        (Some(text), _) => Axis::parse(text)?,
        (None, Some((x, _))) => x,
        (None, None) => Axis::parse("-1:1:51")?,
    };
    let y_axis = match (request.y.as_deref(), default_axes) {
        (Some("none"), _) => None,
        (Some(text), _) => Some(Axis::parse(text)?),
        (None, Some((_, y))) => Some(y),
        (None, None) => Some(Axis::parse("-1:1:51")?),
    };

    let out = match (&request.out, &subject.default_out) {
        (Some(out), _) => out.clone(),
        (None, Some(default)) => default.clone(),
        (None, None) => bail!("say where to write the surface (--out FILE.npy): only a stored run has a default place"),
    };
    let started = Instant::now();
    progress(Progress::Grid { done: 0, total: x_axis.num * y_axis.map_or(1, |a| a.num) });
    let grid = |done: usize, total: usize| progress(Progress::Grid { done, total });
    let result = match request.engine {
        Engine::Cpu => surface_cpu(net, &d1, d2.as_ref(), x_axis, y_axis, data, &grid, cancel)?,
        Engine::Burn => surface::<Flex>(net, &d1, d2.as_ref(), x_axis, y_axis, data, &FlexDevice, &grid, cancel)?,
    };
    let seconds = started.elapsed().as_secs_f64();

    let trajectory = match trajectory {
        Some(t) => Some(trajectory_info(&subject, &t)?),
        None => None,
    };
    let info = SurfaceInfo {
        source: subject.source.clone(),
        run: subject.run,
        data: subject.data_name.clone(),
        examples: data.len(),
        x: x_axis,
        y: y_axis,
        directions: source,
        options,
        loss_file: out.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        accuracy: result.accuracy.clone(),
        minimum: SurfaceInfo::minimum_of(&result),
        non_finite: result.loss.iter().filter(|l| !l.is_finite()).count(),
        trajectory,
        seconds,
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    file::write(&out, &result, &info)?;
    Ok((out, info))
}

/// Each checkpoint's position and loss, for the path drawn on the surface.
fn trajectory_info(subject: &Loaded, t: &Trajectory) -> Result<TrajectoryInfo> {
    // Each checkpoint itself, evaluated as a one-point scan at the origin of a zero direction.
    let zero: Arrays = t.d1.iter().map(|(k, (s, v))| (k.clone(), (s.clone(), vec![0.0; v.len()]))).collect();
    let origin = Axis { min: 0.0, max: 0.0, num: 1 };
    let mut net = subject.net.clone();
    let mut loss = Vec::new();
    for (_, weights) in &subject.checkpoints {
        net.weights = weights.clone();
        let s = surface_cpu(&net, &zero, None, origin, None, &subject.data, &|_, _| {}, &AtomicBool::new(false))?;
        loss.push(s.loss[0]);
    }
    Ok(TrajectoryInfo {
        epochs: subject.checkpoints.iter().map(|(e, _)| *e).collect(),
        coords: t.coords.clone(),
        loss,
        explained: t.explained,
    })
}

fn from_weights(weights: &Path, activation: Activation, data_path: &Path, label_column: Option<&str>) -> Result<Loaded> {
    let state = read_safetensors(weights)?;
    let net = Net::from_torch_sequential(state, activation).with_context(|| format!("weights in {}", weights.display()))?;
    let data = load_csv(data_path, label_column)?;
    Ok(Loaded {
        net,
        source: format!("weights {}", weights.display()),
        run: None,
        data_name: format!("{} ({} examples)", data_path.display(), data.len()),
        data,
        default_out: None,
        checkpoints: Vec::new(),
    })
}

fn from_store(
    dir: &Path,
    sweep: Option<&str>,
    id: i64,
    split: Split,
    trajectory: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Loaded> {
    let store = mosaic_store::open_existing(dir)?;
    let sweep = store.sweep(sweep)?;
    let Some(run) = store.run(id)?.filter(|r| r.sweep == sweep.id) else {
        let runs = store.runs(sweep.id)?;
        let (lo, hi) = (runs.iter().map(|r| r.id).min().unwrap_or(0), runs.iter().map(|r| r.id).max().unwrap_or(0));
        bail!("sweep `{}` has no run {id}: its runs are {lo}..={hi}", sweep.name);
    };
    let spec = run.spec("this landscape rebuilds the network from its architecture")?.clone();
    match run.status {
        RunStatus::Done => {}
        RunStatus::Diverged => bail!(
            "run {id} diverged ({}): its weights are not finite",
            run.outcome.as_ref().and_then(|o| o.note.clone()).unwrap_or_default()
        ),
        other => bail!("run {id} is {other:?}, not trained: finish the sweep first (`mosaic sweep` resumes it)"),
    }
    let splits = sweep_splits(&sweep)?;
    let files = store.run_files(id);
    let folder = files.dir();
    // `--checkpoints final` keeps final.safetensors; `all` keeps every epoch, the last being the trained weights.
    // The epochs are read once, and only when something needs them.
    let final_path = files.final_weights();
    let kept = if trajectory || !final_path.is_file() { read_epochs(&files)? } else { Vec::new() };
    let weights = if final_path.is_file() {
        read_safetensors(&final_path)?
    } else {
        match kept.last() {
            Some((_, last)) => last.clone(),
            None => bail!(
                "run {id} kept no weights (no final.safetensors or checkpoint-*.safetensors in {}): \
                 train the sweep with `--checkpoints final` or `all`",
                folder.display()
            ),
        }
    };
    let mut net = Net::from_checkpoint(&spec, weights).with_context(|| format!("run {id}'s weights in {}", folder.display()))?;
    let checkpoints = if trajectory { epoch_checkpoints(&sweep, &run, kept, &files, &splits, &mut net, progress)? } else { Vec::new() };
    let (name, data) = match split {
        Split::Train => ("train", splits.train),
        Split::Validation => ("validation", splits.validation),
        Split::Test => ("test", splits.test),
    };
    let out = if trajectory { files.trajectory_npy() } else { files.landscape_npy() };
    Ok(Loaded {
        net,
        source: format!("store {} run {id}", dir.display()),
        run: Some(id),
        data_name: format!("{} ({name} split)", sweep.dataset),
        data,
        default_out: Some(out),
        checkpoints,
    })
}

/// The run's per-epoch checkpoints: `kept` (what the sweep kept), or recorded by
/// replaying the run (same seed, same data: the same weights) into
/// `runs/<id>/trajectory/`. If the replay's last epoch differs from the
/// stored weights, the replay's final weights become the centre.
fn epoch_checkpoints(
    sweep: &SweepInfo,
    run: &RunRecord,
    kept: Vec<(u32, Arrays)>,
    files: &RunFiles,
    splits: &Splits,
    net: &mut Net,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<(u32, Arrays)>> {
    if kept.len() >= 3 {
        return Ok(kept);
    }
    let replay = files.replay();
    let mut found = read_epochs(&replay)?;
    let spec = run.spec("a replay")?;
    if found.len() < spec.epochs as usize {
        let epochs = spec.epochs;
        progress(Progress::Replay { run: run.id, epoch: 0, epochs });
        let config = TrainConfig {
            seed: run_seed(sweep.seed, run.index),
            checkpoints: Checkpoints::EveryEpoch,
            out_dir: Some(replay.dir().to_path_buf()),
        };
        let mut epoch = 0;
        train::<CpuBackend>(spec, splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |_| {
            epoch += 1;
            progress(Progress::Replay { run: run.id, epoch, epochs });
        })
        .with_context(|| format!("replaying run {}", run.id))?;
        found = read_epochs(&replay)?;
    }
    if let Some((epoch, last)) = found.last()
        && *last != net.weights
    {
        tracing::warn!(
            "the replay's epoch {epoch} differs from run {}'s stored weights (another machine or version trained it); \
             the trajectory and surface are centred on the replay",
            run.id
        );
        net.weights = last.clone();
    }
    Ok(found)
}

/// The per-epoch checkpoints kept in a run's folder (or its replay), by epoch.
fn read_epochs(files: &RunFiles) -> Result<Vec<(u32, Arrays)>> {
    let listed = files.epochs().with_context(|| format!("cannot list {}", files.dir().display()))?;
    listed.into_iter().map(|(epoch, path)| Ok((epoch, read_safetensors(&path)?))).collect()
}
