//! Ask/tell over a user's own [`ParamSpace`], as Optuna's studies work:
//! `ask` hands out trials (parameters to evaluate), `tell` records how each
//! went. The first trials come from a Latin hypercube; after that the
//! meta-learner picks them: a Gaussian process over the space's encoding
//! (Matérn on the numeric columns, overlap kernel per categorical block),
//! expected improvement over random and local candidates, and the kriging
//! believer across a batch and across trials still running, so parallel
//! workers are sent to different places.

use mosaic_core::params::{ParamSpace, Params};
use mosaic_core::sample::latin_hypercube_unit;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SearchError;
use crate::acquisition::{Acquisition, select_batch};
use crate::gp::{Hyper, Layout, Prediction};
use crate::model::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Minimize,
    Maximize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrialState {
    /// Asked for and not yet told.
    Running,
    Complete,
    /// Told a failure, or a value that is not a finite number.
    Failed,
}

/// One evaluation: its parameters, and once told its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 0-based, in the order trials were asked for or added.
    pub number: usize,
    pub params: Params,
    pub state: TrialState,
    pub value: Option<f64>,
    /// What the model expected of it when it was asked for, in the study's
    /// units (none for the initial design and for added trials).
    pub predicted: Option<Prediction>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StudyOptions {
    pub direction: Direction,
    pub seed: u64,
    /// Trials drawn from a Latin hypercube before the model takes over.
    pub startup_trials: usize,
    /// Random candidates scored per ask (local ones around the best come on top).
    pub candidates: usize,
}

impl Default for StudyOptions {
    fn default() -> Self {
        StudyOptions { direction: Direction::Maximize, seed: 0, startup_trials: 10, candidates: 1000 }
    }
}

#[derive(Clone, Debug)]
pub struct Study {
    space: ParamSpace,
    options: StudyOptions,
    layout: Layout,
    trials: Vec<Trial>,
    /// The initial design, drawn once.
    design: Vec<Vec<f64>>,
    /// The latest fit, reused between full fits.
    fitted: Option<Fitted>,
}

/// What a full fit settled and the asks after it reuse.
#[derive(Clone, Debug)]
struct Fitted {
    /// Complete trials the last full fit saw, and the last refit.
    seen: usize,
    tuned: usize,
    hyper: Hyper,
    warp: Warp,
}

/// Runs around which local candidates are drawn, and how many around each.
const LOCAL_PARENTS: usize = 5;
const LOCAL_PER_PARENT: usize = 60;
/// Up to this many complete trials every ask fits the process afresh
/// (several L-BFGS starts; tens of milliseconds at this size). Above, where a
/// full fit costs seconds, it is fitted afresh once they have grown by
/// `REFIT_GROWTH` since the last full fit; in between, the hyper-parameters
/// are refined with a few iterations once they have grown by `RETUNE_GROWTH`
/// since, and kept as they are (one factorisation) otherwise.
const ALWAYS_FIT_UP_TO: usize = 64;
const REFIT_GROWTH: f64 = 1.2;
const RETUNE_GROWTH: f64 = 1.05;
const WARM_ITERATIONS: usize = 4;
/// Candidates the kriging believer chooses a batch from (the best by expected improvement).
const BATCH_POOL: usize = 256;

impl Study {
    pub fn new(space: ParamSpace, options: StudyOptions) -> Result<Study, SearchError> {
        space.validate().map_err(|e| SearchError::Invalid(e.to_string()))?;
        let layout = Layout { numeric: (0..space.numeric_len()).collect(), blocks: space.blocks() };
        let design = latin_hypercube_unit(options.startup_trials, space.params.len(), options.seed);
        Ok(Study { space, options, layout, trials: Vec::new(), design, fitted: None })
    }

    pub fn space(&self) -> &ParamSpace {
        &self.space
    }

