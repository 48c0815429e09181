//! PHATE (Moon et al., 2019), following the reference `phate` package
//! (2.0.0, with graphtools 2.1.0) step by step so that the automatic t and
//! the potential distances match it:
//!
//! 1. alpha-decay kernel `K0_ij = exp(-(d_ij / bw_i)^decay)`, `bw_i` the
//!    distance to the `knn`-th nearest other point, entries below 1e-4
//!    dropped; symmetrised `K = (K0 + K0^T) / 2` (sparse, see [`crate::graph`]);
//!    diffusion operator `P = D^-1 K`;
//! 2. above `landmarks` points, diffusion runs between landmarks instead
//!    (see [`crate::landmark`]), as the reference does above 2,000 points;
//! 3. t: the knee of the von Neumann entropy of P's singular values (above
//!    1,000 points of an estimate of it, kept only where its knee is clear
//!    of the estimate's noise, else the exact curve up to 4,000 points; see
//!    [`crate::diffusion::Diffusion::choose_t`]);
//! 4. potential `-ln(P^t + 1e-7)` (for `gamma` 1; see [`PhateConfig::gamma`]) and Euclidean distances between its rows;
//! 5. classical MDS (as the reference computes it), then metric MDS by
//!    SMACOF (the reference's `mds_solver="smacof"`; its default is an SGD
//!    solver), aligned onto the classical solution as the reference does;
//!    with landmarks, every point then takes its transitions to the
//!    landmarks times their coordinates.
//!
//! Unlike the reference, features are never reduced by PCA first (it does
//! so above 100 features and 100 points); pass at most 100 features, or a
//! distance matrix, for identical results. New points join an embedding
//! without moving it through [`extend`].

use std::time::Instant;

use faer::{Mat, Side};

use crate::ManifoldError;
use crate::dense::{par_update, settle_vector_state};
use crate::diffusion::{Diffusion, EXACT_FALLBACK_LIMIT, EntropySource, weighted_entropy};
use crate::distance::row_distances;
use crate::graph::{self, Sparse};
use crate::landmark;

#[derive(Clone, Debug, PartialEq)]
pub struct PhateConfig {
    /// Neighbour whose distance sets each point's kernel bandwidth.
    pub knn: usize,
    /// Alpha-decay exponent.
    pub decay: f64,
    /// Informational distance of the potential (the reference's `gamma`):
    /// 1 is the log potential, -1 the transitions themselves, anything
    /// between `P^c / c` with `c = (1 - gamma) / 2`.
    pub gamma: f64,
    /// Diffusion time; `None` picks it from the entropy knee.
    pub t: Option<usize>,
    /// Largest t considered by the automatic choice.
    pub t_max: usize,
    /// Pick t from the entropy of every singular value at any size (above
    /// [`crate::diffusion::EXACT_LIMIT`] points the curve is otherwise estimated).
    pub exact_entropy: bool,
    pub dims: usize,
    /// SMACOF iterations at most, and the relative stress change that stops it.
    pub mds_iterations: usize,
    pub mds_tolerance: f64,
    /// Above this many points, diffuse between this many landmarks (0: never).
    pub landmarks: usize,
    /// Seed of the landmark clustering (the only randomness).
    pub seed: u64,
}

impl Default for PhateConfig {
    fn default() -> Self {
        PhateConfig {
            knn: 5,
            decay: 40.0,
            gamma: 1.0,
            t: None,
            t_max: 100,
            exact_entropy: false,
            dims: 3,
            mds_iterations: 3000,
            mds_tolerance: 1e-6,
            landmarks: 2000,
            seed: 0,
        }
    }
}

/// Largest diffusion time accepted.
pub const MAX_T: usize = 10_000;

impl PhateConfig {
    pub fn validate(&self) -> Result<(), ManifoldError> {
        let bad = |what: String| Err(ManifoldError::Config(what));
        if self.knn == 0 {
            return bad("knn must be at least 1".into());
        }
        if !(self.decay > 0.0 && self.decay.is_finite()) {
            return bad(format!("decay must be a positive number, got {}", self.decay));
        }
        if !(-1.0..=1.0).contains(&self.gamma) {
            return bad(format!("gamma must lie in [-1, 1], got {}", self.gamma));
        }
        if let Some(t) = self.t
            && !(1..=MAX_T).contains(&t)
        {
            return bad(format!("t must lie in 1..={MAX_T}, got {t}"));
        }
        if self.dims == 0 {
            return bad("dims must be at least 1".into());
        }
        if self.landmarks != 0 && self.landmarks < (self.dims + 1).max(4) {
            return bad(format!("landmarks must be 0 (none) or at least {}, got {}", (self.dims + 1).max(4), self.landmarks));
        }
        Ok(())
    }
}

