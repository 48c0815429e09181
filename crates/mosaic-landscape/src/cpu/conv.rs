//! The CPU engine for convolutional networks, the blocks `mosaic-train`
//! builds for the `Cnn` family: 3x3 convolution with padding 1, norm,
//! activation, skip, then 2x2 max-pooling while both sides are at least 2;
//! global average pooling before the dense head.
//!
//! Activations are channels-last, one row per (example, position) and one
//! column per channel. A convolution is then a matrix product of each row's
//! 3x3 neighbourhood (im2col) with the kernel laid out as `[9 in, out]`, and
//! bias, norm (layer norm over the channels at each position, batch norm per
//! channel), activation and skips are the dense engine's own row passes.

use super::{
    BlockParams, LandscapeError, PointParams, SkipParams, Surface, add_bias, apply, block_params, cross_entropy, into_surface,
    layer_params, mul, normalise, reporter,
};
use crate::net::{Net, image_of};
use crate::surface::{Axis, grid_points};
use mosaic_core::Activation;
use mosaic_train::checkpoint::Arrays;
use mosaic_train::data::Dataset;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// About this many rows (example positions) go through the blocks together,
/// so a tile's activations stay in cache from one block to the next.
const TILE_ROWS: usize = 2048;

/// Most floats the data's 3x3 neighbourhoods, shared by every grid point's
/// first convolution, may take (512 MB).
const SHARED_FLOATS: usize = 128 << 20;

/// Per-thread buffers, reused across grid points.
#[derive(Default)]
struct ConvScratch {
    params: Vec<PointParams>,
    h: Vec<f32>,
    next: Vec<f32>,
    patches: Vec<f32>,
    projected: Vec<f32>,
    pooled: Vec<f32>,
    logits: Vec<f32>,
}

/// The size of a tile's activations between blocks.
#[derive(Clone, Copy)]
struct Image {
    height: usize,
    width: usize,
    channels: usize,
}

