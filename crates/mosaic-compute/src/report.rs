//! Abel et al.'s three findings measured on a stored sweep ("Exploring the
//! Manifold of Neural Networks Using Diffusion Geometry"):
//!
//! 1. clustering: how well a network's place predicts its test accuracy
//!    (leave-one-out kNN regression R², top-decile neighbour purity) in the
//!    representation layout, the architecture layout and a shuffled baseline;
//! 2. features: Spearman correlations of the representation features with
//!    test accuracy;
//! 3. search: the population replayed as a tabular benchmark (guided draws
//!    vs GP-EI vs TPE vs random).
//!
//! Numbers only; `mosaic report` writes them with figures as Markdown.

use anyhow::{Result, bail};
use mosaic_core::RunStatus;
use mosaic_landscape::stats::{Method as Correlation, correlation};
use mosaic_manifold::phate::PhateConfig;
use mosaic_search::table::{Method, Table, TableTask, evaluations_to_reach, median_at, median_evaluations, random_search_goal};
use mosaic_store::{EmbeddingKind, Store, SweepInfo};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;

use crate::embed::{CLASS_SEPARATION, H0_PERSISTENCE, H1_PERSISTENCE, HIERARCHY_CLUSTERS, SPECTRAL_ENTROPY, SweepEmbedding, embed_sweep};
use crate::suggest::task_features;
use crate::sweeps::sweep_splits;

/// How much resampling and replaying the report does.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// Bootstrap resamples for confidence intervals (and shuffles for the baseline).
    pub resamples: usize,
    /// Seeds of each search strategy in the replay.
    pub seeds: u64,
    /// Evaluations per replayed search (at most the population's size).
    pub budget: usize,
    pub seed: u64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { resamples: 1000, seeds: 20, budget: 100, seed: 0 }
    }
}

/// A statistic with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Finding 1 for one layout.
#[derive(Clone, Debug)]
pub struct Clustering {
    pub layout: String,
    /// Leave-one-out kNN regression R² of test accuracy from position, k = 5 and 10.
    pub r2: [Interval; 2],
    /// Mean share of a top-decile network's 5 nearest neighbours in the top decile.
    pub purity: Interval,
}

/// Finding 2 for one feature.
#[derive(Clone, Debug)]
pub struct FeatureCorrelation {
    pub name: String,
    pub r: f64,
    pub p: f64,
    pub n: usize,
    /// (feature, test accuracy) of every network with both.
    pub points: Vec<[f64; 2]>,
}

/// Finding 3 for one strategy.
#[derive(Clone, Debug)]
pub struct SearchResult {
    pub method: String,
    /// Median over seeds of the evaluations needed to reach the goal.
    pub median_evaluations: Option<usize>,
    /// Seeds that reached it within the budget.
    pub hits: usize,
    /// Median best validation accuracy after 20 evaluations.
    pub best_at_20: f64,
    /// Each seed's best-so-far curve.
    pub curves: Vec<Vec<f64>>,
}

#[derive(Clone, Debug)]
pub struct SearchReplay {
    /// Random search's best validation accuracy after `min(100, budget)` trials, median over seeds.
    pub goal: f64,
    pub budget: usize,
    pub results: Vec<SearchResult>,
    /// The population as a benchmark table (for `benches/search_optuna.py`).
    pub table: Table,
}

/// The population the findings are measured on.
#[derive(Clone, Debug)]
pub struct Population {
    pub sweep: String,
    pub dataset: String,
    /// The trained networks with a test accuracy: their run ids…
    pub run_ids: Vec<i64>,
    /// …and that accuracy, in the same order.
    pub test_accuracy: Vec<f64>,
    /// Diffusion time of the representation and architecture embeddings.
    pub t: [usize; 2],
}

#[derive(Clone, Debug)]
pub struct Findings {
    pub population: Population,
    pub clustering: Vec<Clustering>,
    pub features: Vec<FeatureCorrelation>,
    pub search: SearchReplay,
}

/// The representation features correlated with accuracy, in report order.
pub const FEATURES: [&str; 5] = [CLASS_SEPARATION, SPECTRAL_ENTROPY, H0_PERSISTENCE, H1_PERSISTENCE, HIERARCHY_CLUSTERS];

