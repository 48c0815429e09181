//! Suggestions: which specs to train next, with what the surrogate expects of them.

use std::collections::HashSet;
use std::sync::Arc;

use mosaic_core::{ArchSpec, Encoder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::acquisition::{Acquisition, select_batch};
use crate::adapt::AdaptedSpace;
use crate::gp::{Layout, share_to_logit};
use crate::model::Model;
use crate::tpe::{DEFAULT_GAMMA, Tpe};
use crate::transfer::Prior;
use crate::{Prediction, SearchError};

/// How candidates are ranked.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Strategy {
    /// Gaussian process with an acquisition function.
    Gp(Acquisition),
    /// The density ratio of good to other runs (see [`crate::tpe`]).
    Tpe,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy::Gp(Acquisition::default())
    }
}

#[derive(Clone, Debug)]
pub struct SuggestOptions {
    /// How many specs to suggest at once.
    pub q: usize,
    pub strategy: Strategy,
    /// Candidates drawn from the space before refining the best of them.
    pub candidates: usize,
    pub seed: u64,
    /// Where fresh candidates come from; `None`: the whole space, uniformly.
    pub space: Option<AdaptedSpace>,
    /// Extra candidates, e.g. [`crate::guided::near_good_region`] draws.
    pub extra: Vec<ArchSpec>,
    /// A prior mean from past tasks (fitted on the same scale as the values, see `shares`).
    pub prior: Option<Arc<Prior>>,
    /// The values are shares in [0, 1] (accuracies): model them on the logit
    /// scale so predictions stay in range.
    pub shares: bool,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            q: 8,
            strategy: Strategy::default(),
            candidates: 2000,
            seed: 0,
            space: None,
            extra: vec![],
            prior: None,
            shares: false,
        }
    }
}

/// A spec to train next and what the surrogate expects of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub spec: ArchSpec,
    /// Predicted target (the surrogate's mean) and its standard deviation.
    pub mean: f64,
    pub std: f64,
    /// The acquisition (or density-ratio) score it was picked by.
    pub score: f64,
}

/// Best runs whose neighbourhoods the candidates explore by mutation and crossover.
const PARENTS: usize = 10;
/// Candidates kept for a second, finer round of mutations.
const REFINE: usize = 16;

