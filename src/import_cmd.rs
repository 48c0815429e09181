//! `mosaic import optuna`: a study made elsewhere, as a sweep of parameters.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// An Optuna study from its RDB storage (SQLite): trials, parameters with their distributions, values, states,
    /// intermediate values. It opens in the explorer like a native sweep; continue it with neuromosaic.Study.from_sweep.
    Optuna(OptunaArgs),
    /// An MLflow experiment from a file store (`mlruns/`): params (their space inferred), metrics with steps, tags,
    /// statuses; artifacts are left in place. Continue it with neuromosaic.Study.from_sweep.
    Mlflow(MlflowArgs),
}

#[derive(Args, Debug)]
pub struct MlflowArgs {
    /// The file store: the `mlruns` folder (or `file:///…/mlruns`).
    pub mlruns: String,
    /// Which experiment; default: the only one with runs.
    #[arg(long)]
    pub experiment: Option<String>,
    /// The metric whose last value is each run's objective; default: the only metric logged.
    #[arg(long)]
    pub metric: Option<String>,
    /// The store to import into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The sweep's name; default: the experiment's.
    #[arg(long)]
    pub sweep: Option<String>,
}

#[derive(Args, Debug)]
pub struct OptunaArgs {
    /// The storage: `sqlite:///FILE` (as given to optuna.create_study) or the file itself.
    pub storage: String,
    /// Which study; default: the storage's only one.
    #[arg(long)]
    pub study: Option<String>,
    /// The store to import into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The sweep's name; default: the study's.
    #[arg(long)]
    pub sweep: Option<String>,
}

pub fn import(command: ImportCommand) -> Result<()> {
    match command {
        ImportCommand::Optuna(args) => optuna(args),
        ImportCommand::Mlflow(args) => mlflow(args),
    }
}

fn optuna(args: OptunaArgs) -> Result<()> {
    let file = match args.storage.split_once("://") {
        Some(("sqlite", rest)) => PathBuf::from(rest.strip_prefix('/').unwrap_or(rest)),
        Some((scheme, _)) => bail!(
            "only SQLite storages (sqlite:///FILE) can be imported so far, not `{scheme}`: copy the study into one with optuna.copy_study"
        ),
        None => PathBuf::from(&args.storage),
    };
    let mut store = mosaic_store::open(&args.store)?;
    let done = mosaic_compute::import::import_optuna(&mut *store, &file, args.study.as_deref(), args.sweep.as_deref())?;
    println!(
        "imported Optuna study into sweep `{}` of {} ({}): {} complete, {} pruned, {} failed, {} running",
        done.sweep.name,
        mosaic_store::redact(&args.store),
        done.direction,
        done.complete,
        done.pruned,
        done.failed,
        done.running
    );
    println!("see it: mosaic explore --store {} --sweep {} --no-train", mosaic_store::split_password(&args.store).0, done.sweep.name);
    Ok(())
}

fn mlflow(args: MlflowArgs) -> Result<()> {
    let dir = PathBuf::from(args.mlruns.strip_prefix("file://").unwrap_or(&args.mlruns));
    let mut store = mosaic_store::open(&args.store)?;
    let done = mosaic_compute::import::import_mlflow(
        &mut *store,
        &dir,
        args.experiment.as_deref(),
        args.sweep.as_deref(),
        args.metric.as_deref(),
    )?;
    println!(
        "imported MLflow experiment into sweep `{}` of {} ({}): {} finished, {} failed, {} running",
        done.sweep.name,
        mosaic_store::redact(&args.store),
        done.direction,
        done.complete,
        done.failed,
        done.running
    );
    println!("see it: mosaic explore --store {} --sweep {} --no-train", mosaic_store::split_password(&args.store).0, done.sweep.name);
    Ok(())
}
