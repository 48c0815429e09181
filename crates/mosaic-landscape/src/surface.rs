//! Loss and accuracy over a 1-D or 2-D grid of weights `w + a d1 + b d2`.
//!
//! Grid points are evaluated a chunk at a time: every parameter becomes a
//! `[G, rows, cols]` stack of its G perturbed values, built on the device by
//! broadcasting, and the forward pass runs on all G networks at once as
//! batched matrix products. The first layer's input is shared by all of
//! them, so `x (W + a D1 + b D2)` is computed once as three products and
//! combined per grid point. A convolutional network runs its G networks as
//! the G groups of grouped convolutions. Chunks run in parallel; nothing
//! rebuilds a model.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::ConvOptions;
use mosaic_core::Activation;
use mosaic_train::checkpoint::Arrays;
use mosaic_train::data::Dataset;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::LandscapeError;
use crate::net::{Linear, NORM_EPSILON, Net, NormLayer, Skip, image_of};

/// Evenly spaced values `min..=max`, written `min:max:num` (`-1:1:51`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub num: usize,
}

impl Axis {
    pub fn parse(text: &str) -> Result<Axis, LandscapeError> {
        let bad = |why: &str| LandscapeError::Format(format!("axis `{text}`: {why}; write MIN:MAX:NUM, e.g. -1:1:51"));
        let parts: Vec<&str> = text.split(':').collect();
        let [min, max, num] = parts[..] else {
            return Err(bad("expected three parts"));
        };
        let min: f64 = min.trim().parse().map_err(|_| bad("MIN is not a number"))?;
        let max: f64 = max.trim().parse().map_err(|_| bad("MAX is not a number"))?;
        let num: usize = num.trim().parse().map_err(|_| bad("NUM is not a whole number"))?;
        if !(min.is_finite() && max.is_finite()) || min > max {
            return Err(bad("MIN must not exceed MAX"));
        }
        if num == 0 || num > 10_000 || (num == 1 && min != max) {
            return Err(bad("NUM must be 1 to 10000 (1 only when MIN equals MAX)"));
        }
        Ok(Axis { min, max, num })
    }

    pub fn values(&self) -> Vec<f64> {
        if self.num == 1 {
            return vec![self.min];
        }
        let step = (self.max - self.min) / (self.num - 1) as f64;
        (0..self.num).map(|i| if i + 1 == self.num { self.max } else { self.min + step * i as f64 }).collect()
    }
}

/// The evaluated grid. `loss[i * x.len() + j]` is at `(x[j], y[i])`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Surface {
    pub x: Vec<f64>,
    /// `None` for a 1-D scan along `d1`.
    pub y: Option<Vec<f64>>,
    /// Mean cross-entropy (nats per example); may be infinite far out.
    pub loss: Vec<f64>,
    pub accuracy: Vec<f64>,
}

