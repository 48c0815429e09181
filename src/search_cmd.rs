//! `mosaic suggest` and `mosaic search`: the meta-learner on a stored sweep.
//! `suggest` stores a batch of suggestions (the explorer shows them as ghost
//! points); `search` runs the loop suggest → train → learn for a budget.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_core::{ArchSpec, Encoder, SearchSpace};
use mosaic_search::gp::share_to_logit;
use mosaic_search::guided::{PlacedRun, near_good_region};
use mosaic_search::{Acquisition, AdaptOptions, AdaptedSpace, Gp, Layout, PastTask, Prior, Strategy, SuggestOptions, TaskFeatures};
use mosaic_store::{Store, SuggestionRecord, SweepInfo};
use mosaic_train::Device;
use mosaic_train::data::Splits;
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_sweep};
use mosaic_train::train::Checkpoints;

use crate::path_cmd::spec_label;
use crate::sweep_cmd::{cancel_on_ctrl_c, load_dataset, open_existing_store, open_or_create_sweep, pick_sweep, sweep_splits, worker_count};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyArg {
    /// Gaussian process, expected improvement.
    GpEi,
    /// Gaussian process, upper confidence bound (mean + beta · std).
    GpUcb,
    /// Tree-structured Parzen density ratio (no uncertainty model; cheap).
    Tpe,
}

