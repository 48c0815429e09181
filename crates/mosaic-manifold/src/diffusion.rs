//! The diffusion operator under PHATE, kept sparse (`P = D^-1 K` itself,
//! or landmark -> points -> landmark), with the stationary weights that make
//! it reversible. Two things PHATE
//! needs from it are computed here without any dense n x n decomposition:
//!
//! - **the von Neumann entropy curve** of P's singular values, for the
//!   automatic t: exactly (all singular values) for small operators; above
//!   [`EXACT_LIMIT`] by stochastic Lanczos quadrature (Ubaru, Chen & Saad
//!   2017) with deflation: the leading singular values, which decide the
//!   entropy at large t, come exactly from a Lanczos run, and only the bulk
//!   under them, which matters at small t where it holds thousands of
//!   values, is estimated from random probes;
//! - **P^t**, through its symmetric conjugate `A = diag(r) P diag(1/r)`
//!   (`r = sqrt(pi)`): every power of A is symmetric, so any product of two
//!   powers computes one triangle. Low powers are formed sparse while they
//!   stay sparse, products by them run through the sparse matrix where that
//!   is cheaper, and the route to t is the cheapest addition chain over
//!   those costs (5 dense products for t = 15 where doubling takes 6).
//!   All entries are non-negative, so single precision loses no digits to
//!   cancellation: each entry keeps a relative error near 1e-6 (far inside
//!   what the potential's logarithm can show, see the fidelity test).

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, Mat, MatRef, Par, Side};
use rayon::prelude::*;

use crate::ManifoldError;
use crate::dense::{clear_upper_vector_state, par_update, settle_vector_state, symmetric_product};
use crate::graph::Sparse;
use crate::landmark::SplitMix;

/// Up to this size the entropy comes from every singular value.
pub const EXACT_LIMIT: usize = 1000;
/// Lanczos steps of the run whose converged Ritz values are taken exactly.
const LEADING_STEPS: usize = 300;
/// A Ritz value counts as converged when its residual is below this
/// (relative to the largest).
const CONVERGED: f64 = 1e-7;
/// Random probes, and Lanczos steps per probe, for the bulk of the spectrum.
/// On the branching test sets the quadrature had settled by 12 steps; what
/// error is left is the probes' variance, so probes are worth more than steps.
const PROBES: usize = 40;
const PROBE_STEPS: usize = 16;

/// A reversible diffusion operator, sparse.
#[derive(Clone, Debug)]
pub struct Diffusion {
    p: Sparse,
    transposed: Sparse,
    /// Stationary weights: `pi_i P_ij = pi_j P_ji`.
    stationary: Vec<f64>,
}

impl Diffusion {
    /// `stationary` must make `p` reversible (for `P = D^-1 K` it is the
    /// kernel's degrees).
    pub fn new(p: Sparse, stationary: Vec<f64>) -> Diffusion {
        assert_eq!(p.rows, p.cols, "P must be square");
        assert_eq!(stationary.len(), p.rows);
        let transposed = p.transpose();
        Diffusion { p, transposed, stationary }
    }

    pub fn dim(&self) -> usize {
        self.stationary.len()
    }

    /// `P` as a dense matrix.
    pub fn to_dense(&self) -> Mat<f64> {
        self.p.to_dense()
    }

    /// The von Neumann entropy of `P^(k+1)` for k in 0..t_max (see the
    /// module): exact up to [`EXACT_LIMIT`] or when asked, else estimated
    /// with [`PROBES`] probes.
    pub fn entropy(&self, t_max: usize, exact: bool, seed: u64) -> Result<Vec<f64>, ManifoldError> {
        if exact || self.dim() <= EXACT_LIMIT {
            return self.exact_entropy(t_max);
        }
        Ok(weighted_entropy(&SpectrumEstimate::new(self, seed)?.spectrum(None), t_max))
    }

    /// The entropy curve from every singular value.
    pub fn exact_entropy(&self, t_max: usize) -> Result<Vec<f64>, ManifoldError> {
        Ok(weighted_entropy(&singular_values(&self.to_dense())?.into_iter().map(|s| (s, 1.0)).collect::<Vec<_>>(), t_max))
    }