/// [`super::surface_cpu`] for a convolutional `net` (already validated).
#[allow(clippy::too_many_arguments)]
pub(super) fn surface_conv(
    net: &Net,
    d1: &Arrays,
    d2: Option<&Arrays>,
    x_axis: Axis,
    y_axis: Option<Axis>,
    data: &Dataset,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Surface, LandscapeError> {
    let (xs, ys, points) = grid_points(x_axis, y_axis);
    let (channels, height, width) = image_of(data);
    let (weights, d1, d2) = (as_matrices(&net.weights), as_matrices(d1), d2.map(as_matrices));
    let layers = block_params(net, &weights, &d1, d2.as_ref());
    let image = Image { height, width, channels };
    let images = channels_last(&data.features, channels, height * width);
    let per_tile = (TILE_ROWS / (height * width)).max(1);
    // The first convolution's input is the data at every grid point: its neighbourhoods once,
    // where they fit. (Sharing its products with the kernel and both directions, as the dense
    // engine does, streams three wide buffers per point: slower than the product itself.)
    let columns = (9 * images.len() <= SHARED_FLOATS).then(|| {
        let mut columns = Vec::new();
        patches(&images, data.len(), image, &mut columns);
        columns
    });
    let report = reporter(progress, points.len());
    let results: Vec<Result<(f64, f64), LandscapeError>> = points
        .par_iter()
        .map_init(ConvScratch::default, |s, &(a, b)| {
            if cancel.load(Ordering::Relaxed) {
                return Err(LandscapeError::Cancelled);
            }
            let r = evaluate_point(&layers, columns.as_deref(), net.activation, &images, &data.labels, image, per_tile, (a, b), s);
            report(1);
            Ok(r)
        })
        .collect();
    into_surface(xs, ys, results)
}

/// Loss and accuracy at `w + a d1 + b d2`, a tile of examples at a time.
#[allow(clippy::too_many_arguments)]
fn evaluate_point(
    layers: &[BlockParams],
    columns: Option<&[f32]>,
    activation: Activation,
    images: &[f32],
    labels: &[u32],
    image: Image,
    per_tile: usize,
    (a, b): (f32, f32),
    s: &mut ConvScratch,
) -> (f64, f64) {
    let mut params = std::mem::take(&mut s.params);
    layer_params(layers, a, b, &mut params);
    let n = labels.len();
    let per_example = image.height * image.width * image.channels;
    let (mut loss, mut correct) = (0.0f64, 0usize);
    for start in (0..n).step_by(per_tile) {
        let examples = per_tile.min(n - start);
        s.h.clear();
        s.h.extend_from_slice(&images[start * per_example..(start + examples) * per_example]);
        let patch_floats = 9 * per_example;
        let first = columns.map(|c| &c[start * patch_floats..(start + examples) * patch_floats]);
        let (l, c) = forward_tile(layers, &params, first, activation, examples, image, &labels[start..start + examples], s);
        loss += l;
        correct += c;
    }
    s.params = params;
    (loss / n as f64, correct as f64 / n as f64)
}

/// Runs the tile in `s.h` (channels-last) through every block and the head;
/// the summed loss and the number right. `first`: the tile's neighbourhoods
/// for the first convolution, if shared.
#[allow(clippy::too_many_arguments)]
fn forward_tile(
    layers: &[BlockParams],
    params: &[PointParams],
    first: Option<&[f32]>,
    activation: Activation,
    examples: usize,
    mut image: Image,
    labels: &[u32],
    s: &mut ConvScratch,
) -> (f64, usize) {
    let (hidden, head) = layers.split_at(layers.len() - 1);
    for (i, (block, p)) in hidden.iter().zip(params).enumerate() {
        let Image { height, width, channels } = image;
        debug_assert_eq!(block.inp, 9 * channels, "a 3x3 kernel's matrix has 9 rows per input channel");
        let (rows, out) = (examples * height * width, block.out);
        s.next.resize(rows * out, 0.0);
        let columns = match first.filter(|_| i == 0) {
            Some(shared) => shared,
            None => {
                patches(&s.h, examples, image, &mut s.patches);
                &s.patches
            }
        };
        mul(columns, rows, 9 * channels, &p.weight, out, &mut s.next);
        add_bias(&p.bias, out, &mut s.next);
        if let Some(norm) = &block.norm {
            normalise(norm, out, &p.gamma, &p.beta, &mut s.next);
        }
        apply(activation, &mut s.next);
        match &block.skip {
            SkipParams::None => {}
            SkipParams::Identity => s.next.iter_mut().zip(&s.h).for_each(|(x, h)| *x += h),
            SkipParams::Projection(_) => {
                // A 1x1 convolution: one `[in, out]` product per row.
                s.projected.resize(rows * out, 0.0);
                mul(&s.h, rows, channels, &p.projection, out, &mut s.projected);
                s.next.iter_mut().zip(&s.projected).for_each(|(x, p)| *x += p);
            }
        }
        image.channels = out;
        if height >= 2 && width >= 2 {
            max_pool(&s.next, examples, image, &mut s.h);
            image.height /= 2;
            image.width /= 2;
        } else {
            std::mem::swap(&mut s.h, &mut s.next);
        }
    }
    // Global average pooling: each example's mean over its positions.
    let (positions, channels) = (image.height * image.width, image.channels);
    s.pooled.clear();
    s.pooled.resize(examples * channels, 0.0);
    for (example, pooled) in s.h.chunks_exact(positions * channels).zip(s.pooled.chunks_exact_mut(channels)) {
        for position in example.chunks_exact(channels) {
            pooled.iter_mut().zip(position).for_each(|(p, x)| *p += x);
        }
        pooled.iter_mut().for_each(|p| *p /= positions as f32);
    }
    let (head, p) = (&head[0], &params[layers.len() - 1]);
    s.logits.resize(examples * head.out, 0.0);
    mul(&s.pooled, examples, channels, &p.weight, head.out, &mut s.logits);
    add_bias(&p.bias, head.out, &mut s.logits);
    cross_entropy(&s.logits, head.out, labels)
}

/// Every row's 3x3 neighbourhood (zero outside the image), tap-major:
/// column `(3 ky + kx) channels + c` of row `(e, y, x)` is channel `c` at
/// `(y + ky - 1, x + kx - 1)`.
fn patches(h: &[f32], examples: usize, image: Image, out: &mut Vec<f32>) {
    let Image { height, width, channels } = image;
    out.clear();
    out.resize(examples * height * width * 9 * channels, 0.0);
    for (e, patch_rows) in out.chunks_exact_mut(height * width * 9 * channels).enumerate() {
        let source = &h[e * height * width * channels..(e + 1) * height * width * channels];
        for (position, patch) in patch_rows.chunks_exact_mut(9 * channels).enumerate() {
            let (y, x) = (position / width, position % width);
            for ky in 0..3 {
                // Rows above and below the image are padding.
                let Some(sy) = (y + ky).checked_sub(1).filter(|&sy| sy < height) else { continue };
                for kx in 0..3 {
                    let Some(sx) = (x + kx).checked_sub(1).filter(|&sx| sx < width) else { continue };
                    let from = (sy * width + sx) * channels;
                    let to = (3 * ky + kx) * channels;
                    patch[to..to + channels].copy_from_slice(&source[from..from + channels]);
                }
            }
        }
    }
}

/// 2x2 max-pooling with stride 2; an odd last row or column is dropped, as
/// burn's and PyTorch's pooling without padding do.
fn max_pool(h: &[f32], examples: usize, image: Image, out: &mut Vec<f32>) {
    let Image { height, width, channels } = image;
    let (ph, pw) = (height / 2, width / 2);
    out.clear();
    out.resize(examples * ph * pw * channels, f32::NEG_INFINITY);
    for e in 0..examples {
        for py in 0..ph {
            for px in 0..pw {
                let to = ((e * ph + py) * pw + px) * channels;
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let from = ((e * height + 2 * py + dy) * width + 2 * px + dx) * channels;
                    // Not `f32::max`, which would drop a NaN that burn's and PyTorch's pooling pass
                    // on; a select stored every time, so that the loop vectorises.
                    for (o, &x) in out[to..to + channels].iter_mut().zip(&h[from..from + channels]) {
                        *o = if x > *o || x.is_nan() { x } else { *o };
                    }
                }
            }
        }
    }
}

