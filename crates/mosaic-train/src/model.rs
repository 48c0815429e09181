//! Networks built from an [`ArchSpec`], generic over the burn backend.
//!
//! Weights are drawn from the run's own seeded generator (uniform in
//! ±1/sqrt(fan_in), PyTorch's default for dense and conv layers), never from
//! burn's process-wide one, so runs training side by side on several threads
//! stay reproducible. The trainable parameters are exactly the ones
//! [`ArchSpec::parameter_count`] counts.

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig};
use burn::prelude::*;
use burn::tensor::activation;
use burn::tensor::module::{adaptive_avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::ConvOptions;
use mosaic_core::{Activation, ArchSpec, Family, Norm, TaskShape};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// A dense layer; the weight is `[in, out]`.
#[derive(Module, Debug)]
pub struct Dense<B: Backend> {
    pub weight: Param<Tensor<B, 2>>,
    pub bias: Param<Tensor<B, 1>>,
}

/// A 3x3 convolution with padding 1; the weight is `[out, in, 3, 3]`.
#[derive(Module, Debug)]
pub struct Conv<B: Backend> {
    pub weight: Param<Tensor<B, 4>>,
    pub bias: Param<Tensor<B, 1>>,
}

/// The learned map of one hidden block.
#[derive(Module, Debug)]
pub enum Layer<B: Backend> {
    Dense(Dense<B>),
    Conv(Conv<B>),
}

#[derive(Module, Debug)]
pub enum NormLayer<B: Backend> {
    Layer(LayerNorm<B>),
    Batch(BatchNorm<B>),
}

/// A bias-free projection for a skip between blocks of different width:
/// `[in, out]` dense, or a 1x1 convolution `[out, in, 1, 1]`.
#[derive(Module, Debug)]
pub enum Projection<B: Backend> {
    Dense(Param<Tensor<B, 2>>),
    Conv(Param<Tensor<B, 4>>),
}

/// layer -> norm -> activation -> (+ skip) -> dropout -> (2x2 max-pool for images).
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    pub layer: Layer<B>,
    pub norm: Option<NormLayer<B>>,
    /// Whether this block adds its input back...
    pub skip: bool,
    /// ...through this projection when the widths differ.
    pub projection: Option<Projection<B>>,
}

/// A whole network: hidden blocks and a dense classification head.
#[derive(Module, Debug)]
pub struct Network<B: Backend> {
    pub blocks: Vec<Block<B>>,
    pub head: Dense<B>,
    pub activation: Activation,
    pub dropout: f64,
    /// `(channels, height, width)` of image inputs for the conv family.
    pub image: Option<[usize; 3]>,
}

fn uniform<B: Backend, const D: usize>(shape: [usize; D], fan_in: usize, rng: &mut ChaCha8Rng, device: &B::Device) -> Param<Tensor<B, D>> {
    let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..bound)).collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

impl<B: Backend> Network<B> {
    /// Builds the network for a task; same spec, task and generator state, same weights.
    pub fn new(spec: &ArchSpec, task: TaskShape, image: Option<(usize, usize, usize)>, rng: &mut ChaCha8Rng, device: &B::Device) -> Self {
        let conv = spec.family == Family::Cnn;
        // A conv net over plain features sees them as a 1 x 1 x d image.
        let image = conv.then(|| image.map_or([1, 1, task.input_dim as usize], |(c, h, w)| [c, h, w]));
        let mut prev = if conv { image.map_or(1, |i| i[0]) } else { task.input_dim as usize };
        let residual = spec.family == Family::ResidualMlp || spec.skip;
        let mut blocks = Vec::new();
        for (i, w) in spec.hidden_widths().into_iter().enumerate() {
            let w = w as usize;
            let layer = if conv {
                Layer::Conv(Conv { weight: uniform([w, prev, 3, 3], 9 * prev, rng, device), bias: uniform([w], 9 * prev, rng, device) })
            } else {
                Layer::Dense(Dense { weight: uniform([prev, w], prev, rng, device), bias: uniform([w], prev, rng, device) })
            };
            let norm = match spec.norm {
                Norm::None => None,
                Norm::Layer => Some(NormLayer::Layer(LayerNormConfig::new(w).init(device))),
                Norm::Batch => Some(NormLayer::Batch(BatchNormConfig::new(w).init(device))),
            };
            // Skips start at the second block: the first changes the input's kind.
            let skip = residual && i > 0;
            let projection = (skip && prev != w).then(|| {
                if conv {
                    Projection::Conv(uniform([w, prev, 1, 1], prev, rng, device))
                } else {
                    Projection::Dense(uniform([prev, w], prev, rng, device))
                }
            });
            blocks.push(Block { layer, norm, skip, projection });
            prev = w;
        }
        let classes = task.classes as usize;
        let head = Dense { weight: uniform([prev, classes], prev, rng, device), bias: uniform([classes], prev, rng, device) };
        Network { blocks, head, activation: spec.activation, dropout: spec.dropout, image }
    }

