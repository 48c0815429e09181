//! Acquisition functions and batch selection over a set of candidates.

use serde::{Deserialize, Serialize};

use crate::SearchError;
use crate::gp::Prediction;
use crate::model::Model;

/// How a candidate's prediction becomes a score (higher is better; the target is maximised).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Acquisition {
    /// Expected improvement over the best value so far, less a margin `xi`
    /// (in the target's units) that favours exploring.
    ExpectedImprovement { xi: f64 },
    /// Upper confidence bound `mean + beta · std`.
    UpperConfidenceBound { beta: f64 },
}

impl Default for Acquisition {
    fn default() -> Self {
        Acquisition::ExpectedImprovement { xi: 0.0 }
    }
}

impl Acquisition {
    /// The score of a prediction; `best` is the best value observed (none yet: EI ranks by UCB with beta 1).
    pub fn score(self, p: Prediction, best: Option<f64>) -> f64 {
        match (self, best) {
            (Acquisition::ExpectedImprovement { xi }, Some(best)) => expected_improvement(p, best + xi),
            (Acquisition::ExpectedImprovement { .. }, None) => p.mean + p.std,
            (Acquisition::UpperConfidenceBound { beta }, _) => p.mean + beta * p.std,
        }
    }
}

/// `E[max(f - threshold, 0)]` for `f ~ N(mean, std²)`.
pub fn expected_improvement(p: Prediction, threshold: f64) -> f64 {
    let gap = p.mean - threshold;
    if p.std <= 1e-12 {
        return gap.max(0.0);
    }
    let z = gap / p.std;
    gap * normal_cdf(z) + p.std * normal_pdf(z)
}

pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (std::f64::consts::TAU).sqrt()
}

pub fn normal_cdf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// One pick of a batch: the candidate's index, its prediction and score at the time it was picked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    pub index: usize,
    pub prediction: Prediction,
    pub score: f64,
}

/// Picks `q` distinct candidates. After each pick the model "believes" its
/// predicted mean there as if observed (the kriging believer, Ginsbourger et
/// al. 2010): the uncertainty around it collapses and the incumbent rises to
/// it, so the next pick goes somewhere else.
pub fn select_batch(
    model: &Model,
    candidates: &[Vec<f64>],
    best: Option<f64>,
    acquisition: Acquisition,
    q: usize,
) -> Result<Vec<Pick>, SearchError> {
    let mut model = model.clone();
    let mut best = best;
    let mut picks: Vec<Pick> = Vec::new();
    for _ in 0..q.min(candidates.len()) {
        let scored = candidates
            .iter()
            .enumerate()
            .filter(|(i, _)| !picks.iter().any(|p| p.index == *i))
            .map(|(i, x)| {
                let p = model.predict(x);
                (i, p, acquisition.score(p, best))
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let Some((index, prediction, score)) = scored else { break };
        picks.push(Pick { index, prediction, score });
        if picks.len() < q {
            model = model.believe(&candidates[index], prediction.mean)?;
            best = Some(best.map_or(prediction.mean, |b| b.max(prediction.mean)));
        }
    }
    Ok(picks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gp::Layout;

    #[test]
    fn the_normal_cdf_matches_known_values() {
        for (z, want) in [(0.0, 0.5), (1.0, 0.841_344_746), (-1.96, 0.024_997_895), (3.0, 0.998_650_102)] {
            assert!((normal_cdf(z) - want).abs() < 1e-7, "Φ({z}) = {} not {want}", normal_cdf(z));
        }
    }

    #[test]
    fn expected_improvement_matches_its_integral() {
        let p = Prediction { mean: 0.3, std: 0.2 };
        let threshold = 0.4;
        // Midpoint rule over ±8σ.
        let steps = 200_000;
        let (lo, hi) = (p.mean - 8.0 * p.std, p.mean + 8.0 * p.std);
        let dx = (hi - lo) / steps as f64;
        let numeric: f64 = (0..steps)
            .map(|i| {
                let f = lo + (i as f64 + 0.5) * dx;
                (f - threshold).max(0.0) * normal_pdf((f - p.mean) / p.std) / p.std * dx
            })
            .sum();
        assert!((expected_improvement(p, threshold) - numeric).abs() < 1e-6);
        assert!((expected_improvement(Prediction { mean: 0.5, std: 0.0 }, 0.4) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn a_batch_spreads_out_instead_of_repeating_the_best_guess() {
        // Data on the left; the unexplored right is where EI points, and a
        // batch of three should not take three neighbouring candidates.
        let x: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64 * 0.08]).collect();
        let y: Vec<f64> = x.iter().map(|r| r[0]).collect();
        let model = Model::fit(&Layout::numeric(1), &x, &y, None, 0).unwrap();
        let candidates: Vec<Vec<f64>> = (0..101).map(|i| vec![i as f64 / 100.0]).collect();
        let picks = select_batch(&model, &candidates, Some(0.4), Acquisition::default(), 3).unwrap();
        assert_eq!(picks.len(), 3);
        let xs: Vec<f64> = picks.iter().map(|p| candidates[p.index][0]).collect();
        for i in 0..3 {
            for j in 0..i {
                assert!((xs[i] - xs[j]).abs() > 0.05, "picks too close: {xs:?}");
            }
        }
    }
}
