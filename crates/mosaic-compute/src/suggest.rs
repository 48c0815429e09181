//! Suggestions for a sweep: the meta-learner (a GP or TPE over the
//! encodings, with an adapted space, a prior from past tasks, or candidates
//! drawn near the good region of the sphere) ranks candidates, and the
//! batch is stored as the sweep's pending suggestions.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mosaic_core::{ArchSpec, Encoder};
use mosaic_search::gp::share_to_logit;
use mosaic_search::guided::{PlacedRun, near_good_region};
use mosaic_search::{Acquisition, AdaptOptions, AdaptedSpace, Gp, Layout, PastTask, Prior, Strategy, SuggestOptions, TaskFeatures};
use mosaic_store::{EmbeddingKind, Store, SuggestionRecord, SweepInfo};
use mosaic_train::data::Splits;

use crate::sweeps::sweep_splits;

/// How candidates are ranked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ranking {
    /// Gaussian process, expected improvement.
    #[default]
    GpEi,
    /// Gaussian process, upper confidence bound (mean + beta · std).
    GpUcb,
    /// Tree-structured Parzen density ratio (no uncertainty model; cheap).
    Tpe,
}

impl Ranking {
    /// The name stored with each suggestion (as the command line spells it).
    pub fn name(self) -> &'static str {
        match self {
            Ranking::GpEi => "gp-ei",
            Ranking::GpUcb => "gp-ucb",
            Ranking::Tpe => "tpe",
        }
    }
}

/// How suggestions are made; shared by `suggest`, `search` and the explorer.
#[derive(Clone, Debug, PartialEq)]
pub struct SuggestSettings {
    pub ranking: Ranking,
    /// Exploration weight of [`Ranking::GpUcb`].
    pub beta: f64,
    /// Adapt the space to the good runs first (narrowed ranges, reweighted
    /// options), draw candidates from it, and write it to this file (RON).
    pub adapt: Option<PathBuf>,
    /// Draw candidates from an adapted space written earlier.
    pub space_from: Option<PathBuf>,
    /// Other sweeps of the store (other tasks, same space) whose
    /// surrogates, weighted by task similarity, give the prior mean.
    pub transfer_from: Vec<String>,
    /// Also draw candidates between good neighbours on the sphere (needs the sweep's embedding).
    pub guided: bool,
    pub seed: u64,
}

impl Default for SuggestSettings {
    fn default() -> Self {
        SuggestSettings { ranking: Ranking::GpEi, beta: 2.0, adapt: None, space_from: None, transfer_from: vec![], guided: false, seed: 0 }
    }
}

/// A batch of suggestions and what went into it, in words.
pub struct Suggested {
    pub records: Vec<SuggestionRecord>,
    pub notes: Vec<String>,
}

/// The target the meta-learner maximises: a run's final validation accuracy
/// (NaN for diverged or failed runs: never learnt from, never suggested again).
pub fn accuracy_of(run: &mosaic_store::RunRecord) -> f64 {
    run.outcome.as_ref().and_then(|o| o.val_accuracy()).filter(|v| v.is_finite()).unwrap_or(f64::NAN)
}

/// Why a sweep of parameters gets no architecture suggestions, and what to use.
const SUGGESTS_ARCHITECTURES: &str =
    "suggestions here are architectures; ask a sweep of your own parameters with neuromosaic.Study (ask/tell)";

