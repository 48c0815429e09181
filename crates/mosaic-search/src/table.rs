//! The tabular benchmark: a large sweep of the built-in tasks stored as a
//! table of spec -> final validation accuracy, so search strategies can be
//! compared over many seeds without training anything. A strategy picks
//! from the table's specs it has not tried; "evaluating" one reads its value.

use std::sync::Arc;

use mosaic_core::{ArchSpec, Encoder, SearchSpace};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::SearchError;
use crate::acquisition::{Acquisition, select_batch};
use crate::gp::{Gp, Layout, share_to_logit};
use crate::guided::{PlacedRun, near_good_region};
use crate::model::Model;
use crate::tpe::{DEFAULT_GAMMA, Tpe};
use crate::transfer::{PastTask, Prior, TaskFeatures};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Table {
    /// How the table was made (the commands), for the record.
    pub source: String,
    /// The search space, as RON.
    pub space: String,
    pub specs: Vec<ArchSpec>,
    pub tasks: Vec<TableTask>,
    /// Where each spec's network sits on the sphere (its sweep's
    /// representation embedding), for manifold-guided search; empty: unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub positions: Vec<[f64; 3]>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TableTask {
    pub name: String,
    pub features: TaskFeatures,
    /// Final validation accuracy of each spec; `None` where the run diverged or failed.
    pub values: Vec<Option<f64>>,
}

/// A search strategy under test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    Random,
    GpEi,
    /// GP + EI with a prior from another task of the table (its index).
    GpEiTransfer {
        from: usize,
    },
    Tpe,
    /// Manifold-guided draws between neighbouring good networks on the
    /// sphere ([`crate::guided::near_good_region`]), each snapped to the
    /// nearest untried spec; needs the table's positions.
    Guided,
}

impl Method {
    pub fn name(self, table: &Table) -> String {
        match self {
            Method::Random => "random".into(),
            Method::GpEi => "gp-ei".into(),
            Method::GpEiTransfer { from } => format!("gp-ei+transfer({})", table.tasks[from].name),
            Method::Tpe => "tpe (ours)".into(),
            Method::Guided => "manifold-guided".into(),
        }
    }
}

/// Random picks before a model takes over (none with a transfer prior: it ranks from the start).
pub const INITIAL_RANDOM: usize = 5;
/// Runs of the source task the transfer prior learns from (a past search of that size).
pub const PAST_RUNS: usize = 150;

impl Table {
    pub fn from_json(text: &str) -> Result<Table, SearchError> {
        let table: Table = serde_json::from_str(text).map_err(|e| SearchError::Invalid(format!("malformed benchmark table: {e}")))?;
        let n = table.specs.len();
        if let Some(t) = table.tasks.iter().find(|t| t.values.len() != n) {
            return Err(SearchError::Invalid(format!("task `{}` has {} values for {n} specs", t.name, t.values.len())));
        }
        if !table.positions.is_empty() && table.positions.len() != n {
            return Err(SearchError::Invalid(format!("{} positions for {n} specs", table.positions.len())));
        }
        table.search_space()?;
        Ok(table)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a table serialises")
    }

    pub fn search_space(&self) -> Result<SearchSpace, SearchError> {
        SearchSpace::from_ron(&self.space, "benchmark table").map_err(|e| SearchError::Invalid(e.to_string()))
    }