/// Added before the logarithm of the potential.
const POTENTIAL_EPS: f64 = 1e-7;

#[derive(Clone, Debug)]
pub struct Phate {
    /// The diffusion time used.
    pub t: usize,
    /// Von Neumann entropy of P^(k+1) for k = 0..t_max (what t was picked
    /// from); empty when t was given.
    pub entropy: Vec<f64>,
    /// Where that entropy curve came from; `None` when t was given.
    pub t_source: Option<EntropySource>,
    /// Euclidean distances between rows of the potential, n x n (between
    /// landmarks, L x L, when landmarks were used).
    pub potential_distances: Mat<f64>,
    /// The embedding, n rows of `dims` coordinates.
    pub embedding: Vec<Vec<f64>>,
    /// SMACOF iterations run.
    pub mds_iterations: usize,
    /// Each point's landmark, when landmarks were used.
    pub landmark_of: Option<Vec<usize>>,
    /// Seconds spent in each step, in order.
    pub timings: Vec<(&'static str, f64)>,
}

/// Checks feature rows: all of one length, every value finite.
pub fn check_rows(rows: &[Vec<f64>]) -> Result<(), ManifoldError> {
    let d = rows.first().map_or(0, Vec::len);
    if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != d) {
        return Err(ManifoldError::RaggedRows { row, len: r.len(), expected: d });
    }
    if let Some(row) = rows.iter().position(|r| r.iter().any(|x| !x.is_finite())) {
        return Err(ManifoldError::NonFinite { row });
    }
    if !rows.is_empty() && d == 0 {
        return Err(ManifoldError::Degenerate(format!("the {} rows have no columns", rows.len())));
    }
    if rows.len() > 1 && rows.iter().all(|r| r == &rows[0]) {
        return Err(ManifoldError::Degenerate(format!("all {} rows are the same point", rows.len())));
    }
    Ok(())
}

/// Checks that `d` can be a distance matrix: square, finite, non-negative, zero diagonal.
pub fn check_distances(d: &Mat<f64>) -> Result<(), ManifoldError> {
    if d.nrows() != d.ncols() {
        return Err(ManifoldError::NotSquare { rows: d.nrows(), cols: d.ncols() });
    }
    for i in 0..d.nrows() {
        for j in 0..d.ncols() {
            let v = d[(i, j)];
            if !v.is_finite() || v < 0.0 || (i == j && v != 0.0) {
                return Err(ManifoldError::BadDistance { row: i, col: j, value: v });
            }
        }
    }
    // Rounding may differ between the triangles; a real asymmetry does not hide in the last bits.
    for i in 0..d.nrows() {
        for j in i + 1..d.ncols() {
            let (upper, lower) = (d[(i, j)], d[(j, i)]);
            if (upper - lower).abs() > 1e-9 * upper.max(lower) {
                return Err(ManifoldError::Asymmetric { row: i, col: j, upper, lower });
            }
        }
    }
    if d.nrows() > 1 && (0..d.nrows()).all(|i| (0..d.ncols()).all(|j| d[(i, j)] == 0.0)) {
        return Err(ManifoldError::Degenerate(format!("all {} points are at distance 0 from each other", d.nrows())));
    }
    Ok(())
}

/// Von Neumann entropy of `P^(k+1)` for k in 0..t_max, from P's singular
/// values, as the reference computes it (each probability gets +eps).
pub fn von_neumann_entropy(singular_values: &[f64], t_max: usize) -> Vec<f64> {
    weighted_entropy(&singular_values.iter().map(|&s| (s, 1.0)).collect::<Vec<_>>(), t_max)
}