    /// The automatic t: the knee of the entropy curve. Exact up to
    /// [`EXACT_LIMIT`] or when asked; above, the estimated curve's knee is
    /// kept only when every other break fits worse by [`KNEE_CONFIDENCE`]
    /// jackknife standard errors (one probe left out at a time). An unclear
    /// knee is settled by the exact curve up to `exact_fallback_limit`
    /// points (PHATE passes [`EXACT_FALLBACK_LIMIT`], which every landmark
    /// operator of the default 2,000 lies under), above it by doubling the
    /// probes until the knee is clear or [`MAX_PROBES`] are spent.
    pub fn choose_t(&self, t_max: usize, exact: bool, seed: u64, exact_fallback_limit: usize) -> Result<TChoice, ManifoldError> {
        let exact_choice = |source| -> Result<TChoice, ManifoldError> {
            let entropy = self.exact_entropy(t_max)?;
            Ok(TChoice { t: crate::phate::find_knee(&entropy), entropy, source, margin: f64::INFINITY })
        };
        if exact || self.dim() <= EXACT_LIMIT {
            return exact_choice(EntropySource::Exact);
        }
        let mut estimate = SpectrumEstimate::new(self, seed)?;
        loop {
            let entropy = weighted_entropy(&estimate.spectrum(None), t_max);
            let replicates: Vec<Vec<f64>> =
                (0..estimate.probes.len()).into_par_iter().map(|r| weighted_entropy(&estimate.spectrum(Some(r)), t_max)).collect();
            let (t, margin) = knee_margin(&entropy, &replicates);
            let probes = estimate.probes.len();
            if margin >= KNEE_CONFIDENCE {
                return Ok(TChoice { t, entropy, source: EntropySource::Estimated { probes }, margin });
            }
            if self.dim() <= exact_fallback_limit {
                return exact_choice(EntropySource::ExactFallback { probes, margin });
            }
            if probes >= MAX_PROBES {
                return Ok(TChoice { t, entropy, source: EntropySource::Estimated { probes }, margin });
            }
            estimate.add_probes(self, probes.min(MAX_PROBES - probes))?;
        }
    }

    /// `P^t` as a dense matrix (see the module).
    pub fn power(&self, t: usize) -> Mat<f64> {
        assert!(t >= 1, "P^0 is not asked for");
        let n = self.dim();
        let r: Vec<f64> = self.stationary.iter().map(|p| p.sqrt()).collect();
        // A = diag(r) P diag(1/r), symmetric up to rounding: averaged with its transpose.
        let a = self.p.scaled(|i, j, v| 0.5 * v * (r[i] / r[j])).plus_transpose();
        // Low powers of A are formed sparse while they stay sparse (their
        // fill-in costs little to compute), since a product by a sparse
        // power is cheaper than a dense one.
        let mut sparse = vec![a];
        while sparse.len() < t && sparse[sparse.len() - 1].nnz() * SPARSE_POWER_FILL < n * n {
            let next = sparse[sparse.len() - 1].mul_sparse(&sparse[0]);
            sparse.push(next);
        }
        // A product by the sparse A^k costs 2 nnz(A^k) n, a half product n^3
        // when dense (about 4e9 and 2e11 flop/s here).
        let half_cost = (n as f64).powi(3) / 2e11;
        let by_sparse: Vec<f64> = sparse.iter().map(|s| 2.0 * s.nnz() as f64 * n as f64 / 4e9).collect();
        let chain = PowerChain::cheapest(t, &by_sparse, half_cost);
        let dense_power = |k: usize| flushed(sparse[k - 1].to_dense_f32());
        let mut x = dense_power(chain.start);
        let mut value = chain.start;
        // Powers on the way that later steps multiply by as dense matrices.
        let mut kept: Vec<(usize, Mat<f32>)> = Vec::new();
        for (step, &(factor, through_sparse)) in chain.steps.iter().enumerate() {
            let used_later = |v: usize| chain.steps[step + 1..].iter().any(|&(f, sparse)| f == v && !sparse);
            if used_later(value) {
                kept.push((value, x.clone()));
            }
            x = flushed(if through_sparse {
                sparse[factor - 1].mul_symmetric_f32(&x)
            } else if factor == value {
                symmetric_product(x.as_ref(), x.as_ref())
            } else if let Some((_, m)) = kept.iter().find(|k| k.0 == factor) {
                symmetric_product(x.as_ref(), m.as_ref())
            } else {
                symmetric_product(x.as_ref(), dense_power(factor).as_ref())
            });
            value += factor;
            kept.retain(|k| used_later(k.0));
        }
        debug_assert_eq!(value, t);
        let inverse: Vec<f64> = r.iter().map(|v| v.recip()).collect();
        let mut out = Mat::<f64>::zeros(n, n);
        par_update(&mut out, |i, j, _| x[(i, j)] as f64 * (r[j] * inverse[i]));
        out
    }
}

