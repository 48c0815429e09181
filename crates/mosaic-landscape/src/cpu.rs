//! The CPU surface engine: the same forward pass as [`crate::surface`], on
//! plain row-major f32 buffers with faer's matrix products, one grid point
//! per task on every core.
//!
//! Burn's tensors pay for generality at this size (a 2,000 x 64 activation
//! is small; allocation, broadcasting copies and dispatch dominate), so the
//! CPU path fuses each layer's bias, norm and activation into one pass over a
//! reused buffer. The first layer's products with the weights and both
//! directions are shared by all grid points. Convolutional networks take
//! their own path (`conv`). Tests hold it equal to the burn engine and to
//! the trainer's own network.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use mosaic_core::Activation;
use mosaic_train::checkpoint::Arrays;
use mosaic_train::data::Dataset;
use rayon::prelude::*;

use crate::LandscapeError;
use crate::net::{NORM_EPSILON, Net, NormLayer, Skip};
use crate::surface::{Axis, Surface, grid_points, validate};

mod conv;

/// One parameter and its two direction components (`None`: not moved).
struct Moving<'a> {
    base: &'a [f32],
    d1: Option<&'a [f32]>,
    d2: Option<&'a [f32]>,
}

impl<'a> Moving<'a> {
    fn new(weights: &'a Arrays, d1: &'a Arrays, d2: Option<&'a Arrays>, name: &str) -> Self {
        let moved = |d: &'a Arrays| Some(d[name].1.as_slice()).filter(|v| v.iter().any(|x| *x != 0.0));
        Moving { base: &weights[name].1, d1: moved(d1), d2: d2.and_then(moved) }
    }

    /// `base + a d1 + b d2` into `out`.
    fn at(&self, a: f32, b: f32, out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(self.base);
        if let Some(d) = self.d1 {
            out.iter_mut().zip(d).for_each(|(o, d)| *o += a * d);
        }
        if let Some(d) = self.d2 {
            out.iter_mut().zip(d).for_each(|(o, d)| *o += b * d);
        }
    }
}

/// A block's parameters, resolved once.
struct BlockParams<'a> {
    weight: Moving<'a>,
    bias: Option<Moving<'a>>,
    inp: usize,
    out: usize,
    norm: Option<NormParams<'a>>,
    skip: SkipParams<'a>,
}

enum NormParams<'a> {
    Layer {
        gamma: Moving<'a>,
        beta: Moving<'a>,
    },
    /// Running statistics are never moved: `1 / sqrt(var + eps)` once.
    Batch {
        gamma: Moving<'a>,
        beta: Moving<'a>,
        mean: &'a [f32],
        inv_std: Vec<f32>,
    },
}

enum SkipParams<'a> {
    None,
    Identity,
    Projection(Moving<'a>),
}

/// Per-thread buffers, reused across grid points.
#[derive(Default)]
struct Scratch {
    params: Vec<PointParams>,
    row: RowScratch,
    h: Vec<f32>,
    next: Vec<f32>,
    projected: Vec<f32>,
}

/// Evaluates `net` on `data` at every grid point; see [`crate::surface::surface`].
#[allow(clippy::too_many_arguments)]
pub fn surface_cpu(
    net: &Net,
    d1: &Arrays,
    d2: Option<&Arrays>,
    x_axis: Axis,
    y_axis: Option<Axis>,
    data: &Dataset,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Surface, LandscapeError> {
    validate(net, d1, d2, y_axis, data)?;
    if net.convolutional {
        return conv::surface_conv(net, d1, d2, x_axis, y_axis, data, progress, cancel);
    }
    let (xs, ys, points) = grid_points(x_axis, y_axis);
    let n = data.len();
    let layers = block_params(net, &net.weights, d1, d2);

    // The first layer's input is the data, the same at every grid point:
    // x W, x D1 and x D2 once, combined per point.
    let first = &layers[0];
    let product = |w: &[f32]| {
        let mut out = vec![0.0f32; n * first.out];
        mul(&data.features, n, first.inp, w, first.out, &mut out);
        out
    };
    let shared = [Some(product(first.weight.base)), first.weight.d1.map(product), first.weight.d2.map(product)];

    let report = reporter(progress, points.len());
    let results: Vec<Result<(f64, f64), LandscapeError>> = if row_sweep_applies(&layers, net.activation) {
        // A grid row at a time (see `evaluate_row`); rows are in `points` order.
        let a_values: Vec<f32> = xs.iter().map(|&a| a as f32).collect();
        let rows: Vec<f32> = points.chunks(a_values.len()).map(|row| row[0].1).collect();
        let per_row: Vec<Result<Vec<(f64, f64)>, LandscapeError>> = rows
            .par_iter()
            .map_init(Scratch::default, |s, &b| {
                if cancel.load(Ordering::Relaxed) {
                    return Err(LandscapeError::Cancelled);
                }
                let row = evaluate_row(&layers, &shared, data, &a_values, b, s);
                report(row.len());
                Ok(row)
            })
            .collect();
        let mut flat = Vec::with_capacity(points.len());
        for row in per_row {
            flat.extend(row?.into_iter().map(Ok));
        }
        flat
    } else {
        points
            .par_iter()
            .map_init(Scratch::default, |s, &(a, b)| {
                if cancel.load(Ordering::Relaxed) {
                    return Err(LandscapeError::Cancelled);
                }
                let r = evaluate_point(&layers, &shared, net.activation, data, a, b, s);
                report(1);
                Ok(r)
            })
            .collect()
    };
    into_surface(xs, ys, results)
}

/// Counts finished grid points, calling `progress` about every 64 and at the end.
fn reporter(progress: &(dyn Fn(usize, usize) + Sync), total: usize) -> impl Fn(usize) + Sync + '_ {
    let done = AtomicUsize::new(0);
    move |k| {
        let finished = done.fetch_add(k, Ordering::Relaxed) + k;
        if finished % 64 < k || finished == total {
            progress(finished, total);
        }
    }
}

/// Each grid point's `(loss, accuracy)`, in grid order, as a surface; the first error wins.
fn into_surface(x: Vec<f64>, y: Option<Vec<f64>>, results: Vec<Result<(f64, f64), LandscapeError>>) -> Result<Surface, LandscapeError> {
    let (mut loss, mut accuracy) = (Vec::with_capacity(results.len()), Vec::with_capacity(results.len()));
    for r in results {
        let (l, a) = r?;
        loss.push(l);
        accuracy.push(a);
    }
    Ok(Surface { x, y, loss, accuracy })
}

