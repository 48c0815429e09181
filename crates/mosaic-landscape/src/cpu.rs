//! The CPU surface engine: the same forward pass as [`crate::surface`], on
//! plain row-major f32 buffers with faer's matrix products, one grid point
//! per task on every core.
//!
//! Burn's tensors pay for generality at this size (a 2,000 x 64 activation
//! is small; allocation, broadcasting copies and dispatch dominate), so the
//! CPU path fuses each layer's bias, norm and activation into one pass over a
//! reused buffer. The first layer's products with the weights and both
//! directions are shared by all grid points. Tests hold it equal to the burn
//! engine and to the trainer's own network.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use mosaic_core::Activation;
use mosaic_train::checkpoint::Arrays;
use mosaic_train::data::Dataset;
use rayon::prelude::*;

use crate::LandscapeError;
use crate::net::{DenseNet, NORM_EPSILON, NormLayer, Skip};
use crate::surface::{Axis, Surface, grid_points, validate};

/// One parameter and its two direction components (`None`: not moved).
struct Moving<'a> {
    base: &'a [f32],
    d1: Option<&'a [f32]>,
    d2: Option<&'a [f32]>,
}

impl<'a> Moving<'a> {
    fn new(net: &'a DenseNet, d1: &'a Arrays, d2: Option<&'a Arrays>, name: &str) -> Self {
        let moved = |d: &'a Arrays| Some(d[name].1.as_slice()).filter(|v| v.iter().any(|x| *x != 0.0));
        Moving { base: &net.weights[name].1, d1: moved(d1), d2: d2.and_then(moved) }
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
    net: &DenseNet,
    d1: &Arrays,
    d2: Option<&Arrays>,
    x_axis: Axis,
    y_axis: Option<Axis>,
    data: &Dataset,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Surface, LandscapeError> {
    validate(net, d1, d2, y_axis, data)?;
    let (xs, ys, points) = grid_points(x_axis, y_axis);
    let n = data.len();
    let linear = |l: &crate::net::Linear| {
        let shape = &net.weights[&l.weight].0;
        (Moving::new(net, d1, d2, &l.weight), l.bias.as_ref().map(|b| Moving::new(net, d1, d2, b)), shape[0], shape[1])
    };
    // The hidden blocks, then the head as a block with no norm, activation or skip.
    let mut layers: Vec<BlockParams> = net
        .blocks
        .iter()
        .map(|b| {
            let (weight, bias, inp, out) = linear(&b.linear);
            let norm = b.norm.as_ref().map(|norm| match norm {
                NormLayer::Layer { gamma, beta } => {
                    NormParams::Layer { gamma: Moving::new(net, d1, d2, gamma), beta: Moving::new(net, d1, d2, beta) }
                }
                NormLayer::Batch { gamma, beta, running_mean, running_var } => NormParams::Batch {
                    gamma: Moving::new(net, d1, d2, gamma),
                    beta: Moving::new(net, d1, d2, beta),
                    mean: &net.weights[running_mean].1,
                    inv_std: net.weights[running_var].1.iter().map(|v| 1.0 / (v + NORM_EPSILON).sqrt()).collect(),
                },
            });
            let skip = match &b.skip {
                Skip::None => SkipParams::None,
                Skip::Identity => SkipParams::Identity,
                Skip::Projection(p) => SkipParams::Projection(Moving::new(net, d1, d2, p)),
            };
            BlockParams { weight, bias, inp, out, norm, skip }
        })
        .collect();
    let (weight, bias, inp, out) = linear(&net.head);
    layers.push(BlockParams { weight, bias, inp, out, norm: None, skip: SkipParams::None });

    // The first layer's input is the data, the same at every grid point:
    // x W, x D1 and x D2 once, combined per point.
    let first = &layers[0];
    let product = |w: &[f32]| {
        let mut out = vec![0.0f32; n * first.out];
        mul(&data.features, n, first.inp, w, first.out, &mut out);
        out
    };
    let shared = [Some(product(first.weight.base)), first.weight.d1.map(product), first.weight.d2.map(product)];

    let done = AtomicUsize::new(0);
    let report = |k: usize| {
        let finished = done.fetch_add(k, Ordering::Relaxed) + k;
        if finished % 64 < k || finished == points.len() {
            progress(finished, points.len());
        }
    };
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
    let (mut loss, mut accuracy) = (Vec::with_capacity(points.len()), Vec::with_capacity(points.len()));
    for r in results {
        let (l, a) = r?;
        loss.push(l);
        accuracy.push(a);
    }
    Ok(Surface { x: xs, y: ys, loss, accuracy })
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
    params.resize_with(layers.len(), PointParams::default);
    for (block, p) in layers.iter().zip(params.iter_mut()) {
        point_params(block, a, b, p);
    }
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
    /// The head's weights, one row per class, and one example's hidden layer.
    head_t: Vec<f32>,
    hidden: Vec<f32>,
}

/// Defines `$name`, which runs `$body` compiled for AVX2 where the CPU has
/// it (checked at run time) and for the baseline elsewhere: the row sweep's
/// inner loops are twice as wide that way, with the same results.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* fn $name:ident => $body:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    unsafe { avx2($($arg),*) };
                    return;
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
        let sign = if p[e] + a * q[e] > 0.0 { 1.0 } else { -1.0 };
        let (sp, sq) = (sign * p[e], sign * q[e]);
        let row = i * w2..(i + 1) * w2;
        let m0k = &m0[k * w2..(k + 1) * w2];
        match m1 {
            Some(m1) => {
                let m1k = &m1[k * w2..(k + 1) * w2];
                for (((x, y), z), (m0, m1)) in
                    sa[row.clone()].iter_mut().zip(&mut sb[row.clone()]).zip(&mut sc[row]).zip(m0k.iter().zip(m1k))
                {
                    *x += sp * m0;
                    *y += sq * m0 + sp * m1;
                    *z += sq * m1;
                }
            }
            None => {
                for ((x, y), m0) in sa[row.clone()].iter_mut().zip(&mut sb[row]).zip(m0k) {
                    *x += sp * m0;
                    *y += sq * m0;
                }
            }
        }
    }
}

