//! Hyper-parameter surfaces and importance from a sweep's results.
//!
//! - A surface of a target metric over any two knobs: exact where the runs
//!   form a grid (each cell the mean of its runs), otherwise a thin-plate
//!   spline through the scattered runs (a little smoothing, so noisy runs
//!   do not make it ring), evaluated on a regular grid.
//! - Importance of every knob, fANOVA-style: a cubic radial-basis surrogate
//!   of the target over all knobs, and the share of its variance each knob
//!   explains on its own (first-order effects, Hutter et al. 2014).

use faer::Mat;
use faer::prelude::Solve;
use serde::Serialize;

use crate::LandscapeError;

/// The target over two knobs on a regular grid, with the runs behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HyperSurface {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Row-major: `z[j * x.len() + i]` at `(x[i], y[j])`; NaN where a grid
    /// sweep left a cell empty.
    pub z: Vec<f64>,
    /// Whether the runs formed a grid (the surface is their cell means).
    pub exact: bool,
    /// The runs: `(x, y, target)`.
    pub runs: Vec<[f64; 3]>,
}

/// Runs with finite x, y and target, as rows.
fn finite_rows(x: &[f64], y: &[f64], target: &[f64]) -> Vec<[f64; 3]> {
    x.iter().zip(y).zip(target).map(|((a, b), t)| [*a, *b, *t]).filter(|r| r.iter().all(|v| v.is_finite())).collect()
}

fn distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// How much the spline through scattered runs smooths: 0 interpolates every
/// run exactly (and rings between noisy ones); sweeps are noisy, so the
/// default trades fit for smoothness (in the units of inputs scaled to the
/// unit box, where the kernel's values are about 0.1; measured on noisy
/// planes, 0.2 removes three quarters of the roughness).
pub const DEFAULT_SMOOTHING: f64 = 0.2;

/// The surface of `target` over knobs `x` and `y` (one value per run;
/// non-finite runs are left out), `num` grid points per axis when the runs
/// are scattered, fitted with `smoothing` (see [`DEFAULT_SMOOTHING`]).
pub fn hyper_surface(x: &[f64], y: &[f64], target: &[f64], num: usize, smoothing: f64) -> Result<HyperSurface, LandscapeError> {
    let runs = finite_rows(x, y, target);
    if runs.len() < 3 {
        return Err(LandscapeError::Format(format!("a surface needs at least 3 finished runs, there are {}", runs.len())));
    }
    let (xs, ys) = (distinct(runs.iter().map(|r| r[0])), distinct(runs.iter().map(|r| r[1])));
    if xs.len() < 2 || ys.len() < 2 {
        return Err(LandscapeError::Format("the runs do not vary along both knobs".into()));
    }
    // A grid: few distinct values per knob, and at least 80% of the cells visited.
    let cells = xs.len() * ys.len();
    if xs.len() <= 16 && ys.len() <= 16 {
        let mut sum = vec![0.0; cells];
        let mut count = vec![0usize; cells];
        for r in &runs {
            let i = xs.partition_point(|v| *v < r[0]);
            let j = ys.partition_point(|v| *v < r[1]);
            sum[j * xs.len() + i] += r[2];
            count[j * xs.len() + i] += 1;
        }
        let visited = count.iter().filter(|&&c| c > 0).count();
        if visited * 5 >= cells * 4 {
            let z = sum.iter().zip(&count).map(|(s, &c)| if c > 0 { s / c as f64 } else { f64::NAN }).collect();
            return Ok(HyperSurface { x: xs, y: ys, z, exact: true, runs });
        }
    }
    let inputs: Vec<Vec<f64>> = runs.iter().map(|r| vec![r[0], r[1]]).collect();
    let targets: Vec<f64> = runs.iter().map(|r| r[2]).collect();
    let model = Spline::fit(&inputs, &targets, Kernel::ThinPlate, smoothing)?;
    let axis = |v: &[f64]| -> Vec<f64> {
        let (lo, hi) = (v[0], v[v.len() - 1]);
        (0..num).map(|k| lo + (hi - lo) * k as f64 / (num - 1).max(1) as f64).collect()
    };
    let (gx, gy) = (axis(&xs), axis(&ys));
    let z = gy.iter().flat_map(|&b| gx.iter().map(move |&a| (a, b))).map(|(a, b)| model.predict(&[a, b])).collect();
    Ok(HyperSurface { x: gx, y: gy, z, exact: false, runs })
}

