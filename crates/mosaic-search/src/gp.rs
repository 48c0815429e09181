//! Gaussian-process regression over architecture encodings.
//!
//! The kernel suits the encoding's mixed inputs:
//! - numeric knobs (scaled to [0, 1]) get a Matérn-5/2 kernel with one
//!   lengthscale per knob (ARD), so knobs that do not matter can be stretched away;
//! - each categorical knob (a one-hot block) contributes `exp(-θ_c · [options differ])`,
//!   the exponentiated Hamming ("overlap") kernel, one `θ_c` per knob.
//!
//! `k(a, b) = σ² · matérn(a, b) · Π_c exp(-θ_c · differ_c) + σ_n² · [a = b]`.
//!
//! Targets are standardised; the hyper-parameters (log lengthscales, log θ,
//! log σ², log σ_n²) are the maximum a posteriori under weak log-normal priors
//! (the marginal likelihood alone over-fits a few dozen runs), found by L-BFGS
//! from several starts. Linear algebra is faer's Cholesky: at a few hundred
//! runs the O(n³) factorisation is milliseconds, and faer is already how the
//! workspace does dense numerics.

use std::ops::Range;

use faer::linalg::solvers::DenseSolveCore;
use faer::prelude::Solve;
use faer::{Mat, Side};
use mosaic_core::{Encoder, Knob};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::SearchError;
use crate::lbfgs::minimize;

/// Which encoding columns are numeric and which form categorical blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub numeric: Vec<usize>,
    pub blocks: Vec<Range<usize>>,
}

impl Layout {
    /// The layout of an encoder's encodings: its numeric knobs, then one block per categorical knob.
    pub fn of(encoder: &Encoder) -> Layout {
        let blocks = encoder.knob_blocks();
        Layout { numeric: (0..Knob::ALL.len()).collect(), blocks: blocks[Knob::ALL.len()..].to_vec() }
    }

    /// All `dims` columns numeric (for plain continuous problems).
    pub fn numeric(dims: usize) -> Layout {
        Layout { numeric: (0..dims).collect(), blocks: vec![] }
    }

    fn width(&self) -> usize {
        self.numeric.iter().map(|&i| i + 1).chain(self.blocks.iter().map(|b| b.end)).max().unwrap_or(0)
    }
}

/// Hyper-parameters, all on log scale: lengthscales, mismatch rates, signal and noise variance.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyper {
    pub log_lengthscales: Vec<f64>,
    pub log_mismatch: Vec<f64>,
    pub log_signal: f64,
    pub log_noise: f64,
}

impl Hyper {
    fn from_vec(layout: &Layout, v: &[f64]) -> Hyper {
        let p = layout.numeric.len();
        let q = layout.blocks.len();
        Hyper { log_lengthscales: v[..p].to_vec(), log_mismatch: v[p..p + q].to_vec(), log_signal: v[p + q], log_noise: v[p + q + 1] }
    }

    fn to_vec(&self) -> Vec<f64> {
        let mut v = self.log_lengthscales.clone();
        v.extend(&self.log_mismatch);
        v.extend([self.log_signal, self.log_noise]);
        v
    }

    /// The centre of the priors: lengthscale 1 (the whole scaled range), mismatch rate 1,
    /// unit signal and noise at 2% of the variance.
    pub fn prior_mean(layout: &Layout) -> Hyper {
        Hyper {
            log_lengthscales: vec![PRIOR_LOG_LENGTHSCALE; layout.numeric.len()],
            log_mismatch: vec![0.0; layout.blocks.len()],
            log_signal: 0.0,
            log_noise: PRIOR_LOG_NOISE,
        }
    }
}

const PRIOR_LOG_LENGTHSCALE: f64 = 0.0;
const PRIOR_LOG_NOISE: f64 = -4.0;
/// Prior standard deviations (log scale): wide on shape, firm on the noise floor.
const PRIOR_SD_SHAPE: f64 = 1.5;
const PRIOR_SD_SIGNAL: f64 = 1.0;
const PRIOR_SD_NOISE: f64 = 2.0;
/// Added to the diagonal so a factorisation never fails on duplicate runs.
const JITTER: f64 = 1e-8;
const RESTARTS: usize = 3;