/// `net`'s hidden blocks, then its head as a block with no norm, activation
/// or skip, over `weights` (the network's own, or a relaid copy of them)
/// and the directions; a layer's `inp` and `out` are its weight matrix's rows and columns.
fn block_params<'a>(net: &Net, weights: &'a Arrays, d1: &'a Arrays, d2: Option<&'a Arrays>) -> Vec<BlockParams<'a>> {
    let moving = |name: &str| Moving::new(weights, d1, d2, name);
    let linear = |l: &crate::net::Linear| {
        let shape = &weights[&l.weight].0;
        (moving(&l.weight), l.bias.as_deref().map(moving), shape[0], shape[1])
    };
    let mut layers: Vec<BlockParams> = net
        .blocks
        .iter()
        .map(|b| {
            let (weight, bias, inp, out) = linear(&b.linear);
            let norm = b.norm.as_ref().map(|norm| match norm {
                NormLayer::Layer { gamma, beta } => NormParams::Layer { gamma: moving(gamma), beta: moving(beta) },
                NormLayer::Batch { gamma, beta, running_mean, running_var } => NormParams::Batch {
                    gamma: moving(gamma),
                    beta: moving(beta),
                    mean: &weights[running_mean].1,
                    inv_std: weights[running_var].1.iter().map(|v| 1.0 / (v + NORM_EPSILON).sqrt()).collect(),
                },
            });
            let skip = match &b.skip {
                Skip::None => SkipParams::None,
                Skip::Identity => SkipParams::Identity,
                Skip::Projection(p) => SkipParams::Projection(moving(p)),
            };
            BlockParams { weight, bias, inp, out, norm, skip }
        })
        .collect();
    let (weight, bias, inp, out) = linear(&net.head);
    layers.push(BlockParams { weight, bias, inp, out, norm: None, skip: SkipParams::None });
    layers
}

/// `out = lhs (rows x inner) * rhs (inner x cols)`, all row-major, on this thread.
fn mul(lhs: &[f32], rows: usize, inner: usize, rhs: &[f32], cols: usize, out: &mut [f32]) {
    let lhs = MatRef::from_row_major_slice(lhs, rows, inner);
    let rhs = MatRef::from_row_major_slice(rhs, inner, cols);
    let dst = MatMut::from_row_major_slice_mut(out, rows, cols);
    matmul(dst, Accum::Replace, lhs, rhs, 1.0f32, Par::Seq);
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_exp_and_erf_match_the_library_functions() {
        for i in -8700..=8800 {
            let y = i as f32 * 0.01;
            let (ours, std) = (super::exp(y), y.exp());
            assert!((ours - std).abs() <= 3e-7 * std, "exp({y}): {ours} vs {std}");
        }
        for i in -600..=600 {
            let x = i as f32 * 0.01;
            let (ours, lib) = (super::erf(x), libm_erf(x as f64));
            assert!((ours as f64 - lib).abs() <= 5e-7, "erf({x}): {ours} vs {lib}");
        }
    }

    #[test]
    fn fast_ln_1p_matches_the_library_function() {
        // Tiny arguments (where `1 + x` rounds away most of `x`), then up to 99 (a hundred classes).
        let tiny = (0..400).map(|i| 1e-12f32 * 1.07f32.powi(i));
        for x in tiny.chain((0..=99_000).map(|i| i as f32 * 1e-3)) {
            let (ours, lib) = (super::ln_1p(x) as f64, (x as f64).ln_1p());
            assert!((ours - lib).abs() <= 2e-7 * lib, "ln_1p({x}): {ours} vs {lib}");
        }
    }

    #[test]
    fn cross_entropy_matches_a_direct_f64_evaluation() {
        // Two classes (the branch-free pass) and five, over more than one chunk, ties included.
        for classes in [2usize, 5] {
            let n = 3 * super::LOSS_CHUNK + 7;
            let logits: Vec<f32> =
                (0..n * classes).map(|i| if i % 37 == 0 { 0.25 } else { ((i * 7919) % 2003) as f32 * 0.013 - 13.0 }).collect();
            let labels: Vec<u32> = (0..n).map(|i| ((i * 31) % classes) as u32).collect();
            let (mut want, mut right) = (0.0f64, 0usize);
            for (row, &label) in logits.chunks_exact(classes).zip(&labels) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let best = row.iter().position(|&v| v == max).unwrap();
                let sum: f64 = row.iter().map(|&v| ((v - max) as f64).exp()).sum();
                want += sum.ln() - (row[label as usize] - max) as f64;
                right += usize::from(best == label as usize);
            }
            let (got, correct) = super::cross_entropy(&logits, classes, &labels);
            assert!((got - want).abs() <= 1e-6 * want, "{classes} classes: {got} vs {want}");
            assert_eq!(correct, right, "{classes} classes");
        }
        // A tie between two classes goes to the first.
        assert_eq!(super::cross_entropy(&[1.0, 1.0, 2.0, 2.0], 2, &[0, 1]).1, 1);
    }

    #[test]
    fn the_step_kernels_agree() {
        // Widths with and without a tail past the last eight or sixteen, two classes (the shared pass) and three.
        for (width, classes) in [(64, 2), (37, 2), (5, 2), (64, 3), (21, 3)] {
            let value = |i: usize, scale: f32| ((i * 7919 + width) % 211) as f32 / 211.0 * scale - scale / 2.0;
            let sums_of = |offset: usize, scale: f32| (0..width).map(|k| value(k + offset, scale)).collect::<Vec<f32>>();
            let (sa, sb, sc) = (sums_of(0, 2.0), sums_of(1000, 1.0), sums_of(2000, 0.5));
            let head: Vec<f32> = (0..width * classes).map(|i| value(i + 3000, 1.0)).collect();
            let bias: Vec<f32> = (0..classes).map(|c| value(c + 4000, 0.2)).collect();
            let sums = super::Sums { a: &sa, b: &sb, c: &sc };
            let (mut hidden, mut want, mut got) = (vec![0.0; width], vec![0.0; classes], vec![0.0; classes]);
            for a in [-1.0f32, -0.3, 0.0, 0.7] {
                super::step_logits(sums, a, &head, &bias, &mut hidden, &mut want);
                super::step_kernel()(sums, a, &head, &bias, &mut hidden, &mut got);
                for (w, g) in want.iter().zip(&got) {
                    assert!((w - g).abs() <= 1e-5 * w.abs().max(1.0), "width {width}, {classes} classes, a = {a}: {want:?} vs {got:?}");
                }
                // Against the definition, in f64.
                for c in 0..classes {
                    let exact: f64 = (0..width)
                        .map(|k| (sa[k] as f64 + a as f64 * (sb[k] as f64 + a as f64 * sc[k] as f64)).max(0.0) * head[c * width + k] as f64)
                        .sum::<f64>()
                        + bias[c] as f64;
                    assert!((exact - got[c] as f64).abs() <= 1e-5 * exact.abs().max(1.0), "width {width}: {exact} vs {}", got[c]);
                }
            }
        }
    }

    /// erf by its Maclaurin series (|x| < 3) or 1 - erfc's continued fraction, in f64.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() < 3.0 {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term.abs() > 1e-17 * sum.abs().max(1e-300) {
                n += 1.0;
                term *= -x * x / n;
                sum += term / (2.0 * n + 1.0);
            }
            return sum * 2.0 / std::f64::consts::PI.sqrt();
        }
        let a = x.abs();
        let mut f = 0.0;
        for k in (1..60).rev() {
            f = k as f64 / 2.0 / (a + f);
        }
        let erfc = (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + f);
        (1.0 - erfc).copysign(x)
    }
}

