//! `mosaic worker` and `mosaic store copy`: train a shared store's sweep
//! beside other workers, and move a store between backends.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use mosaic_compute::sweeps::sweep_splits;
use mosaic_core::RunStatus;
use mosaic_store::{SqlStore, Store, redact};
use mosaic_train::worker::{WorkerEvent, WorkerOptions, run_worker};

use crate::cli::cancel_on_ctrl_c;
use crate::sweep_cmd::{CheckpointArg, DeviceArg};

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The shared store: postgres://USER@HOST/DB (password from PGPASSWORD or ~/.pgpass), or a folder.
    #[arg(long, value_name = "URL")]
    pub store: PathBuf,
    /// Which sweep; default: the store's only one.
    #[arg(long)]
    pub sweep: Option<String>,
    /// Stop after this many runs; default: when the sweep has none left.
    #[arg(long, value_name = "N")]
    pub runs: Option<usize>,
    /// Seconds a claim holds without renewal (renewed every third of it while training);
    /// a dead worker's run goes to another after this.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub lease: f64,
    /// Seconds to wait with nothing to claim while other workers hold runs, before exiting.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS")]
    pub idle_exit: f64,
    #[arg(long, value_enum, default_value_t = CheckpointArg::Final)]
    pub checkpoints: CheckpointArg,
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// This worker's name in the store: host and process.
pub(crate) fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
    format!("{host}:{}", std::process::id())
}

pub fn worker(args: WorkerArgs) -> Result<()> {
    if !(args.lease.is_finite() && args.lease >= 0.5) {
        bail!("--lease {} is too short: give at least 0.5 seconds (the default, 60, suits most clusters)", args.lease);
    }
    let shown = redact(&args.store);
    let store = SqlStore::open_existing(&args.store)?;
    let sweep = store.sweep(args.sweep.as_deref())?;
    sweep.architectures("workers train architectures; runs of parameters are trained where they are logged from")?;
    let counts = store.run_counts(sweep.id)?;
    let open_runs = counts.open();
    if open_runs == 0 {
        eprintln!(
            "sweep `{}` in {shown} is finished ({} runs): nothing to train; add runs with `mosaic suggest --accept`, or start another sweep",
            sweep.name,
            counts.total()
        );
        return Ok(());
    }
    drop(store);
    let data = sweep_splits(&sweep)?;
    let device = args.device.device()?;
    let options = WorkerOptions {
        lease: Duration::from_secs_f64(args.lease),
        max_runs: args.runs,
        idle_exit: Duration::from_secs_f64(args.idle_exit.max(0.0)),
        poll: Duration::from_millis(250).min(Duration::from_secs_f64(args.lease / 3.0)),
        checkpoints: args.checkpoints.policy(),
        device,
    };
    let name = worker_name();
    let cancel = cancel_on_ctrl_c("stopping: the run in flight goes back to the sweep (Ctrl-C again to quit now)");
    let location = args.store.clone();
    let open = move || mosaic_store::open_existing(&location);
    eprintln!("worker {name} on sweep `{}` in {shown}: {open_runs} runs open", sweep.name);
    let summary = run_worker(&open, &sweep, &data, &name, &options, &cancel, &mut |event| match event {
        WorkerEvent::Claimed { run } => eprintln!("run {} ({}): training", run.id, run.label()),
        WorkerEvent::Finished { run, seconds } => {
            let accuracy = run.outcome.as_ref().and_then(|o| o.val_accuracy()).filter(|a| a.is_finite());
            let status = run.outcome.as_ref().map_or(RunStatus::Done, |o| o.status);
            let shown = accuracy.map_or(status.as_str().to_string(), |a| format!("val accuracy {:.1}%", 100.0 * a));
            eprintln!("run {}: {shown} in {seconds:.1} s", run.id);
        }
        WorkerEvent::LeaseLost { run } => {
            eprintln!("run {run}: this worker's lease ran out (was it paused?): another worker has it; result discarded")
        }
        WorkerEvent::Waiting { held_elsewhere } => {
            tracing::info!("nothing to claim; {held_elsewhere} runs held by other workers")
        }
    })?;
    if let Some(why) = &summary.stopped {
        bail!("worker {name} stopped: {why}; its run went back to the sweep for another worker");
    }
    println!(
        "worker {name}: {} trained, {} diverged, {} failed{}",
        summary.trained,
        summary.diverged,
        summary.failed,
        if summary.lost > 0 { format!(", {} lost to other workers", summary.lost) } else { String::new() }
    );
    crate::cli::unless_interrupted(&cancel)
}

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Copy a whole store (records, ids and run files) into a new one: a folder to PostgreSQL or back.
    Copy {
        /// The store to read: a folder or a postgres:// URL.
        src: PathBuf,
        /// The new store: an empty or missing folder, or an empty database (postgres://…?files=/shared/dir).
        dst: PathBuf,
    },
}

pub fn store(command: StoreCommand) -> Result<()> {
    match command {
        StoreCommand::Copy { src, dst } => {
            let from = SqlStore::open_existing(&src)?;
            let mut to = SqlStore::open(&dst)?;
            let copied = mosaic_store::copy_store(&from, &mut to)?;
            let rows: Vec<String> = copied.rows.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{n} {t}")).collect();
            println!("copied {} to {}: {}; {} run files", redact(&src), redact(&dst), rows.join(", "), copied.files);
            Ok(())
        }
    }
}
