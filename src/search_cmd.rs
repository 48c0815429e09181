//! `mosaic suggest` and `mosaic search`: the meta-learner on a stored sweep.
//! `suggest` stores a batch of suggestions (the explorer shows them as ghost
//! points); `search` runs the loop suggest → train → learn for a budget.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_compute::path::spec_label;
use mosaic_compute::suggest::{Ranking, SuggestSettings, accuracy_of, suggest_for};
use mosaic_compute::sweeps::{SweepRequest, open_or_create_sweep, sweep_splits, worker_count};
use mosaic_core::SearchSpace;
use mosaic_store::{Store, SuggestionRecord};
use mosaic_train::Device;
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_sweep};
use mosaic_train::train::Checkpoints;

use crate::cli::{DataArgs, cancel_on_ctrl_c};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyArg {
    /// Gaussian process, expected improvement.
    GpEi,
    /// Gaussian process, upper confidence bound (mean + beta · std).
    GpUcb,
    /// Tree-structured Parzen density ratio (no uncertainty model; cheap).
    Tpe,
}

/// How suggestions are made (see `mosaic_compute::suggest::SuggestSettings`).
#[derive(Args, Debug, Clone)]
pub struct SuggestFlags {
    /// How candidates are ranked.
    #[arg(long, value_enum, default_value_t = StrategyArg::GpEi)]
    pub strategy: StrategyArg,
    /// Exploration weight of gp-ucb.
    #[arg(long, default_value_t = 2.0)]
    pub beta: f64,
    /// Adapt the space to the good runs first (narrowed ranges, reweighted
    /// options) and draw candidates from it; the adapted space is written to FILE (RON).
    #[arg(long, value_name = "FILE")]
    pub adapt: Option<PathBuf>,
    /// Draw candidates from an adapted space written earlier by --adapt.
    #[arg(long, value_name = "FILE", conflicts_with = "adapt")]
    pub space_from: Option<PathBuf>,
    /// Learn from other sweeps of the store (other tasks, same space): their
    /// surrogates, weighted by task similarity, give the prior mean. Repeatable.
    #[arg(long, value_name = "SWEEP")]
    pub transfer_from: Vec<String>,
    /// Also draw candidates between good neighbours on the sphere (needs `mosaic embed --store`).
    #[arg(long)]
    pub guided: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl SuggestFlags {
    fn settings(&self) -> SuggestSettings {
        SuggestSettings {
            ranking: match self.strategy {
                StrategyArg::GpEi => Ranking::GpEi,
                StrategyArg::GpUcb => Ranking::GpUcb,
                StrategyArg::Tpe => Ranking::Tpe,
            },
            beta: self.beta,
            adapt: self.adapt.clone(),
            space_from: self.space_from.clone(),
            transfer_from: self.transfer_from.clone(),
            guided: self.guided,
            seed: self.seed,
        }
    }
}

#[derive(Args, Debug)]
pub struct SuggestArgs {
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Which sweep (default: the only one).
    #[arg(long)]
    pub sweep: Option<String>,
    /// How many networks to suggest.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub n: u32,
    #[command(flatten)]
    pub settings: SuggestFlags,
}

fn print_suggestions(records: &[SuggestionRecord]) {
    println!("{:>4}  {:<44} {:>16}  {:>9}", "id", "spec", "predicted acc", "score");
    for s in records {
        println!("{:>4}  {:<44} {:>7.1}% ± {:>4.1}%  {:>9.4}", s.id, spec_label(&s.spec), 100.0 * s.mean, 100.0 * s.std, s.score);
    }
}

pub fn suggest(args: SuggestArgs) -> Result<()> {
    let mut store = mosaic_store::open_existing(&args.store)?;
    let sweep = store.sweep(args.sweep.as_deref())?;
    let out = suggest_for(&mut *store, &sweep, args.n as usize, &args.settings.settings())?;
    out.notes.iter().for_each(|n| println!("{n}"));
    print_suggestions(&out.records);
    println!(
        "stored as the pending suggestions of `{}`: the explorer shows them as ghost points; `mosaic search --store {} --budget {}` trains them",
        sweep.name,
        mosaic_store::split_password(&args.store).0,
        out.records.len()
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The sweep to extend; created from --dataset with --init runs if the store lacks it.
    #[arg(long)]
    pub sweep: Option<String>,
    /// Networks to train in total in this search.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub budget: u32,
    /// Networks suggested (and trained in parallel) per round.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub batch: u32,
    /// For a new sweep: its data (as `mosaic sweep`).
    #[command(flatten)]
    pub data: DataArgs,
    /// For a new sweep: random (Latin hypercube) runs before the model takes over.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub init: u32,
    /// For a new sweep: its search space (default: the one that suits the data).
    #[arg(long, value_name = "FILE")]
    pub space: Option<PathBuf>,
    #[arg(long)]
    pub workers: Option<usize>,
    #[command(flatten)]
    pub settings: SuggestFlags,
}

pub fn search(args: SearchArgs) -> Result<()> {
    let settings = args.settings.settings();
    let mut store = mosaic_store::open(&args.store)?;
    let _training = store.lock_for_training()?;
    let existing = match &args.sweep {
        Some(name) => store.sweep_by_name(name)?,
        None => store.sweep(None).ok(),
    };
    let sweep = match existing {
        Some(s) => s,
        None => {
            let (dataset, data) = args.data.load(args.settings.seed)?;
            let space = args.space.as_deref().map(SearchSpace::load).transpose()?;
            let name = args.sweep.clone().unwrap_or_else(|| format!("{}-search-s{}", args.data.dataset, args.settings.seed));
            let request =
                SweepRequest { name: Some(&name), space, dataset: &dataset, data: &data, n: args.init as usize, seed: args.settings.seed };
            open_or_create_sweep(&mut *store, request)?
        }
    };
    let splits = sweep_splits(&sweep)?;
    let options = SweepOptions { workers: worker_count(args.workers), checkpoints: Checkpoints::Final, device: Device::Cpu };
    let cancel = cancel_on_ctrl_c("stopping after the runs in flight (Ctrl-C again to quit now)");
    let bar = ProgressBar::new(args.budget as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} networks · ETA {eta} · {msg}")
            .expect("valid template"),
    );
    let best_of = |store: &dyn Store| -> Result<Option<f64>> {
        Ok(store.runs(sweep.id)?.iter().map(accuracy_of).filter(|v| v.is_finite()).reduce(f64::max))
    };
    // Untrained runs first (a new sweep's design, or a search that was stopped).
    let mut trained = 0usize;
    let train = |store: &mut dyn Store, trained: &mut usize, bar: &ProgressBar| -> Result<()> {
        let summary = run_sweep(store, &sweep, &splits, &options, &cancel, &mut |e| {
            if let SweepEvent::Finished { .. } = e {
                *trained += 1;
                bar.inc(1);
            }
        })?;
        if let Some(why) = summary.stopped {
            bail!("training stopped: {why}");
        }
        Ok(())
    };
    let untrained = store.runs(sweep.id)?.iter().filter(|r| !r.status.is_finished()).count();
    if untrained > 0 {
        eprintln!("training {untrained} runs of `{}` not trained yet (the initial design, or a stopped search) ...", sweep.name);
        train(&mut *store, &mut 0, &ProgressBar::hidden())?;
    }
    while trained < args.budget as usize && !cancel.load(Ordering::Relaxed) {
        let q = (args.batch as usize).min(args.budget as usize - trained);
        let suggested = suggest_for(&mut *store, &sweep, q, &settings)?;
        let ids: Vec<i64> = suggested.records.iter().map(|s| s.id).collect();
        store.accept_suggestions(sweep.id, &ids)?;
        let expected = suggested.records.iter().map(|s| s.mean).fold(f64::NAN, f64::max);
        bar.set_message(format!(
            "best {} · training {q} (predicted up to {:.1}%)",
            best_of(&*store)?.map_or("—".into(), |b| format!("{:.1}%", 100.0 * b)),
            100.0 * expected
        ));
        train(&mut *store, &mut trained, &bar)?;
    }
    bar.finish();
    let best = best_of(&*store)?;
    println!(
        "search on `{}` in {}: {trained} networks trained; best validation accuracy {}",
        sweep.name,
        mosaic_store::redact(&args.store),
        best.map_or("—".into(), |b| format!("{:.2}%", 100.0 * b))
    );
    if cancel.load(Ordering::Relaxed) {
        println!("stopped early: run the same command to go on");
    }
    Ok(())
}