/// Rows of the data pushed through the whole network at once: a tile's
/// activations (256 x width) stay in cache from layer to layer, where whole
/// 2,000-row layers went out to memory between each elementwise pass.
const TILE: usize = 256;

/// One grid point's parameters of one block.
#[derive(Default)]
struct PointParams {
    weight: Vec<f32>,
    bias: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    projection: Vec<f32>,
}

/// Fills `p` with block `block`'s parameters at `(a, b)`.
fn point_params(block: &BlockParams, a: f32, b: f32, p: &mut PointParams) {
    block.weight.at(a, b, &mut p.weight);
    match &block.bias {
        Some(bias) => bias.at(a, b, &mut p.bias),
        None => p.bias.clear(),
    }
    if let Some(NormParams::Layer { gamma, beta } | NormParams::Batch { gamma, beta, .. }) = &block.norm {
        gamma.at(a, b, &mut p.gamma);
        beta.at(a, b, &mut p.beta);
    }
    if let SkipParams::Projection(m) = &block.skip {
        m.at(a, b, &mut p.projection);
    }
}

/// Every layer's parameters at `(a, b)` into `params`, reusing its buffers.
fn layer_params(layers: &[BlockParams], a: f32, b: f32, params: &mut Vec<PointParams>) {
    params.resize_with(layers.len(), PointParams::default);
    for (block, p) in layers.iter().zip(params.iter_mut()) {
        point_params(block, a, b, p);
    }
}

/// Loss and accuracy at `w + a d1 + b d2`; `layers` ends with the head.
fn evaluate_point(
    layers: &[BlockParams],
    shared: &[Option<Vec<f32>>; 3],
    activation: Activation,
    data: &Dataset,
    a: f32,
    b: f32,
    s: &mut Scratch,
) -> (f64, f64) {
    // This point's weights, once; the tiles below reuse them.
    let mut params = std::mem::take(&mut s.params);
    layer_params(layers, a, b, &mut params);
    let n = data.len();
    let (mut loss, mut correct) = (0.0f64, 0usize);
    for start in (0..n).step_by(TILE) {
        let rows = TILE.min(n - start);
        let first = &layers[0];
        s.next.resize(rows * first.out, 0.0);
        combine(shared, start * first.out, a, b, &mut s.next);
        add_bias(&params[0].bias, first.out, &mut s.next);
        let input = &data.features[start * first.inp..(start + rows) * first.inp];
        let (l, c) = finish_tile(layers, &params, activation, 0, input, rows, &data.labels[start..start + rows], s);
        loss += l;
        correct += c;
    }
    s.params = params;
    (loss / n as f64, correct as f64 / n as f64)
}

/// Whether [`evaluate_row`] applies: a ReLU network whose first block is a
/// plain linear layer (no norm), followed by at least one more layer.
fn row_sweep_applies(layers: &[BlockParams], activation: Activation) -> bool {
    activation == Activation::Relu && layers.len() >= 2 && layers[0].norm.is_none() && matches!(layers[0].skip, SkipParams::None)
}

/// Buffers of one row sweep over one tile.
#[derive(Default)]
struct RowScratch {
    p: Vec<f32>,
    q: Vec<f32>,
    masked: Vec<f32>,
    /// The second layer's pre-activation is `A + a (B + a C)`: see [`evaluate_row`].
    sums: [Vec<f32>; 3],
    product: Vec<f32>,
    /// Per step of the row: the (example, neuron) entries that switch there.
    events: Vec<Vec<u32>>,
    h1: Vec<f32>,
    /// The fused pass: one example's buffers, and the tile's logits at every step.
    example: ExampleScratch,
    logits: Vec<f32>,
}

/// One example's buffers in the fused pass.
#[derive(Default)]
struct ExampleScratch {
    /// Per first-layer neuron: the guessed step of its switch (0: none).
    guesses: Vec<f32>,
    /// The switches, `step << 16 | neuron`, sorted.
    switches: Vec<u32>,
    hidden: Vec<f32>,
}

/// Defines `$name`, which runs `$body` compiled for AVX2 where the CPU has
/// it (checked at run time) and for the baseline elsewhere: the row sweep's
/// inner loops are twice as wide that way, with the same results.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* fn $name:ident => $body:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

/// The step between increasing values when they are evenly spaced (to f32
/// precision) and there are at least two; the row sweep then finds a
/// crossing's step by division rather than search.
fn even_spacing(sorted: &[f32]) -> Option<f32> {
    let last = sorted.len().checked_sub(1).filter(|&l| l > 0)?;
    let step = (sorted[last] - sorted[0]) / last as f32;
    let even = step > 0.0 && sorted.iter().enumerate().all(|(i, &v)| (v - (sorted[0] + i as f32 * step)).abs() <= 1e-4 * step);
    even.then_some(step)
}