/// Up to this size an unclear estimated knee is settled by the exact curve.
pub const EXACT_FALLBACK_LIMIT: usize = 4000;
/// An estimated knee is kept when every other break of the two-line fit
/// fits worse by this many jackknife standard errors.
pub const KNEE_CONFIDENCE: f64 = 3.0;
/// Most probes an unclear knee gets above the exact fallback.
pub const MAX_PROBES: usize = 320;

/// Where the automatic t's entropy curve came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EntropySource {
    /// Every singular value.
    Exact,
    /// Estimated with this many probes, the knee clear of the estimate's
    /// noise (or, above the exact fallback, the most probes allowed).
    Estimated { probes: usize },
    /// Every singular value, since the knee estimated with `probes` probes
    /// beat another break by only `margin` standard errors.
    ExactFallback { probes: usize, margin: f64 },
}

/// The automatic t and how it was found.
#[derive(Clone, Debug)]
pub struct TChoice {
    pub t: usize,
    /// The entropy of `P^(k+1)` for k in 0..t_max that t is the knee of.
    pub entropy: Vec<f64>,
    pub source: EntropySource,
    /// By how many jackknife standard errors the estimated knee beat the
    /// nearest other break (infinite for an exact curve).
    pub margin: f64,
}

/// The knee of `curve` (as [`crate::phate::find_knee`]) and by how many
/// jackknife standard errors it beats every other break: for each other
/// break b, the difference of two-line fit errors `e(b) - e(knee)` over the
/// jackknife standard error of that difference across `replicates` (the
/// curve recomputed with one probe left out each). Infinite with fewer than
/// two replicates; a difference that does not vary counts as infinitely
/// sure when positive, not at all when zero.
pub fn knee_margin(curve: &[f64], replicates: &[Vec<f64>]) -> (usize, f64) {
    let knee = crate::phate::find_knee(curve);
    if replicates.len() < 2 {
        return (knee, f64::INFINITY);
    }
    let errors = crate::phate::knee_errors(curve);
    let replicate_errors: Vec<Vec<f64>> = replicates.iter().map(|r| crate::phate::knee_errors(r)).collect();
    let m = replicates.len() as f64;
    let k = knee - 1;
    let mut margin = f64::INFINITY;
    for b in (0..errors.len()).filter(|&b| b != k) {
        let gap = errors[b] - errors[k];
        let gaps: Vec<f64> = replicate_errors.iter().map(|e| e[b] - e[k]).collect();
        let mean = gaps.iter().sum::<f64>() / m;
        let se = ((m - 1.0) / m * gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>()).sqrt();
        let z = if se > 0.0 {
            gap / se
        } else if gap > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        margin = margin.min(z);
    }
    (knee, margin)
}

/// The estimated spectrum of P: the converged leading singular values
/// exactly, and each probe's quadrature nodes of the rest.
struct SpectrumEstimate {
    leading: Vec<(f64, f64)>,
    /// Orthonormal basis of the leading singular vectors, kept out of the probes.
    deflation: Mat<f64>,
    /// Each probe's (node, weight): weight `|z|^2 e1_j^2`, so the count of
    /// singular values a node stands for is its weight over the probe count.
    probes: Vec<Vec<(f64, f64)>>,
    rng: SplitMix,
}

impl SpectrumEstimate {
    /// The leading Lanczos run and the first [`PROBES`] probes.
    fn new(op: &Diffusion, seed: u64) -> Result<SpectrumEstimate, ManifoldError> {
        let n = op.dim();
        let gram = |x: &Mat<f64>| op.p.mul_dense(&op.transposed.mul_dense(x));
        let mut rng = SplitMix(seed ^ 0x1A9C_2E05);
        let start = Mat::from_fn(n, 1, |_, _| rng.symmetric());
        let leading = lanczos(&gram, start, LEADING_STEPS.min(n), None)?.pop().expect("one run");
        let largest = leading.values.iter().copied().fold(0.0, f64::max);
        let converged: Vec<usize> = (0..leading.values.len()).filter(|&j| leading.residuals[j] <= CONVERGED * largest).collect();
        let vectors = Mat::from_fn(leading.basis.ncols(), converged.len(), |i, c| leading.vectors[(i, converged[c])]);
        let deflation = &leading.basis * &vectors;
        let leading = converged.iter().map(|&j| (leading.values[j].max(0.0).sqrt(), 1.0)).collect();
        let rng = SplitMix(seed.wrapping_mul(0x9E37_79B9).wrapping_add(1));
        let mut estimate = SpectrumEstimate { leading, deflation, probes: Vec::new(), rng };
        estimate.add_probes(op, PROBES)?;
        Ok(estimate)
    }