/// Suggests `options.q` new specs from the finished runs `(spec, value)`
/// (higher is better; non-finite values, e.g. diverged runs, are not learnt
/// from but are never suggested again).
pub fn suggest(encoder: &Encoder, runs: &[(ArchSpec, f64)], options: &SuggestOptions) -> Result<Vec<Suggestion>, SearchError> {
    let layout = Layout::of(encoder);
    let learnt: Vec<&(ArchSpec, f64)> = runs.iter().filter(|(_, v)| v.is_finite()).collect();
    if learnt.is_empty() && options.prior.is_none() {
        return Err(SearchError::NoData("no finished run with a value to learn from yet: train a few runs first".into()));
    }
    let x: Vec<Vec<f64>> = learnt.iter().map(|(s, _)| encoder.encode(s)).collect();
    let y: Vec<f64> = learnt.iter().map(|(_, v)| if options.shares { share_to_logit(*v) } else { *v }).collect();
    let model = Model::fit(&layout, &x, &y, options.prior.clone(), options.seed)?;
    let ranker = match options.strategy {
        Strategy::Gp(a) => Ranker::Gp(a),
        Strategy::Tpe => {
            Ranker::Tpe(Tpe::fit(&layout, &x, &y, DEFAULT_GAMMA).ok_or_else(|| SearchError::NoData("TPE needs two finished runs".into()))?)
        }
    };
    let best = y.iter().copied().reduce(f64::max);
    // TPE needs no prediction to score a candidate: only the surrogate's acquisition asks for one.
    let score = |x: &[f64]| match &ranker {
        Ranker::Gp(a) => a.score(model.predict(x), best),
        Ranker::Tpe(t) => t.score(x),
    };

    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut seen: HashSet<Vec<u64>> = runs.iter().map(|(s, _)| key(&encoder.encode(s))).collect();
    let mut pool: Vec<Vec<f64>> = Vec::new();
    let mut add = |specs: Vec<ArchSpec>, pool: &mut Vec<Vec<f64>>| {
        for s in specs {
            let e = encoder.encode(&s);
            if seen.insert(key(&e)) {
                pool.push(e);
            }
        }
    };
    let space = options.space.clone().unwrap_or_else(|| AdaptedSpace::uniform(encoder));
    add(space.sample(encoder, options.candidates, options.seed), &mut pool);
    add(options.extra.clone(), &mut pool);
    let mut parents: Vec<&(ArchSpec, f64)> = learnt.clone();
    parents.sort_by(|a, b| b.1.total_cmp(&a.1));
    parents.truncate(PARENTS);
    let mut local = Vec::new();
    for (i, (p, _)) in parents.iter().enumerate() {
        local.extend((0..20).map(|_| encoder.mutate(p, 0.3, &mut rng)));
        local.extend((0..5).map(|k| encoder.crossover(p, &parents[(i + k + 1) % parents.len()].0, &mut rng)));
    }
    add(local, &mut pool);
    // Refine: small mutations around the best-scoring candidates so far.
    let mut ranked: Vec<(f64, usize)> = pool.iter().enumerate().map(|(i, e)| (score(e), i)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let refined: Vec<ArchSpec> = ranked
        .iter()
        .take(REFINE)
        .flat_map(|&(_, i)| {
            let spec = encoder.decode(&pool[i]);
            (0..16).map(|_| encoder.mutate(&spec, 0.15, &mut rng)).collect::<Vec<_>>()
        })
        .collect();
    add(refined, &mut pool);
    if pool.is_empty() {
        return Err(SearchError::NoData("every candidate has been trained already: the space is exhausted".into()));
    }

    let picks: Vec<(usize, Prediction, f64)> = match &ranker {
        Ranker::Gp(a) => select_batch(&model, &pool, best, *a, options.q)?.into_iter().map(|p| (p.index, p.prediction, p.score)).collect(),
        Ranker::Tpe(_) => {
            let mut scored: Vec<(f64, usize)> = pool.iter().enumerate().map(|(i, e)| (score(e), i)).collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            scored.into_iter().take(options.q).map(|(s, i)| (i, model.predict(&pool[i]), s)).collect()
        }
    };
    Ok(picks
        .into_iter()
        .map(|(i, p, s)| {
            let p = if options.shares { p.logit_to_share() } else { p };
            Suggestion { spec: encoder.decode(&pool[i]), mean: p.mean, std: p.std, score: s }
        })
        .collect())
}

/// How a candidate is scored: the surrogate's acquisition, or TPE's density ratio.
enum Ranker {
    Gp(Acquisition),
    Tpe(Tpe),
}

/// An encoding as exact bits, to tell identical specs apart from near ones.
fn key(e: &[f64]) -> Vec<u64> {
    e.iter().map(|v| v.to_bits()).collect()
}

#[cfg(test)]
mod tests {
    use mosaic_core::{Activation, SearchSpace, sample};

    use super::*;

    /// A smooth made-up objective: best at learning rate 1e-2, Tanh, depth 3.
    fn objective(s: &ArchSpec) -> f64 {
        let lr = (s.learning_rate.log10() + 2.0).powi(2);
        let depth = (s.depth as f64 - 3.0).powi(2) / 9.0;
        let act = if s.activation == Activation::Tanh { 0.0 } else { 0.3 };
        1.0 - 0.2 * lr - 0.2 * depth - act
    }

    #[test]
    fn suggestions_are_new_valid_specs_that_beat_the_history() {
        let encoder = Encoder::new(SearchSpace::demo_space());
        let runs: Vec<(ArchSpec, f64)> = sample::latin_hypercube(&encoder, 30, 1).into_iter().map(|s| (s.clone(), objective(&s))).collect();
        let best = runs.iter().map(|r| r.1).fold(f64::MIN, f64::max);
        let out = suggest(&encoder, &runs, &SuggestOptions { q: 4, ..Default::default() }).unwrap();
        assert_eq!(out.len(), 4);
        for s in &out {
            assert!(encoder.space().contains(&s.spec));
            assert!(!runs.iter().any(|(r, _)| encoder.encode(r) == encoder.encode(&s.spec)), "suggested a trained spec");
            assert!(s.std.is_finite() && s.std >= 0.0);
        }
        // The batch is distinct, and its best member beats the history on the true objective.
        for i in 0..4 {
            for j in 0..i {
                assert_ne!(encoder.encode(&out[i].spec), encoder.encode(&out[j].spec));
            }
        }
        let top = out.iter().map(|s| objective(&s.spec)).fold(f64::MIN, f64::max);
        assert!(top > best - 0.02, "best suggestion scores {top}, history best {best}");
        let tpe = suggest(&encoder, &runs, &SuggestOptions { q: 3, strategy: Strategy::Tpe, ..Default::default() }).unwrap();
        assert_eq!(tpe.len(), 3);
    }

    #[test]
    fn nothing_to_learn_from_is_an_error_not_a_guess() {
        let encoder = Encoder::new(SearchSpace::demo_space());
        let diverged: Vec<(ArchSpec, f64)> = sample::random(&encoder, 3, 0).into_iter().map(|s| (s, f64::NAN)).collect();
        let e = suggest(&encoder, &diverged, &SuggestOptions::default()).unwrap_err();
        assert!(e.to_string().contains("train a few runs first"), "{e}");
    }
}