/// A fitted Gaussian process: data, hyper-parameters and the Cholesky factor.
#[derive(Clone, Debug)]
pub struct Gp {
    layout: Layout,
    x: Vec<Vec<f64>>,
    /// Standardised targets.
    z: Vec<f64>,
    y_mean: f64,
    y_scale: f64,
    hyper: Hyper,
    /// Points added by [`Gp::condition_on`]: believed, not observed, so noise-free.
    believed: Vec<bool>,
    alpha: Vec<f64>,
    inverse: Mat<f64>,
    log_evidence: f64,
}

/// A prediction in the targets' units: the latent function's mean and standard deviation.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prediction {
    pub mean: f64,
    pub std: f64,
}

/// Targets that are shares (accuracies) are modelled on the logit scale, so
/// predictions stay inside [0, 1]; shares are clamped this far from 0 and 1.
const SHARE_MARGIN: f64 = 0.005;

/// A share (in [0, 1]) on the logit scale the surrogate models it on.
pub fn share_to_logit(y: f64) -> f64 {
    let p = y.clamp(SHARE_MARGIN, 1.0 - SHARE_MARGIN);
    (p / (1.0 - p)).ln()
}

impl Prediction {
    /// A logit-scale prediction back as a share: the mean through the
    /// logistic function, the spread by the delta method.
    pub fn logit_to_share(self) -> Prediction {
        let p = 1.0 / (1.0 + (-self.mean).exp());
        Prediction { mean: p, std: p * (1.0 - p) * self.std }
    }
}