/// The knee of `y` over `x = 0, 1, …`: the break point where two straight
/// lines fit best (sum of absolute residuals). Reproduces the reference's
/// fits exactly, including that the right-hand line is fitted from one
/// point before the break.
pub fn find_knee(y: &[f64]) -> usize {
    let errors = knee_errors(y);
    // The first minimum wins, as with numpy's argmin.
    let mut best = (f64::INFINITY, 1);
    for (b, &err) in (1..).zip(&errors) {
        if err < best.0 {
            best = (err, b);
        }
    }
    best.1
}

/// The two-line fit error of every candidate break `b` in `1..len - 1`
/// (entry `b - 1`): what [`find_knee`] minimises.
pub fn knee_errors(y: &[f64]) -> Vec<f64> {
    let len = y.len();
    assert!(len >= 3, "a knee needs at least 3 points");
    let x: Vec<f64> = (0..len).map(|i| i as f64).collect();
    // Least-squares line through points first..=last: (slope, intercept).
    let fit = |first: usize, last: usize| {
        let n = (last - first + 1) as f64;
        let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
        for i in first..=last {
            sx += x[i];
            sy += y[i];
            sxx += x[i] * x[i];
            sxy += x[i] * y[i];
        }
        let det = n * sxx - sx * sx;
        ((n * sxy - sx * sy) / det, -(sx * sxy - sxx * sy) / det)
    };
    (1..len - 1)
        .map(|b| {
            let (mf, bf) = fit(0, b);
            let (mb, bb) = fit(b - 1, len - 1);
            let forward: f64 = (0..=b).map(|i| (mf * x[i] + bf - y[i]).abs()).sum();
            let backward: f64 = (b..len).map(|i| (mb * x[i] + bb - y[i]).abs()).sum();
            forward + backward
        })
        .collect()
}

/// Classical MDS as the reference computes it (randomized PCA of the
/// double-centred squared distances `J D^2 J`, without the usual -1/2): the
/// eigenvectors of largest |eigenvalue|, sign-fixed as scikit-learn does,
/// scaled by their (signed) eigenvalue.
pub fn classical_mds(distances: &Mat<f64>, dims: usize) -> Result<Mat<f64>, ManifoldError> {
    let n = distances.nrows();
    // b_ij = s_ij - mean of row i - mean of column j + grand mean, s = D^2;
    // every pass runs down contiguous columns.
    let mut b = Mat::from_fn(n, n, |i, j| distances[(i, j)] * distances[(i, j)]);
    let col_mean: Vec<f64> = (0..n).map(|j| b.col(j).iter().sum::<f64>() / n as f64).collect();
    let mut row_mean = vec![0.0; n];
    for j in 0..n {
        row_mean.iter_mut().zip(b.col(j).iter()).for_each(|(m, v)| *m += v / n as f64);
    }
    let grand = col_mean.iter().sum::<f64>() / n as f64;
    for j in 0..n {
        b.col_mut(j).iter_mut().zip(&row_mean).for_each(|(v, r)| *v += grand - r - col_mean[j]);
    }
    let dims = dims.min(n);
    let (values, vectors) = top_eigenpairs(&b, dims)?;
    // Eigenvectors have no sign; take the reference's (scikit-learn's
    // svd_flip): the first entry of largest magnitude is positive.
    let signs: Vec<f64> = (0..dims)
        .map(|k| {
            let largest = (0..n).fold(0.0f64, |m, i| m.max(vectors[(i, k)].abs()));
            let pivot = (0..n).map(|i| vectors[(i, k)]).find(|v| v.abs() == largest).unwrap_or(1.0);
            if pivot < 0.0 { -1.0 } else { 1.0 }
        })
        .collect();
    // PCA's scores are U S = (sign(l) v) |l| = l v: the signed eigenvalue.
    Ok(Mat::from_fn(n, dims, |i, k| signs[k] * vectors[(i, k)] * values[k]))
}