/// Embeds the sweep where it has no embedding yet (both layouts, with the
/// features), then measures the three findings.
pub fn findings(store: &mut dyn Store, sweep: &SweepInfo, settings: &ReportSettings) -> Result<Findings> {
    let runs: Vec<_> = store
        .runs(sweep.id)?
        .into_iter()
        .filter(|r| r.status == RunStatus::Done)
        .filter(|r| r.outcome.as_ref().and_then(|o| o.test_accuracy).is_some_and(f64::is_finite))
        .collect();
    if runs.len() < 12 {
        bail!(
            "sweep `{}` has {} trained networks with a test accuracy; the findings need at least 12 (train more with `mosaic sweep`)",
            sweep.name,
            runs.len()
        );
    }
    let mut t = [0; 2];
    let mut layouts = Vec::new();
    for (k, mode) in [EmbeddingKind::Representation, EmbeddingKind::Architecture].into_iter().enumerate() {
        let stored = store.embedding(sweep.id, mode)?;
        let covers = stored.as_ref().is_some_and(|(_, coords)| runs.iter().all(|r| coords.iter().any(|c| c.0 == r.id)));
        let (time, coords) = if covers {
            stored.expect("checked")
        } else {
            let request = SweepEmbedding { mode, config: PhateConfig::default(), probe_points: 250, refit: false };
            let report = embed_sweep(store, sweep, &request)?;
            (report.t, report.coords)
        };
        t[k] = time;
        let position = |id: i64| coords.iter().find(|c| c.0 == id).map(|c| c.1);
        layouts.push((mode, runs.iter().map(|r| position(r.id)).collect::<Vec<_>>()));
    }
    // Networks the representation embedding skipped (no usable activations) leave the population.
    let keep: Vec<usize> = (0..runs.len()).filter(|&i| layouts.iter().all(|(_, p)| p[i].is_some())).collect();
    let runs: Vec<_> = keep.iter().map(|&i| runs[i].clone()).collect();
    let accuracy: Vec<f64> = runs.iter().map(|r| r.outcome.as_ref().and_then(|o| o.test_accuracy).expect("filtered")).collect();
    let positions = |mode: EmbeddingKind| -> Vec<[f64; 3]> {
        let (_, p) = layouts.iter().find(|(m, _)| *m == mode).expect("both layouts");
        keep.iter().map(|&i| p[i].expect("kept")).collect()
    };
    let representation = positions(EmbeddingKind::Representation);
    let architecture = positions(EmbeddingKind::Architecture);

    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let clustering = vec![
        clustering("representation (PHATE of hidden representations)", &representation, &accuracy, settings.resamples, &mut rng),
        clustering("architecture (PHATE of encodings)", &architecture, &accuracy, settings.resamples, &mut rng),
        shuffled(&representation, &accuracy, settings.resamples, &mut rng),
    ];

    let stored_features = store.features(sweep.id)?;
    let features = FEATURES
        .iter()
        .map(|&name| {
            let values: Vec<f64> = match stored_features.iter().find(|(n, _)| n == name) {
                Some((_, v)) => runs.iter().map(|r| v.iter().find(|(id, _)| *id == r.id).map_or(f64::NAN, |x| x.1)).collect(),
                None => vec![f64::NAN; runs.len()],
            };
            let c = correlation(Correlation::Spearman, &values, &accuracy);
            let points = values.iter().zip(&accuracy).filter(|(v, _)| v.is_finite()).map(|(&v, &a)| [v, a]).collect();
            FeatureCorrelation { name: name.to_string(), r: c.r, p: c.p, n: c.n, points }
        })
        .collect();

    let search = replay(store, sweep, &representation, &runs, settings)?;
    let population = Population {
        sweep: sweep.name.clone(),
        dataset: sweep.dataset.clone(),
        run_ids: runs.iter().map(|r| r.id).collect(),
        test_accuracy: accuracy,
        t,
    };
    Ok(Findings { population, clustering, features, search })
}

/// Squared distances between every pair of points.
fn distances(points: &[[f64; 3]]) -> Vec<Vec<f64>> {
    points.iter().map(|a| points.iter().map(|b| (0..3).map(|k| (a[k] - b[k]).powi(2)).sum()).collect()).collect()
}

/// The `k` nearest members of `sample` to `sample[i]`, other copies of the same network excluded.
fn neighbours(d: &[Vec<f64>], sample: &[usize], i: usize, k: usize) -> Vec<usize> {
    let me = sample[i];
    let mut others: Vec<usize> = sample.iter().copied().filter(|&j| j != me).collect();
    let k = k.min(others.len());
    if k > 0 && k < others.len() {
        others.select_nth_unstable_by(k - 1, |&a, &b| d[me][a].total_cmp(&d[me][b]));
    }
    others.truncate(k);
    others
}

