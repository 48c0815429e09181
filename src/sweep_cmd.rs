//! `mosaic sweep` and `mosaic export`: train a population into a store, and
//! hand it to other tools.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, SearchSpace};
use mosaic_store::{Store, SweepInfo, SweepPlan};
use mosaic_train::Device;
use mosaic_train::data::{BuiltIn, Dataset, Splits, load_csv, load_idx, split};
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_sweep};
use mosaic_train::train::Checkpoints;

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Search space (RON); default: scenes/spaces/demo.ron (no CNNs) for
    /// feature data, scenes/spaces/default.ron for images.
    #[arg(long, value_name = "FILE")]
    pub space: Option<PathBuf>,
    /// Built-in task (spirals, moons, circles, blobs, blobsK, checkerboard, shapes),
    /// `csv:PATH[:LABEL_COLUMN]`, or `idx:IMAGES,LABELS` (MNIST format).
    #[arg(long, default_value = "spirals")]
    pub dataset: String,
    /// Number of networks to train.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub n: u32,
    /// The experiment store (a folder; created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Sweep name in the store; default: derived from data set, space, n and seed.
    #[arg(long)]
    pub name: Option<String>,
    /// Seeds the sampler, the data and every run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Examples generated for a built-in task.
    #[arg(long, default_value_t = DEFAULT_EXAMPLES, value_parser = clap::value_parser!(u32).range(20..=10_000_000))]
    pub examples: u32,
    /// Parallel trainings; default: one per core.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Which checkpoints to keep per run.
    #[arg(long, value_enum, default_value_t = CheckpointArg::Final)]
    pub checkpoints: CheckpointArg,
    /// Where to train: one run per core, or all on the GPU (builds with `--features wgpu`).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DeviceArg {
    Cpu,
    Gpu,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CheckpointArg {
    None,
    Final,
    All,
}

impl CheckpointArg {
    pub fn policy(self) -> Checkpoints {
        match self {
            CheckpointArg::None => Checkpoints::None,
            CheckpointArg::Final => Checkpoints::Final,
            CheckpointArg::All => Checkpoints::EveryEpoch,
        }
    }
}

/// Examples generated for a built-in task unless `--examples` says otherwise.
pub const DEFAULT_EXAMPLES: u32 = 2000;

/// Probe inputs shared by every network of a sweep.
pub const PROBE_SIZE: usize = 500;

pub fn load_dataset(spec: &str, examples: usize, seed: u64) -> Result<Dataset> {
    if let Some(rest) = spec.strip_prefix("csv:") {
        let (path, label) = match rest.rsplit_once(':') {
            Some((p, l)) if !l.contains('/') && !l.ends_with(".csv") => (p, Some(l)),
            _ => (rest, None),
        };
        return Ok(load_csv(std::path::Path::new(path), label)?);
    }
    if let Some(rest) = spec.strip_prefix("idx:") {
        let (images, labels) = rest.split_once(',').context("idx data needs `idx:IMAGES,LABELS`")?;
        return Ok(load_idx(std::path::Path::new(images), std::path::Path::new(labels))?);
    }
    let Some(kind) = BuiltIn::parse(spec) else {
        bail!(
            "unknown data set `{spec}`: use spirals, moons, circles, blobs, blobsK (K classes), checkerboard, shapes, \
             csv:PATH[:LABEL] or idx:IMAGES,LABELS"
        );
    };
    Ok(kind.generate(examples, seed))
}

/// The data a stored sweep trained on, rebuilt from its record (data set,
/// example count, seed) and checked against the fingerprint stored with it.
pub fn sweep_splits(sweep: &SweepInfo) -> Result<Splits> {
    if sweep.data.is_empty() {
        // Sweeps stored before data was recorded used the default example count.
        eprintln!("note: sweep `{}` does not record its data; assuming {DEFAULT_EXAMPLES} examples of `{}`", sweep.name, sweep.dataset);
        let data = load_dataset(&sweep.dataset, DEFAULT_EXAMPLES as usize, sweep.seed)?;
        return Ok(split(&data, sweep.seed, PROBE_SIZE));
    }
    let examples = sweep
        .data
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_once(" examples"))
        .and_then(|(n, _)| n.parse::<usize>().ok())
        .with_context(|| format!("sweep `{}` does not record its data (`{}`): retrain it with this version", sweep.name, sweep.data))?;
    let data = load_dataset(&sweep.dataset, examples, sweep.seed)?;
    if data.fingerprint() != sweep.data {
        bail!("the data of sweep `{}` changed since it was trained: stored `{}`, now `{}`", sweep.name, sweep.data, data.fingerprint());
    }
    Ok(split(&data, sweep.seed, PROBE_SIZE))
}

pub fn default_sweep_name(dataset: &str, space: &SearchSpace, n: usize, seed: u64) -> String {
    format!("{dataset}-{}-n{n}-s{seed}", space.name)
}