/// The `k` eigenpairs of largest magnitude of a symmetric matrix, by
/// randomized subspace iteration (Halko et al. 2011; 10 extra directions,
/// 7 power iterations, as scikit-learn's randomized PCA that the reference
/// uses): a few products with the matrix instead of a full eigendecomposition.
/// Small matrices are decomposed exactly.
pub fn top_eigenpairs(b: &Mat<f64>, k: usize) -> Result<(Vec<f64>, Mat<f64>), ManifoldError> {
    let n = b.nrows();
    let numerics = |e: faer::linalg::evd::EvdError| ManifoldError::Numerics(format!("{e:?}"));
    let width = k + 10;
    if n <= 4 * width {
        let eig = b.self_adjoint_eigen(Side::Lower).map_err(numerics)?;
        let (u, s) = (eig.U(), eig.S().column_vector());
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &c| s[c].abs().total_cmp(&s[a].abs()));
        return Ok(((0..k).map(|j| s[order[j]]).collect(), Mat::from_fn(n, k, |i, j| u[(i, order[j])])));
    }
    // A fixed, well-spread start (no randomness needed for repeatable results).
    let mut q = Mat::from_fn(n, width, |i, j| ((i * 7919 + j * 104_729) % 2003) as f64 / 1001.0 - 1.0);
    for _ in 0..7 {
        q = (b * &q).qr().compute_thin_Q();
    }
    settle_vector_state();
    let small = q.transpose() * (b * &q);
    let small = Mat::from_fn(width, width, |i, j| 0.5 * (small[(i, j)] + small[(j, i)]));
    let eig = small.self_adjoint_eigen(Side::Lower).map_err(numerics)?;
    let (u, s) = (eig.U(), eig.S().column_vector());
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&a, &c| s[c].abs().total_cmp(&s[a].abs()));
    let vectors = &q * u;
    Ok(((0..k).map(|j| s[order[j]]).collect(), Mat::from_fn(n, k, |i, j| vectors[(i, order[j])])))
}

/// Metric MDS by SMACOF (Guttman transforms) from `init`, as scikit-learn
/// does it; stops when the stress falls by less than `tolerance` relative to
/// the embedding's scale. Returns the embedding and the iterations run.
///
/// One parallel pass over the pairs per iteration computes both the stress
/// of the current embedding and its Guttman transform; distances between
/// embedded points are computed on the fly, so memory stays at the input
/// plus O(n * dims).
pub fn smacof(distances: &Mat<f64>, init: Mat<f64>, max_iter: usize, tolerance: f64) -> (Mat<f64>, usize) {
    use rayon::prelude::*;
    let n = distances.nrows();
    let dims = init.ncols();
    // Coordinates by dimension, each contiguous, so the pass over all other
    // points vectorises.
    let mut x: Vec<Vec<f64>> = (0..dims).map(|k| init.col(k).iter().copied().collect()).collect();
    let to_mat = |x: &[Vec<f64>]| Mat::from_fn(n, dims, |i, k| x[k][i]);
    let mut old_stress: Option<f64> = None;
    for it in 0..=max_iter {
        let rows: Vec<(Vec<f64>, f64, f64)> = (0..n)
            .into_par_iter()
            .map_init(
                || vec![0.0; n],
                |scratch, i| guttman_row(i, &x, distances.col(i).try_as_col_major().expect("columns are contiguous").as_slice(), scratch),
            )
            .collect();
        if it > 0 {
            let stress: f64 = rows.iter().map(|r| r.1).sum();
            let norm: f64 = rows.iter().map(|r| r.2).sum();
            if let Some(old) = old_stress
                && (old - stress) / norm < tolerance
            {
                return (to_mat(&x), it);
            }
            old_stress = Some(stress);
        }
        if it == max_iter {
            break;
        }
        for (i, row) in rows.into_iter().enumerate() {
            for k in 0..dims {
                x[k][i] = row.0[k];
            }
        }
    }
    (to_mat(&x), max_iter)
}

/// Point `i`'s SMACOF pass: its Guttman update
/// `x_i <- (1/n) sum_j D_ij / d_ij (x_i - x_j)` (d = 0 read as 1e-5; the
/// j = i term is zero since D_ii = 0), and its pairs j > i of the stress
/// and of the scale. `target` is column i of D; `d` is scratch of length n.
fn guttman_row(i: usize, x: &[Vec<f64>], target: &[f64], d: &mut [f64]) -> (Vec<f64>, f64, f64) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        fn wide(i: usize, x: &[Vec<f64>], target: &[f64], d: &mut [f64]) -> (Vec<f64>, f64, f64) {
            guttman_row_body(i, x, target, d)
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { wide(i, x, target, d) };
        }
    }
    guttman_row_body(i, x, target, d)
}