    pub fn task(&self, name: &str) -> Result<usize, SearchError> {
        self.tasks.iter().position(|t| t.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.tasks.iter().map(|t| t.name.as_str()).collect();
            SearchError::Invalid(format!("the table has no task `{name}` (it has {})", names.join(", ")))
        })
    }

    /// The best value after each of `budget` evaluations on task `target`
    /// (NaN until the first run with a value).
    pub fn run(&self, target: usize, method: Method, budget: usize, seed: u64) -> Result<Vec<f64>, SearchError> {
        let encoder = Encoder::new(self.search_space()?);
        let layout = Layout::of(&encoder);
        let pool: Vec<Vec<f64>> = self.specs.iter().map(|s| encoder.encode(s)).collect();
        let values: Vec<f64> = self.tasks[target].values.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut order: Vec<usize> = (0..pool.len()).collect();
        order.shuffle(&mut rng);
        let prior = match method {
            Method::GpEiTransfer { from } => self.prior(&layout, &pool, target, from, seed)?,
            _ => None,
        };
        if method == Method::Guided && self.positions.len() != pool.len() {
            return Err(SearchError::Invalid("manifold-guided search needs every spec's position on the sphere".into()));
        }
        let initial = if prior.is_some() { 0 } else { INITIAL_RANDOM };
        let mut tried = vec![false; pool.len()];
        let mut taken: Vec<usize> = Vec::new();
        let mut curve = Vec::with_capacity(budget);
        let mut best = f64::NAN;
        // The next spec of this seed's random order not tried yet (the pool outlasts the budget).
        let random = |tried: &[bool]| *order.iter().find(|&&i| !tried[i]).expect("the pool is larger than the step");
        for step in 0..budget.min(pool.len()) {
            let next = if method == Method::Random || step < initial {
                random(&tried)
            } else {
                let learnt: Vec<usize> = taken.iter().copied().filter(|&i| values[i].is_finite()).collect();
                let x: Vec<Vec<f64>> = learnt.iter().map(|&i| pool[i].clone()).collect();
                // Accuracies are modelled on the logit scale (as `mosaic suggest` does).
                let y: Vec<f64> = learnt.iter().map(|&i| share_to_logit(values[i])).collect();
                let open: Vec<usize> = (0..pool.len()).filter(|&i| !tried[i]).collect();
                let candidates: Vec<Vec<f64>> = open.iter().map(|&i| pool[i].clone()).collect();
                match method {
                    Method::Guided => {
                        let placed: Vec<PlacedRun> = learnt
                            .iter()
                            .map(|&i| PlacedRun { spec: self.specs[i].clone(), position: self.positions[i], value: values[i] })
                            .collect();
                        match near_good_region(&encoder, &placed, 1, seed ^ (step as u64).wrapping_mul(0x9e37_79b9)).first() {
                            Some(draw) => {
                                let target = encoder.encode(draw);
                                let gap = |i: usize| pool[i].iter().zip(&target).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
                                *open.iter().min_by(|&&a, &&b| gap(a).total_cmp(&gap(b))).expect("open specs remain")
                            }
                            None => random(&tried),
                        }
                    }
                    Method::Tpe => match Tpe::fit(&layout, &x, &y, DEFAULT_GAMMA) {
                        Some(tpe) => {
                            let scores: Vec<f64> = candidates.iter().map(|c| tpe.score(c)).collect();
                            open[(0..open.len()).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).expect("open specs remain")]
                        }
                        None => random(&tried),
                    },
                    _ if x.is_empty() && prior.is_none() => random(&tried),
                    _ => {
                        let model = Model::fit(&layout, &x, &y, prior.clone(), seed ^ step as u64)?;
                        let incumbent = y.iter().copied().reduce(f64::max);
                        let pick = select_batch(&model, &candidates, incumbent, Acquisition::default(), 1)?;
                        open[pick[0].index]
                    }
                }
            };
            tried[next] = true;
            taken.push(next);
            if values[next].is_finite() && (best.is_nan() || values[next] > best) {
                best = values[next];
            }
            curve.push(best);
        }
        Ok(curve)
    }

    /// The transfer prior for `target` from `PAST_RUNS` random runs of task `from`.
    fn prior(&self, layout: &Layout, pool: &[Vec<f64>], target: usize, from: usize, seed: u64) -> Result<Option<Arc<Prior>>, SearchError> {
        let past = &self.tasks[from];
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x5eed));
        let mut ids: Vec<usize> = (0..pool.len()).filter(|&i| past.values[i].is_some_and(f64::is_finite)).collect();
        ids.shuffle(&mut rng);
        ids.truncate(PAST_RUNS);
        let x: Vec<Vec<f64>> = ids.iter().map(|&i| pool[i].clone()).collect();
        let y: Vec<f64> = ids.iter().map(|&i| share_to_logit(past.values[i].unwrap())).collect();
        let surrogate = Gp::fit(layout, &x, &y, seed)?;
        let task = PastTask { name: past.name.clone(), features: past.features.clone(), surrogate };
        Ok(Prior::new(&self.tasks[target].features, vec![task]).map(Arc::new))
    }
}

/// Evaluations each seed's curve needs to reach `goal` (`None`: never within the budget).
pub fn evaluations_to_reach(curve: &[f64], goal: f64) -> Option<usize> {
    curve.iter().position(|&v| v >= goal).map(|i| i + 1)
}

/// The median of the values, `None` counted as worse than any number.
pub fn median_evaluations(counts: &[Option<usize>]) -> Option<usize> {
    let mut sorted: Vec<usize> = counts.iter().map(|c| c.unwrap_or(usize::MAX)).collect();
    sorted.sort_unstable();
    let m = *sorted.get(sorted.len().saturating_sub(1) / 2)?;
    (m != usize::MAX).then_some(m)
}