/// The first step (in increasing `a`) at which the first-layer entry
/// `relu(p + a q)` is in the other state than at the row's first step, if
/// it switches at all: found from the crossing `-p/q`, then settled with the
/// same f32 test the sums use (see [`settle_step`]).
fn switch_step(p: f32, q: f32, row: SortedRow) -> Option<usize> {
    let guess = match row.spacing {
        Some(step) => even_guess(p, q, row.a, step) as usize,
        None => {
            let switches = (p + row.a[0] * q > 0.0) != (p + row.a[row.a.len() - 1] * q > 0.0);
            if switches { row.a.partition_point(|&v| v < -p / q) } else { 0 }
        }
    };
    (guess > 0).then(|| settle_step(p, q, row.a, guess))
}

/// On an evenly spaced row, the step of the crossing `-p/q` (in
/// `1..steps`), one division away, or 0 where the entry does not switch
/// along the row (`q = 0` included); branch-free, so it vectorises.
#[inline(always)]
fn even_guess(p: f32, q: f32, sorted: &[f32], step: f32) -> f32 {
    let last = sorted.len() - 1;
    let switches = (p + sorted[0] * q > 0.0) != (p + sorted[last] * q > 0.0);
    let guess = ((-p / q - sorted[0]) / step).ceil().clamp(1.0, last as f32);
    if switches { guess } else { 0.0 }
}

/// The exact switching step near `guess`: the first whose state, by the
/// sums' own f32 test, differs from the first step's (the test is
/// monotone in `a`, so a step or two of search from the guess settles it).
#[inline(always)]
fn settle_step(p: f32, q: f32, sorted: &[f32], guess: usize) -> usize {
    let last = sorted.len() - 1;
    let on = |t: usize| p + sorted[t] * q > 0.0;
    let first = on(0);
    let mut t = guess.clamp(1, last);
    while t > 1 && on(t - 1) != first {
        t -= 1;
    }
    while t < last && on(t) == first {
        t += 1;
    }
    t
}

/// A grid row's `a` values in increasing order, and their step when even.
#[derive(Clone, Copy)]
struct SortedRow<'a> {
    a: &'a [f32],
    spacing: Option<f32>,
}

with_avx2! {
    /// Adds (switched on) or removes (switched off) each switching neuron's
    /// share of the sums: `±p_k M0_k` to A, `±(q_k M0_k + p_k M1_k)` to B, `±q_k M1_k` to C.
    fn apply_switches => apply_switches_body(
        events: &[u32], p: &[f32], q: &[f32], a: f32, m0: &[f32], m1: Option<&[f32]>, w1: usize, w2: usize, sums: &mut [Vec<f32>; 3]
    )
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn apply_switches_body(
    events: &[u32],
    p: &[f32],
    q: &[f32],
    a: f32,
    m0: &[f32],
    m1: Option<&[f32]>,
    w1: usize,
    w2: usize,
    sums: &mut [Vec<f32>; 3],
) {
    let [sa, sb, sc] = sums;
    for &e in events {
        let e = e as usize;
        let (i, k) = (e / w1, e % w1);
        let row = i * w2..(i + 1) * w2;
        let example = [&mut sa[row.clone()], &mut sb[row.clone()], &mut sc[row]];
        switch(example, p[e], q[e], a, k, m0, m1, w2);
    }
}

/// One example's sums after first-layer neuron `k` (at `p + a q`) switched
/// on (adds its share) or off (removes it).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn switch(sums: [&mut [f32]; 3], p: f32, q: f32, a: f32, k: usize, m0: &[f32], m1: Option<&[f32]>, w2: usize) {
    let [sa, sb, sc] = sums;
    let sign = if p + a * q > 0.0 { 1.0 } else { -1.0 };
    let (sp, sq) = (sign * p, sign * q);
    let m0k = &m0[k * w2..(k + 1) * w2];
    match m1 {
        Some(m1) => {
            let m1k = &m1[k * w2..(k + 1) * w2];
            for (((x, y), z), (m0, m1)) in sa.iter_mut().zip(sb.iter_mut()).zip(sc.iter_mut()).zip(m0k.iter().zip(m1k)) {
                *x += sp * m0;
                *y += sq * m0 + sp * m1;
                *z += sq * m1;
            }
        }
        None => {
            for ((x, y), m0) in sa.iter_mut().zip(sb.iter_mut()).zip(m0k) {
                *x += sp * m0;
                *y += sq * m0;
            }
        }
    }
}

with_avx2! {
    /// The logits of a tile at every step of the row, from the row sweep's
    /// sums at its first step, into `logits` (step, example, class): see [`fused_tile_body`].
    fn fused_tile => fused_tile_body(
        p: &[f32],
        q: &[f32],
        row: SortedRow,
        m0: &[f32],
        m1: Option<&[f32]>,
        w1: usize,
        w2: usize,
        sums: &mut [Vec<f32>; 3],
        heads: &[f32],
        head_biases: &[f32],
        scratch: &mut ExampleScratch,
        logits: &mut [f32],
        step: StepKernel,
    )
}