impl Surface {
    /// Grid index and value of the lowest finite loss.
    pub fn minimum(&self) -> Option<(usize, f64)> {
        self.loss.iter().copied().enumerate().filter(|(_, l)| l.is_finite()).min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Most floats one activation stack of a chunk may hold (16 MB).
const CHUNK_FLOATS: usize = 4 << 20;

/// Evaluates `net` on `data` at every grid point. `progress(done, total)` is
/// called as chunks finish; setting `cancel` stops at the next chunk.
#[allow(clippy::too_many_arguments)]
pub fn surface<B: Backend>(
    net: &Net,
    d1: &Arrays,
    d2: Option<&Arrays>,
    x_axis: Axis,
    y_axis: Option<Axis>,
    data: &Dataset,
    device: &B::Device,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Surface, LandscapeError> {
    surface_within::<B>(net, d1, d2, x_axis, y_axis, data, device, progress, cancel, CHUNK_FLOATS)
}

/// [`surface`] with activation stacks of at most about `floats` floats.
#[allow(clippy::too_many_arguments)]
fn surface_within<B: Backend>(
    net: &Net,
    d1: &Arrays,
    d2: Option<&Arrays>,
    x_axis: Axis,
    y_axis: Option<Axis>,
    data: &Dataset,
    device: &B::Device,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
    floats: usize,
) -> Result<Surface, LandscapeError> {
    validate(net, d1, d2, y_axis, data)?;
    let (xs, ys, points) = grid_points(x_axis, y_axis);
    let widest = if net.convolutional {
        // An example's widest activation, and the kernel's nine taps per value in the convolution.
        let (channels, height, width) = image_of(data);
        let most = net.blocks.iter().map(|b| net.weights[&b.linear.weight].0[0]).fold(channels, usize::max);
        9 * most * height * width
    } else {
        net.weights.values().flat_map(|(s, _)| s.iter().copied()).max().unwrap_or(1)
    };
    let threads = rayon::current_num_threads().max(1);
    let chunk = (floats / (data.len() * widest).max(1)).clamp(1, 64).min(points.len().div_ceil(2 * threads).max(1));
    // Where even one grid point's activations exceed the budget, its examples go through in batches.
    let batch = (floats / (chunk * widest).max(1)).clamp(1, data.len());
    let done = AtomicUsize::new(0);
    let inputs = Inputs::new(data, net.classes(), batch);
    // Each chunk's losses and accuracies, in grid order.
    let results: Vec<Result<Losses, LandscapeError>> = points
        .par_chunks(chunk)
        .map(|part| {
            if cancel.load(Ordering::Relaxed) {
                return Err(LandscapeError::Cancelled);
            }
            let out = evaluate_chunk::<B>(net, d1, d2, part, &inputs, device);
            progress(done.fetch_add(part.len(), Ordering::Relaxed) + part.len(), points.len());
            Ok(out)
        })
        .collect();
    let (mut loss, mut accuracy) = (Vec::with_capacity(points.len()), Vec::with_capacity(points.len()));
    for r in results {
        let (l, a) = r?;
        loss.extend(l);
        accuracy.extend(a);
    }
    Ok(Surface { x: xs, y: ys, loss, accuracy })
}

/// The checks both engines make before evaluating anything.
pub(crate) fn validate(net: &Net, d1: &Arrays, d2: Option<&Arrays>, y_axis: Option<Axis>, data: &Dataset) -> Result<(), LandscapeError> {
    check_data(net, data)?;
    crate::directions::check_direction(d1, net, "d1")?;
    if let Some(d2) = d2 {
        crate::directions::check_direction(d2, net, "d2")?;
    }
    if y_axis.is_some() != d2.is_some() {
        return Err(LandscapeError::Format("a 2-D surface needs two directions and a y axis; a 1-D scan neither".into()));
    }
    Ok(())
}

/// Losses and accuracies of a run of grid points.
type Losses = (Vec<f64>, Vec<f64>);

/// The x axis's values, the y axis's (none in 1-D), and the grid's `(a, b)` points row by row.
pub(crate) type Grid = (Vec<f64>, Option<Vec<f64>>, Vec<(f32, f32)>);

/// The axes' values and the grid's `(a, b)` points, row by row (`b = 0` in 1-D).
pub(crate) fn grid_points(x_axis: Axis, y_axis: Option<Axis>) -> Grid {
    let xs = x_axis.values();
    let ys = y_axis.map(|a| a.values());
    let points = match &ys {
        Some(ys) => ys.iter().flat_map(|&b| xs.iter().map(move |&a| (a as f32, b as f32))).collect(),
        None => xs.iter().map(|&a| (a as f32, 0.0)).collect(),
    };
    (xs, ys, points)
}

fn check_data(net: &Net, data: &Dataset) -> Result<(), LandscapeError> {
    if data.is_empty() {
        return Err(LandscapeError::Format(format!("data set `{}` has no examples", data.name)));
    }
    if net.convolutional {
        let (channels, height, width) = image_of(data);
        if channels * height * width != data.dim {
            return Err(LandscapeError::Shape(format!(
                "data set `{}` says its images are {channels} x {height} x {width} but has {} features per example",
                data.name, data.dim
            )));
        }
        if channels != net.input_dim() {
            let reading = if data.image.is_some() { String::new() } else { format!(" (plain features are read as 1 x 1 x {})", data.dim) };
            return Err(LandscapeError::Shape(format!(
                "the data's images have {channels} channel(s){reading} but the network's first convolution takes {}",
                net.input_dim()
            )));
        }
    } else if data.dim != net.input_dim() {
        return Err(LandscapeError::Shape(format!(
            "the data has {} features per example but the network's first layer takes {}",
            data.dim,
            net.input_dim()
        )));
    }
    if let Some(l) = data.labels.iter().find(|&&l| l as usize >= net.classes()) {
        return Err(LandscapeError::Shape(format!("label {l} is out of range: the network has {} output classes", net.classes())));
    }
    if let Some(i) = data.features.iter().position(|v| !v.is_finite()) {
        return Err(LandscapeError::NonFinite(format!("data example {}, feature {}", i / data.dim, i % data.dim)));
    }
    Ok(())
}

/// The data as plain slices, shared by the threads; each chunk uploads it.
struct Inputs<'a> {
    data: &'a Dataset,
    one_hot: Vec<f32>,
    classes: usize,
    /// Examples per forward pass.
    batch: usize,
}

impl<'a> Inputs<'a> {
    /// `classes` is the network's: data may use fewer than it predicts.
    fn new(data: &'a Dataset, classes: usize, batch: usize) -> Self {
        let mut one_hot = vec![0.0; data.len() * classes];
        for (i, &l) in data.labels.iter().enumerate() {
            one_hot[i * classes + l as usize] = 1.0;
        }
        Inputs { data, one_hot, classes, batch }
    }
}

/// A parameter as `[1, rows, cols]` (a vector is one row), with its direction components.
struct Param<B: Backend> {
    base: Tensor<B, 2>,
    d1: Option<Tensor<B, 2>>,
    d2: Option<Tensor<B, 2>>,
}

/// The grid points of one chunk, and the parameters uploaded for them.
struct Chunk<'a, B: Backend> {
    net: &'a Net,
    d1: &'a Arrays,
    d2: Option<&'a Arrays>,
    a: Tensor<B, 3>,
    b: Tensor<B, 3>,
    g: usize,
    device: &'a B::Device,
}

fn matrix<B: Backend>(array: &(Vec<usize>, Vec<f32>), device: &B::Device) -> Tensor<B, 2> {
    let (shape, data) = array;
    let (rows, cols) = match shape[..] {
        [r, c] => (r, c),
        _ => (1, data.len()),
    };
    Tensor::from_data(TensorData::new(data.clone(), [rows, cols]), device)
}

impl<B: Backend> Chunk<'_, B> {
    fn param(&self, name: &str) -> Param<B> {
        let nonzero = |d: &Arrays| {
            let array = &d[name];
            array.1.iter().any(|v| *v != 0.0).then(|| matrix::<B>(array, self.device))
        };
        Param { base: matrix(&self.net.weights[name], self.device), d1: nonzero(self.d1), d2: self.d2.and_then(nonzero) }
    }