    /// `count` more Rademacher probes; each run's quadrature estimates
    /// z^T f(M) z over the rest of the spectrum.
    fn add_probes(&mut self, op: &Diffusion, count: usize) -> Result<(), ManifoldError> {
        let n = op.dim();
        let rest = n - self.leading.len();
        if rest == 0 || count == 0 {
            return Ok(());
        }
        let gram = |x: &Mat<f64>| op.p.mul_dense(&op.transposed.mul_dense(x));
        let rng = &mut self.rng;
        let probes = Mat::from_fn(n, count, |_, _| if rng.next() & 1 == 0 { -1.0 } else { 1.0 });
        for run in lanczos(&gram, probes, PROBE_STEPS.min(rest), Some(self.deflation.as_ref()))? {
            let norm2 = run.start_norm * run.start_norm;
            self.probes.push((0..run.values.len()).map(|j| (run.values[j].max(0.0).sqrt(), norm2 * run.first[j] * run.first[j])).collect());
        }
        Ok(())
    }

    /// Singular values with the number of singular values each stands for,
    /// from every probe or from all but one.
    fn spectrum(&self, leave_out: Option<usize>) -> Vec<(f64, f64)> {
        let used = self.probes.len() - usize::from(leave_out.is_some());
        let mut spectrum = self.leading.clone();
        for (r, probe) in self.probes.iter().enumerate() {
            if Some(r) != leave_out {
                spectrum.extend(probe.iter().map(|&(s, w)| (s, w / used as f64)));
            }
        }
        spectrum
    }
}

/// Powers of A are kept sparse while under 1 / this of their entries are set.
const SPARSE_POWER_FILL: usize = 16;

/// How A^t is reached: from the power `start` (one of the sparse low
/// powers), each step multiplies the current power by A^factor, where the
/// factor is a sparse low power or a power met earlier on the way (a star
/// addition chain); a squaring is a step whose factor is the current power.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerChain {
    pub start: usize,
    /// Each step's factor, and whether the product goes through its sparse form.
    pub steps: Vec<(usize, bool)>,
}

impl PowerChain {
    /// The cheapest chain to `t` given the cost of a product by each sparse
    /// power (`by_sparse[k - 1]` for A^k) and of a dense product: a
    /// depth-first search bounded by the best chain found so far, which
    /// stops after a fixed number of visits and keeps the best.
    pub fn cheapest(t: usize, by_sparse: &[f64], half_cost: f64) -> PowerChain {
        assert!(t >= 1 && !by_sparse.is_empty());
        let low = by_sparse.len();
        if t <= low {
            return PowerChain { start: t, steps: vec![] };
        }
        let cheapest_step = by_sparse.iter().copied().fold(half_cost, f64::min);
        let mut search = ChainSearch { t, by_sparse, half_cost, cheapest_step, budget: 200_000, values: Vec::new(), best: None };
        for start in (1..=low).rev() {
            search.values = vec![start];
            search.visit(0.0);
        }
        let (_, values) = search.best.take().expect("doubling reaches any t");
        let steps = values.windows(2).map(|w| (w[1] - w[0], search.step_cost(w[1] - w[0]).1)).collect();
        PowerChain { start: values[0], steps }
    }
}

struct ChainSearch<'a> {
    t: usize,
    by_sparse: &'a [f64],
    half_cost: f64,
    /// The cheapest product of all, for the search's bound.
    cheapest_step: f64,
    budget: usize,
    /// The powers reached so far, ascending.
    values: Vec<usize>,
    best: Option<(f64, Vec<usize>)>,
}