/// The median over seeds of the best value after evaluation `i + 1` (a
/// shorter curve counts with its last value).
pub fn median_at(curves: &[Vec<f64>], i: usize) -> f64 {
    let mut v: Vec<f64> = curves.iter().map(|c| c[i.min(c.len() - 1)]).collect();
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}

/// What a replay is scored against: random search's best after 100
/// evaluations (or the whole budget, if smaller), median over seeds.
pub fn random_search_goal(random: &[Vec<f64>], budget: usize) -> f64 {
    median_at(random, budget.min(100) - 1)
}

/// Every strategy's curves as CSV (method, seed, evaluation, best so far),
/// as `benches/search_optuna.py` reads them.
pub fn curves_csv<'a>(strategies: impl IntoIterator<Item = (&'a str, &'a [Vec<f64>])>) -> String {
    use std::fmt::Write as _;
    let mut csv = String::from("method,seed,evaluation,best\n");
    for (method, curves) in strategies {
        for (seed, curve) in curves.iter().enumerate() {
            for (i, v) in curve.iter().enumerate() {
                let _ = writeln!(csv, "{method},{seed},{},{v}", i + 1);
            }
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_count_misses_as_worst() {
        assert_eq!(median_evaluations(&[Some(3), Some(9), None]), Some(9));
        assert_eq!(median_evaluations(&[Some(3), None, None]), None);
        assert_eq!(evaluations_to_reach(&[f64::NAN, 0.5, 0.9], 0.8), Some(3));
        assert_eq!(evaluations_to_reach(&[0.5], 0.8), None);
        let curves = vec![vec![0.1, 0.5, 0.9], vec![0.2, 0.3, 0.4], vec![0.6, 0.7]];
        assert_eq!((median_at(&curves, 0), median_at(&curves, 2)), (0.2, 0.7));
        assert_eq!(random_search_goal(&curves, 150), 0.7);
        let csv = curves_csv([("random", &curves[..1])]);
        assert_eq!(csv, "method,seed,evaluation,best\nrandom,0,1,0.1\nrandom,0,2,0.5\nrandom,0,3,0.9\n");
    }

    /// 200 specs whose value falls with their encoding's distance from one
    /// hidden best design, placed on the sphere by that value (as when what
    /// a network computes follows its design).
    fn placed_table() -> Table {
        let space = SearchSpace::demo_space();
        let encoder = Encoder::new(space.clone());
        let specs = mosaic_core::sample::random(&encoder, 200, 3);
        let best = encoder.encode(&mosaic_core::sample::random(&encoder, 1, 99)[0]);
        let value = |s: &ArchSpec| 0.9 - 0.02 * encoder.encode(s).iter().zip(&best).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
        let values: Vec<Option<f64>> = specs.iter().map(|s| Some(value(s))).collect();
        let positions = specs
            .iter()
            .map(|s| {
                let e = encoder.encode(s);
                [value(s) * 10.0, e[4], e[2]]
            })
            .collect();
        let features = TaskFeatures::compute(&[0.0, 1.0, 1.0, 0.0], 2, &[0, 1], 2);
        Table {
            source: "test".into(),
            space: space.to_ron(),
            specs,
            tasks: vec![TableTask { name: "x".into(), features, values }],
            positions,
        }
    }

    #[test]
    fn guided_search_climbs_the_sphere_where_position_means_value() {
        let table = placed_table();
        // The best 5 % of the table.
        let mut sorted: Vec<f64> = table.tasks[0].values.iter().map(|v| v.unwrap()).collect();
        sorted.sort_by(f64::total_cmp);
        let goal = sorted[190];
        let median = |method| {
            let counts: Vec<Option<usize>> =
                (0..9).map(|seed| evaluations_to_reach(&table.run(0, method, 100, seed).unwrap(), goal)).collect();
            median_evaluations(&counts)
        };
        let (guided, random) = (median(Method::Guided), median(Method::Random));
        assert!(guided.unwrap() < random.unwrap_or(usize::MAX), "guided {guided:?} vs random {random:?}");
        // Without positions there is nothing to guide by.
        let unplaced = Table { positions: vec![], ..table };
        assert!(unplaced.run(0, Method::Guided, 10, 0).unwrap_err().to_string().contains("position"));
    }
}