    pub fn options(&self) -> &StudyOptions {
        &self.options
    }

    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }

    pub fn trial(&self, number: usize) -> Option<&Trial> {
        self.trials.get(number)
    }

    /// The best complete trial (ties: the earliest).
    pub fn best(&self) -> Option<&Trial> {
        let sign = self.sign();
        self.trials.iter().filter(|t| t.state == TrialState::Complete).fold(None, |best: Option<&Trial>, t| match best {
            Some(b) if sign * b.value.unwrap_or(f64::NAN) >= sign * t.value.unwrap_or(f64::NAN) => Some(b),
            _ => Some(t),
        })
    }

    /// +1 when larger values are better.
    fn sign(&self) -> f64 {
        match self.options.direction {
            Direction::Maximize => 1.0,
            Direction::Minimize => -1.0,
        }
    }

    /// Records a trial evaluated elsewhere (an imported study, a user's own
    /// guess): checked against the space; a value that is not finite makes it failed.
    pub fn add(&mut self, params: Params, value: Option<f64>) -> Result<&Trial, SearchError> {
        self.space.check(&params).map_err(|e| SearchError::Invalid(e.to_string()))?;
        let number = self.trials.len();
        let state = match value {
            Some(v) if v.is_finite() => TrialState::Complete,
            _ => TrialState::Failed,
        };
        self.trials.push(Trial { number, params, state, value: value.filter(|v| v.is_finite()), predicted: None });
        Ok(&self.trials[number])
    }

    /// Records how trial `number` went: a value, or `None` for a failure. A
    /// value that is not finite (a diverged loss) marks it failed, and the model never sees it.
    pub fn tell(&mut self, number: usize, value: Option<f64>) -> Result<&Trial, SearchError> {
        let count = self.trials.len();
        let trial = self.trials.get_mut(number).ok_or_else(|| SearchError::Invalid(format!("no trial {number}: the study has {count}")))?;
        if trial.state != TrialState::Running {
            return Err(SearchError::Invalid(format!("trial {number} was already told ({:?})", trial.state)));
        }
        match value {
            Some(v) if v.is_finite() => {
                trial.state = TrialState::Complete;
                trial.value = Some(v);
            }
            _ => trial.state = TrialState::Failed,
        }
        Ok(&self.trials[number])
    }

    /// `n` new trials to evaluate (in parallel if you like), now running.
    pub fn ask(&mut self, n: usize) -> Result<Vec<Trial>, SearchError> {
        let complete: Vec<&Trial> = self.trials.iter().filter(|t| t.state == TrialState::Complete).collect();
        let picks: Vec<(Params, Option<Prediction>)> =
            if complete.len() < self.options.startup_trials.max(2) { self.initial(n) } else { self.model_picks(n)? };
        let first = self.trials.len();
        for (i, (params, predicted)) in picks.into_iter().enumerate() {
            self.trials.push(Trial { number: first + i, params, state: TrialState::Running, value: None, predicted });
        }
        Ok(self.trials[first..].to_vec())
    }

    /// The next points of the Latin hypercube, then uniform draws.
    fn initial(&self, n: usize) -> Vec<(Params, Option<Prediction>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.options.seed ^ (self.trials.len() as u64).wrapping_mul(0x9E37_79B9));
        (self.trials.len()..self.trials.len() + n)
            .map(|k| {
                let u = self.design.get(k).cloned().unwrap_or_else(|| (0..self.space.params.len()).map(|_| rng.random::<f64>()).collect());
                (self.space.from_design(&u), None)
            })
            .collect()
    }

    fn model_picks(&mut self, n: usize) -> Result<Vec<(Params, Option<Prediction>)>, SearchError> {
        let sign = self.sign();
        let complete: Vec<&Trial> = self.trials.iter().filter(|t| t.state == TrialState::Complete).collect();
        let x: Vec<Vec<f64>> = complete.iter().map(|t| self.space.encode(&t.params)).collect();
        let values: Vec<f64> = complete.iter().map(|t| sign * t.value.expect("complete trials have values")).collect();
        let seed = self.options.seed.wrapping_add(self.trials.len() as u64);
        let (fit, mut model) = match &self.fitted {
            // Between full fits, unless a value arrived that the warp cannot see (log of a value ≤ 0).
            Some(fit)
                if x.len() > ALWAYS_FIT_UP_TO
                    && (x.len() as f64) < REFIT_GROWTH * fit.seen as f64
                    && Warp::candidates(&values, sign).contains(&fit.warp) =>
            {
                let y = fit.warp.apply(&values);
                if (x.len() as f64) < RETUNE_GROWTH * fit.tuned as f64 {
                    (fit.clone(), Model::with_hyper(&self.layout, &x, &y, fit.hyper.clone())?)
                } else {
                    (Fitted { tuned: x.len(), ..fit.clone() }, Model::refit(&self.layout, &x, &y, &fit.hyper, WARM_ITERATIONS)?)
                }
            }
            _ => {
                // Each way of seeing the values gets its own fit; the likelier one (Jacobian included) wins.
                let mut chosen: Option<(f64, Warp, Model)> = None;
                for warp in Warp::candidates(&values, sign) {
                    let model = Model::fit(&self.layout, &x, &warp.apply(&values), None, seed)?;
                    let score = model.log_likelihood().unwrap_or(f64::NEG_INFINITY) + warp.log_jacobian(&values);
                    if chosen.as_ref().is_none_or(|(best, _, _)| score > *best) {
                        chosen = Some((score, warp, model));
                    }
                }
                let (_, warp, model) = chosen.expect("the identity is always a candidate");
                (Fitted { seen: x.len(), tuned: x.len(), hyper: Hyper::prior_mean(&self.layout), warp }, model)
            }
        };
        let warp = fit.warp;
        let y = warp.apply(&values);
        self.fitted = model.hyper().map(|h| Fitted { hyper: h.clone(), ..fit });
        let mut best = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Trials still running count as if they returned what the model expects there.
        for t in self.trials.iter().filter(|t| t.state == TrialState::Running) {
            let e = self.space.encode(&t.params);
            let mean = model.predict(&e).mean;
            model = model.believe(&e, mean)?;
            best = best.max(mean);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let taken: Vec<Vec<f64>> = self.trials.iter().map(|t| self.space.encode(&t.params)).collect();
        let mut candidates = self.random_candidates(&mut rng);
        let mut order: Vec<usize> = (0..complete.len()).collect();
        order.sort_by(|&a, &b| y[b].total_cmp(&y[a]));
        for &parent in order.iter().take(LOCAL_PARENTS) {
            candidates.extend((0..LOCAL_PER_PARENT).map(|_| self.perturb(&x[parent], 0.1, &mut rng)));
        }
        // A second, finer round around the most promising candidates. Each
        // candidate is scored once, on every core.
        let acquisition = Acquisition::ExpectedImprovement { xi: 0.0 };
        let score = |c: &Vec<f64>| acquisition.score(model.predict(c), Some(best));
        let mut scored: Vec<(f64, Vec<f64>)> = candidates.into_par_iter().map(|c| (score(&c), c)).collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let fine: Vec<Vec<f64>> = scored
            .iter()
            .take(LOCAL_PARENTS)
            .flat_map(|(_, leader)| (0..LOCAL_PER_PARENT).map(|_| self.perturb(leader, 0.02, &mut rng)).collect::<Vec<_>>())
            .collect();
        scored.par_extend(fine.into_par_iter().map(|c| (score(&c), c)));
        scored.retain(|(_, c)| !taken.contains(c));
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1.iter().zip(&b.1).map(|(p, q)| p.total_cmp(q)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal))
        });
        scored.dedup_by(|a, b| a.1 == b.1);
        if scored.is_empty() {
            // A small discrete space fully tried: hand out random points again.
            return Ok(self.initial(n));
        }
        // The batch is chosen among the best by expected improvement alone; one pick is the best.
        let candidates: Vec<Vec<f64>> = scored.into_iter().take(BATCH_POOL.max(n)).map(|(_, c)| c).collect();
        let picks = select_batch(&model, &candidates, Some(best), acquisition, n)?;
        let mut out: Vec<(Params, Option<Prediction>)> = picks
            .iter()
            .map(|p| {
                let prediction = warp.back(p.prediction, sign);
                (self.space.decode(&candidates[p.index]), Some(prediction))
            })
            .collect();
        if out.len() < n {
            out.extend(self.initial(n - out.len()));
        }
        Ok(out)
    }

    /// Uniform draws over the space, as valid encodings.
    fn random_candidates(&self, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
        let dims = self.space.params.len();
        (0..self.options.candidates)
            .map(|_| {
                let u: Vec<f64> = (0..dims).map(|_| rng.random::<f64>()).collect();
                self.space.encode(&self.space.from_design(&u))
            })
            .collect()
    }

    /// A valid point near `x`: numeric columns moved by Gaussian steps of
    /// `scale`, each categorical parameter redrawn with probability 1 / parameters.
    fn perturb(&self, x: &[f64], scale: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let mut v = x.to_vec();
        for value in v.iter_mut().take(self.space.numeric_len()) {
            *value = (*value + scale * gaussian(rng)).clamp(0.0, 1.0);
        }
        let flip = 1.0 / self.space.params.len() as f64;
        for block in self.space.blocks() {
            if rng.random::<f64>() < flip {
                let pick = block.start + rng.random_range(0..block.len());
                for i in block {
                    v[i] = if i == pick { 1.0 } else { 0.0 };
                }
            }
        }
        self.space.encode(&self.space.decode(&v))
    }
}