/// Image rows as stored (channel-major: channel, then position) to
/// channels-last (position, then channel).
fn channels_last(features: &[f32], channels: usize, positions: usize) -> Vec<f32> {
    let mut out = vec![0.0; features.len()];
    for (row, to) in features.chunks_exact(channels * positions).zip(out.chunks_exact_mut(channels * positions)) {
        for c in 0..channels {
            for p in 0..positions {
                to[p * channels + c] = row[c * positions + p];
            }
        }
    }
    out
}

/// `arrays` with every kernel `[out, in, kh, kw]` laid out as the matrix
/// `[kh kw in, out]` (tap-major, as [`patches`] writes its columns); a 1x1
/// projection becomes `[in, out]`. Other arrays are copied as they are.
fn as_matrices(arrays: &Arrays) -> Arrays {
    arrays
        .iter()
        .map(|(name, (shape, data))| {
            let array = match shape[..] {
                [out, inp, kh, kw] => {
                    let taps = kh * kw;
                    let mut matrix = vec![0.0; data.len()];
                    for o in 0..out {
                        for c in 0..inp {
                            for t in 0..taps {
                                matrix[(t * inp + c) * out + o] = data[(o * inp + c) * taps + t];
                            }
                        }
                    }
                    (vec![taps * inp, out], matrix)
                }
                _ => (shape.clone(), data.clone()),
            };
            (name.clone(), array)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x3 convolution straight from its definition, on channel-major images.
    fn direct_conv(x: &[f32], kernel: &[f32], (c, h, w): (usize, usize, usize), out: usize) -> Vec<f32> {
        let mut y = vec![0.0; out * h * w];
        for o in 0..out {
            for yy in 0..h as isize {
                for xx in 0..w as isize {
                    let mut sum = 0.0;
                    for ci in 0..c {
                        for ky in 0..3isize {
                            for kx in 0..3isize {
                                let (sy, sx) = (yy + ky - 1, xx + kx - 1);
                                if (0..h as isize).contains(&sy) && (0..w as isize).contains(&sx) {
                                    let k = kernel[((o * c + ci) * 3 + ky as usize) * 3 + kx as usize];
                                    sum += k * x[(ci * h + sy as usize) * w + sx as usize];
                                }
                            }
                        }
                    }
                    y[(o * h + yy as usize) * w + xx as usize] = sum;
                }
            }
        }
        y
    }

    #[test]
    fn patches_times_the_kernel_matrix_is_the_convolution() {
        // Odd sizes and a strip one row high (plain features read as an image).
        for (c, h, w, out) in [(2, 5, 4, 3), (1, 1, 6, 2), (3, 3, 3, 1)] {
            let x: Vec<f32> = (0..c * h * w).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
            let kernel: Vec<f32> = (0..out * c * 9).map(|i| ((i * 13) % 7) as f32 * 0.5 - 1.5).collect();
            let want = direct_conv(&x, &kernel, (c, h, w), out);
            let mut arrays = Arrays::new();
            arrays.insert("k".into(), (vec![out, c, 3, 3], kernel));
            let matrix = &as_matrices(&arrays)["k"];
            assert_eq!(matrix.0, vec![9 * c, out]);
            let mut cols = Vec::new();
            patches(&channels_last(&x, c, h * w), 1, Image { height: h, width: w, channels: c }, &mut cols);
            let mut got = vec![0.0; h * w * out];
            mul(&cols, h * w, 9 * c, &matrix.1, out, &mut got);
            for o in 0..out {
                for p in 0..h * w {
                    assert_eq!(got[p * out + o], want[o * h * w + p], "{c}x{h}x{w}, channel {o}, position {p}");
                }
            }
        }
    }

    #[test]
    fn max_pool_takes_each_windows_largest_and_drops_an_odd_edge() {
        // One example, 3 x 5, two channels: channel 1 is channel 0 negated.
        let values: Vec<f32> = (0..15).map(|i| ((i * 7) % 15) as f32).collect();
        let h: Vec<f32> = values.iter().flat_map(|&v| [v, -v]).collect();
        let mut out = Vec::new();
        max_pool(&h, 1, Image { height: 3, width: 5, channels: 2 }, &mut out);
        let at = |y: usize, x: usize| values[y * 5 + x];
        let mut want = Vec::new();
        for px in 0..2 {
            let window = [at(0, 2 * px), at(0, 2 * px + 1), at(1, 2 * px), at(1, 2 * px + 1)];
            want.push(window.iter().copied().fold(f32::MIN, f32::max));
            want.push(window.iter().map(|v| -v).fold(f32::MIN, f32::max));
        }
        assert_eq!(out, want);
    }
}