    /// `[G, rows, cols]` values of a parameter at the chunk's grid points
    /// (`[1, rows, cols]` where no direction moves it).
    fn stacked(&self, name: &str) -> Tensor<B, 3> {
        let p = self.param(name);
        let mut v = p.base.unsqueeze::<3>();
        if let Some(d) = p.d1 {
            v = v + self.a.clone() * d.unsqueeze::<3>();
        }
        if let Some(d) = p.d2 {
            v = v + self.b.clone() * d.unsqueeze::<3>();
        }
        v
    }

    /// `h W` for `h` of `[G or 1, n, in]`. A shared input is multiplied by
    /// the base and each direction once, then combined per grid point.
    fn times(&self, h: Tensor<B, 3>, name: &str) -> Tensor<B, 3> {
        let [hg, n, inp] = h.dims();
        if hg == 1 {
            let h = h.reshape([n, inp]);
            let p = self.param(name);
            let mut v = h.clone().matmul(p.base).unsqueeze::<3>();
            if let Some(d) = p.d1 {
                v = v + self.a.clone() * h.clone().matmul(d).unsqueeze::<3>();
            }
            if let Some(d) = p.d2 {
                v = v + self.b.clone() * h.matmul(d).unsqueeze::<3>();
            }
            v
        } else {
            let w = self.stacked(name);
            let [wg, r, c] = w.dims();
            let w = if wg == 1 { w.expand([hg, r, c]) } else { w };
            h.matmul(w)
        }
    }

