//! `mosaic sweep` and `mosaic export`: train a population into a store, and
//! hand it to other tools.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_compute::sweeps::{PROBE_SIZE, SweepRequest, open_or_create_sweep, worker_count};
use mosaic_core::SearchSpace;
use mosaic_store::SweepInfo;
use mosaic_train::Device;
use mosaic_train::data::Splits;
use mosaic_train::data::split;
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_sweep};
use mosaic_train::train::Checkpoints;
use mosaic_train::worker::{WorkerEvent, WorkerOptions, run_workers};

use crate::cli::{DataArgs, cancel_on_ctrl_c};

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Search space (RON); default: scenes/spaces/demo.ron (no CNNs) for
    /// feature data, scenes/spaces/default.ron for images.
    #[arg(long, value_name = "FILE")]
    pub space: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of networks to train.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub n: u32,
    /// The experiment store: a folder (created if missing), or a shared
    /// PostgreSQL store, postgres://USER@HOST/DB?files=/shared/dir.
    #[arg(long, value_name = "DIR|URL")]
    pub store: PathBuf,
    /// Sweep name in the store; default: derived from data set, space, n and seed.
    #[arg(long, value_name = "NAME")]
    pub sweep: Option<String>,
    /// Seeds the sampler, the data and every run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Parallel trainings; default: one per core. With a cluster launcher:
    /// how many workers to start (default 4).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Who trains: this process (local); nobody yet (none: start `mosaic
    /// worker`s yourself); a Slurm array of workers (slurm); a Kubernetes
    /// Indexed Job of workers (kubernetes, written for `kubectl apply`).
    #[arg(long, value_enum, default_value_t = Launcher::Local)]
    pub launcher: Launcher,
    /// With --launcher slurm: an extra `#SBATCH` line for the array script (repeatable), e.g. --sbatch "--partition=gpu".
    #[arg(long, value_name = "OPTION", allow_hyphen_values = true)]
    pub sbatch: Vec<String>,
    /// With a cluster launcher: print the script or manifest instead of submitting or writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// With --launcher kubernetes: the container image that holds `mosaic`.
    #[arg(long, default_value = "neuromosaic/mosaic:latest")]
    pub image: String,
    /// Which checkpoints to keep per run.
    #[arg(long, value_enum, default_value_t = CheckpointArg::Final)]
    pub checkpoints: CheckpointArg,
    /// Where to train: one run per core, or all on the GPU (builds with `--features wgpu`).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Launcher {
    Local,
    None,
    Slurm,
    Kubernetes,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DeviceArg {
    Cpu,
    Gpu,
}

impl DeviceArg {
    /// The device, or why this build cannot train there.
    pub fn device(self) -> Result<Device> {
        let device = match self {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Gpu => Device::Gpu,
        };
        if !device.available() {
            bail!("this mosaic was built without GPU training: rebuild with `cargo build --release --features wgpu`, or use --device cpu");
        }
        Ok(device)
    }
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

pub fn sweep(args: SweepArgs) -> Result<()> {
    let (dataset, data) = args.data.load(args.seed)?;
    let space = args.space.as_deref().map(SearchSpace::load).transpose()?;
    let splits = split(&data, args.seed, PROBE_SIZE);
    let mut store = mosaic_store::open(&args.store)?;
    let shared = mosaic_store::is_postgres(&args.store);
    // A folder store is trained by one process; a shared one by workers, this one among them.
    let _training = if args.launcher == Launcher::Local && !shared { Some(store.lock_for_training()?) } else { None };
    let request = SweepRequest { name: args.sweep.as_deref(), space, dataset: &dataset, data: &data, n: args.n as usize, seed: args.seed };
    let sweep = open_or_create_sweep(&mut *store, request)?;
    let name = &sweep.name;
    if args.launcher != Launcher::Local {
        return crate::launch::launch(&args, &*store, &sweep);
    }

    let cancel = cancel_on_ctrl_c("stopping: runs in flight will be trained again on resume (Ctrl-C again to quit now)");
    let workers = worker_count(args.workers);
    let device = args.device.device()?;
    if shared {
        drop(store);
        return train_as_workers(&args, &sweep, &splits, workers, device, &cancel);
    }
    let options = SweepOptions { workers, checkpoints: args.checkpoints.policy(), device };
    let bar = ProgressBar::new(sweep.runs as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs · ETA {eta} · {msg}")
            .expect("valid template"),
    );
    let mut best: Option<f64> = None;
    let summary = run_sweep(&mut *store, &sweep, &splits, &options, &cancel, &mut |event| match event {
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
        mosaic_store::redact(&args.store),
        summary.trained,
        summary.diverged,
        summary.failed,
        if summary.left > 0 { format!(", {} left (run the same command to resume)", summary.left) } else { String::new() }
    );
    crate::cli::unless_interrupted(&cancel)
}

/// A shared store's sweep trained here by `workers` pull workers (threads),
/// beside any other machine's: each run is claimed under a lease, so none is
/// trained twice, whoever else trains the sweep.
fn train_as_workers(
    args: &SweepArgs,
    sweep: &SweepInfo,
    splits: &Splits,
    workers: usize,
    device: Device,
    cancel: &AtomicBool,
) -> Result<()> {
    let runs = sweep.runs as u64;
    let bar = ProgressBar::new(runs);
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs · {msg}").expect("valid template"));
    bar.set_message(format!("{workers} workers here, beside any elsewhere"));
    let options = WorkerOptions {
        lease: Duration::from_secs(60),
        max_runs: None,
        idle_exit: Duration::from_secs(60),
        poll: Duration::from_millis(250),
        checkpoints: args.checkpoints.policy(),
        device,
    };
    let location = args.store.clone();
    let open = move || mosaic_store::open_existing(&location);
    let finished = open()?.run_counts(sweep.id)?.finished;
    bar.set_position(finished as u64);
    let summary = run_workers(&open, sweep, splits, &crate::worker_cmd::worker_name(), workers, &options, cancel, &|event| {
        if let WorkerEvent::Finished { .. } = event {
            bar.inc(1);
        }
    })?;
    bar.finish();
    if let Some(why) = &summary.stopped {
        bail!("sweep `{}` stopped here: {why}; its runs went back to the sweep (fix that, then run the same command)", sweep.name);
    }
    println!(
        "sweep `{}` in {}: {} trained, {} diverged, {} failed here{}",
        sweep.name,
        mosaic_store::redact(&args.store),
        summary.trained,
        summary.diverged,
        summary.failed,
        if summary.lost > 0 { format!(", {} lost to other workers", summary.lost) } else { String::new() }
    );
    crate::cli::unless_interrupted(cancel)
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

pub fn export(args: ExportArgs) -> Result<()> {
    if let Some(path) = &args.out {
        crate::cli::refuse_overwriting(path, Some(&args.store), &[])?;
    }
    let store = mosaic_store::open_existing(&args.store)?;
    let sweep = store.sweep(args.sweep.as_deref())?;
    match &args.out {
        Some(path) => {
            // Whole or not at all: a failed export leaves the previous file as it was.
            let mut table = Vec::new();
            store.export_csv(sweep.id, &mut table).with_context(|| format!("exporting to {}", path.display()))?;
            mosaic_core::fs::write_atomic(path, &table).with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => match store.export_csv(sweep.id, &mut std::io::stdout().lock()) {
            // The reader had enough (`mosaic export | head`): not an error.
            Err(mosaic_store::StoreError::Export(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        },
    }
    Ok(())
}