/// Radial basis of the spline.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kernel {
    /// r² log r: the smoothest interpolant in two dimensions.
    ThinPlate,
    /// r³: conditionally positive definite in any dimension.
    Cubic,
}

impl Kernel {
    fn eval(self, r: f64) -> f64 {
        match self {
            Kernel::ThinPlate if r > 0.0 => r * r * r.ln(),
            Kernel::ThinPlate => 0.0,
            Kernel::Cubic => r * r * r,
        }
    }
}

/// A polyharmonic spline with a linear polynomial part, on inputs scaled to
/// the unit box.
struct Spline {
    kernel: Kernel,
    centers: Vec<Vec<f64>>,
    lo: Vec<f64>,
    span: Vec<f64>,
    weights: Vec<f64>,
    /// Constant, then one coefficient per input.
    linear: Vec<f64>,
}

impl Spline {
    fn scale(&self, p: &[f64]) -> Vec<f64> {
        p.iter().zip(&self.lo).zip(&self.span).map(|((v, lo), s)| (v - lo) / s).collect()
    }

    /// Fits through `targets` with `smoothing` added to the kernel's diagonal
    /// (0: exact interpolation).
    fn fit(inputs: &[Vec<f64>], targets: &[f64], kernel: Kernel, smoothing: f64) -> Result<Spline, LandscapeError> {
        let (n, d) = (inputs.len(), inputs[0].len());
        let lo: Vec<f64> = (0..d).map(|k| inputs.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min)).collect();
        let span: Vec<f64> = (0..d)
            .map(|k| {
                let hi = inputs.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
                if hi > lo[k] { hi - lo[k] } else { 1.0 }
            })
            .collect();
        let mut spline = Spline { kernel, centers: Vec::new(), lo, span, weights: Vec::new(), linear: Vec::new() };
        spline.centers = inputs.iter().map(|p| spline.scale(p)).collect();
        // [K + λI  P] [w]   [z]
        // [P'      0] [c] = [0]
        let m = n + d + 1;
        let mut a = Mat::<f64>::zeros(m, m);
        let mut b = Mat::<f64>::zeros(m, 1);
        for i in 0..n {
            for j in 0..n {
                a[(i, j)] = kernel.eval(distance(&spline.centers[i], &spline.centers[j]));
            }
            a[(i, i)] += smoothing;
            a[(i, n)] = 1.0;
            a[(n, i)] = 1.0;
            for k in 0..d {
                a[(i, n + 1 + k)] = spline.centers[i][k];
                a[(n + 1 + k, i)] = spline.centers[i][k];
            }
            b[(i, 0)] = targets[i];
        }
        let solution = a.partial_piv_lu().solve(&b);
        let coefficients: Vec<f64> = (0..m).map(|i| solution[(i, 0)]).collect();
        if coefficients.iter().any(|c| !c.is_finite()) {
            return Err(LandscapeError::Format("the runs are too few or too alike to fit a surface through".into()));
        }
        spline.weights = coefficients[..n].to_vec();
        spline.linear = coefficients[n..].to_vec();
        Ok(spline)
    }

    fn predict(&self, p: &[f64]) -> f64 {
        let q = self.scale(p);
        let radial: f64 = self.centers.iter().zip(&self.weights).map(|(c, w)| w * self.kernel.eval(distance(c, &q))).sum();
        radial + self.linear[0] + self.linear[1..].iter().zip(&q).map(|(c, v)| c * v).sum::<f64>()
    }
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// How much of the target's variation one knob explains on its own.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Importance {
    pub knob: String,
    /// Variance of the surrogate's main effect of this knob over the total
    /// variance, in [0, 1]. The shares sum to at most 1; the rest is interactions.
    pub share: f64,
}

/// Smoothing of the importance surrogate: noise in the runs should not
/// count as any knob's effect.
const IMPORTANCE_SMOOTHING: f64 = 0.05;
/// Runs used to fit the importance surrogate at most (the fit is cubic in them).
const SURROGATE_RUNS: usize = 1500;
/// Values of each knob at which its main effect is measured.
const SAMPLES: usize = 64;
/// Runs whose other knobs the main effects average over.
const BACKGROUND: usize = 256;

