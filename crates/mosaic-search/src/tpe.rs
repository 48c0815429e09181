//! The cheap alternative to the Gaussian process: a Tree-structured Parzen
//! Estimator-style density ratio (Bergstra et al. 2011). Runs split into good
//! (best `gamma` share) and the rest; each side gets a product of per-knob
//! densities (Gaussian kernels on numeric knobs, smoothed frequencies on
//! categorical ones), and a candidate scores `log l(x) - log g(x)`.

use crate::gp::Layout;

#[derive(Clone, Debug)]
pub struct Tpe {
    layout: Layout,
    good: Density,
    rest: Density,
}

#[derive(Clone, Debug)]
struct Density {
    /// Per numeric column: kernel centres and bandwidth.
    numeric: Vec<(Vec<f64>, f64)>,
    /// Per categorical block: option probabilities.
    blocks: Vec<Vec<f64>>,
}

/// Share of runs that count as good (Optuna's default is similar: 10% to 25% as runs grow).
pub const DEFAULT_GAMMA: f64 = 0.25;

impl Tpe {
    /// Needs at least two runs; higher values are better.
    pub fn fit(layout: &Layout, x: &[Vec<f64>], y: &[f64], gamma: f64) -> Option<Tpe> {
        if x.len() < 2 {
            return None;
        }
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| y[b].total_cmp(&y[a]));
        let n_good = ((x.len() as f64 * gamma).ceil() as usize).clamp(1, x.len() - 1);
        let pick = |ids: &[usize]| -> Vec<&Vec<f64>> { ids.iter().map(|&i| &x[i]).collect() };
        Some(Tpe {
            layout: layout.clone(),
            good: Density::fit(layout, &pick(&order[..n_good])),
            rest: Density::fit(layout, &pick(&order[n_good..])),
        })
    }

    /// `log l(x) - log g(x)`: higher means more like the good runs.
    pub fn score(&self, x: &[f64]) -> f64 {
        self.good.log_density(&self.layout, x) - self.rest.log_density(&self.layout, x)
    }
}

impl Density {
    fn fit(layout: &Layout, rows: &[&Vec<f64>]) -> Density {
        let n = rows.len() as f64;
        let numeric = layout
            .numeric
            .iter()
            .map(|&c| {
                let centres: Vec<f64> = rows.iter().map(|r| r[c]).collect();
                let mean = centres.iter().sum::<f64>() / n;
                let sd = (centres.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                // Scott's rule, floored so a few identical runs still leave room around them.
                let bandwidth = (1.06 * sd * n.powf(-0.2)).clamp(0.05, 1.0);
                (centres, bandwidth)
            })
            .collect();
        let blocks = layout
            .blocks
            .iter()
            .map(|b| {
                let arity = b.len();
                (0..arity).map(|o| (rows.iter().filter(|r| r[b.start + o] > 0.5).count() as f64 + 1.0) / (n + arity as f64)).collect()
            })
            .collect();
        Density { numeric, blocks }
    }

    fn log_density(&self, layout: &Layout, x: &[f64]) -> f64 {
        let mut total = 0.0;
        for (&c, (centres, h)) in layout.numeric.iter().zip(&self.numeric) {
            // A uniform component (the prior over [0, 1]) counts as one more kernel.
            let kernels: f64 = centres.iter().map(|m| (-0.5 * ((x[c] - m) / h).powi(2)).exp() / (h * (std::f64::consts::TAU).sqrt())).sum();
            total += ((kernels + 1.0) / (centres.len() as f64 + 1.0)).ln();
        }
        for (b, probs) in layout.blocks.iter().zip(&self.blocks) {
            let option = (0..b.len()).max_by(|&i, &j| x[b.start + i].total_cmp(&x[b.start + j])).unwrap_or(0);
            total += probs[option].ln();
        }
        total
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // layouts with one categorical block
mod tests {
    use super::*;

    #[test]
    fn candidates_like_the_good_runs_score_higher() {
        let layout = Layout { numeric: vec![0], blocks: vec![1..3] };
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64 / 39.0, (i % 2) as f64, ((i + 1) % 2) as f64]).collect();
        // Good: small x and option A.
        let y: Vec<f64> = x.iter().map(|r| -r[0] + r[1]).collect();
        let tpe = Tpe::fit(&layout, &x, &y, DEFAULT_GAMMA).unwrap();
        assert!(tpe.score(&[0.1, 1.0, 0.0]) > tpe.score(&[0.9, 1.0, 0.0]));
        assert!(tpe.score(&[0.1, 1.0, 0.0]) > tpe.score(&[0.1, 0.0, 1.0]));
        assert!(Tpe::fit(&layout, &x[..1], &y[..1], DEFAULT_GAMMA).is_none());
    }
}