/// Suggests `n` specs for a sweep and stores them (replacing pending ones).
pub fn suggest_for(store: &mut dyn Store, sweep: &SweepInfo, n: usize, settings: &SuggestSettings) -> Result<Suggested> {
    let encoder = Encoder::new(sweep.architectures(SUGGESTS_ARCHITECTURES)?.clone());
    let runs = store.runs(sweep.id)?;
    let history: Vec<(ArchSpec, f64)> =
        runs.iter().filter(|r| r.status.is_finished()).filter_map(|r| Some((r.arch()?.clone(), accuracy_of(r)))).collect();
    let mut notes = vec![format!(
        "learnt from {} finished runs of `{}` ({} with an accuracy)",
        history.len(),
        sweep.name,
        history.iter().filter(|(_, v)| v.is_finite()).count()
    )];
    // Runs not finished yet are not suggested again either.
    let pending: Vec<(ArchSpec, f64)> =
        runs.iter().filter(|r| !r.status.is_finished()).filter_map(|r| Some((r.arch()?.clone(), f64::NAN))).collect();
    let space = match (&settings.adapt, &settings.space_from) {
        (Some(out), _) => {
            let adapted = AdaptedSpace::learn(&encoder, &history, AdaptOptions::default())?;
            mosaic_core::fs::write_atomic(out, adapted.to_ron().as_bytes()).with_context(|| format!("cannot write {}", out.display()))?;
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
    let strategy = match settings.ranking {
        Ranking::GpEi => Strategy::Gp(Acquisition::ExpectedImprovement { xi: 0.0 }),
        Ranking::GpUcb => Strategy::Gp(Acquisition::UpperConfidenceBound { beta: settings.beta }),
        Ranking::Tpe => Strategy::Tpe,
    };
    let options = SuggestOptions { q: n, strategy, seed: settings.seed, space, extra, prior, shares: true, ..Default::default() };
    let all: Vec<(ArchSpec, f64)> = history.iter().chain(&pending).cloned().collect();
    let suggestions = mosaic_search::suggest(&encoder, &all, &options)?;
    let name = settings.ranking.name().to_string();
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

fn transfer_prior(store: &dyn Store, sweep: &SweepInfo, from: &[String], notes: &mut Vec<String>) -> Result<Option<Arc<Prior>>> {
    if from.is_empty() {
        return Ok(None);
    }
    let target = task_features(&sweep_splits(sweep)?);
    let encoder = Encoder::new(sweep.architectures(SUGGESTS_ARCHITECTURES)?.clone());
    let layout = Layout::of(&encoder);
    let mut past = Vec::new();
    for name in from {
        let other = store.sweep(Some(name))?;
        if other.id == sweep.id {
            bail!("--transfer-from {name}: that is the sweep being searched; name another task's sweep");
        }
        if other.space != sweep.space {
            bail!(
                "--transfer-from {name}: it searched space `{}`, this sweep searches `{}`; transfer needs the same space",
                other.space_name(),
                sweep.space_name()
            );
        }
        let runs = store.runs(other.id)?;
        let learnt: Vec<&mosaic_store::RunRecord> = runs.iter().filter(|r| accuracy_of(r).is_finite()).collect();
        if learnt.len() < 3 {
            bail!("--transfer-from {name}: it has {} finished runs with an accuracy; train it first (at least 3)", learnt.len());
        }
        let x: Vec<Vec<f64>> = learnt.iter().map(|r| r.spec("transfer").map(|s| encoder.encode(s))).collect::<Result<_, _>>()?;
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
    store: &dyn Store,
    sweep: &SweepInfo,
    encoder: &Encoder,
    history: &[(ArchSpec, f64)],
    seed: u64,
    notes: &mut Vec<String>,
) -> Result<Vec<ArchSpec>> {
    let embedding = EmbeddingKind::ALL.into_iter().find_map(|kind| store.embedding(sweep.id, kind).ok().flatten().map(|e| (kind, e)));
    let Some((kind, (_, coords))) = embedding else {
        bail!("--guided needs the sweep's embedding: run `mosaic embed --store DIR` first");
    };
    let runs = store.runs(sweep.id)?;
    let placed: Vec<PlacedRun> = coords
        .iter()
        .filter_map(|(id, c)| {
            let run = runs.iter().find(|r| r.id == *id)?;
            Some(PlacedRun { spec: run.arch()?.clone(), position: *c, value: accuracy_of(run) })
        })
        .collect();
    let drawn = near_good_region(encoder, &placed, 200, seed);
    notes.push(format!("{} candidates drawn near the good region of the {kind} sphere ({} runs learnt)", drawn.len(), history.len()));
    Ok(drawn)
}