/// Importance of each knob for the target, most important first.
/// `knobs`: name and one value per run; runs with any non-finite value are left out.
pub fn importance(knobs: &[(String, Vec<f64>)], target: &[f64]) -> Result<Vec<Importance>, LandscapeError> {
    let rows: Vec<(Vec<f64>, f64)> = (0..target.len())
        .filter_map(|r| {
            let p: Vec<f64> = knobs.iter().map(|(_, v)| v.get(r).copied().unwrap_or(f64::NAN)).collect();
            (p.iter().all(|v| v.is_finite()) && target[r].is_finite()).then_some((p, target[r]))
        })
        .collect();
    if rows.len() < knobs.len() + 3 {
        return Err(LandscapeError::Format(format!(
            "importance over {} knobs needs at least {} finished runs, there are {}",
            knobs.len(),
            knobs.len() + 3,
            rows.len()
        )));
    }
    // An even subsample keeps the fit quick on large sweeps.
    let step = rows.len().div_ceil(SURROGATE_RUNS).max(1);
    let (inputs, targets): (Vec<Vec<f64>>, Vec<f64>) = rows.iter().step_by(step).cloned().unzip();
    let model = Spline::fit(&inputs, &targets, Kernel::Cubic, IMPORTANCE_SMOOTHING)?;
    // Main effects on a grid: each knob swept over its range while the
    // others take the values of the runs (the data's own distribution).
    let d = knobs.len();
    let background: Vec<&Vec<f64>> = inputs.iter().step_by(inputs.len().div_ceil(BACKGROUND).max(1)).collect();
    // The total variance from every run: from a small sample it was off by
    // a fifth, and every share with it.
    let all: Vec<f64> = inputs.iter().map(|p| model.predict(p)).collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let total = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64;
    let mut out: Vec<Importance> = (0..d)
        .map(|k| {
            let levels: Vec<f64> = distinct(inputs.iter().map(|p| p[k]));
            let picks: Vec<f64> = (0..SAMPLES.min(levels.len())).map(|s| levels[s * levels.len() / SAMPLES.min(levels.len())]).collect();
            let effects: Vec<f64> = picks
                .iter()
                .map(|&v| {
                    let preds: Vec<f64> = background
                        .iter()
                        .map(|p| {
                            let mut q = (*p).clone();
                            q[k] = v;
                            model.predict(&q)
                        })
                        .collect();
                    preds.iter().sum::<f64>() / preds.len() as f64
                })
                .collect();
            let m = effects.iter().sum::<f64>() / effects.len() as f64;
            let var = effects.iter().map(|e| (e - m).powi(2)).sum::<f64>() / effects.len() as f64;
            Importance { knob: knobs[k].0.clone(), share: if total > 0.0 { (var / total).min(1.0) } else { 0.0 } }
        })
        .collect();
    // Main effects measured on different samples can overshoot together: keep the sum at most 1.
    let sum: f64 = out.iter().map(|i| i.share).sum();
    if sum > 1.0 {
        out.iter_mut().for_each(|i| i.share /= sum);
    }
    out.sort_by(|a, b| b.share.total_cmp(&a.share));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_sweep_gives_its_cell_means_exactly() {
        let (mut x, mut y, mut t) = (vec![], vec![], vec![]);
        for (i, a) in [0.1, 0.2, 0.3].iter().enumerate() {
            for (j, b) in [1.0, 2.0].iter().enumerate() {
                for rep in 0..2 {
                    x.push(*a);
                    y.push(*b);
                    t.push((i * 10 + j) as f64 + rep as f64);
                }
            }
        }
        let s = hyper_surface(&x, &y, &t, 25, DEFAULT_SMOOTHING).unwrap();
        assert!(s.exact);
        assert_eq!((s.x.clone(), s.y.clone()), (vec![0.1, 0.2, 0.3], vec![1.0, 2.0]));
        assert_eq!(s.z, vec![0.5, 10.5, 20.5, 1.5, 11.5, 21.5]);
        assert_eq!(s.runs.len(), 12);
    }

    #[test]
    fn scattered_runs_are_interpolated_smoothly() {
        // A smooth function sampled at scattered points (a fixed low-discrepancy pattern).
        let f = |a: f64, b: f64| (2.0 * a).sin() + 0.5 * b * b;
        let n = 120;
        let pts: Vec<(f64, f64)> =
            (0..n).map(|k| ((k as f64 * 0.618_034).fract() * 2.0 - 1.0, (k as f64 * 0.754_878).fract() * 2.0 - 1.0)).collect();
        let (x, y): (Vec<f64>, Vec<f64>) = pts.iter().copied().unzip();
        let t: Vec<f64> = pts.iter().map(|&(a, b)| f(a, b)).collect();
        let s = hyper_surface(&x, &y, &t, 21, 1e-6).unwrap();
        assert!(!s.exact);
        assert_eq!((s.x.len(), s.y.len(), s.z.len()), (21, 21, 441));
        // Inside the data's hull the surface is the function, to a few per cent of its range.
        let mut worst: f64 = 0.0;
        for (j, &b) in s.y.iter().enumerate().skip(3).take(15) {
            for (i, &a) in s.x.iter().enumerate().skip(3).take(15) {
                worst = worst.max((s.z[j * 21 + i] - f(a, b)).abs());
            }
        }
        assert!(worst < 0.05, "largest error inside the hull {worst}");
    }

    #[test]
    fn smoothing_flattens_noise_that_exact_interpolation_follows() {
        // A plane plus alternating noise on scattered points.
        let n = 150;
        let pts: Vec<(f64, f64)> = (0..n).map(|k| ((k as f64 * 0.618_034).fract(), (k as f64 * 0.754_878).fract())).collect();
        let (x, y): (Vec<f64>, Vec<f64>) = pts.iter().copied().unzip();
        let t: Vec<f64> = pts.iter().enumerate().map(|(k, &(a, b))| a + b + if k % 2 == 0 { 0.2 } else { -0.2 }).collect();
        let roughness = |s: &HyperSurface| -> f64 {
            // Mean absolute second difference along x: zero for the plane.
            let nx = s.x.len();
            let mut sum = 0.0;
            for j in 0..s.y.len() {
                for i in 1..nx - 1 {
                    sum += (s.z[j * nx + i - 1] - 2.0 * s.z[j * nx + i] + s.z[j * nx + i + 1]).abs();
                }
            }
            sum / (s.y.len() * (nx - 2)) as f64
        };
        let exact = hyper_surface(&x, &y, &t, 31, 0.0).unwrap();
        let smooth = hyper_surface(&x, &y, &t, 31, DEFAULT_SMOOTHING).unwrap();
        assert!(roughness(&smooth) < roughness(&exact) / 4.0, "{} vs {}", roughness(&smooth), roughness(&exact));
    }

    #[test]
    fn importance_ranks_the_knob_that_matters_first() {
        let n = 300;
        let knob = |k: usize, salt: f64| -> Vec<f64> { (0..n).map(|r| ((r as f64 + 1.0) * salt + k as f64 * 0.37).fract()).collect() };
        let (a, b, c) = (knob(0, 0.618_034), knob(1, 0.754_878), knob(2, 0.569_840));
        let target: Vec<f64> = (0..n).map(|r| 3.0 * a[r] + 0.3 * (6.0 * b[r]).sin() + 0.0 * c[r]).collect();
        let knobs = vec![("a".to_string(), a), ("b".to_string(), b), ("c".to_string(), c)];
        let imp = importance(&knobs, &target).unwrap();
        assert_eq!(imp.iter().map(|i| i.knob.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(imp[0].share > 0.8, "{imp:?}");
        assert!(imp[2].share < 0.02, "an unused knob explains nothing: {imp:?}");
        assert!(imp.iter().map(|i| i.share).sum::<f64>() <= 1.0 + 1e-9);
    }

    #[test]
    fn too_few_or_flat_runs_are_named() {
        let err = hyper_surface(&[1.0, 2.0], &[1.0, 2.0], &[0.5, 0.6], 10, DEFAULT_SMOOTHING).unwrap_err().to_string();
        assert!(err.contains("at least 3"), "{err}");
        let err = hyper_surface(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], &[0.5, 0.6, 0.7], 10, DEFAULT_SMOOTHING).unwrap_err().to_string();
        assert!(err.contains("both knobs"), "{err}");
    }
}