/// Each network's leave-one-out kNN prediction of `y`: the mean of its `k` nearest others.
fn knn_predictions(d: &[Vec<f64>], y: &[f64], k: usize) -> Vec<f64> {
    let all: Vec<usize> = (0..y.len()).collect();
    (0..y.len()).map(|i| neighbours(d, &all, i, k).iter().map(|&j| y[j]).sum::<f64>() / k.min(y.len() - 1).max(1) as f64).collect()
}

/// R² of `predicted` against `y` over the networks of `sample` (repeats allowed).
fn r2(y: &[f64], predicted: &[f64], sample: &[usize]) -> f64 {
    let mean = sample.iter().map(|&i| y[i]).sum::<f64>() / sample.len() as f64;
    let residual: f64 = sample.iter().map(|&i| (y[i] - predicted[i]).powi(2)).sum();
    let total: f64 = sample.iter().map(|&i| (y[i] - mean).powi(2)).sum();
    if total > 0.0 { 1.0 - residual / total } else { f64::NAN }
}

/// For each top-decile network, the share of its 5 nearest neighbours that
/// are top-decile too (chance: about 0.1).
fn top_decile_shares(d: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let mut sorted = y.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted[(sorted.len() * 9) / 10];
    let all: Vec<usize> = (0..y.len()).collect();
    (0..y.len())
        .filter(|&i| y[i] >= cut)
        .map(|i| {
            let near = neighbours(d, &all, i, 5);
            near.iter().filter(|&&j| y[j] >= cut).count() as f64 / near.len().max(1) as f64
        })
        .collect()
}