impl ChainSearch<'_> {
    /// A product by A^factor: its cost, and whether it goes through the sparse power.
    fn step_cost(&self, factor: usize) -> (f64, bool) {
        match self.by_sparse.get(factor - 1) {
            Some(&c) if c < self.half_cost => (c, true),
            _ => (self.half_cost, false),
        }
    }

    fn visit(&mut self, cost: f64) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let current = self.values[self.values.len() - 1];
        if current == self.t {
            if self.best.as_ref().is_none_or(|b| cost < b.0) {
                self.best = Some((cost, self.values.clone()));
            }
            return;
        }
        // A step at most doubles the larger of the current power and the
        // largest sparse one, and costs at least the cheapest product.
        let (mut reach, mut steps) = (current.max(self.by_sparse.len()), 1);
        while 2 * reach < self.t {
            reach *= 2;
            steps += 1;
        }
        if self.best.as_ref().is_some_and(|b| cost + steps as f64 * self.cheapest_step >= b.0) {
            return;
        }
        let mut factors: Vec<usize> =
            self.values.iter().copied().chain(1..=self.by_sparse.len()).filter(|&f| current + f <= self.t).collect();
        factors.sort_unstable_by(|a, b| b.cmp(a));
        factors.dedup();
        for factor in factors {
            self.values.push(current + factor);
            self.visit(cost + self.step_cost(factor).0);
            self.values.pop();
        }
    }
}

/// Entries of a power of A below this are set to zero: a product of two
/// of them would be subnormal in single precision, which slows the products
/// several times over, and together they move no entry of P^t by more than
/// n * 1e-19 * max(r) / min(r), far under the potential's 1e-7.
const TINY: f32 = 2e-19;

fn flushed(mut x: Mat<f32>) -> Mat<f32> {
    par_update(&mut x, |_, _, v| if v < TINY { 0.0 } else { v });
    x
}

/// Singular values of a square operator, from the eigenvalues of `M M^T`
/// (a symmetric eigenvalue problem is about three times cheaper than an SVD).
pub fn singular_values(m: &Mat<f64>) -> Result<Vec<f64>, ManifoldError> {
    let gram = m * m.transpose();
    let values = gram.self_adjoint_eigenvalues(Side::Lower).map_err(|e| ManifoldError::Numerics(format!("{e:?}")))?;
    let mut s: Vec<f64> = values.iter().map(|v| v.max(0.0).sqrt()).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    Ok(s)
}

/// Von Neumann entropy of `P^(k+1)` for k in 0..t_max from singular values
/// `s` that each stand for `w` values: `-sum w (p + eps) ln(p + eps)` with
/// `p = s^t / sum w s^t`. With every weight 1 this is the reference's
/// computation exactly (each probability gets +eps).
pub fn weighted_entropy(spectrum: &[(f64, f64)], t_max: usize) -> Vec<f64> {
    let mut powered: Vec<f64> = spectrum.iter().map(|s| s.0).collect();
    (0..t_max)
        .map(|_| {
            let sum: f64 = powered.iter().zip(spectrum).map(|(p, s)| p * s.1).sum();
            let h = -powered
                .iter()
                .zip(spectrum)
                .map(|(x, s)| {
                    let p = x / sum + f64::EPSILON;
                    s.1 * p * p.ln()
                })
                .sum::<f64>();
            powered.iter_mut().zip(spectrum).for_each(|(p, s)| *p *= s.0);
            h
        })
        .collect()
}

/// What a Lanczos run leaves: the Ritz values, the first components of
/// their vectors in the Krylov basis (quadrature weights), their residual
/// norms, the vectors themselves and the basis.
struct Lanczos {
    values: Vec<f64>,
    first: Vec<f64>,
    residuals: Vec<f64>,
    vectors: Mat<f64>,
    basis: Mat<f64>,
    start_norm: f64,
}