/// An example at a time, every step of the row: that example's switches
/// update its three rows of sums, which stay in L1 for the whole row, then
/// `h = relu(A + a (B + a C))` and `h · head + head bias` per step. Over a
/// tile at a time per step, the sums streamed from L2 at every step instead.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fused_tile_body(
    p: &[f32],
    q: &[f32],
    row: SortedRow,
    m0: &[f32],
    m1: Option<&[f32]>,
    w1: usize,
    w2: usize,
    sums: &mut [Vec<f32>; 3],
    heads: &[f32],
    head_biases: &[f32],
    scratch: &mut ExampleScratch,
    logits: &mut [f32],
    step: StepKernel,
) {
    let rows = p.len() / w1;
    let classes = head_biases.len() / row.a.len();
    scratch.hidden.resize(w2, 0.0);
    let [sa, sb, sc] = sums;
    for i in 0..rows {
        let (p, q) = (&p[i * w1..(i + 1) * w1], &q[i * w1..(i + 1) * w1]);
        let switches = &mut scratch.switches;
        switches.clear();
        match row.spacing {
            Some(step) => {
                // The guesses in one pass that vectorises; only the entries that switch are settled.
                // (A plain loop: an iterator adapter here was compiled apart, without AVX2.)
                scratch.guesses.resize(w1, 0.0);
                for ((g, &p), &q) in scratch.guesses.iter_mut().zip(p).zip(q) {
                    *g = even_guess(p, q, row.a, step);
                }
                for (k, &guess) in scratch.guesses.iter().enumerate().filter(|&(_, &g)| g > 0.0) {
                    switches.push(switch_key(settle_step(p[k], q[k], row.a, guess as usize), k));
                }
            }
            None => {
                for (k, (&p, &q)) in p.iter().zip(q).enumerate() {
                    if let Some(t) = switch_step(p, q, row) {
                        switches.push(switch_key(t, k));
                    }
                }
            }
        }
        switches.sort_unstable();
        let span = i * w2..(i + 1) * w2;
        let (sa, sb, sc) = (&mut sa[span.clone()], &mut sb[span.clone()], &mut sc[span]);
        let mut pending = scratch.switches.iter().peekable();
        for (t, &a) in row.a.iter().enumerate() {
            // Unpacking `switch_key`: the step above bit 16, the neuron below.
            while let Some(&key) = pending.next_if(|&&key| (key >> 16) as usize == t) {
                let k = (key & 0xffff) as usize;
                switch([&mut *sa, &mut *sb, &mut *sc], p[k], q[k], a, k, m0, m1, w2);
            }
            let head = &heads[t * classes * w2..(t + 1) * classes * w2];
            let bias = &head_biases[t * classes..(t + 1) * classes];
            let out = &mut logits[(t * rows + i) * classes..(t * rows + i + 1) * classes];
            step(Sums { a: sa, b: sb, c: sc }, a, head, bias, &mut scratch.hidden, out);
        }
    }
}

/// A switch of first-layer neuron `neuron` at step `step` as one integer,
/// `step << 16 | neuron`, so the sort compares plain integers and orders by
/// step (the fused pass runs only where `w1 <= 1 << 16`).
fn switch_key(step: usize, neuron: usize) -> u32 {
    ((step as u32) << 16) | neuron as u32
}

/// One example's sums `A`, `B` and `C` (one entry per second-layer neuron).
#[derive(Clone, Copy)]
struct Sums<'a> {
    a: &'a [f32],
    b: &'a [f32],
    c: &'a [f32],
}

/// One example's logits at one step of the fused pass:
/// `out_c = relu(A + a (B + a C)) · head_c + bias_c`, `head` one row per
/// class, `hidden` scratch of the sums' length.
type StepKernel = fn(Sums, f32, &[f32], &[f32], &mut [f32], &mut [f32]);

/// The fastest [`StepKernel`] this CPU runs.
fn step_kernel() -> StepKernel {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        return step_logits_fma;
    }
    step_logits
}

fn step_logits(sums: Sums, a: f32, head: &[f32], bias: &[f32], hidden: &mut [f32], out: &mut [f32]) {
    for (((h, x), y), z) in hidden.iter_mut().zip(sums.a).zip(sums.b).zip(sums.c) {
        *h = (x + a * (y + a * z)).max(0.0);
    }
    for ((o, w), bias) in out.iter_mut().zip(head.chunks_exact(hidden.len())).zip(bias) {
        *o = hidden.iter().zip(w).map(|(h, w)| h * w).sum::<f32>() + bias;
    }
}

#[cfg(target_arch = "x86_64")]
fn step_logits_fma(sums: Sums, a: f32, head: &[f32], bias: &[f32], hidden: &mut [f32], out: &mut [f32]) {
    // SAFETY: `step_kernel` hands this out only where the CPU has AVX2 and FMA.
    unsafe { step_logits_fma_body(sums, a, head, bias, hidden, out) }
}

/// [`step_logits`] written out in AVX2 and FMA: eight neurons a step, two
/// independent accumulators per class (the compiler's own vectorisation of
/// the loop kept one short chain per pair of lanes). The classes' dot
/// products share one pass over the hidden layer when there are two.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn step_logits_fma_body(sums: Sums, a: f32, head: &[f32], bias: &[f32], hidden: &mut [f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let w = sums.a.len();
    assert!(sums.b.len() == w && sums.c.len() == w && hidden.len() == w && head.len() == w * out.len() && bias.len() == out.len());
    let whole = w / 8 * 8;
    let (va, zero) = (_mm256_set1_ps(a), _mm256_setzero_ps());
    // SAFETY (every load and store below): `k + 8 <= whole <= w`, and each
    // slice read at `k` is `w` long (checked above); head rows start at `c w`.
    let load = |v: &[f32], k: usize| unsafe { _mm256_loadu_ps(v.as_ptr().add(k)) };
    let hidden_at = |k: usize| {
        let inner = _mm256_fmadd_ps(va, load(sums.c, k), load(sums.b, k));
        _mm256_max_ps(_mm256_fmadd_ps(va, inner, load(sums.a, k)), zero)
    };
    let scalar_hidden = |k: usize| (sums.a[k] + a * (sums.b[k] + a * sums.c[k])).max(0.0);
    let total = |v: __m256| {
        let half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)))
    };
    if out.len() == 2 {
        let (w0, w1) = head.split_at(w);
        let mut acc = [zero; 4];
        let mut k = 0;
        while k + 16 <= whole {
            let (h, g) = (hidden_at(k), hidden_at(k + 8));
            acc[0] = _mm256_fmadd_ps(h, load(w0, k), acc[0]);
            acc[1] = _mm256_fmadd_ps(g, load(w0, k + 8), acc[1]);
            acc[2] = _mm256_fmadd_ps(h, load(w1, k), acc[2]);
            acc[3] = _mm256_fmadd_ps(g, load(w1, k + 8), acc[3]);
            k += 16;
        }
        if k < whole {
            let h = hidden_at(k);
            acc[0] = _mm256_fmadd_ps(h, load(w0, k), acc[0]);
            acc[2] = _mm256_fmadd_ps(h, load(w1, k), acc[2]);
        }
        let (mut o0, mut o1) = (total(_mm256_add_ps(acc[0], acc[1])), total(_mm256_add_ps(acc[2], acc[3])));
        for k in whole..w {
            let h = scalar_hidden(k);
            o0 += h * w0[k];
            o1 += h * w1[k];
        }
        out[0] = o0 + bias[0];
        out[1] = o1 + bias[1];
        return;
    }
    for k in (0..whole).step_by(8) {
        // SAFETY: as for the loads.
        unsafe { _mm256_storeu_ps(hidden.as_mut_ptr().add(k), hidden_at(k)) };
    }
    for k in whole..w {
        hidden[k] = scalar_hidden(k);
    }
    for ((o, row), bias) in out.iter_mut().zip(head.chunks_exact(w)).zip(bias) {
        let mut acc = [zero; 2];
        let mut k = 0;
        while k + 16 <= whole {
            acc[0] = _mm256_fmadd_ps(load(hidden, k), load(row, k), acc[0]);
            acc[1] = _mm256_fmadd_ps(load(hidden, k + 8), load(row, k + 8), acc[1]);
            k += 16;
        }
        if k < whole {
            acc[0] = _mm256_fmadd_ps(load(hidden, k), load(row, k), acc[0]);
        }
        *o = total(_mm256_add_ps(acc[0], acc[1])) + (whole..w).map(|k| hidden[k] * row[k]).sum::<f32>() + bias;
    }
}