    fn linear(&self, h: Tensor<B, 3>, l: &Linear) -> Tensor<B, 3> {
        let out = self.times(h, &l.weight);
        match &l.bias {
            Some(b) => out + self.stacked(b),
            None => out,
        }
    }

    /// Layer norm over dimension 2 (a dense row's features, a convolution's
    /// channels at one position), or batch norm per entry of it with the
    /// running statistics. `shape` lays a per-channel `[G or 1, 1, c]` stack
    /// out to broadcast against `h`.
    fn norm<const D: usize>(&self, h: Tensor<B, D>, norm: &NormLayer, shape: impl Fn(Tensor<B, 3>) -> Tensor<B, D>) -> Tensor<B, D> {
        let fixed = |name: &str| shape(matrix::<B>(&self.net.weights[name], self.device).unsqueeze::<3>());
        let (normalised, gamma, beta) = match norm {
            NormLayer::Layer { gamma, beta } => {
                let mean = h.clone().mean_dim(2);
                let centred = h - mean;
                let var = centred.clone().square().mean_dim(2);
                (centred / (var + NORM_EPSILON).sqrt(), gamma, beta)
            }
            NormLayer::Batch { gamma, beta, running_mean, running_var } => {
                ((h - fixed(running_mean)) / (fixed(running_var) + NORM_EPSILON).sqrt(), gamma, beta)
            }
        };
        normalised * shape(self.stacked(gamma)) + shape(self.stacked(beta))
    }

    /// The last hidden block's output, `[G or 1, n, width]`, of a dense
    /// network on `features` (`n` rows of `dim`).
    fn dense_features(&self, features: &[f32], dim: usize) -> Tensor<B, 3> {
        let n = features.len() / dim;
        let mut h = Tensor::<B, 3>::from_data(TensorData::new(features.to_vec(), [1, n, dim]), self.device);
        for block in &self.net.blocks {
            let input = h.clone();
            let mut out = self.linear(h, &block.linear);
            if let Some(norm) = &block.norm {
                out = self.norm(out, norm, |v| v);
            }
            out = activate(out, self.net.activation);
            h = match &block.skip {
                Skip::None => out,
                Skip::Identity => out + input,
                Skip::Projection(p) => out + self.times(input, p),
            };
        }
        h
    }