/// How suggestions are made; shared by `suggest`, `search` and the explorer.
#[derive(Args, Debug, Clone)]
pub struct SuggestSettings {
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

impl Default for SuggestSettings {
    fn default() -> Self {
        SuggestSettings {
            strategy: StrategyArg::GpEi,
            beta: 2.0,
            adapt: None,
            space_from: None,
            transfer_from: vec![],
            guided: false,
            seed: 0,
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
    pub settings: SuggestSettings,
}

/// A batch of suggestions and what went into it, in words.
pub struct Suggested {
    pub records: Vec<SuggestionRecord>,
    pub notes: Vec<String>,
}

/// The target the meta-learner maximises: a run's final validation accuracy
/// (NaN for diverged or failed runs: never learnt from, never suggested again).
fn accuracy_of(run: &mosaic_store::RunRecord) -> f64 {
    run.outcome.as_ref().and_then(|o| o.val_accuracy()).filter(|v| v.is_finite()).unwrap_or(f64::NAN)
}

/// Suggests `n` specs for a sweep and stores them (replacing pending ones).
pub fn suggest_for(store: &mut Store, sweep: &SweepInfo, n: usize, settings: &SuggestSettings) -> Result<Suggested> {
    let encoder = Encoder::new(sweep.space.clone());
    let runs = store.runs(sweep.id)?;
    let history: Vec<(ArchSpec, f64)> = runs.iter().filter(|r| r.status.is_finished()).map(|r| (r.spec.clone(), accuracy_of(r))).collect();
    let mut notes = vec![format!(
        "learnt from {} finished runs of `{}` ({} with an accuracy)",
        history.len(),
        sweep.name,
        history.iter().filter(|(_, v)| v.is_finite()).count()
    )];
    // Runs not finished yet are not suggested again either.
    let pending: Vec<(ArchSpec, f64)> = runs.iter().filter(|r| !r.status.is_finished()).map(|r| (r.spec.clone(), f64::NAN)).collect();
    let space = match (&settings.adapt, &settings.space_from) {
        (Some(out), _) => {
            let adapted = AdaptedSpace::learn(&encoder, &history, AdaptOptions::default())?;
            mosaic_store::write_atomic(out, adapted.to_ron().as_bytes()).with_context(|| format!("cannot write {}", out.display()))?;
            notes.push(format!("adapted space ({} good of {} runs) written to {}", adapted.good, adapted.runs, out.display()));
            Some(adapted)
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read adapted space {}", path.display()))?;
            let adapted = AdaptedSpace::from_ron(&text).with_context(|| path.display().to_string())?;
            adapted.check(&encoder)?;
            Some(adapted)
        }
        (None, None) => None,
    };
    let prior = transfer_prior(store, sweep, &settings.transfer_from, &mut notes)?;
    let extra = if settings.guided { guided_candidates(store, sweep, &encoder, &history, settings.seed, &mut notes)? } else { vec![] };
    let strategy = match settings.strategy {
        StrategyArg::GpEi => Strategy::Gp(Acquisition::ExpectedImprovement { xi: 0.0 }),
        StrategyArg::GpUcb => Strategy::Gp(Acquisition::UpperConfidenceBound { beta: settings.beta }),
        StrategyArg::Tpe => Strategy::Tpe,
    };
    let options = SuggestOptions { q: n, strategy, seed: settings.seed, space, extra, prior, shares: true, ..Default::default() };
    let all: Vec<(ArchSpec, f64)> = history.iter().chain(&pending).cloned().collect();
    let suggestions = mosaic_search::suggest(&encoder, &all, &options)?;
    let name = settings.strategy.to_possible_value().map_or(String::new(), |v| v.get_name().to_string());
    let records: Vec<SuggestionRecord> = suggestions
        .into_iter()
        .map(|s| SuggestionRecord {
            id: 0,
            encoding: encoder.encode(&s.spec),
            spec: s.spec,
            mean: s.mean,
            std: s.std,
            score: s.score,
            strategy: name.clone(),
            run: None,
        })
        .collect();
    let records = store.save_suggestions(sweep.id, &records)?;
    Ok(Suggested { records, notes })
}

/// Meta-features of the data a sweep trains on (its training split).
pub fn task_features(splits: &Splits) -> TaskFeatures {
    let t = &splits.train;
    TaskFeatures::compute(&t.features, t.dim, &t.labels, t.classes)
}

fn transfer_prior(store: &Store, sweep: &SweepInfo, from: &[String], notes: &mut Vec<String>) -> Result<Option<Arc<Prior>>> {
    if from.is_empty() {
        return Ok(None);
    }
    let target = task_features(&sweep_splits(sweep)?);
    let encoder = Encoder::new(sweep.space.clone());
    let layout = Layout::of(&encoder);
    let mut past = Vec::new();
    for name in from {
        let other = pick_sweep(store, Some(name))?;
        if other.id == sweep.id {
            bail!("--transfer-from {name}: that is the sweep being searched; name another task's sweep");
        }
        if other.space != sweep.space {
            bail!(
                "--transfer-from {name}: it searched space `{}`, this sweep searches `{}`; transfer needs the same space",
                other.space.name,
                sweep.space.name
            );
        }
        let runs = store.runs(other.id)?;
        let learnt: Vec<&mosaic_store::RunRecord> = runs.iter().filter(|r| accuracy_of(r).is_finite()).collect();
        if learnt.len() < 3 {
            bail!("--transfer-from {name}: it has {} finished runs with an accuracy; train it first (at least 3)", learnt.len());
        }
        let x: Vec<Vec<f64>> = learnt.iter().map(|r| encoder.encode(&r.spec)).collect();
        let y: Vec<f64> = learnt.iter().map(|r| share_to_logit(accuracy_of(r))).collect();
        let surrogate = Gp::fit(&layout, &x, &y, 0)?;
        past.push(PastTask { name: name.clone(), features: task_features(&sweep_splits(&other)?), surrogate });
    }
    let prior = Prior::new(&target, past);
    match &prior {
        Some(p) => {
            let w: Vec<String> = p.weights().iter().map(|(n, w)| format!("{n} {w:.2}")).collect();
            notes.push(format!("prior from past tasks, weighted by similarity: {}", w.join(", ")));
        }
        None => notes.push("no past task is similar enough to this one to help: no prior used".into()),
    }
    Ok(prior.map(Arc::new))
}

fn guided_candidates(
    store: &Store,
    sweep: &SweepInfo,
    encoder: &Encoder,
    history: &[(ArchSpec, f64)],
    seed: u64,
    notes: &mut Vec<String>,
) -> Result<Vec<ArchSpec>> {
    let embedding =
        ["representation", "architecture"].into_iter().find_map(|kind| store.embedding(sweep.id, kind).ok().flatten().map(|e| (kind, e)));
    let Some((kind, (_, coords))) = embedding else {
        bail!("--guided needs the sweep's embedding: run `mosaic embed --store DIR` first");
    };
    let runs = store.runs(sweep.id)?;
    let placed: Vec<PlacedRun> = coords
        .iter()
        .filter_map(|(id, c)| {
            let run = runs.iter().find(|r| r.id == *id)?;
            Some(PlacedRun { spec: run.spec.clone(), position: *c, value: accuracy_of(run) })
        })
        .collect();
    let drawn = near_good_region(encoder, &placed, 200, seed);
    notes.push(format!("{} candidates drawn near the good region of the {kind} sphere ({} runs learnt)", drawn.len(), history.len()));
    Ok(drawn)
}

fn print_suggestions(records: &[SuggestionRecord]) {
    println!("{:>4}  {:<44} {:>16}  {:>9}", "id", "spec", "predicted acc", "score");
    for s in records {
        println!("{:>4}  {:<44} {:>7.1}% ± {:>4.1}%  {:>9.4}", s.id, spec_label(&s.spec), 100.0 * s.mean, 100.0 * s.std, s.score);
    }
}

pub fn suggest(args: SuggestArgs) -> Result<()> {
    let mut store = open_existing_store(&args.store)?;
    let sweep = pick_sweep(&store, args.sweep.as_deref())?;
    let out = suggest_for(&mut store, &sweep, args.n as usize, &args.settings)?;
    out.notes.iter().for_each(|n| println!("{n}"));
    print_suggestions(&out.records);
    println!(
        "stored as the pending suggestions of `{}`: the explorer shows them as ghost points; `mosaic search --store {} --budget {}` trains them",
        sweep.name,
        args.store.display(),
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
    /// For a new sweep: the built-in task or data (as `mosaic sweep --dataset`).
    #[arg(long, default_value = "spirals")]
    pub dataset: String,
    /// For a new sweep: random (Latin hypercube) runs before the model takes over.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub init: u32,
    /// For a new sweep: its search space (default: the one that suits the data).
    #[arg(long, value_name = "FILE")]
    pub space: Option<PathBuf>,
    #[arg(long, default_value_t = crate::sweep_cmd::DEFAULT_EXAMPLES)]
    pub examples: u32,
    #[arg(long)]
    pub workers: Option<usize>,
    #[command(flatten)]
    pub settings: SuggestSettings,
}

pub fn search(args: SearchArgs) -> Result<()> {
    let mut store = Store::open(&args.store)?;
    let _training = store.lock_for_training()?;
    let existing = match &args.sweep {
        Some(name) => store.sweep_by_name(name)?,
        None => pick_sweep(&store, None).ok(),
    };
    let sweep = match existing {
        Some(s) => s,
        None => {
            let data = load_dataset(&args.dataset, args.examples as usize, args.settings.seed)?;
            let space = args.space.as_deref().map(SearchSpace::load).transpose()?;
            let name = args.sweep.clone().unwrap_or_else(|| format!("{}-search-s{}", args.dataset, args.settings.seed));
            open_or_create_sweep(&mut store, Some(&name), space, &args.dataset, &data, args.init as usize, args.settings.seed)?
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
    let best_of = |store: &Store| -> Result<Option<f64>> {
        Ok(store.runs(sweep.id)?.iter().map(accuracy_of).filter(|v| v.is_finite()).reduce(f64::max))
    };
    // Untrained runs first (a new sweep's design, or a search that was stopped).
    let mut trained = 0usize;
    let train = |store: &mut Store, trained: &mut usize, bar: &ProgressBar| -> Result<()> {
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
        train(&mut store, &mut 0, &ProgressBar::hidden())?;
    }
    while trained < args.budget as usize && !cancel.load(Ordering::Relaxed) {
        let q = (args.batch as usize).min(args.budget as usize - trained);
        let suggested = suggest_for(&mut store, &sweep, q, &args.settings)?;
        let ids: Vec<i64> = suggested.records.iter().map(|s| s.id).collect();
        store.accept_suggestions(sweep.id, &ids)?;
        let expected = suggested.records.iter().map(|s| s.mean).fold(f64::NAN, f64::max);
        bar.set_message(format!(
            "best {} · training {q} (predicted up to {:.1}%)",
            best_of(&store)?.map_or("—".into(), |b| format!("{:.1}%", 100.0 * b)),
            100.0 * expected
        ));
        train(&mut store, &mut trained, &bar)?;
    }
    bar.finish();
    let best = best_of(&store)?;
    println!(
        "search on `{}` in {}: {trained} networks trained; best validation accuracy {}",
        sweep.name,
        args.store.display(),
        best.map_or("—".into(), |b| format!("{:.2}%", 100.0 * b))
    );
    if cancel.load(Ordering::Relaxed) {
        println!("stopped early: run the same command to go on");
    }
    Ok(())
}
