//! The surrogate the search asks: a Gaussian process on the task's own runs,
//! optionally on top of a prior mean transferred from past tasks.

use std::sync::Arc;

use crate::SearchError;
use crate::gp::{Gp, Hyper, Layout, Prediction};
use crate::transfer::Prior;

/// Mean and uncertainty of the target for any encoding.
#[derive(Clone, Debug)]
pub struct Model {
    layout: Layout,
    /// Fitted to the residuals from the prior's line (or to the targets, without a prior).
    gp: Option<Gp>,
    prior: Option<Arc<Prior>>,
    /// The prior's line in the target's units: `offset + slope · prior.z(x)`.
    offset: f64,
    slope: f64,
}

impl Model {
    /// Fits a model to the runs `(x, y)`. With a `prior`, the process models
    /// what the prior misses: `y ≈ a + b · z(x) + f(x)`, `z` the past tasks'
    /// standardised mean, `a, b` by least squares (b ≥ 0) once three runs
    /// exist. With no runs at all the prior alone ranks the candidates.
    pub fn fit(layout: &Layout, x: &[Vec<f64>], y: &[f64], prior: Option<Arc<Prior>>, seed: u64) -> Result<Model, SearchError> {
        let Some(prior) = prior else {
            let gp = Gp::fit(layout, x, y, seed)?;
            return Ok(Model { layout: layout.clone(), gp: Some(gp), prior: None, offset: 0.0, slope: 0.0 });
        };
        let z: Vec<f64> = x.iter().map(|xi| prior.z(xi)).collect();
        let (offset, slope) = prior_line(&z, y, prior.scale());
        let residuals: Vec<f64> = y.iter().zip(&z).map(|(v, zi)| v - offset - slope * zi).collect();
        let gp = if x.is_empty() { None } else { Some(Gp::fit(layout, x, &residuals, seed)?) };
        Ok(Model { layout: layout.clone(), gp, prior: Some(prior), offset, slope })
    }

    /// A model (no prior) fitted from hyper-parameters found before
    /// ([`Gp::refit`]): for asks between full fits.
    pub fn refit(layout: &Layout, x: &[Vec<f64>], y: &[f64], start: &Hyper, iterations: usize) -> Result<Model, SearchError> {
        let gp = Gp::refit(layout, x, y, start, iterations)?;
        Ok(Model { layout: layout.clone(), gp: Some(gp), prior: None, offset: 0.0, slope: 0.0 })
    }

    /// A model (no prior) on `(x, y)` with these hyper-parameters: one factorisation, no fit.
    pub fn with_hyper(layout: &Layout, x: &[Vec<f64>], y: &[f64], hyper: Hyper) -> Result<Model, SearchError> {
        let gp = Gp::with_hyper(layout, x, y, hyper, None)?;
        Ok(Model { layout: layout.clone(), gp: Some(gp), prior: None, offset: 0.0, slope: 0.0 })
    }

    /// The process's log marginal likelihood of its targets (see [`Gp::log_likelihood`]).
    pub fn log_likelihood(&self) -> Option<f64> {
        self.gp.as_ref().map(Gp::log_likelihood)
    }

    /// The process's hyper-parameters (none when only a prior ranks).
    pub fn hyper(&self) -> Option<&Hyper> {
        self.gp.as_ref().map(Gp::hyper)
    }

    fn prior_mean(&self, x: &[f64]) -> f64 {
        self.prior.as_ref().map_or(0.0, |p| self.offset + self.slope * p.z(x))
    }

    pub fn predict(&self, x: &[f64]) -> Prediction {
        let base = self.prior_mean(x);
        match &self.gp {
            Some(gp) => {
                let p = gp.predict(x);
                Prediction { mean: base + p.mean, std: p.std }
            }
            // Only the prior: as unsure everywhere as the past tasks varied.
            None => Prediction { mean: base, std: self.slope.max(1e-9) },
        }
    }

    /// The model after pretending `y` was observed at `x` (hyper-parameters kept).
    pub fn believe(&self, x: &[f64], y: f64) -> Result<Model, SearchError> {
        let residual = y - self.prior_mean(x);
        let gp = match &self.gp {
            Some(gp) => gp.condition_on(x, residual)?,
            None => Gp::with_hyper(
                &self.layout,
                &[x.to_vec()],
                &[residual],
                Hyper::prior_mean(&self.layout),
                Some((0.0, self.slope.max(1e-9))),
            )?,
        };
        Ok(Model { gp: Some(gp), ..self.clone() })
    }
}

/// `(a, b)` of `y ≈ a + b z`: least squares with `b ≥ 0` from three runs on;
/// before that the runs' mean (or 0) and the past tasks' spread.
fn prior_line(z: &[f64], y: &[f64], past_scale: f64) -> (f64, f64) {
    let n = y.len() as f64;
    if y.is_empty() {
        return (0.0, past_scale);
    }
    let (mz, my) = (z.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let szz: f64 = z.iter().map(|v| (v - mz).powi(2)).sum();
    if y.len() < 3 || szz < 1e-12 {
        return (my - past_scale * mz, past_scale);
    }
    let szy: f64 = z.iter().zip(y).map(|(a, b)| (a - mz) * (b - my)).sum();
    let b = (szy / szz).max(0.0);
    (my - b * mz, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_line_is_least_squares_and_never_inverts_the_prior() {
        let z = [0.0, 1.0, 2.0, 3.0];
        let (a, b) = prior_line(&z, &[1.0, 3.0, 5.0, 7.0], 0.1);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        // Anti-correlated: the prior is ignored (b = 0), the mean kept.
        let (a, b) = prior_line(&z, &[7.0, 5.0, 3.0, 1.0], 0.1);
        assert_eq!(b, 0.0);
        assert!((a - 4.0).abs() < 1e-12);
        assert_eq!(prior_line(&[], &[], 0.2), (0.0, 0.2));
    }
}