impl Gp {
    /// Fits the hyper-parameters to `(x, y)` and conditions on the data.
    /// Non-finite targets are an error: a diverged run has no accuracy to learn from.
    pub fn fit(layout: &Layout, x: &[Vec<f64>], y: &[f64], seed: u64) -> Result<Gp, SearchError> {
        check_data(layout, x, y)?;
        let (y_mean, y_scale) = standardisation(y);
        let z: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_scale).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let prior = Hyper::prior_mean(layout).to_vec();
        let sds = prior_sds(layout);
        let mut best: Option<(f64, Vec<f64>)> = None;
        for start in 0..RESTARTS {
            let x0: Vec<f64> = if start == 0 {
                prior.clone()
            } else {
                prior.iter().zip(&sds).map(|(m, s)| m + s * (rng.random::<f64>() * 2.0 - 1.0)).collect()
            };
            let objective = |v: &[f64]| negative_log_posterior(layout, x, &z, v);
            let (v, f) = minimize(objective, x0, 80);
            if f.is_finite() && best.as_ref().is_none_or(|(bf, _)| f < *bf) {
                best = Some((f, v));
            }
        }
        let (_, v) = best.ok_or_else(|| SearchError::Numerics("the marginal likelihood is not finite at any start".into()))?;
        Gp::with_hyper(layout, x, y, Hyper::from_vec(layout, &v), Some((y_mean, y_scale)))
    }

    /// Fits from `start` (say, the hyper-parameters of a fit to fewer of the
    /// same runs) with one short L-BFGS run instead of several long ones:
    /// the hyper-parameters follow the data as runs arrive at a tenth of the cost.
    pub fn refit(layout: &Layout, x: &[Vec<f64>], y: &[f64], start: &Hyper, iterations: usize) -> Result<Gp, SearchError> {
        check_data(layout, x, y)?;
        let (y_mean, y_scale) = standardisation(y);
        let z: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_scale).collect();
        let objective = |v: &[f64]| negative_log_posterior(layout, x, &z, v);
        let (v, f) = minimize(objective, start.to_vec(), iterations);
        let hyper = if f.is_finite() { Hyper::from_vec(layout, &v) } else { start.clone() };
        Gp::with_hyper(layout, x, y, hyper, Some((y_mean, y_scale)))
    }

    /// Conditions on `(x, y)` with given hyper-parameters (no fitting).
    /// `scale` fixes the standardisation (mean, scale); `None` takes it from `y`.
    pub fn with_hyper(layout: &Layout, x: &[Vec<f64>], y: &[f64], hyper: Hyper, scale: Option<(f64, f64)>) -> Result<Gp, SearchError> {
        Gp::conditioned(layout, x, y, hyper, scale, vec![false; x.len()])
    }

    fn conditioned(
        layout: &Layout,
        x: &[Vec<f64>],
        y: &[f64],
        hyper: Hyper,
        scale: Option<(f64, f64)>,
        believed: Vec<bool>,
    ) -> Result<Gp, SearchError> {
        check_data(layout, x, y)?;
        let (y_mean, y_scale) = scale.unwrap_or_else(|| standardisation(y));
        let z: Vec<f64> = y.iter().map(|v| (v - y_mean) / y_scale).collect();
        let k = covariance(layout, x, &hyper, &believed);
        let llt = k.llt(Side::Lower).map_err(|e| SearchError::Numerics(format!("covariance not positive definite: {e:?}")))?;
        let zc = Mat::from_fn(z.len(), 1, |i, _| z[i]);
        let a = llt.solve(&zc);
        let alpha: Vec<f64> = (0..z.len()).map(|i| a[(i, 0)]).collect();
        let l = llt.L();
        let log_det: f64 = (0..z.len()).map(|i| 2.0 * l[(i, i)].ln()).sum();
        let fit: f64 = z.iter().zip(&alpha).map(|(a, b)| a * b).sum();
        let log_evidence = -0.5 * fit - 0.5 * log_det - 0.5 * z.len() as f64 * (std::f64::consts::TAU).ln();
        let inverse = llt.inverse();
        Ok(Gp { layout: layout.clone(), x: x.to_vec(), z, y_mean, y_scale, hyper, believed, alpha, inverse, log_evidence })
    }

    pub fn hyper(&self) -> &Hyper {
        &self.hyper
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The mean at `x` in standard units of the training targets (0: their
    /// mean, 1: one standard deviation above), comparable across tasks.
    pub fn standardised_mean(&self, x: &[f64]) -> f64 {
        (self.predict(x).mean - self.y_mean) / self.y_scale
    }

    /// Mean and standard deviation of the training targets.
    pub fn target_scale(&self) -> (f64, f64) {
        (self.y_mean, self.y_scale)
    }

    /// Log marginal likelihood of the standardised targets.
    pub fn log_evidence(&self) -> f64 {
        self.log_evidence
    }

    /// Log marginal likelihood of the targets in their own units (the
    /// standardisation's Jacobian included): comparable between processes
    /// fitted to differently transformed targets, once each adds its transform's Jacobian.
    pub fn log_likelihood(&self) -> f64 {
        self.log_evidence - self.x.len() as f64 * self.y_scale.ln()
    }

    /// Mean and standard deviation of the latent function at `x`.
    pub fn predict(&self, x: &[f64]) -> Prediction {
        let k: Vec<f64> = self.x.iter().map(|xi| kernel(&self.layout, xi, x, &self.hyper)).collect();
        let mean: f64 = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let mut quad = 0.0;
        for (i, ki) in k.iter().enumerate() {
            let row: f64 = (0..k.len()).map(|j| self.inverse[(i, j)] * k[j]).sum();
            quad += ki * row;
        }
        let var = (self.hyper.log_signal.exp() - quad).max(1e-12);
        Prediction { mean: self.y_mean + self.y_scale * mean, std: self.y_scale * var.sqrt() }
    }

    /// The same process believing the latent function equals `y` at `x`
    /// (noise-free), with the same hyper-parameters and standardisation: the
    /// "kriging believer" step of batch suggestion.
    pub fn condition_on(&self, x: &[f64], y: f64) -> Result<Gp, SearchError> {
        let mut xs = self.x.clone();
        xs.push(x.to_vec());
        let mut ys: Vec<f64> = self.z.iter().map(|z| self.y_mean + self.y_scale * z).collect();
        ys.push(y);
        let mut believed = self.believed.clone();
        believed.push(true);
        Gp::conditioned(&self.layout, &xs, &ys, self.hyper.clone(), Some((self.y_mean, self.y_scale)), believed)
    }
}

fn check_data(layout: &Layout, x: &[Vec<f64>], y: &[f64]) -> Result<(), SearchError> {
    if x.is_empty() {
        return Err(SearchError::NoData("a Gaussian process needs at least one finished run".into()));
    }
    if x.len() != y.len() {
        return Err(SearchError::Invalid(format!("{} inputs but {} targets", x.len(), y.len())));
    }
    let width = layout.width();
    if let Some((i, row)) = x.iter().enumerate().find(|(_, r)| r.len() < width || r.iter().any(|v| !v.is_finite())) {
        return Err(SearchError::Invalid(format!("input {i} has {} finite entries, the layout needs {width}", row.len())));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(SearchError::Invalid(format!("target {i} is {} (leave diverged runs out)", y[i])));
    }
    Ok(())
}

/// Mean and spread used to standardise targets (spread 1 when all are equal).
fn standardisation(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, if var > 1e-24 { var.sqrt() } else { 1.0 })
}