    fn activate<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self.activation {
            Activation::Relu => activation::relu(x),
            Activation::Gelu => activation::gelu(x),
            Activation::Tanh => activation::tanh(x),
            Activation::Silu => activation::silu(x),
        }
    }

    /// Logits for a batch of feature rows `[n, d]`. `dropout` draws the masks
    /// (training); `None` is evaluation. `hidden`, if given, receives each
    /// block's output as `[n, width]` (conv blocks: averaged over space).
    pub fn forward(
        &self,
        x: Tensor<B, 2>,
        mut dropout: Option<&mut ChaCha8Rng>,
        mut hidden: Option<&mut Vec<Tensor<B, 2>>>,
    ) -> Tensor<B, 2> {
        let [n, _] = x.dims();
        let features = match self.image {
            Some([c, h, w]) => {
                let mut x = x.reshape([n, c, h, w]);
                for block in &self.blocks {
                    x = self.conv_block(block, x, dropout.as_deref_mut());
                    if let Some(out) = hidden.as_deref_mut() {
                        out.push(pool_to_vector(x.clone()));
                    }
                }
                pool_to_vector(x)
            }
            None => {
                let mut x = x;
                for block in &self.blocks {
                    x = self.dense_block(block, x, dropout.as_deref_mut());
                    if let Some(out) = hidden.as_deref_mut() {
                        out.push(x.clone());
                    }
                }
                x
            }
        };
        dense(&self.head, features)
    }

    fn dense_block(&self, block: &Block<B>, x: Tensor<B, 2>, dropout: Option<&mut ChaCha8Rng>) -> Tensor<B, 2> {
        let Layer::Dense(layer) = &block.layer else { unreachable!("dense network with a conv layer") };
        let mut h = dense(layer, x.clone());
        h = match &block.norm {
            None => h,
            Some(NormLayer::Layer(n)) => n.forward(h),
            Some(NormLayer::Batch(n)) => n.forward(h),
        };
        h = self.activate(h);
        if block.skip {
            h = h + match &block.projection {
                None => x,
                Some(Projection::Dense(p)) => x.matmul(p.val()),
                Some(Projection::Conv(_)) => unreachable!("dense network with a conv projection"),
            };
        }
        apply_dropout(h, self.dropout, dropout)
    }

    fn conv_block(&self, block: &Block<B>, x: Tensor<B, 4>, dropout: Option<&mut ChaCha8Rng>) -> Tensor<B, 4> {
        let Layer::Conv(layer) = &block.layer else { unreachable!("conv network with a dense layer") };
        let same = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let mut h = conv2d(x.clone(), layer.weight.val(), Some(layer.bias.val()), same);
        h = match &block.norm {
            None => h,
            Some(NormLayer::Layer(n)) => layer_norm_images(n, h),
            Some(NormLayer::Batch(n)) => batch_norm_images(n, h),
        };
        h = self.activate(h);
        if block.skip {
            h = h + match &block.projection {
                None => x,
                Some(Projection::Conv(p)) => conv2d(x, p.val(), None, ConvOptions::new([1, 1], [0, 0], [1, 1], 1)),
                Some(Projection::Dense(_)) => unreachable!("conv network with a dense projection"),
            };
        }
        let h = apply_dropout(h, self.dropout, dropout);
        let [_, _, height, width] = h.dims();
        if height >= 2 && width >= 2 { max_pool2d(h, [2, 2], [2, 2], [0, 0], [1, 1], false) } else { h }
    }
}

/// Batch norm of `[n, c, h, w]` images, as burn's `BatchNorm` computes it
/// (biased batch variance; running statistics updated with its momentum
/// while training), with every broadcast shaped as one scalar per row of
/// `[n * c, h * w]`: burn Flex runs that shape on its SIMD path, while
/// `BatchNorm::forward`'s `[1, c, 1, 1]` broadcasts walk the tensor an
/// element at a time (4x the epoch time of the whole CNN; docs/benchmarks.md).
fn batch_norm_images<B: Backend>(norm: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let rows = x.reshape([n * c, h * w]);
    // A `[c]` vector as one value per row of `rows`.
    let per_row = |v: Tensor<B, 1>| v.reshape([1, c]).expand([n, c]).reshape([n * c, 1]);
    let channel_mean = |t: Tensor<B, 2>| t.mean_dim(1).reshape([n, c]).mean_dim(0).reshape([c]);
    let (mean, var) = if B::ad_enabled(&rows.device()) {
        let mean = channel_mean(rows.clone());
        let var = channel_mean((rows.clone() - per_row(mean.clone())).square());
        let m = norm.momentum;
        let running_mean = norm.running_mean.value_sync().mul_scalar(1.0 - m).add(mean.clone().detach().mul_scalar(m));
        let running_var = norm.running_var.value_sync().mul_scalar(1.0 - m).add(var.clone().detach().mul_scalar(m));
        norm.running_mean.update(running_mean.detach());
        norm.running_var.update(running_var.detach());
        (mean, var)
    } else {
        (norm.running_mean.value(), norm.running_var.value())
    };
    let scale = norm.gamma.val() / var.add_scalar(norm.epsilon).sqrt();
    let shift = norm.beta.val() - mean * scale.clone();
    (rows * per_row(scale) + per_row(shift)).reshape([n, c, h, w])
}