/// How the process sees the values: as they are, or, for values that are
/// all positive, on log scale, which suits losses spanning orders of
/// magnitude (a validation MSE from 1e-5 to 1: on a linear scale the largest
/// few swamp the process). Each full fit tries both and keeps the one under
/// which the values are likelier (marginal likelihood with the transform's
/// Jacobian, as Box–Cox chooses its power). Values arrive oriented so that
/// larger is better (`sign` times the study's values).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Warp {
    Identity,
    /// `-ln(loss)` for a minimised study, `ln(value)` for a maximised one.
    Log,
}

impl Warp {
    /// The ways the values may be seen: as they are, and on log scale when
    /// all are positive.
    fn candidates(oriented: &[f64], sign: f64) -> Vec<Warp> {
        let positive = oriented.iter().all(|v| sign * v > 0.0);
        if positive { vec![Warp::Identity, Warp::Log] } else { vec![Warp::Identity] }
    }

    fn apply(self, oriented: &[f64]) -> Vec<f64> {
        oriented.iter().map(|&v| self.forward(v)).collect()
    }

    /// `ln |d forward / d value|` summed over the values: what makes the
    /// likelihoods of differently warped targets comparable.
    fn log_jacobian(self, oriented: &[f64]) -> f64 {
        match self {
            Warp::Identity => 0.0,
            Warp::Log => -oriented.iter().map(|v| v.abs().ln()).sum::<f64>(),
        }
    }

