//! `mosaic landscape`: the loss surface around a trained network, over
//! random filter-normalised directions, given directions, or the plane of
//! its training trajectory. Works on a store's run or on a PyTorch MLP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::backend::Flex;
use burn::backend::flex::FlexDevice;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_core::{Activation, RunStatus};
use mosaic_landscape::directions::{self, DirectionOptions, Normalization};
use mosaic_landscape::file::{self, DirectionSource, SurfaceInfo, TrajectoryInfo};
use mosaic_landscape::{Axis, Net, Trajectory, surface, surface_cpu};
use mosaic_store::{RunRecord, SweepInfo};
use mosaic_train::checkpoint::{Arrays, read_safetensors};
use mosaic_train::data::{Dataset, Splits, load_csv};
use mosaic_train::sweep::{run_dir, run_seed};
use mosaic_train::train::{Checkpoints, TrainConfig, train};
use mosaic_train::{CpuBackend, cpu_device};

use crate::sweep_cmd::{open_existing_store, pick_sweep, sweep_splits};

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("model").required(true).args(["store", "weights"])))]
pub struct LandscapeArgs {
    /// Store holding the run (written by `mosaic sweep`).
    #[arg(long, value_name = "DIR", requires = "run")]
    pub store: Option<PathBuf>,
    /// With --store: which sweep (default: the only one).
    #[arg(long, requires = "store")]
    pub sweep: Option<String>,
    /// With --store: the run's id (`mosaic export` lists them).
    #[arg(long, requires = "store")]
    pub run: Option<i64>,
    /// With --store: the split the loss is measured on.
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,
    /// With --store: the surface over the plane of the training trajectory
    /// (PCA of the per-epoch checkpoints; the run is replayed, exactly, to
    /// record them if the sweep kept none).
    #[arg(long, requires = "store")]
    pub trajectory: bool,
    /// A PyTorch `nn.Sequential` MLP's state dict (`torch.save` it with
    /// `safetensors.torch.save_file(model.state_dict(), ...)`).
    #[arg(long, value_name = "SAFETENSORS", requires_all = ["data", "activation"])]
    pub weights: Option<PathBuf>,
    /// With --weights: the activation between its Linear layers.
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// With --weights: a CSV of feature columns and an integer class label.
    #[arg(long, value_name = "CSV", requires = "weights")]
    pub data: Option<PathBuf>,
    /// With --data: the label column's name (default: the last column).
    #[arg(long)]
    pub label_column: Option<String>,
    /// Given directions: tensors `d1.<param>` (and `d2.<param>` for 2-D),
    /// in the weights' layout; used as they are unless --normalize is given.
    #[arg(long, value_name = "SAFETENSORS", conflicts_with = "trajectory")]
    pub directions: Option<PathBuf>,
    /// x axis, MIN:MAX:NUM (default -1:1:51; for --trajectory, the path's extent).
    #[arg(long, allow_hyphen_values = true)]
    pub x: Option<String>,
    /// y axis, MIN:MAX:NUM; `none` for a 1-D scan along the first direction.
    #[arg(long, allow_hyphen_values = true)]
    pub y: Option<String>,
    /// How directions are scaled against the weights (default: filter for
    /// random directions; given directions are used as they are).
    #[arg(long, value_enum)]
    pub normalize: Option<NormalizeArg>,
    /// Move biases and norm parameters too (by default their direction is zero).
    #[arg(long)]
    pub keep_bias_norm: bool,
    /// Make the second random direction orthogonal to the first.
    #[arg(long)]
    pub orthogonal: bool,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What evaluates the grid: fused CPU kernels on every core, or burn's
    /// tensors (the backend-generic path a GPU build runs).
    #[arg(long, value_enum, default_value_t = EngineArg::Cpu)]
    pub engine: EngineArg,
    /// The loss grid (.npy); a JSON sidecar of the same stem goes beside it.
    /// With --store, the default is the run's folder (landscape.npy, or
    /// trajectory.npy with --trajectory).
    #[arg(long, short, value_name = "NPY", required_unless_present = "store")]
    pub out: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum EngineArg {
    Cpu,
    Burn,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SplitArg {
    Train,
    Validation,
    Test,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ActivationArg {
    Relu,
    Gelu,
    Tanh,
    Silu,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum NormalizeArg {
    Filter,
    Layer,
    None,
}

/// The network, the data and where the directions come from.
struct Subject {
    net: Net,
    data: Dataset,
    source: String,
    run: Option<i64>,
    data_name: String,
    default_out: Option<PathBuf>,
    /// Per-epoch checkpoints, oldest first, with their epochs (trajectory only).
    checkpoints: Vec<(u32, Arrays)>,
}

pub fn landscape(args: LandscapeArgs) -> Result<()> {
    let bar = ProgressBar::new(0);
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // Ctrl-C stops at the next chunk; nothing is written for a partial grid.
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));
    }
    let progress = |step: Progress| match step {
        Progress::Replay { run, epoch, epochs } => {
            if epoch == 0 {
                bar.set_style(
                    ProgressStyle::with_template("{spinner} replaying run {msg} to record its path {bar:30} {pos}/{len} epochs")
                        .expect("valid template"),
                );
                bar.set_message(run.to_string());
                bar.set_length(epochs as u64);
            }
            bar.set_position(epoch as u64);
        }
        Progress::Grid { done, total } => {
            if done == 0 {
                bar.set_style(
                    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} grid points · ETA {eta}")
                        .expect("valid template"),
                );
                bar.set_length(total as u64);
                bar.reset_eta();
            }
            bar.set_position(done as u64);
        }
    };
    let (out, info) = compute(&args, &progress, &cancel)?;
    bar.finish_and_clear();
    let points = info.x.num * info.y.map_or(1, |a| a.num);
    let min = info.minimum.map_or("none finite".into(), |[x, y, l]| format!("{l:.4} at ({x:.3}, {y:.3})"));
    println!(
        "{points} grid points in {:.2} s on {} examples: lowest loss {min}{}\nwrote {} and {}",
        info.seconds,
        info.examples,
        if info.non_finite > 0 { format!(", {} points overflowed", info.non_finite) } else { String::new() },
        out.display(),
        file::sidecar_path(&out).display()
    );
    Ok(())
}