/// Sums of `f(j)` over a range in four lanes, so that they vectorise.
#[inline(always)]
fn lane_sum(range: std::ops::Range<usize>, f: impl Fn(usize) -> f64) -> f64 {
    let mut lanes = [0.0; 4];
    let (start, end) = (range.start, range.end);
    let whole = start + (end - start) / 4 * 4;
    for j in (start..whole).step_by(4) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane += f(j + l);
        }
    }
    lanes.iter().sum::<f64>() + (whole..end).map(f).sum::<f64>()
}

#[inline(always)]
fn guttman_row_body(i: usize, x: &[Vec<f64>], target: &[f64], d: &mut [f64]) -> (Vec<f64>, f64, f64) {
    let n = target.len();
    d.iter_mut().for_each(|v| *v = 0.0);
    for xk in x {
        let xi = xk[i];
        d.iter_mut().zip(xk).for_each(|(v, xj)| *v += (xi - xj) * (xi - xj));
    }
    d.iter_mut().for_each(|v| *v = v.sqrt());
    let stress = lane_sum(i + 1..n, |j| (d[j] - target[j]) * (d[j] - target[j]));
    let norm = lane_sum(i + 1..n, |j| d[j] * d[j]);
    d.iter_mut().zip(target).for_each(|(v, t)| *v = t / if *v == 0.0 { 1e-5 } else { *v });
    let update = x.iter().map(|xk| lane_sum(0..n, |j| d[j] * (xk[i] - xk[j])) / n as f64).collect();
    (update, stress, norm)
}

/// The reference's last step (`scipy.spatial.procrustes(classic, y)`): `y`
/// centred, scaled to unit Frobenius norm, then rotated (or reflected) and
/// scaled onto the likewise standardised classical solution.
pub fn align_to(reference: &Mat<f64>, y: &Mat<f64>) -> Mat<f64> {
    let standardise = |m: &Mat<f64>| {
        let (n, d) = (m.nrows(), m.ncols());
        let mean: Vec<f64> = (0..d).map(|k| (0..n).map(|i| m[(i, k)]).sum::<f64>() / n as f64).collect();
        let c = Mat::from_fn(n, d, |i, k| m[(i, k)] - mean[k]);
        let norm = c.norm_l2();
        if norm > 0.0 { Mat::from_fn(n, d, |i, k| c[(i, k)] / norm) } else { c }
    };
    let (a, b) = (standardise(reference), standardise(y));
    let cross = a.transpose() * &b;
    let Ok(svd) = cross.svd() else { return b };
    let rotation = svd.U() * svd.V().transpose();
    let scale: f64 = (0..svd.S().column_vector().nrows()).map(|k| svd.S().column_vector()[k]).sum();
    let aligned = &b * rotation.transpose();
    Mat::from_fn(aligned.nrows(), aligned.ncols(), |i, k| aligned[(i, k)] * scale)
}

/// PHATE of points given by their pairwise distances.
pub fn phate_from_distances(distances: &Mat<f64>, config: &PhateConfig) -> Result<Phate, ManifoldError> {
    config.validate()?;
    check_distances(distances)?;
    check_count(distances.nrows())?;
    let started = Instant::now();
    let kernel = graph::kernel_from_distances(distances, config.knn, config.decay);
    run(kernel, config, ("kernel", started.elapsed().as_secs_f64()))
}

/// PHATE of feature rows (Euclidean distances between them).
pub fn phate(rows: &[Vec<f64>], config: &PhateConfig) -> Result<Phate, ManifoldError> {
    config.validate()?;
    check_rows(rows)?;
    check_count(rows.len())?;
    let started = Instant::now();
    let x = Mat::from_fn(rows.len(), rows[0].len(), |i, k| rows[i][k]);
    let kernel = graph::kernel_from_features(&x, config.knn, config.decay);
    run(kernel, config, ("kernel", started.elapsed().as_secs_f64()))
}

fn check_count(n: usize) -> Result<(), ManifoldError> {
    if n < 4 {
        return Err(ManifoldError::TooFewPoints { needed: 4, got: n });
    }
    Ok(())
}