fn prior_sds(layout: &Layout) -> Vec<f64> {
    let mut sds = vec![PRIOR_SD_SHAPE; layout.numeric.len() + layout.blocks.len()];
    sds.extend([PRIOR_SD_SIGNAL, PRIOR_SD_NOISE]);
    sds
}

/// The pieces of one kernel entry: the Matérn part, its per-knob scaled
/// squared differences, and the categorical mismatches.
struct Pair {
    matern: f64,
    /// `(5/3)(1 + √5 r) e^{-√5 r}`: d matérn / d log ℓ_k is this times `(Δ_k/ℓ_k)²`.
    matern_slope: f64,
    scaled_sq: Vec<f64>,
    mismatch: Vec<f64>,
}

fn pair(layout: &Layout, a: &[f64], b: &[f64], h: &Hyper) -> Pair {
    let scaled_sq: Vec<f64> = layout
        .numeric
        .iter()
        .zip(&h.log_lengthscales)
        .map(|(&i, ll)| {
            let d = (a[i] - b[i]) / ll.exp();
            d * d
        })
        .collect();
    let r = scaled_sq.iter().sum::<f64>().sqrt();
    let s5r = 5f64.sqrt() * r;
    let e = (-s5r).exp();
    let mismatch = layout.blocks.iter().map(|blk| if a[blk.clone()] == b[blk.clone()] { 0.0 } else { 1.0 }).collect();
    Pair { matern: (1.0 + s5r + 5.0 * r * r / 3.0) * e, matern_slope: 5.0 / 3.0 * (1.0 + s5r) * e, scaled_sq, mismatch }
}

fn categorical(p: &Pair, h: &Hyper) -> f64 {
    (-p.mismatch.iter().zip(&h.log_mismatch).map(|(m, lt)| m * lt.exp()).sum::<f64>()).exp()
}

/// Noise-free covariance between two encodings.
fn kernel(layout: &Layout, a: &[f64], b: &[f64], h: &Hyper) -> f64 {
    let p = pair(layout, a, b, h);
    h.log_signal.exp() * p.matern * categorical(&p, h)
}

/// The covariance of the observations: kernel plus noise, except at believed points.
fn covariance(layout: &Layout, x: &[Vec<f64>], h: &Hyper, believed: &[bool]) -> Mat<f64> {
    let n = x.len();
    let noise = |i: usize| if believed[i] { JITTER } else { h.log_noise.exp() + JITTER };
    let mut k = Mat::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let v = kernel(layout, &x[i], &x[j], h) + if i == j { noise(i) } else { 0.0 };
            k[(i, j)] = v;
            k[(j, i)] = v;
        }
    }
    k
}