/// The stored sweep of that name, checked to have this plan (the same data,
/// seed, size and space), or a new one sampled by a Latin hypercube. With no
/// space, the one that suits the data; with no name, one made from the plan.
pub fn open_or_create_sweep(
    store: &mut Store,
    name: Option<&str>,
    space: Option<SearchSpace>,
    dataset: &str,
    data: &Dataset,
    n: usize,
    seed: u64,
) -> Result<SweepInfo> {
    let space = space.unwrap_or_else(|| mosaic_train::default_space_for(data));
    let name = name.map_or_else(|| default_sweep_name(dataset, &space, n, seed), str::to_string);
    let name = name.as_str();
    let fingerprint = data.fingerprint();
    if let Some(mut existing) = store.sweep_by_name(name)? {
        // Sweeps stored before data was recorded take this data as theirs.
        if existing.data.is_empty() {
            store.set_sweep_data(existing.id, &fingerprint)?;
            existing.data = fingerprint.clone();
        }
        if existing.data != fingerprint || existing.seed != seed || existing.runs != n || existing.space != space {
            bail!(
                "store {} already has a sweep `{name}` with another plan ({} runs, seed {}, data {}): pass --name to start a new one",
                store.root().display(),
                existing.runs,
                existing.seed,
                existing.data
            );
        }
        return Ok(existing);
    }
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, n, seed);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    let plan = SweepPlan { name: name.to_string(), dataset: dataset.to_string(), data: fingerprint, seed, space, specs, encodings };
    Ok(store.create_sweep(&plan)?)
}

/// A flag the first Ctrl-C sets (after saying `message`), so work can
/// finish cleanly; a second Ctrl-C exits at once.
pub fn cancel_on_ctrl_c(message: &'static str) -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\n{message}");
    });
    cancel
}

/// Workers for a sweep: the requested number, or one per core.
pub fn worker_count(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

pub fn sweep(args: SweepArgs) -> Result<()> {
    let data = load_dataset(&args.dataset, args.examples as usize, args.seed)?;
    let space = args.space.as_deref().map(SearchSpace::load).transpose()?;
    let splits = split(&data, args.seed, PROBE_SIZE);
    let mut store = Store::open(&args.store)?;
    let _training = store.lock_for_training()?;
    let sweep = open_or_create_sweep(&mut store, args.name.as_deref(), space, &args.dataset, &data, args.n as usize, args.seed)?;
    let name = &sweep.name;

    let cancel = cancel_on_ctrl_c("stopping: runs in flight will be trained again on resume (Ctrl-C again to quit now)");
    let workers = worker_count(args.workers);
    let device = match args.device {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Gpu => Device::Gpu,
    };
    if !device.available() {
        bail!("this mosaic was built without GPU training: rebuild with `cargo build --release --features wgpu`, or use --device cpu");
    }
    let options = SweepOptions { workers, checkpoints: args.checkpoints.policy(), device };
    let bar = ProgressBar::new(sweep.runs as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs · ETA {eta} · {msg}")
            .expect("valid template"),
    );
    let mut best: Option<f64> = None;
    let summary = run_sweep(&mut store, &sweep, &splits, &options, &cancel, &mut |event| match event {
        SweepEvent::Plan { finished, pending } => {
            bar.set_position(*finished as u64);
            bar.reset_eta();
            bar.set_message(format!("{pending} to train on {workers} workers"));
        }
        SweepEvent::Finished { run, .. } => {
            if let Some(acc) = run.outcome.as_ref().and_then(|o| o.val_accuracy()).filter(|a| a.is_finite()) {
                best = Some(best.map_or(acc, |b: f64| b.max(acc)));
            }
            bar.inc(1);
            bar.set_message(format!("best val accuracy {}", best.map_or("—".into(), |b| format!("{:.1}%", 100.0 * b))));
        }
    })?;
    bar.finish();
    if let Some(why) = &summary.stopped {
        bail!("sweep `{name}` stopped: {why}; {} runs left pending (fix that, then run the same command to resume)", summary.left);
    }
    println!(
        "sweep `{name}` in {}: {} trained, {} diverged, {} failed{}",
        args.store.display(),
        summary.trained,
        summary.diverged,
        summary.failed,
        if summary.left > 0 { format!(", {} left (run the same command to resume)", summary.left) } else { String::new() }
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Which sweep; default: the only one in the store.
    #[arg(long)]
    pub sweep: Option<String>,
    /// Output file; default: standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    Csv,
}

/// Opens a store that must exist already (reading never creates one).
pub fn open_existing_store(dir: &std::path::Path) -> Result<Store> {
    if !dir.join(mosaic_store::DB_FILE).is_file() {
        bail!("{} is not a NeuroMosaic store (no {} inside): run `mosaic sweep --store` first", dir.display(), mosaic_store::DB_FILE);
    }
    Ok(Store::open(dir)?)
}

/// The named sweep, or the store's only one.
pub fn pick_sweep(store: &Store, name: Option<&str>) -> Result<SweepInfo> {
    let sweeps = store.sweeps()?;
    let names = || sweeps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
    match name {
        Some(name) => sweeps
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .with_context(|| format!("no sweep `{name}` in {}; it has: {}", store.root().display(), names())),
        None => match sweeps.as_slice() {
            [one] => Ok(one.clone()),
            [] => bail!("{} holds no sweep yet", store.root().display()),
            many => bail!("{} holds {} sweeps: pick one with --sweep ({})", store.root().display(), many.len(), names()),
        },
    }
}

pub fn export(args: ExportArgs) -> Result<()> {
    let store = open_existing_store(&args.store)?;
    let sweep = pick_sweep(&store, args.sweep.as_deref())?;
    match &args.out {
        Some(path) => {
            let mut file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            store.export_csv(sweep.id, &mut file)?;
        }
        None => store.export_csv(sweep.id, &mut std::io::stdout().lock())?,
    }
    Ok(())
}