/// Layer norm over the channels at each position of `[n, c, h, w]` images,
/// on one channels-last `[n * h * w, c]` copy: burn Flex normalises rows of
/// a contiguous matrix on its SIMD path, and a permuted view element by element.
fn layer_norm_images<B: Backend>(norm: &LayerNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let rows = x.permute([0, 2, 3, 1]).reshape([n * h * w, c]);
    norm.forward(rows).reshape([n, h, w, c]).permute([0, 3, 1, 2])
}

fn dense<B: Backend>(layer: &Dense<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    x.matmul(layer.weight.val()) + layer.bias.val().unsqueeze()
}

fn pool_to_vector<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 2> {
    let [n, c, _, _] = x.dims();
    adaptive_avg_pool2d(x, [1, 1]).reshape([n, c])
}

/// Inverted dropout with a mask from the run's generator; identity in evaluation.
fn apply_dropout<B: Backend, const D: usize>(x: Tensor<B, D>, p: f64, rng: Option<&mut ChaCha8Rng>) -> Tensor<B, D> {
    let Some(rng) = rng.filter(|_| p > 0.0) else { return x };
    let shape = x.dims();
    let n = shape.iter().product();
    let keep = 1.0 - p;
    let scale = (1.0 / keep) as f32;
    let mask: Vec<f32> = (0..n).map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 }).collect();
    let mask = Tensor::<B, D>::from_data(TensorData::new(mask, shape), &x.device());
    x * mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::module::AutodiffModule;
    use rand::SeedableRng;

    type Ad = Autodiff<Flex>;

    fn random<B: Backend, const D: usize>(shape: [usize; D], seed: u64) -> Tensor<B, D> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| rng.random_range(-2.0..3.0)).collect();
        Tensor::from_data(TensorData::new(values, shape), &Default::default())
    }

    fn close<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>, what: &str) {
        let (a, b) = (a.into_data().to_vec::<f32>().unwrap(), b.into_data().to_vec::<f32>().unwrap());
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs() / (1.0 + y.abs())).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{what}: relative difference {worst}");
    }

    #[test]
    fn image_norms_equal_burns_modules_in_values_gradients_and_running_statistics() {
        let device = Default::default();
        let mut batch = BatchNormConfig::new(4).init::<Ad>(&device);
        batch.gamma = Param::from_tensor(random([4], 7).require_grad());
        batch.beta = Param::from_tensor(random([4], 8).require_grad());
        let weights = random::<Ad, 4>([3, 4, 5, 5], 2);
        for step in 0..2 {
            let (ours, theirs) = (batch.clone(), batch.clone());
            // Separate leaves: each backward pass consumes its graph.
            let (x_ours, x_theirs) = (random::<Ad, 4>([3, 4, 5, 5], step).require_grad(), random([3, 4, 5, 5], step).require_grad());
            let y_ours = batch_norm_images(&ours, x_ours.clone());
            let y_theirs = theirs.forward(x_theirs.clone());
            close(y_ours.clone(), y_theirs.clone(), "batch norm output");
            let g_ours = (y_ours * weights.clone()).sum().backward();
            let g_theirs = (y_theirs * weights.clone()).sum().backward();
            close(x_ours.grad(&g_ours).unwrap(), x_theirs.grad(&g_theirs).unwrap(), "gradient by the input");
            close(ours.gamma.grad(&g_ours).unwrap(), theirs.gamma.grad(&g_theirs).unwrap(), "gradient by gamma");
            close(ours.running_mean.value(), theirs.running_mean.value(), "running mean");
            close(ours.running_var.value(), theirs.running_var.value(), "running variance");
            batch = ours;
        }
        // Evaluation uses the running statistics.
        let eval = batch.valid();
        let x = random::<Flex, 4>([2, 4, 3, 3], 5);
        close(batch_norm_images(&eval, x.clone()), eval.forward(x), "batch norm in evaluation");

        let mut layer = LayerNormConfig::new(4).init::<Ad>(&device);
        layer.gamma = Param::from_tensor(random([4], 9).require_grad());
        let (x_ours, x_theirs) = (random::<Ad, 4>([3, 4, 5, 5], 3).require_grad(), random([3, 4, 5, 5], 3).require_grad());
        let y_ours = layer_norm_images(&layer, x_ours.clone());
        let y_theirs = layer.forward(x_theirs.clone().permute([0, 2, 3, 1])).permute([0, 3, 1, 2]);
        close(y_ours.clone(), y_theirs.clone(), "layer norm output");
        let g_ours = (y_ours * weights.clone()).sum().backward();
        let g_theirs = (y_theirs * weights).sum().backward();
        close(x_ours.grad(&g_ours).unwrap(), x_theirs.grad(&g_theirs).unwrap(), "layer norm gradient by the input");
    }
}