fn mean_of(values: &[f64], sample: &[usize]) -> f64 {
    sample.iter().map(|&i| values[i]).sum::<f64>() / sample.len().max(1) as f64
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn interval(value: f64, mut draws: Vec<f64>) -> Interval {
    draws.retain(|v| v.is_finite());
    draws.sort_by(f64::total_cmp);
    if draws.is_empty() {
        return Interval { value, low: f64::NAN, high: f64::NAN };
    }
    Interval { value, low: percentile(&draws, 0.025), high: percentile(&draws, 0.975) }
}

/// R² (k = 5, 10) and purity of one arrangement of accuracies, with the
/// per-network terms they are made of.
struct Terms {
    predictions: [Vec<f64>; 2],
    shares: Vec<f64>,
}

impl Terms {
    fn of(d: &[Vec<f64>], y: &[f64]) -> Terms {
        Terms { predictions: [knn_predictions(d, y, 5), knn_predictions(d, y, 10)], shares: top_decile_shares(d, y) }
    }

    fn values(&self, y: &[f64]) -> [f64; 3] {
        let all: Vec<usize> = (0..y.len()).collect();
        let tops: Vec<usize> = (0..self.shares.len()).collect();
        [r2(y, &self.predictions[0], &all), r2(y, &self.predictions[1], &all), mean_of(&self.shares, &tops)]
    }
}

/// One layout's statistics with bootstrap intervals: each network's
/// leave-one-out prediction (and each top network's neighbour share) is
/// computed once on the whole population, and the networks are resampled
/// with replacement, so the interval measures how much the estimate
/// depends on which networks were trained.
fn clustering(layout: &str, points: &[[f64; 3]], y: &[f64], resamples: usize, rng: &mut impl Rng) -> Clustering {
    let terms = Terms::of(&distances(points), y);
    let [r5, r10, purity] = terms.values(y);
    let mut draws = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..resamples {
        let sample: Vec<usize> = (0..y.len()).map(|_| rng.random_range(0..y.len())).collect();
        draws[0].push(r2(y, &terms.predictions[0], &sample));
        draws[1].push(r2(y, &terms.predictions[1], &sample));
        let tops: Vec<usize> = (0..terms.shares.len()).map(|_| rng.random_range(0..terms.shares.len())).collect();
        draws[2].push(mean_of(&terms.shares, &tops));
    }
    let [d5, d10, dp] = draws;
    Clustering { layout: layout.to_string(), r2: [interval(r5, d5), interval(r10, d10)], purity: interval(purity, dp) }
}

/// The baseline: the representation layout with accuracies shuffled among
/// the networks; value = mean over shuffles, interval = their 95 % range.
fn shuffled(points: &[[f64; 3]], y: &[f64], resamples: usize, rng: &mut impl Rng) -> Clustering {
    let d = distances(points);
    let mut draws = [Vec::new(), Vec::new(), Vec::new()];
    let mut permuted = y.to_vec();
    for _ in 0..resamples {
        permuted.shuffle(rng);
        for (k, v) in Terms::of(&d, &permuted).values(&permuted).into_iter().enumerate() {
            draws[k].push(v);
        }
    }
    let [d5, d10, dp] = draws.map(|v| {
        let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        interval(finite.iter().sum::<f64>() / finite.len().max(1) as f64, v)
    });
    Clustering { layout: "shuffled accuracies (representation layout)".into(), r2: [d5, d10], purity: dp }
}

/// Finding 3: the population as a one-task table, each strategy replayed over seeds.
fn replay(
    store: &dyn Store,
    sweep: &SweepInfo,
    positions: &[[f64; 3]],
    runs: &[mosaic_store::RunRecord],
    settings: &ReportSettings,
) -> Result<SearchReplay> {
    const NEEDS: &str = "a search replay picks architectures";
    let space = sweep.architectures(NEEDS)?;
    let specs = runs.iter().map(|r| r.spec(NEEDS).cloned()).collect::<Result<Vec<_>, _>>()?;
    let values = runs.iter().map(|r| r.outcome.as_ref().and_then(|o| o.val_accuracy()).filter(|v| v.is_finite())).collect();
    let features = task_features(&sweep_splits(sweep)?);
    let table = Table {
        source: format!("the trained networks of sweep `{}` in {} (mosaic report)", sweep.name, store.location()),
        space: space.to_ron(),
        specs,
        tasks: vec![TableTask { name: sweep.name.clone(), features, values }],
        positions: positions.to_vec(),
    };
    let budget = settings.budget.min(runs.len());
    let methods = [Method::Random, Method::GpEi, Method::Tpe, Method::Guided];
    let mut results = Vec::new();
    for method in methods {
        let curves = (0..settings.seeds).map(|seed| table.run(0, method, budget, seed)).collect::<Result<Vec<_>, _>>()?;
        results.push(SearchResult { method: method.name(&table), median_evaluations: None, hits: 0, best_at_20: f64::NAN, curves });
    }
    let goal = random_search_goal(&results[0].curves, budget);
    for result in &mut results {
        let counts: Vec<Option<usize>> = result.curves.iter().map(|c| evaluations_to_reach(c, goal)).collect();
        result.hits = counts.iter().filter(|c| c.is_some()).count();
        result.median_evaluations = median_evaluations(&counts);
        result.best_at_20 = median_at(&result.curves, 19);
    }
    Ok(SearchReplay { goal, budget, results, table })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_that_carries_accuracy_scores_high_and_noise_scores_near_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        // Accuracy rises along x; 200 networks scattered in the cube.
        let points: Vec<[f64; 3]> = (0..200).map(|_| [rng.random::<f64>(), rng.random::<f64>(), rng.random::<f64>()]).collect();
        let y: Vec<f64> = points.iter().map(|p| 0.5 + 0.4 * p[0]).collect();
        let good = clustering("x", &points, &y, 50, &mut rng);
        assert!(good.r2[0].value > 0.8 && good.r2[1].value > 0.8, "{good:?}");
        assert!(good.r2[0].low <= good.r2[0].value && good.r2[0].value <= good.r2[0].high, "{good:?}");
        assert!(good.purity.value > 0.35 && good.purity.low <= good.purity.value, "{good:?}");
        let null = shuffled(&points, &y, 50, &mut rng);
        assert!(null.r2[0].value < 0.1 && null.r2[0].high < 0.3, "{null:?}");
        assert!(null.purity.value < 0.25, "{null:?}");
    }

    #[test]
    fn bootstrap_copies_of_a_network_are_never_its_own_neighbours() {
        let points = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 0.0, 0.0]];
        let d = distances(&points);
        // Network 0 drawn twice: its neighbour is network 1, not its copy.
        assert_eq!(neighbours(&d, &[0, 0, 1, 2], 0, 1), vec![1]);
        // Constant accuracy explains nothing: R² is undefined, not 1.
        assert!(r2(&[1.0, 1.0, 1.0], &knn_predictions(&d, &[1.0, 1.0, 1.0], 1), &[0, 1, 2]).is_nan());
    }
}
