//! Loss and accuracy over a 1-D or 2-D grid of weights `w + a d1 + b d2`.
//!
//! Grid points are evaluated a chunk at a time: every parameter becomes a
//! `[G, rows, cols]` stack of its G perturbed values, built on the device by
//! broadcasting, and the forward pass runs on all G networks at once as
//! batched matrix products. The first layer's input is shared by all of
//! them, so `x (W + a D1 + b D2)` is computed once as three products and
//! combined per grid point. Chunks run in parallel; nothing rebuilds a model.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use burn::prelude::*;
use burn::tensor::activation;
use mosaic_core::Activation;
use mosaic_train::checkpoint::Arrays;
use mosaic_train::data::Dataset;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::LandscapeError;
use crate::net::{DenseNet, Linear, NORM_EPSILON, NormLayer, Skip};

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
    net: &DenseNet,
    d1: &Arrays,
    d2: Option<&Arrays>,
    x_axis: Axis,
    y_axis: Option<Axis>,
    data: &Dataset,
    device: &B::Device,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Surface, LandscapeError> {
    validate(net, d1, d2, y_axis, data)?;
    let (xs, ys, points) = grid_points(x_axis, y_axis);
    let widest = net.weights.values().flat_map(|(s, _)| s.iter().copied()).max().unwrap_or(1);
    let threads = rayon::current_num_threads().max(1);
    let chunk = (CHUNK_FLOATS / (data.len() * widest).max(1)).clamp(1, 64).min(points.len().div_ceil(2 * threads).max(1));
    let done = AtomicUsize::new(0);
    let inputs = Inputs::new(data, net.classes());
    let results: Vec<Result<(Vec<f64>, Vec<f64>), LandscapeError>> = points
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
pub(crate) fn validate(
    net: &DenseNet,
    d1: &Arrays,
    d2: Option<&Arrays>,
    y_axis: Option<Axis>,
    data: &Dataset,
) -> Result<(), LandscapeError> {
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

/// The axes' values and the grid's `(a, b)` points, row by row (`b = 0` in 1-D).
pub(crate) fn grid_points(x_axis: Axis, y_axis: Option<Axis>) -> (Vec<f64>, Option<Vec<f64>>, Vec<(f32, f32)>) {
    let xs = x_axis.values();
    let ys = y_axis.map(|a| a.values());
    let points = match &ys {
        Some(ys) => ys.iter().flat_map(|&b| xs.iter().map(move |&a| (a as f32, b as f32))).collect(),
        None => xs.iter().map(|&a| (a as f32, 0.0)).collect(),
    };
    (xs, ys, points)
}

fn check_data(net: &DenseNet, data: &Dataset) -> Result<(), LandscapeError> {
    if data.is_empty() {
        return Err(LandscapeError::Format(format!("data set `{}` has no examples", data.name)));
    }
    if data.dim != net.input_dim() {
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
}

impl<'a> Inputs<'a> {
    /// `classes` is the network's: data may use fewer than it predicts.
    fn new(data: &'a Dataset, classes: usize) -> Self {
        let mut one_hot = vec![0.0; data.len() * classes];
        for (i, &l) in data.labels.iter().enumerate() {
            one_hot[i * classes + l as usize] = 1.0;
        }
        Inputs { data, one_hot, classes }
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
    net: &'a DenseNet,
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

    fn norm(&self, h: Tensor<B, 3>, norm: &NormLayer) -> Tensor<B, 3> {
        let (normalised, gamma, beta) = match norm {
            NormLayer::Layer { gamma, beta } => {
                let mean = h.clone().mean_dim(2);
                let centred = h - mean;
                let var = centred.clone().square().mean_dim(2);
                (centred / (var + NORM_EPSILON).sqrt(), gamma, beta)
            }
            NormLayer::Batch { gamma, beta, running_mean, running_var } => {
                let mean = matrix::<B>(&self.net.weights[running_mean], self.device).unsqueeze::<3>();
                let var = matrix::<B>(&self.net.weights[running_var], self.device).unsqueeze::<3>();
                ((h - mean) / (var + NORM_EPSILON).sqrt(), gamma, beta)
            }
        };
        normalised * self.stacked(gamma) + self.stacked(beta)
    }
}

fn activate<B: Backend>(h: Tensor<B, 3>, f: Activation) -> Tensor<B, 3> {
    match f {
        Activation::Relu => activation::relu(h),
        Activation::Gelu => activation::gelu(h),
        Activation::Tanh => activation::tanh(h),
        Activation::Silu => activation::silu(h),
    }
}

fn evaluate_chunk<B: Backend>(
    net: &DenseNet,
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
    let (n, classes) = (data.len(), inputs.classes);
    let mut h = Tensor::<B, 3>::from_data(TensorData::new(data.features.clone(), [1, n, data.dim]), device);
    for block in &net.blocks {
        let input = h.clone();
        let mut out = chunk.linear(h, &block.linear);
        if let Some(norm) = &block.norm {
            out = chunk.norm(out, norm);
        }
        out = activate(out, net.activation);
        h = match &block.skip {
            Skip::None => out,
            Skip::Identity => out + input,
            Skip::Projection(p) => out + chunk.times(input, p),
        };
    }
    let logits = chunk.linear(h, &net.head);
    let logits = if logits.dims()[0] == 1 { logits.expand([chunk.g, n, classes]) } else { logits };
    let one_hot = Tensor::<B, 3>::from_data(TensorData::new(inputs.one_hot.clone(), [1, n, classes]), device);
    let log_p = activation::log_softmax(logits.clone(), 2);
    let loss = (log_p * one_hot).sum_dim(2).mean_dim(1).neg().reshape([g]);
    let labels: Vec<i64> = data.labels.iter().map(|&l| l as i64).collect();
    let labels = Tensor::<B, 3, Int>::from_data(TensorData::new(labels, [1, n, 1]), device).expand([g, n, 1]);
    let correct = logits.argmax(2).equal(labels).int().sum_dim(1).reshape([g]);
    let loss = loss.into_data().convert::<f64>().to_vec::<f64>().expect("converted to f64");
    let correct = correct.into_data().convert::<i64>().to_vec::<i64>().expect("converted to i64");
    (loss, correct.into_iter().map(|c| c as f64 / n as f64).collect())
}