/// How far a landscape computation is.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Replaying a run to record its per-epoch checkpoints (`epoch` done of `epochs`).
    Replay { run: i64, epoch: u32, epochs: u32 },
    /// Evaluating the grid.
    Grid { done: usize, total: usize },
}

/// Computes the surface `args` ask for and writes it (.npy and sidecar);
/// returns where, and what the sidecar says.
pub fn compute(args: &LandscapeArgs, progress: &(dyn Fn(Progress) + Sync), cancel: &AtomicBool) -> Result<(PathBuf, SurfaceInfo)> {
    let subject = match (&args.store, &args.weights) {
        (Some(store), _) => from_store(store, args, progress)?,
        (None, Some(weights)) => from_weights(weights, args)?,
        (None, None) => unreachable!("clap requires one of them"),
    };
    let Subject { net, data, .. } = &subject;
    let normalization = match args.normalize {
        Some(NormalizeArg::Filter) => Normalization::Filter,
        Some(NormalizeArg::Layer) => Normalization::Layer,
        Some(NormalizeArg::None) => Normalization::None,
        // Given directions are the user's own: used as they are unless asked.
        None if args.directions.is_some() => Normalization::None,
        None => Normalization::Filter,
    };
    let mut options =
        DirectionOptions { normalization, ignore_bias_and_norm: !args.keep_bias_norm, orthogonalize: args.orthogonal, seed: args.seed };
    let one_d = args.y.as_deref() == Some("none");
    let mut trajectory = None;
    let (source, d1, d2) = if args.trajectory {
        let checkpoints: Vec<Arrays> = subject.checkpoints.iter().map(|(_, a)| a.clone()).collect();
        let t = Trajectory::fit(net, &checkpoints, options.ignore_bias_and_norm)?;
        options.normalization = Normalization::None;
        let (d1, d2) = (t.d1.clone(), t.d2.clone());
        trajectory = Some(t);
        (DirectionSource::Trajectory, d1, (!one_d).then_some(d2))
    } else if let Some(path) = &args.directions {
        let (mut d1, mut d2) = directions::from_file(read_safetensors(path).map_err(anyhow::Error::msg)?, net)
            .with_context(|| format!("directions in {}", path.display()))?;
        if args.normalize.is_some() {
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
    let x_axis = match (&args.x, default_axes) {
        (Some(text), _) => Axis::parse(text)?,
        (None, Some((x, _))) => x,
        (None, None) => Axis::parse("-1:1:51")?,
    };
    let y_axis = match (args.y.as_deref(), default_axes) {
        (Some("none"), _) => None,
        (Some(text), _) => Some(Axis::parse(text)?),
        (None, Some((_, y))) => Some(y),
        (None, None) => Some(Axis::parse("-1:1:51")?),
    };

    let out = match (&args.out, &subject.default_out) {
        (Some(out), _) => out.clone(),
        (None, Some(default)) => default.clone(),
        (None, None) => unreachable!("clap requires --out without --store"),
    };
    let started = Instant::now();
    progress(Progress::Grid { done: 0, total: x_axis.num * y_axis.map_or(1, |a| a.num) });
    let grid = |done: usize, total: usize| progress(Progress::Grid { done, total });
    let result = match args.engine {
        EngineArg::Cpu => surface_cpu(net, &d1, d2.as_ref(), x_axis, y_axis, data, &grid, cancel)?,
        EngineArg::Burn => surface::<Flex>(net, &d1, d2.as_ref(), x_axis, y_axis, data, &FlexDevice, &grid, cancel)?,
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
fn trajectory_info(subject: &Subject, t: &Trajectory) -> Result<TrajectoryInfo> {
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

fn from_weights(weights: &Path, args: &LandscapeArgs) -> Result<Subject> {
    let activation = match args.activation.expect("clap requires --activation with --weights") {
        ActivationArg::Relu => Activation::Relu,
        ActivationArg::Gelu => Activation::Gelu,
        ActivationArg::Tanh => Activation::Tanh,
        ActivationArg::Silu => Activation::Silu,
    };
    let state = read_safetensors(weights).map_err(anyhow::Error::msg)?;
    let net = Net::from_torch_sequential(state, activation).with_context(|| format!("weights in {}", weights.display()))?;
    let data_path = args.data.as_ref().expect("clap requires --data with --weights");
    let data = load_csv(data_path, args.label_column.as_deref())?;
    Ok(Subject {
        net,
        source: format!("weights {}", weights.display()),
        run: None,
        data_name: format!("{} ({} examples)", data_path.display(), data.len()),
        data,
        default_out: None,
        checkpoints: Vec::new(),
    })
}

fn from_store(dir: &Path, args: &LandscapeArgs, progress: &(dyn Fn(Progress) + Sync)) -> Result<Subject> {
    let store = open_existing_store(dir)?;
    let sweep = pick_sweep(&store, args.sweep.as_deref())?;
    let id = args.run.expect("clap requires --run with --store");
    let runs = store.runs(sweep.id)?;
    let Some(run) = runs.iter().find(|r| r.id == id) else {
        let (lo, hi) = (runs.iter().map(|r| r.id).min().unwrap_or(0), runs.iter().map(|r| r.id).max().unwrap_or(0));
        bail!("sweep `{}` has no run {id}: its runs are {lo}..={hi}", sweep.name);
    };
    match run.status {
        RunStatus::Done => {}
        RunStatus::Diverged => bail!(
            "run {id} diverged ({}): its weights are not finite",
            run.outcome.as_ref().and_then(|o| o.note.clone()).unwrap_or_default()
        ),
        other => bail!("run {id} is {other:?}, not trained: finish the sweep first (`mosaic sweep` resumes it)"),
    }
    let splits = sweep_splits(&sweep)?;
    let folder = run_dir(store.root(), id);
    // `--checkpoints final` keeps final.safetensors; `all` keeps every epoch, the last being the trained weights.
    // The epochs are read once, and only when something needs them.
    let final_path = folder.join("final.safetensors");
    let kept = if args.trajectory || !final_path.is_file() { read_epochs(&folder)? } else { Vec::new() };
    let weights = if final_path.is_file() {
        read_safetensors(&final_path).map_err(anyhow::Error::msg)?
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
    let mut net = Net::from_checkpoint(&run.spec, weights).with_context(|| format!("run {id}'s weights in {}", folder.display()))?;
    let checkpoints =
        if args.trajectory { epoch_checkpoints(&sweep, run, kept, &folder, &splits, &mut net, progress)? } else { Vec::new() };
    let (name, data) = match args.split {
        SplitArg::Train => ("train", splits.train),
        SplitArg::Validation => ("validation", splits.validation),
        SplitArg::Test => ("test", splits.test),
    };
    let file = if args.trajectory { "trajectory.npy" } else { "landscape.npy" };
    Ok(Subject {
        net,
        source: format!("store {} run {id}", dir.display()),
        run: Some(id),
        data_name: format!("{} ({name} split)", sweep.dataset),
        data,
        default_out: Some(folder.join(file)),
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
    folder: &Path,
    splits: &Splits,
    net: &mut Net,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<(u32, Arrays)>> {
    if kept.len() >= 3 {
        return Ok(kept);
    }
    let replay = folder.join("trajectory");
    let mut found = read_epochs(&replay)?;
    if found.len() < run.spec.epochs as usize {
        let epochs = run.spec.epochs;
        progress(Progress::Replay { run: run.id, epoch: 0, epochs });
        let config =
            TrainConfig { seed: run_seed(sweep.seed, run.index), checkpoints: Checkpoints::EveryEpoch, out_dir: Some(replay.clone()) };
        let mut epoch = 0;
        train::<CpuBackend>(&run.spec, splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |_| {
            epoch += 1;
            progress(Progress::Replay { run: run.id, epoch, epochs });
        })
        .with_context(|| format!("replaying run {}", run.id))?;
        found = read_epochs(&replay)?;
    }
    if let Some((epoch, last)) = found.last()
        && *last != net.weights
    {
        eprintln!(
            "note: the replay's epoch {epoch} differs from run {}'s stored weights (another machine or version trained it); \
             the trajectory and surface are centred on the replay",
            run.id
        );
        net.weights = last.clone();
    }
    Ok(found)
}

/// `checkpoint-NNNN.safetensors` files of a folder, by epoch.
fn read_epochs(folder: &Path) -> Result<Vec<(u32, Arrays)>> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(epoch) = name.strip_prefix("checkpoint-").and_then(|s| s.strip_suffix(".safetensors")).and_then(|s| s.parse().ok()) {
            out.push((epoch, read_safetensors(&entry.path()).map_err(anyhow::Error::msg)?));
        }
    }
    out.sort_by_key(|(e, _)| *e);
    Ok(out)
}