    /// A convolutional network's pooled features, `[G or 1, n, channels]`,
    /// on `n` channel-major images.
    /// Activations are `[n, G or 1, channels, height, width]`: each grid
    /// point's network is one group of a grouped convolution.
    fn conv_features(&self, features: &[f32], (channels, height, width): (usize, usize, usize)) -> Tensor<B, 3> {
        let n = features.len() / (channels * height * width);
        let mut h = Tensor::<B, 5>::from_data(TensorData::new(features.to_vec(), [n, 1, channels, height, width]), self.device);
        for block in &self.net.blocks {
            let input = h.clone();
            let mut out = self.conv(h, &block.linear.weight);
            if let Some(bias) = &block.linear.bias {
                out = out + per_channel(self.stacked(bias));
            }
            if let Some(norm) = &block.norm {
                out = self.norm(out, norm, per_channel);
            }
            out = activate(out, self.net.activation);
            out = match &block.skip {
                Skip::None => out,
                Skip::Identity => out + input,
                Skip::Projection(p) => out + self.conv(input, p),
            };
            let [n, g, c, hh, ww] = out.dims();
            h = if hh >= 2 && ww >= 2 {
                let pooled = max_pool2d(out.reshape([n, g * c, hh, ww]), [2, 2], [2, 2], [0, 0], [1, 1], false);
                pooled.reshape([n, g, c, hh / 2, ww / 2])
            } else {
                out
            };
        }
        let [n, g, c, _, _] = h.dims();
        h.mean_dim(4).mean_dim(3).reshape([n, g, c]).swap_dims(0, 1)
    }

    /// Convolution by the kernel `name` (`[out, in, k, k]`, padding `k / 2`).
    /// A shared input (one group) is convolved with the weights and each
    /// direction once, combined per grid point; otherwise every grid point's
    /// kernel convolves its own group.
    fn conv(&self, h: Tensor<B, 5>, name: &str) -> Tensor<B, 5> {
        let [out, inp, kh, kw] = self.net.weights[name].0[..] else { unreachable!("checked: `{name}` is a kernel") };
        let options = |groups| ConvOptions::new([1, 1], [kh / 2, kw / 2], [1, 1], groups);
        let [n, hg, c, height, width] = h.dims();
        if hg == 1 {
            let x = h.reshape([n, c, height, width]);
            let p = self.param(name);
            let by = |k: Tensor<B, 2>| conv2d(x.clone(), k.reshape([out, inp, kh, kw]), None, options(1)).unsqueeze_dim::<5>(1);
            let coefficient = |t: &Tensor<B, 3>| t.clone().reshape([1, self.g, 1, 1, 1]);
            let mut v = by(p.base);
            if let Some(d) = p.d1 {
                v = v + coefficient(&self.a) * by(d);
            }
            if let Some(d) = p.d2 {
                v = v + coefficient(&self.b) * by(d);
            }
            v
        } else {
            let k = self.stacked(name);
            let k = if k.dims()[0] == 1 { k.expand([hg, 1, out * inp * kh * kw]) } else { k };
            let y = conv2d(h.reshape([n, hg * c, height, width]), k.reshape([hg * out, inp, kh, kw]), None, options(hg));
            let [_, _, oh, ow] = y.dims();
            y.reshape([n, hg, out, oh, ow])
        }
    }
}

/// A per-channel `[G or 1, 1, c]` stack as `[1, G or 1, c, 1, 1]`, against
/// convolutional activations `[n, G, c, h, w]`.
fn per_channel<B: Backend>(v: Tensor<B, 3>) -> Tensor<B, 5> {
    let [g, _, c] = v.dims();
    v.reshape([1, g, c, 1, 1])
}

fn activate<B: Backend, const D: usize>(h: Tensor<B, D>, f: Activation) -> Tensor<B, D> {
    match f {
        Activation::Relu => activation::relu(h),
        Activation::Gelu => activation::gelu(h),
        Activation::Tanh => activation::tanh(h),
        Activation::Silu => activation::silu(h),
    }
}