/// Loss and accuracy along one grid row (`b` fixed, `a` over `a_values`)
/// of a ReLU network, exactly, with the second layer's product done once per
/// row instead of once per grid point.
///
/// Along the row the first layer's pre-activation is linear in `a`:
/// `z1 = p + a q` for each example and neuron, so `h1 = relu(p + a q)`, and
/// each neuron switches on or off at most once. The second layer's
/// pre-activation is `h1 (M0 + a M1) + bias(a)` with `M0` its weights at
/// `(0, b)` and `M1` their `a` direction, that is `A + a (B + a C)` with
/// `A = Σ_active p_k M0_k + bias(0)`,
/// `B = Σ_active (q_k M0_k + p_k M1_k) + bias'` and `C = Σ_active q_k M1_k`. Those sums are products at the
/// row's first `a`; from one `a` to the next only the neurons that switched
/// update them. Everything after the second layer's product runs per grid
/// point as usual (fused with the head when nothing else comes between).
fn evaluate_row(
    layers: &[BlockParams],
    shared: &[Option<Vec<f32>>; 3],
    data: &Dataset,
    a_values: &[f32],
    b: f32,
    s: &mut Scratch,
) -> Vec<(f64, f64)> {
    let (first, second) = (&layers[0], &layers[1]);
    let (w1, w2, n) = (first.out, second.out, data.len());
    // Every point's parameters of the later layers (the first layer's come in through `shared`).
    let params: Vec<Vec<PointParams>> = a_values
        .iter()
        .map(|&a| {
            let mut row = Vec::with_capacity(layers.len());
            row.resize_with(layers.len(), PointParams::default);
            for (block, p) in layers.iter().zip(row.iter_mut()).skip(1) {
                point_params(block, a, b, p);
            }
            row
        })
        .collect();
    let mut bias0 = PointParams::default();
    point_params(first, 0.0, b, &mut bias0);
    let bias0_d1: Vec<f32> = first.bias.as_ref().and_then(|m| m.d1).map_or_else(|| vec![0.0; w1], <[f32]>::to_vec);
    let mut m0 = Vec::new();
    second.weight.at(0.0, b, &mut m0);
    let m1 = second.weight.d1;
    let mut bias1 = Vec::new();
    if let Some(bias) = &second.bias {
        bias.at(0.0, b, &mut bias1);
    }
    let bias1_d1: Vec<f32> = second.bias.as_ref().and_then(|m| m.d1).map_or_else(Vec::new, <[f32]>::to_vec);
    // The row in increasing `a`, so each neuron crosses zero at most once.
    let mut order: Vec<usize> = (0..a_values.len()).collect();
    order.sort_by(|&i, &j| a_values[i].total_cmp(&a_values[j]));
    let sorted: Vec<f32> = order.iter().map(|&j| a_values[j]).collect();
    let spacing = even_spacing(&sorted);
    let mut totals = vec![(0.0f64, 0usize); a_values.len()];
    let mut r = std::mem::take(&mut s.row);
    // A plain second hidden layer straight into the head: one fused pass.
    // (A switch's neuron must fit the 16 bits its sort key gives it.)
    let fused = layers.len() == 3 && second.norm.is_none() && matches!(second.skip, SkipParams::None) && w1 <= 1 << 16;
    let classes = layers[layers.len() - 1].out;
    // The fused pass's head at every step, in increasing `a`: weights one row per class, then biases.
    let (mut heads, mut head_biases) = (Vec::new(), Vec::new());
    if fused {
        for &j in &order {
            let head = &params[j][2];
            heads.extend((0..classes).flat_map(|c| head.weight.iter().skip(c).step_by(classes).copied()));
            head_biases.extend((0..classes).map(|c| head.bias.get(c).copied().unwrap_or(0.0)));
        }
    }
    for start in (0..n).step_by(TILE) {
        let rows = TILE.min(n - start);
        let span = start * w1..(start + rows) * w1;
        let base = &shared[0].as_ref().expect("the base product")[span.clone()];
        r.p.clear();
        r.p.extend_from_slice(base);
        if let Some(z) = &shared[2] {
            r.p.iter_mut().zip(&z[span.clone()]).for_each(|(p, z)| *p += b * z);
        }
        r.q.clear();
        match &shared[1] {
            Some(z) => r.q.extend_from_slice(&z[span]),
            None => r.q.resize(rows * w1, 0.0),
        }
        for (p_row, q_row) in r.p.chunks_exact_mut(w1).zip(r.q.chunks_exact_mut(w1)) {
            p_row.iter_mut().zip(&bias0.bias).for_each(|(p, c)| *p += c);
            q_row.iter_mut().zip(&bias0_d1).for_each(|(q, c)| *q += c);
        }
        // The four sums at the first `a`: the active entries of p and q
        // (a branch-free pass), times M0 and M1.
        let a0 = sorted[0];
        let len = rows * w1;
        r.masked.resize(2 * len, 0.0);
        let (mp, mq) = r.masked.split_at_mut(len);
        for (((mp, mq), &p), &q) in mp.iter_mut().zip(mq.iter_mut()).zip(&r.p).zip(&r.q) {
            let on = p + a0 * q > 0.0;
            *mp = if on { p } else { 0.0 };
            *mq = if on { q } else { 0.0 };
        }
        let [sa, sb, sc] = &mut r.sums;
        for sum in [&mut *sa, &mut *sb, &mut *sc] {
            sum.resize(rows * w2, 0.0);
        }
        mul(mp, rows, w1, &m0, w2, sa);
        mul(mq, rows, w1, &m0, w2, sb);
        match m1 {
            Some(m1) => {
                r.product.resize(rows * w2, 0.0);
                mul(mp, rows, w1, m1, w2, &mut r.product);
                sb.iter_mut().zip(&r.product).for_each(|(b, x)| *b += x);
                mul(mq, rows, w1, m1, w2, sc);
            }
            None => sc.iter_mut().for_each(|v| *v = 0.0),
        }
        // The second layer's bias moves with `a` too: its value at `(0, b)` joins A, its `a` direction B.
        add_bias(&bias1, w2, sa);
        add_bias(&bias1_d1, w2, sb);
        // When each neuron switches: the first step (in increasing `a`) whose
        // state differs from the first one's, found from the crossing `-p/q`
        // and settled with the same f32 test the sums use (it is monotone in `a`).
        let labels = &data.labels[start..start + rows];
        if fused {
            // Second layer, ReLU and head in one pass, an example at a time.
            r.logits.resize(sorted.len() * rows * classes, 0.0);
            let row = SortedRow { a: &sorted, spacing };
            let (example, logits) = (&mut r.example, &mut r.logits);
            fused_tile(&r.p, &r.q, row, &m0, m1, w1, w2, &mut r.sums, &heads, &head_biases, example, logits, step_kernel());
            for (step, &j) in order.iter().enumerate() {
                let (l, c) = cross_entropy(&r.logits[step * rows * classes..(step + 1) * rows * classes], classes, labels);
                totals[j].0 += l;
                totals[j].1 += c;
            }
            continue;
        }
        r.events.iter_mut().for_each(Vec::clear);
        r.events.resize_with(sorted.len(), Vec::new);
        for (e, (&p, &q)) in r.p.iter().zip(&r.q).enumerate() {
            if let Some(t) = switch_step(p, q, SortedRow { a: &sorted, spacing }) {
                r.events[t].push(e as u32);
            }
        }
        for (step, &j) in order.iter().enumerate() {
            let a = a_values[j];
            apply_switches(&r.events[step], &r.p, &r.q, a, &m0, m1, w1, w2, &mut r.sums);
            let [sa, sb, sc] = &r.sums;
            s.next.clear();
            s.next.extend(sa.iter().zip(sb).zip(sc).map(|((x, y), z)| x + a * (y + a * z)));
            // The first layer's output is needed only as the second block's skip input.
            r.h1.clear();
            if !matches!(second.skip, SkipParams::None) {
                r.h1.extend(r.p.iter().zip(&r.q).map(|(p, q)| (p + a * q).max(0.0)));
            }
            let (l, c) = finish_tile(layers, &params[j], Activation::Relu, 1, &r.h1, rows, labels, s);
            totals[j].0 += l;
            totals[j].1 += c;
        }
    }
    s.row = r;
    totals.into_iter().map(|(l, c)| (l / n as f64, c as f64 / n as f64)).collect()
}