/// Independent Lanczos runs on the symmetric `op`, one from each column of
/// `starts`, side by side: one product by the operator serves every run's
/// step. At most `steps` steps; fully reorthogonalised (one classical
/// Gram-Schmidt pass after the three-term recurrence) and, when given,
/// kept out of the span of the orthonormal columns of `deflate`.
fn lanczos(
    op: &impl Fn(&Mat<f64>) -> Mat<f64>,
    starts: Mat<f64>,
    steps: usize,
    deflate: Option<MatRef<'_, f64>>,
) -> Result<Vec<Lanczos>, ManifoldError> {
    let (n, runs) = (starts.nrows(), starts.ncols());
    let steps = steps.max(1);
    let remove = |w: &mut Mat<f64>, q: MatRef<'_, f64>| {
        let h = q.transpose() * w.as_ref();
        matmul(w.as_mut(), Accum::Add, q, h.as_ref(), -1.0, Par::rayon(0));
        settle_vector_state();
    };
    let mut v = starts;
    if let Some(u) = deflate {
        remove(&mut v, u);
        remove(&mut v, u);
    }
    let start_norm: Vec<f64> = (0..runs).map(|r| v.col(r).norm_l2()).collect();
    // Run r's basis vector k is column k of bases[r].
    let mut bases: Vec<Mat<f64>> = (0..runs).map(|_| Mat::zeros(n, steps)).collect();
    let mut alive: Vec<bool> = start_norm.iter().map(|&s| s > 0.0).collect();
    for (r, basis) in bases.iter_mut().enumerate() {
        if alive[r] {
            basis.col_mut(0).copy_from(v.col(r) * (1.0 / start_norm[r]));
        }
    }
    let (mut alpha, mut beta) = (vec![Vec::with_capacity(steps); runs], vec![Vec::with_capacity(steps); runs]);
    for k in 0..steps {
        if !alive.iter().any(|&a| a) {
            break;
        }
        let current = Mat::from_fn(n, runs, |i, r| bases[r][(i, k)]);
        let mut w = op(&current);
        if let Some(u) = deflate {
            remove(&mut w, u);
        }
        // Each run's recurrence and reorthogonalisation (sequential products: runs go in parallel).
        let next: Vec<Option<(f64, f64, Col<f64>)>> = (0..runs)
            .into_par_iter()
            .map(|r| {
                if !alive[r] {
                    return None;
                }
                let basis = bases[r].as_ref();
                let mut w = w.col(r).to_owned();
                let a = basis.col(k).transpose() * &w;
                w -= basis.col(k) * a;
                if k > 0 {
                    w -= basis.col(k - 1) * beta[r][k - 1];
                }
                let q = basis.subcols(0, k + 1);
                let mut h = Col::<f64>::zeros(k + 1);
                matmul(h.as_mat_mut(), Accum::Replace, q.transpose(), w.as_mat(), 1.0, Par::Seq);
                matmul(w.as_mat_mut(), Accum::Add, q, h.as_mat(), -1.0, Par::Seq);
                clear_upper_vector_state();
                let b = w.norm_l2();
                Some((a, b, w))
            })
            .collect();
        for (r, step) in next.into_iter().enumerate() {
            let Some((a, b, w)) = step else { continue };
            alpha[r].push(a);
            beta[r].push(b);
            let scale = alpha[r].iter().fold(0.0f64, |m, a| m.max(a.abs())).max(f64::MIN_POSITIVE);
            if k + 1 == steps || b <= 1e-12 * scale {
                alive[r] = false;
            } else {
                bases[r].col_mut(k + 1).copy_from(&w * (1.0 / b));
            }
        }
    }
    bases
        .into_iter()
        .zip(alpha.iter().zip(&beta))
        .zip(start_norm)
        .map(|((basis, (alpha, beta)), start_norm)| {
            let m = alpha.len();
            if m == 0 {
                // A start inside the deflated span: nothing left to measure.
                return Ok(Lanczos {
                    values: vec![],
                    first: vec![],
                    residuals: vec![],
                    vectors: Mat::zeros(0, 0),
                    basis: Mat::zeros(n, 0),
                    start_norm,
                });
            }
            let basis = basis.subcols(0, m).to_owned();
            let tri = Mat::from_fn(m, m, |i, j| match i.abs_diff(j) {
                0 => alpha[i],
                1 => beta[i.min(j)],
                _ => 0.0,
            });
            let eig = tri.self_adjoint_eigen(Side::Lower).map_err(|e| ManifoldError::Numerics(format!("{e:?}")))?;
            let (u, s) = (eig.U(), eig.S().column_vector());
            let last_beta = beta.last().copied().unwrap_or(0.0);
            Ok(Lanczos {
                values: (0..m).map(|j| s[j]).collect(),
                first: (0..m).map(|j| u[(0, j)]).collect(),
                residuals: (0..m).map(|j| (last_beta * u[(m - 1, j)]).abs()).collect(),
                vectors: u.to_owned(),
                basis,
                start_norm,
            })
        })
        .collect()
}