fn evaluate_chunk<B: Backend>(
    net: &Net,
    d1: &Arrays,
    d2: Option<&Arrays>,
    points: &[(f32, f32)],
    inputs: &Inputs,
    device: &B::Device,
) -> (Vec<f64>, Vec<f64>) {
    let g = points.len();
    let coefficient = |f: fn(&(f32, f32)) -> f32| {
        Tensor::<B, 3>::from_data(TensorData::new(points.iter().map(f).collect::<Vec<f32>>(), [g, 1, 1]), device)
    };
    let chunk = Chunk { net, d1, d2, a: coefficient(|p| p.0), b: coefficient(|p| p.1), g, device };
    let data = inputs.data;
    let (total, classes) = (data.len(), inputs.classes);
    let (mut loss, mut correct) = (vec![0.0f64; g], vec![0i64; g]);
    for start in (0..total).step_by(inputs.batch) {
        let examples = start..(start + inputs.batch).min(total);
        let n = examples.len();
        let features = &data.features[examples.start * data.dim..examples.end * data.dim];
        let hidden =
            if net.convolutional { chunk.conv_features(features, image_of(data)) } else { chunk.dense_features(features, data.dim) };
        let logits = chunk.linear(hidden, &net.head);
        let logits = if logits.dims()[0] == 1 { logits.expand([chunk.g, n, classes]) } else { logits };
        let one_hot = inputs.one_hot[examples.start * classes..examples.end * classes].to_vec();
        let one_hot = Tensor::<B, 3>::from_data(TensorData::new(one_hot, [1, n, classes]), device);
        let log_p = activation::log_softmax(logits.clone(), 2);
        let summed = (log_p * one_hot).sum_dim(2).sum_dim(1).neg().reshape([g]);
        let labels: Vec<i64> = data.labels[examples].iter().map(|&l| l as i64).collect();
        let labels = Tensor::<B, 3, Int>::from_data(TensorData::new(labels, [1, n, 1]), device).expand([g, n, 1]);
        let right = logits.argmax(2).equal(labels).int().sum_dim(1).reshape([g]);
        let summed = summed.into_data().convert::<f64>().to_vec::<f64>().expect("converted to f64");
        let right = right.into_data().convert::<i64>().to_vec::<i64>().expect("converted to i64");
        loss.iter_mut().zip(summed).for_each(|(l, s)| *l += s);
        correct.iter_mut().zip(right).for_each(|(c, r)| *c += r);
    }
    (loss.into_iter().map(|l| l / total as f64).collect(), correct.into_iter().map(|c| c as f64 / total as f64).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use burn::backend::Flex;
    use burn::backend::flex::FlexDevice;
    use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer};
    use mosaic_train::checkpoint::module_arrays;
    use mosaic_train::data::BuiltIn;
    use mosaic_train::model::Network;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::{Axis, CHUNK_FLOATS, surface_within};
    use crate::Net;
    use crate::directions::{DirectionOptions, surface_directions};

    #[test]
    fn a_small_budget_batches_the_examples_with_the_same_surface() {
        let data = BuiltIn::Shapes.generate(30, 2);
        for family in [Family::Cnn, Family::Mlp] {
            let spec = ArchSpec {
                family,
                depth: 2,
                width: 5,
                taper: 1.0,
                activation: Activation::Tanh,
                norm: Norm::Layer,
                dropout: 0.0,
                skip: true,
                optimizer: Optimizer::Adam,
                learning_rate: 0.01,
                batch_size: 32,
                weight_decay: 0.0,
                epochs: 1,
            };
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let network = Network::<Flex>::new(&spec, data.shape(), data.image, &mut rng, &FlexDevice);
            let net = Net::from_checkpoint(&spec, module_arrays(&network)).unwrap();
            let (d1, d2) = surface_directions(&net, &DirectionOptions::default(), true);
            let axis = Axis::parse("-1:1:3").unwrap();
            let run = |floats| {
                let never = AtomicBool::new(false);
                surface_within::<Flex>(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &FlexDevice, &|_, _| {}, &never, floats).unwrap()
            };
            // One grid point per chunk and a few examples per pass, against one pass.
            let (whole, batched) = (run(CHUNK_FLOATS), run(5_000));
            for (w, b) in whole.loss.iter().zip(&batched.loss) {
                assert!((w - b).abs() <= 1e-5 * w.abs().max(1.0), "{family:?}: {w} vs {b}");
            }
            assert_eq!(whole.accuracy, batched.accuracy, "{family:?}");
        }
    }
}