fn add_bias(bias: &[f32], width: usize, h: &mut [f32]) {
    if !bias.is_empty() {
        h.chunks_exact_mut(width).for_each(|row| row.iter_mut().zip(bias).for_each(|(x, b)| *x += b));
    }
}

/// Runs a tile on from block `from`, whose pre-activation (bias added) is in
/// `s.next` and whose input is `input`, through the head; scores the logits.
#[allow(clippy::too_many_arguments)]
fn finish_tile(
    layers: &[BlockParams],
    params: &[PointParams],
    activation: Activation,
    from: usize,
    input: &[f32],
    rows: usize,
    labels: &[u32],
    s: &mut Scratch,
) -> (f64, usize) {
    let classes = layers[layers.len() - 1].out;
    for i in from..layers.len() - 1 {
        let (block, p) = (&layers[i], &params[i]);
        if i > from {
            // s.h holds this block's input.
            s.next.resize(rows * block.out, 0.0);
            mul(&s.h, rows, block.inp, &p.weight, block.out, &mut s.next);
            add_bias(&p.bias, block.out, &mut s.next);
        }
        if let Some(norm) = &block.norm {
            normalise(norm, block.out, &p.gamma, &p.beta, &mut s.next);
        }
        apply(activation, &mut s.next);
        let input: &[f32] = if i == from { input } else { &s.h };
        match &block.skip {
            SkipParams::None => {}
            SkipParams::Identity => s.next.iter_mut().zip(input).for_each(|(x, h)| *x += h),
            SkipParams::Projection(_) => {
                s.projected.resize(rows * block.out, 0.0);
                mul(input, rows, block.inp, &p.projection, block.out, &mut s.projected);
                s.next.iter_mut().zip(&s.projected).for_each(|(x, p)| *x += p);
            }
        }
        std::mem::swap(&mut s.h, &mut s.next);
    }
    let head = &layers[layers.len() - 1];
    if layers.len() - 1 > from {
        s.next.resize(rows * head.out, 0.0);
        mul(&s.h, rows, head.inp, &params[layers.len() - 1].weight, head.out, &mut s.next);
        add_bias(&params[layers.len() - 1].bias, head.out, &mut s.next);
    }
    cross_entropy(&s.next, classes, labels)
}

/// The first layer's `x W + a x D1 + b x D2` for the rows from `offset` on.
fn combine(shared: &[Option<Vec<f32>>; 3], offset: usize, a: f32, b: f32, out: &mut [f32]) {
    let rows = offset..offset + out.len();
    out.copy_from_slice(&shared[0].as_ref().expect("the base product")[rows.clone()]);
    if let Some(z) = &shared[1] {
        out.iter_mut().zip(&z[rows.clone()]).for_each(|(o, z)| *o += a * z);
    }
    if let Some(z) = &shared[2] {
        out.iter_mut().zip(&z[rows]).for_each(|(o, z)| *o += b * z);
    }
}