with_avx2! {
    /// The logits of a tile from the row sweep's sums: per example,
    /// `h = relu(A + a (B + a C))`, then `h · head + head bias`.
    fn second_layer_and_head => second_layer_and_head_body(
        sums: &[Vec<f32>; 3], a: f32, head_t: &[f32], head_bias: &[f32], width: usize, hidden: &mut Vec<f32>, logits: &mut [f32]
    )
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn second_layer_and_head_body(
    sums: &[Vec<f32>; 3],
    a: f32,
    head_t: &[f32],
    head_bias: &[f32],
    width: usize,
    hidden: &mut Vec<f32>,
    logits: &mut [f32],
) {
    let classes = head_bias.len().max(head_t.len() / width);
    hidden.resize(width, 0.0);
    let [sa, sb, sc] = sums;
    for (i, out) in logits.chunks_exact_mut(classes).enumerate() {
        let span = i * width..(i + 1) * width;
        let (sa, sb, sc) = (&sa[span.clone()], &sb[span.clone()], &sc[span]);
        for k in 0..width {
            hidden[k] = (sa[k] + a * (sb[k] + a * sc[k])).max(0.0);
        }
        for (c, o) in out.iter_mut().enumerate() {
            let w = &head_t[c * width..(c + 1) * width];
            // Eight partial sums, so the dot product vectorises.
            let mut acc = [0.0f32; 8];
            for (hs, ws) in hidden.chunks(8).zip(w.chunks(8)) {
                for ((acc, h), w) in acc.iter_mut().zip(hs).zip(ws) {
                    *acc += h * w;
                }
            }
            *o = acc.iter().sum::<f32>() + head_bias.get(c).copied().unwrap_or(0.0);
        }
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
/// `A = Σ_active p_k M0_k + bias(0)`, `B = Σ_active (q_k M0_k + p_k M1_k)
/// + bias'` and `C = Σ_active q_k M1_k`. Those sums are products at the
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
    let fused = layers.len() == 3 && second.norm.is_none() && matches!(second.skip, SkipParams::None);
    let classes = layers[layers.len() - 1].out;
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
        for e in 0..len {
            let on = r.p[e] + a0 * r.q[e] > 0.0;
            mp[e] = if on { r.p[e] } else { 0.0 };
            mq[e] = if on { r.q[e] } else { 0.0 };
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
        r.events.iter_mut().for_each(Vec::clear);
        r.events.resize_with(sorted.len(), Vec::new);
        let last = sorted.len() - 1;
        for (e, (&p, &q)) in r.p.iter().zip(&r.q).enumerate() {
            let on = |t: usize| p + sorted[t] * q > 0.0;
            let first = on(0);
            if q == 0.0 || on(last) == first {
                continue;
            }
            let crossing = -p / q;
            let guess = match spacing {
                // Evenly spaced (the usual `-1:1:51`): the step is one division away.
                Some(step) => ((crossing - sorted[0]) / step).ceil().clamp(1.0, last as f32) as usize,
                None => sorted.partition_point(|&v| v < crossing),
            };
            let mut t = guess.clamp(1, last);
            while t > 1 && on(t - 1) != first {
                t -= 1;
            }
            while t < last && on(t) == first {
                t += 1;
            }
            r.events[t].push(e as u32);
        }
        for (step, &j) in order.iter().enumerate() {
            let a = a_values[j];
            apply_switches(&r.events[step], &r.p, &r.q, a, &m0, m1, w1, w2, &mut r.sums);
            let labels = &data.labels[start..start + rows];
            let (l, c) = if fused {
                // Second layer, ReLU and head in one pass per example.
                let head = &params[j][2];
                r.head_t.clear();
                r.head_t.extend((0..classes).flat_map(|c| head.weight.iter().skip(c).step_by(classes).copied()));
                s.next.resize(rows * classes, 0.0);
                second_layer_and_head(&r.sums, a, &r.head_t, &head.bias, w2, &mut r.hidden, &mut s.next);
                cross_entropy(&s.next, classes, labels)
            } else {
                let [sa, sb, sc] = &r.sums;
                s.next.clear();
                s.next.extend(sa.iter().zip(sb).zip(sc).map(|((x, y), z)| x + a * (y + a * z)));
                // The first layer's output is needed only as the second block's skip input.
                r.h1.clear();
                if !matches!(second.skip, SkipParams::None) {
                    r.h1.extend(r.p.iter().zip(&r.q).map(|(p, q)| (p + a * q).max(0.0)));
                }
                finish_tile(layers, &params[j], Activation::Relu, 1, &r.h1, rows, labels, s)
            };
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

/// Summed cross-entropy and correct count of row-major logits, in f64;
/// argmax ties go to the first class, as in burn and PyTorch.
fn cross_entropy(logits: &[f32], classes: usize, labels: &[u32]) -> (f64, usize) {
    let (mut loss, mut correct) = (0.0f64, 0usize);
    for (row, &label) in logits.chunks_exact(classes).zip(labels) {
        let (best, max) = row.iter().enumerate().fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) });
        let sum: f64 = row.iter().map(|&v| ((v - max) as f64).exp()).sum();
        loss += sum.ln() - (row[label as usize] - max) as f64;
        correct += usize::from(best == label as usize);
    }
    (loss, correct)
}