    /// An oriented value (larger is better) as the process sees it.
    fn forward(self, oriented: f64) -> f64 {
        match self {
            Warp::Identity => oriented,
            // oriented = sign * raw, raw > 0: ln(raw), negated when smaller is better.
            Warp::Log => oriented.signum() * oriented.abs().ln(),
        }
    }

    /// A prediction as the study's values: the mean mapped back, and half
    /// the spread between one deviation either side.
    fn back(self, p: Prediction, sign: f64) -> Prediction {
        match self {
            Warp::Identity => Prediction { mean: sign * p.mean, std: p.std },
            Warp::Log => {
                // forward(oriented) = sign·ln(raw) (see `candidates`): raw = exp(sign · f).
                let raw = |f: f64| (sign * f).exp();
                Prediction { mean: raw(p.mean), std: (raw(p.mean + p.std) - raw(p.mean - p.std)).abs() / 2.0 }
            }
        }
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_core::params::Value;

    fn space() -> ParamSpace {
        ParamSpace::from_ron(
            r#"(params: [
                (name: "x", kind: Float(low: -2.0, high: 2.0)),
                (name: "y", kind: Float(low: -2.0, high: 2.0)),
                (name: "k", kind: Int(low: 1, high: 8)),
                (name: "c", kind: Categorical(choices: ["a", "b", "c"])),
            ])"#,
        )
        .unwrap()
    }

    fn f(p: &Params) -> f64 {
        let num = |k: &str| p[k].as_f64().unwrap();
        let penalty = match &p["c"] {
            Value::Str(s) if s == "b" => 0.0,
            _ => 1.0,
        };
        (num("x") - 0.7).powi(2) + (num("y") + 0.4).powi(2) + 0.1 * (num("k") - 5.0).powi(2) + penalty
    }

    #[test]
    fn the_first_trials_are_a_latin_hypercube_then_the_model_finds_the_minimum() {
        let mut study = Study::new(space(), StudyOptions { direction: Direction::Minimize, ..Default::default() }).unwrap();
        for _ in 0..30 {
            let trial = study.ask(1).unwrap().remove(0);
            study.space().check(&trial.params).unwrap();
            assert_eq!(trial.predicted.is_some(), trial.number >= 10, "trial {}", trial.number);
            study.tell(trial.number, Some(f(&trial.params))).unwrap();
        }
        let best = study.best().unwrap();
        assert!(best.value.unwrap() < 0.1, "best after 30 trials: {best:?}");
        assert_eq!(best.params["c"], Value::Str("b".into()));
    }

    #[test]
    fn a_batch_and_running_trials_are_spread_out() {
        let mut study = Study::new(space(), StudyOptions { direction: Direction::Minimize, seed: 3, ..Default::default() }).unwrap();
        for t in study.ask(10).unwrap() {
            study.tell(t.number, Some(f(&t.params))).unwrap();
        }
        let batch = study.ask(4).unwrap();
        let more = study.ask(2).unwrap();
        let all: Vec<&Params> = batch.iter().chain(&more).map(|t| &t.params).collect();
        for i in 0..all.len() {
            for j in 0..i {
                assert_ne!(all[i], all[j], "trials {i} and {j} are the same point");
            }
        }
    }

    #[test]
    fn failures_and_nan_values_are_recorded_but_not_modelled() {
        let mut study = Study::new(space(), StudyOptions::default()).unwrap();
        let trials = study.ask(12).unwrap();
        for t in &trials {
            let value = if t.number % 3 == 0 { f64::NAN } else { f(&t.params) };
            assert_eq!(study.tell(t.number, Some(value)).unwrap().state == TrialState::Failed, value.is_nan());
        }
        assert!(study.tell(0, Some(1.0)).unwrap_err().to_string().contains("already told"));
        assert!(study.tell(99, Some(1.0)).unwrap_err().to_string().contains("no trial 99"));
        // 8 complete: still the initial design; the next ask must still work.
        let next = study.ask(3).unwrap();
        assert_eq!(next.len(), 3);
    }

    #[test]
    fn positive_values_spanning_decades_are_modelled_on_log_scale_and_mapped_back() {
        let losses = [3e-5, 0.2, 1.0, 0.004];
        let oriented: Vec<f64> = losses.iter().map(|v| -v).collect();
        assert_eq!(Warp::candidates(&oriented, -1.0), vec![Warp::Identity, Warp::Log]);
        let warp = Warp::Log;
        // Larger is better after the warp, and a prediction maps back to a loss.
        assert!(warp.forward(-3e-5) > warp.forward(-0.004));
        let back = warp.back(Prediction { mean: warp.forward(-0.01), std: 0.0 }, -1.0);
        assert!((back.mean - 0.01).abs() < 1e-12, "{back:?}");
        assert!((warp.log_jacobian(&oriented) - losses.iter().map(|v: &f64| -v.ln()).sum::<f64>()).abs() < 1e-9);
        // Not all positive: only as they are.
        assert_eq!(Warp::candidates(&[0.5, -1.0, 20.0], 1.0), vec![Warp::Identity]);
        assert_eq!(Warp::candidates(&[1.0, 0.5], -1.0), vec![Warp::Identity]);
        assert!((Warp::Log.back(Prediction { mean: Warp::Log.forward(0.5), std: 0.0 }, 1.0).mean - 0.5).abs() < 1e-12);
    }

    #[test]
    fn losses_spanning_orders_of_magnitude_are_still_minimised() {
        // exp of a quadratic: values from 1 to e^40; untransformed, the largest swamp the process.
        let mut study = Study::new(space(), StudyOptions { direction: Direction::Minimize, seed: 5, ..Default::default() }).unwrap();
        for _ in 0..35 {
            let t = study.ask(1).unwrap().remove(0);
            study.tell(t.number, Some((4.0 * f(&t.params)).exp())).unwrap();
        }
        let best = study.best().unwrap().value.unwrap();
        assert!(best < (4.0 * 0.1_f64).exp(), "best {best}");
        let last = study.trials().last().unwrap().predicted.unwrap();
        assert!(last.mean.is_finite() && last.std >= 0.0, "{last:?}");
    }

    #[test]
    fn a_value_the_log_scale_cannot_see_forces_a_full_fit_on_the_identity() {
        let space = ParamSpace::from_ron(r#"(params: [(name: "x", kind: Float(low: 0.0, high: 1.0))])"#).unwrap();
        let mut study =
            Study::new(space, StudyOptions { direction: Direction::Minimize, startup_trials: 5, ..Default::default() }).unwrap();
        let loss = |p: &Params| {
            // Linear on log scale, five decades on a linear one.
            1e-4 * (11.5 * p["x"].as_f64().unwrap()).exp()
        };
        for _ in 0..70 {
            let t = study.ask(1).unwrap().remove(0);
            study.tell(t.number, Some(loss(&t.params))).unwrap();
        }
        assert_eq!(study.fitted.as_ref().unwrap().warp, Warp::Log, "positive losses spanning decades: log scale");
        // A negative value: the log cannot see it, so the next ask refits on the identity.
        let t = study.ask(1).unwrap().remove(0);
        study.tell(t.number, Some(-5.0)).unwrap();
        let next = study.ask(1).unwrap().remove(0);
        assert_eq!(study.fitted.as_ref().unwrap().warp, Warp::Identity);
        assert!(next.predicted.unwrap().mean.is_finite());
    }

    #[test]
    fn added_trials_are_checked_against_the_space() {
        let mut study = Study::new(space(), StudyOptions::default()).unwrap();
        let mut p = Params::new();
        p.insert("x".into(), Value::Float(9.0));
        let err = study.add(p, Some(1.0)).unwrap_err().to_string();
        assert!(err.contains("`x` = 9 is outside the space"), "{err}");
    }
}