/// Negative log posterior of the hyper-parameters and its gradient:
/// `-(log p(z | θ) + log p(θ))`, with
/// `∂ log p(z | θ) / ∂θ_j = ½ tr((ααᵀ - K⁻¹) ∂K/∂θ_j)`.
fn negative_log_posterior(layout: &Layout, x: &[Vec<f64>], z: &[f64], v: &[f64]) -> (f64, Vec<f64>) {
    let h = Hyper::from_vec(layout, v);
    let n = x.len();
    let k = covariance(layout, x, &h, &vec![false; n]);
    let Ok(llt) = k.llt(Side::Lower) else {
        return (f64::INFINITY, vec![0.0; v.len()]);
    };
    let zc = Mat::from_fn(n, 1, |i, _| z[i]);
    let a = llt.solve(&zc);
    let l = llt.L();
    let log_det: f64 = (0..n).map(|i| 2.0 * l[(i, i)].ln()).sum();
    let fit: f64 = (0..n).map(|i| z[i] * a[(i, 0)]).sum();
    let log_lik = -0.5 * fit - 0.5 * log_det - 0.5 * n as f64 * std::f64::consts::TAU.ln();
    let inv = llt.inverse();
    let (p, q) = (layout.numeric.len(), layout.blocks.len());
    let mut grad = vec![0.0; v.len()];
    let signal = h.log_signal.exp();
    for i in 0..n {
        for j in 0..=i {
            // W = ααᵀ - K⁻¹, symmetric: off-diagonal pairs count twice.
            let w = (a[(i, 0)] * a[(j, 0)] - inv[(i, j)]) * if i == j { 0.5 } else { 1.0 };
            let pr = pair(layout, &x[i], &x[j], &h);
            let cat = categorical(&pr, &h);
            let kij = signal * pr.matern * cat;
            for (g, sq) in grad[..p].iter_mut().zip(&pr.scaled_sq) {
                *g += w * signal * pr.matern_slope * sq * cat;
            }
            for ((g, m), lt) in grad[p..p + q].iter_mut().zip(&pr.mismatch).zip(&h.log_mismatch) {
                *g -= w * kij * m * lt.exp();
            }
            grad[p + q] += w * kij;
            if i == j {
                grad[p + q + 1] += w * h.log_noise.exp();
            }
        }
    }
    // Gaussian priors on the log parameters.
    let centre = Hyper::prior_mean(layout).to_vec();
    let mut log_prior = 0.0;
    for (((g, value), m), s) in grad.iter_mut().zip(v).zip(&centre).zip(prior_sds(layout)) {
        let d = (value - m) / s;
        log_prior -= 0.5 * d * d;
        *g -= d / s;
    }
    let f = -(log_lik + log_prior);
    if !f.is_finite() {
        return (f64::INFINITY, vec![0.0; v.len()]);
    }
    (f, grad.into_iter().map(|g| -g).collect())
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // layouts with one categorical block
mod tests {
    use super::*;

    fn grid(n: usize) -> Vec<Vec<f64>> {
        (0..n).map(|i| vec![i as f64 / (n - 1) as f64]).collect()
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let layout = Layout { numeric: vec![0, 1], blocks: vec![2..4] };
        let x: Vec<Vec<f64>> = (0..9)
            .map(|i| {
                let t = i as f64 / 8.0;
                vec![t, (3.0 * t).sin().abs(), (i % 2) as f64, ((i + 1) % 2) as f64]
            })
            .collect();
        let z: Vec<f64> = x.iter().map(|r| r[0] * 2.0 - r[1] + r[2] * 0.5).collect();
        let v = vec![-0.3, 0.2, 0.4, 0.1, -2.0];
        let (_, g) = negative_log_posterior(&layout, &x, &z, &v);
        for j in 0..v.len() {
            let h = 1e-6;
            let (mut up, mut down) = (v.clone(), v.clone());
            up[j] += h;
            down[j] -= h;
            let numeric = (negative_log_posterior(&layout, &x, &z, &up).0 - negative_log_posterior(&layout, &x, &z, &down).0) / (2.0 * h);
            assert!((numeric - g[j]).abs() < 1e-5 * (1.0 + numeric.abs()), "parameter {j}: analytic {} vs numeric {numeric}", g[j]);
        }
    }

    #[test]
    fn it_interpolates_a_smooth_function_and_is_unsure_away_from_data() {
        let x = grid(12);
        let y: Vec<f64> = x.iter().map(|r| (6.0 * r[0]).sin()).collect();
        let gp = Gp::fit(&Layout::numeric(1), &x, &y, 1).unwrap();
        for t in [0.13, 0.41, 0.77] {
            let p = gp.predict(&[t]);
            assert!((p.mean - (6.0 * t).sin()).abs() < 0.05, "at {t}: {} vs {}", p.mean, (6.0 * t).sin());
        }
        let near = gp.predict(&[0.5]).std;
        let far = gp.predict(&[2.0]).std;
        assert!(far > 5.0 * near, "std near data {near}, far from it {far}");
    }

    #[test]
    fn an_irrelevant_knob_gets_a_long_lengthscale() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x: Vec<Vec<f64>> = (0..40).map(|_| vec![rng.random::<f64>(), rng.random::<f64>()]).collect();
        let y: Vec<f64> = x.iter().map(|r| (5.0 * r[0]).cos()).collect();
        let gp = Gp::fit(&Layout::numeric(2), &x, &y, 0).unwrap();
        let ls = &gp.hyper().log_lengthscales;
        assert!(ls[1] > ls[0] + 1.0, "relevant knob log ℓ {}, irrelevant {}", ls[0], ls[1]);
    }

    #[test]
    fn categories_share_strength_only_within_an_option() {
        // Option A scores high, option B low, whatever the numeric knob says.
        let layout = Layout { numeric: vec![0], blocks: vec![1..3] };
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![(i / 2) as f64 / 9.0, (i % 2) as f64, ((i + 1) % 2) as f64]).collect();
        let y: Vec<f64> = x.iter().map(|r| if r[1] == 1.0 { 0.9 } else { 0.3 } + 0.01 * r[0]).collect();
        let gp = Gp::fit(&layout, &x, &y, 0).unwrap();
        let a = gp.predict(&[0.55, 1.0, 0.0]).mean;
        let b = gp.predict(&[0.55, 0.0, 1.0]).mean;
        assert!((a - 0.9).abs() < 0.05 && (b - 0.3).abs() < 0.05, "option A {a}, option B {b}");
    }

    #[test]
    fn conditioning_on_a_believed_value_shrinks_the_uncertainty_there() {
        let x = grid(5);
        let y: Vec<f64> = x.iter().map(|r| r[0] * r[0]).collect();
        let gp = Gp::fit(&Layout::numeric(1), &x, &y, 0).unwrap();
        let at = [0.6];
        let before = gp.predict(&at);
        let after = gp.condition_on(&at, before.mean).unwrap().predict(&at);
        assert!(after.std < 0.5 * before.std, "{} -> {}", before.std, after.std);
        assert!((after.mean - before.mean).abs() < 1e-3);
    }

    #[test]
    fn bad_data_is_refused_with_a_reason() {
        let e = Gp::fit(&Layout::numeric(1), &[vec![0.0], vec![1.0]], &[0.5, f64::NAN], 0).unwrap_err();
        assert!(e.to_string().contains("target 1 is NaN"), "{e}");
        assert!(Gp::fit(&Layout::numeric(1), &[], &[], 0).is_err());
        let e = Gp::fit(&Layout::numeric(2), &[vec![0.0]], &[0.5], 0).unwrap_err();
        assert!(e.to_string().contains("needs 2"), "{e}");
    }

    #[test]
    fn shares_round_trip_through_the_logit_scale() {
        for y in [0.01, 0.5, 0.93] {
            let back = Prediction { mean: share_to_logit(y), std: 0.0 }.logit_to_share();
            assert!((back.mean - y).abs() < 1e-12);
        }
        let wide = Prediction { mean: 8.0, std: 3.0 }.logit_to_share();
        assert!(wide.mean < 1.0 && wide.std < 0.01);
        assert_eq!(share_to_logit(1.0), share_to_logit(0.999));
    }

    #[test]
    fn duplicate_runs_do_not_break_the_factorisation() {
        let x = vec![vec![0.5], vec![0.5], vec![0.5], vec![0.1]];
        let y = vec![0.8, 0.8, 0.8, 0.2];
        let gp = Gp::fit(&Layout::numeric(1), &x, &y, 0).unwrap();
        assert!((gp.predict(&[0.5]).mean - 0.8).abs() < 0.05);
    }
}