/// Steps 2 to 5 on the symmetric kernel.
fn run(kernel: Sparse, config: &PhateConfig, kernel_time: (&'static str, f64)) -> Result<Phate, ManifoldError> {
    let mut timings = vec![kernel_time];
    let mut clock = Instant::now();
    let mut lap = |what: &'static str, timings: &mut Vec<(&'static str, f64)>| {
        timings.push((what, clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    let n = kernel.rows;
    let p = kernel.row_normalised();
    // With landmarks: their operator, and each point's (landmark, transitions) to come back.
    let (operator, landmarks) = if config.landmarks > 0 && n > config.landmarks {
        let landmark::Landmarks { cluster, transitions, operator } =
            landmark::landmarks(&kernel, &p, config.landmarks, config.seed, &mut |step| lap(step, &mut timings))?;
        (operator, Some((cluster, transitions)))
    } else {
        let degrees = kernel.row_sums();
        (Diffusion::new(p, degrees), None)
    };
    drop(kernel);
    let mut t_source = None;
    let (t, entropy) = match config.t {
        Some(t) => (t, Vec::new()),
        None => {
            let choice = operator.choose_t(config.t_max.max(3), config.exact_entropy, config.seed, EXACT_FALLBACK_LIMIT)?;
            lap("entropy (automatic t)", &mut timings);
            t_source = Some(choice.source);
            (choice.t, choice.entropy)
        }
    };
    let pt = operator.power(t);
    drop(operator);
    lap("diffusion P^t", &mut timings);
    let mut potential = pt;
    let gamma = config.gamma;
    if gamma == 1.0 {
        par_update(&mut potential, |_, _, x| -(x.max(0.0) + POTENTIAL_EPS).ln());
    } else if gamma != -1.0 {
        let c = (1.0 - gamma) / 2.0;
        par_update(&mut potential, |_, _, x| x.max(0.0).powf(c) / c);
    }
    let potential_distances = row_distances(potential);
    lap("potential distances", &mut timings);
    let classic = classical_mds(&potential_distances, config.dims)?;
    lap("classical MDS", &mut timings);
    let (y, iterations) = smacof(&potential_distances, classic.clone(), config.mds_iterations, config.mds_tolerance);
    let y = align_to(&classic, &y);
    lap("metric MDS (SMACOF)", &mut timings);
    let y = match &landmarks {
        Some((_, transitions)) => transitions.mul_dense(&y),
        None => y,
    };
    let embedding = (0..n).map(|i| (0..y.ncols()).map(|k| y[(i, k)]).collect()).collect();
    Ok(Phate {
        t,
        entropy,
        t_source,
        potential_distances,
        embedding,
        mds_iterations: iterations,
        landmark_of: landmarks.map(|(cluster, _)| cluster),
        timings,
    })
}

/// Coordinates for a new point from its distances to every embedded point,
/// without moving them: its alpha-decay affinities (bandwidth: its `knn`-th
/// nearest embedded point), normalised to transition probabilities, average
/// the embedded coordinates. This is the reference's `transform` for new
/// data; with landmarks it is the same, since the embedded coordinates are
/// themselves transitions times landmark coordinates.
pub fn extend(distances: &[f64], embedding: &[Vec<f64>], knn: usize, decay: f64) -> Result<Vec<f64>, ManifoldError> {
    if distances.len() != embedding.len() {
        return Err(ManifoldError::RaggedRows { row: 0, len: distances.len(), expected: embedding.len() });
    }
    if let Some(j) = distances.iter().position(|d| !d.is_finite() || *d < 0.0) {
        return Err(ManifoldError::BadDistance { row: 0, col: j, value: distances[j] });
    }
    if embedding.is_empty() {
        return Err(ManifoldError::TooFewPoints { needed: 1, got: 0 });
    }
    let candidates: Vec<(usize, f64)> = distances.iter().copied().enumerate().collect();
    let weights = graph::decay_row(&candidates, knn.clamp(1, distances.len()), decay, false);
    let total: f64 = weights.iter().map(|w| w.1).sum();
    let dims = embedding[0].len();
    Ok((0..dims).map(|k| weights.iter().map(|&(j, w)| w * embedding[j][k]).sum::<f64>() / total).collect())
}