fn normalise(norm: &NormParams, width: usize, scale: &[f32], shift: &[f32], h: &mut [f32]) {
    for row in h.chunks_exact_mut(width) {
        match norm {
            NormParams::Layer { .. } => {
                let mean = row.iter().sum::<f32>() / width as f32;
                let var = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / width as f32;
                let inv = 1.0 / (var + NORM_EPSILON).sqrt();
                row.iter_mut().zip(scale.iter()).zip(shift.iter()).for_each(|((x, g), b)| *x = (*x - mean) * inv * g + b);
            }
            NormParams::Batch { mean, inv_std, .. } => {
                for (j, x) in row.iter_mut().enumerate() {
                    *x = (*x - mean[j]) * inv_std[j] * scale[j] + shift[j];
                }
            }
        }
    }
}

fn apply(activation: Activation, h: &mut [f32]) {
    match activation {
        Activation::Relu => h.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Tanh => h.iter_mut().for_each(|x| *x = x.tanh()),
        Activation::Silu => h.iter_mut().for_each(|x| *x /= 1.0 + exp(-*x)),
        Activation::Gelu => h.iter_mut().for_each(|x| *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2))),
    }
}

/// The error function to within 5e-7 in f32 (Abramowitz & Stegun 7.1.26): a
/// branch-free polynomial the compiler vectorises, where a libm call per
/// activation took three quarters of a GELU network's surface time.
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    (1.0 - poly * exp(-a * a)).copysign(x)
}

/// `e^y` to about 1e-7 relative (Cephes' expf: `2^k e^r` with `|r| <= ln2/2`
/// and a degree-6 polynomial), written so the compiler vectorises it; a libm
/// call per element was half of a GELU network's surface time.
fn exp(y: f32) -> f32 {
    // Adding 1.5 * 2^23 rounds to the nearest integer without a rounding instruction.
    const ROUND: f32 = 12_582_912.0;
    let y = y.clamp(-87.0, 88.0);
    let k = (y * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = y - k * 0.693_359_4 + k * 2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// `ln(1 + x)` for `x >= 0`, to about 2e-7 relative, branch-free so the
/// compiler vectorises it: `ln(u) x / (u - 1)` with `u = 1 + x` rounded,
/// which cancels the rounding of `u` (Goldberg's trick), and `ln(u)` as
/// Cephes' logf (`u = m 2^e` with `m` in `[√½, √2)`, a degree-8 polynomial).
fn ln_1p(x: f32) -> f32 {
    let u = 1.0 + x;
    let bits = u.to_bits();
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = mantissa > std::f32::consts::SQRT_2;
    let m = if big { 0.5 * mantissa } else { mantissa };
    let e = ((bits >> 23) as i32 - 127 + i32::from(big)) as f32;
    let f = m - 1.0;
    let z = f * f;
    // The minimax coefficients as published, digits beyond f32 kept so they can be checked against the source.
    #[allow(clippy::excessive_precision)]
    const LOGF: [f32; 9] = [
        7.037_683_6e-2,
        -1.151_461e-1,
        1.167_699_9e-1,
        -1.242_014_1e-1,
        1.424_932_3e-1,
        -1.666_805_8e-1,
        2.000_071_4e-1,
        -2.499_999_4e-1,
        3.333_333_1e-1,
    ];
    let poly = LOGF.iter().fold(0.0, |acc, &c| acc * f + c);
    let ln_u = f + (f * z * poly - 2.121_944_4e-4 * e - 0.5 * z) + 0.693_359_4 * e;
    if u == 1.0 { x } else { ln_u * (x / (u - 1.0)) }
}

/// Examples scored at once by [`cross_entropy`]: its passes vectorise over them.
const LOSS_CHUNK: usize = 64;

with_avx2! {
    /// Summed cross-entropy and correct count of row-major logits; argmax ties
    /// go to the first class, as in burn and PyTorch. Each example's loss is
    /// `ln(1 + Σ_{c ≠ best} e^(v_c - max)) - (v_label - max)` in f32 with the
    /// fast `exp` and `ln_1p` (PyTorch's own loss is f32), summed in f64. Two
    /// classes, the common case, take a branch-free pass over the examples.
    fn cross_entropy => cross_entropy_body(logits: &[f32], classes: usize, labels: &[u32]) -> (f64, usize)
}

#[inline(always)]
fn cross_entropy_body(logits: &[f32], classes: usize, labels: &[u32]) -> (f64, usize) {
    let (mut loss, mut correct) = (0.0f64, 0usize);
    let (mut rest, mut own) = ([0.0f32; LOSS_CHUNK], [0.0f32; LOSS_CHUNK]);
    for (rows, labels) in logits.chunks(LOSS_CHUNK * classes).zip(labels.chunks(LOSS_CHUNK)) {
        let n = labels.len();
        if classes == 2 {
            for (i, (v, &label)) in rows.chunks_exact(2).zip(labels).enumerate() {
                let margin = v[1] - v[0];
                let best = u32::from(margin > 0.0);
                rest[i] = exp(-margin.abs());
                own[i] = if label == best { 0.0 } else { -margin.abs() };
                correct += usize::from(label == best);
            }
        } else {
            for (i, (v, &label)) in rows.chunks_exact(classes).zip(labels).enumerate() {
                let (best, max) =
                    v.iter().enumerate().fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) });
                rest[i] = v.iter().enumerate().filter(|&(c, _)| c != best).map(|(_, &x)| exp(x - max)).sum();
                own[i] = v[label as usize] - max;
                correct += usize::from(best == label as usize);
            }
        }
        // Separate passes, so each vectorises: the losses, then their sum in four f64 lanes.
        for (o, &r) in own[..n].iter_mut().zip(&rest[..n]) {
            *o = ln_1p(r) - *o;
        }
        let mut lanes = [0.0f64; 4];
        for chunk in own[..n].chunks(4) {
            lanes.iter_mut().zip(chunk).for_each(|(lane, &o)| *lane += f64::from(o));
        }
        loss += lanes.iter().sum::<f64>();
    }
    (loss, correct)
}
