//! A network as a landscape sees it: named weight arrays and the wiring
//! between them, independent of any one module type, so a network trained
//! here and a PyTorch `nn.Sequential` read from safetensors are evaluated by
//! the same batched forward pass.
//!
//! Dense weight matrices are kept as `[in, out]` (burn's layout; PyTorch's
//! `[out, in]` is transposed on load), so a dense neuron's incoming weights,
//! its *filter*, are a column. Convolution kernels are `[out, in, 3, 3]`, as
//! burn and PyTorch store them: a filter is an output channel.

use std::collections::BTreeMap;

use mosaic_core::{Activation, ArchSpec, Family, Norm};
use mosaic_train::checkpoint::Arrays;
use mosaic_train::data::Dataset;

use crate::LandscapeError;

/// A linear map by parameter name: dense `x W + b` (`[in, out]`), or in a
/// convolutional network's blocks a 3x3 convolution with padding 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    pub weight: String,
    pub bias: Option<String>,
}

/// Normalisation after a block's linear map.
#[derive(Clone, Debug, PartialEq)]
pub enum NormLayer {
    /// Over each example's features.
    Layer { gamma: String, beta: String },
    /// Evaluation mode: the stored running statistics, which no direction moves.
    Batch { gamma: String, beta: String, running_mean: String, running_var: String },
}

/// The epsilon burn's and PyTorch's norm layers add to the variance.
pub const NORM_EPSILON: f32 = 1e-5;

#[derive(Clone, Debug, PartialEq)]
pub enum Skip {
    None,
    /// Adds the block's input back.
    Identity,
    /// Adds the block's input through a bias-free projection: `[in, out]`,
    /// or a 1x1 convolution `[out, in, 1, 1]`.
    Projection(String),
}

/// linear -> norm -> activation -> (+ skip), then in a convolutional
/// network 2x2 max-pooling while both sides of the image are at least 2.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub linear: Linear,
    pub norm: Option<NormLayer>,
    pub skip: Skip,
}

/// A whole classifier: blocks, then a dense head to the logits (after
/// global average pooling in a convolutional network).
#[derive(Clone, Debug)]
pub struct Net {
    pub blocks: Vec<Block>,
    pub head: Linear,
    pub activation: Activation,
    /// The blocks are convolutions over images, as `mosaic-train` builds
    /// the `Cnn` family; see [`image_of`] for how a data set is read.
    pub convolutional: bool,
    pub weights: Arrays,
    /// Read from PyTorch: matrices were `[out, in]` and were transposed.
    pub from_torch: bool,
}

impl Net {
    /// A network trained by `mosaic sweep`, from its spec and its checkpoint
    /// (`final.safetensors` or `checkpoint-NNNN.safetensors`).
    pub fn from_checkpoint(spec: &ArchSpec, weights: Arrays) -> Result<Net, LandscapeError> {
        let residual = spec.family == Family::ResidualMlp || spec.skip;
        let mut blocks = Vec::new();
        for i in 0..spec.hidden_widths().len() {
            let p = |name: &str| format!("blocks.{i}.{name}");
            let norm = match spec.norm {
                Norm::None => None,
                Norm::Layer => Some(NormLayer::Layer { gamma: p("norm.gamma"), beta: p("norm.beta") }),
                Norm::Batch => Some(NormLayer::Batch {
                    gamma: p("norm.gamma"),
                    beta: p("norm.beta"),
                    running_mean: p("norm.running_mean"),
                    running_var: p("norm.running_var"),
                }),
            };
            // As the trainer builds it: skips from the second block, projected when widths differ.
            let skip = match (residual && i > 0, weights.contains_key(&p("projection"))) {
                (false, _) => Skip::None,
                (true, true) => Skip::Projection(p("projection")),
                (true, false) => Skip::Identity,
            };
            blocks.push(Block { linear: Linear { weight: p("layer.weight"), bias: Some(p("layer.bias")) }, norm, skip });
        }
        let head = Linear { weight: "head.weight".into(), bias: Some("head.bias".into()) };
        let convolutional = spec.family == Family::Cnn;
        let net = Net { blocks, head, activation: spec.activation, convolutional, weights, from_torch: false };
        net.check()?;
        Ok(net)
    }

    /// A PyTorch `nn.Sequential` of `Linear` layers with one activation
    /// between them, from its state dict (`0.weight`, `0.bias`, `2.weight`,
    /// ...; sizes from the shapes). Weights are transposed to `[in, out]`.
    pub fn from_torch_sequential(state: Arrays, activation: Activation) -> Result<Net, LandscapeError> {
        let mut layers: BTreeMap<usize, (Option<String>, Option<String>)> = BTreeMap::new();
        for name in state.keys() {
            let bad = || {
                LandscapeError::Format(format!(
                    "tensor `{name}` is not a Sequential Linear parameter: expected names like `0.weight`, `0.bias`, `2.weight`"
                ))
            };
            let (index, kind) = name.split_once('.').ok_or_else(bad)?;
            let index: usize = index.parse().map_err(|_| bad())?;
            let slot = layers.entry(index).or_default();
            match kind {
                "weight" => slot.0 = Some(name.clone()),
                "bias" => slot.1 = Some(name.clone()),
                _ => return Err(bad()),
            }
        }
        if layers.is_empty() {
            return Err(LandscapeError::Format("the weights file holds no tensors".into()));
        }
        let mut weights = Arrays::new();
        let mut linears = Vec::new();
        for (index, (weight, bias)) in layers {
            let weight = weight.ok_or_else(|| LandscapeError::Format(format!("layer {index} has a bias but no `{index}.weight`")))?;
            let (shape, data) = &state[&weight];
            let [out, inp] = shape[..] else {
                return Err(LandscapeError::Format(format!("`{weight}` has shape {shape:?}; a Linear weight is 2-D [out, in]")));
            };
            weights.insert(weight.clone(), (vec![inp, out], transpose(data, out, inp)));
            if let Some(b) = &bias {
                weights.insert(b.clone(), state[b].clone());
            }
            linears.push(Linear { weight, bias });
        }
        let head = linears.pop().expect("at least one layer");
        let blocks = linears.into_iter().map(|linear| Block { linear, norm: None, skip: Skip::None }).collect();
        let net = Net { blocks, head, activation, convolutional: false, weights, from_torch: true };
        net.check()?;
        Ok(net)
    }

    /// Width of the input features of a dense network; the input channels
    /// of a convolutional one.
    pub fn input_dim(&self) -> usize {
        let shape = self.shape(&self.first_linear().weight);
        if shape.len() == 4 { shape[1] } else { shape[0] }
    }

    pub fn classes(&self) -> usize {
        self.shape(&self.head.weight)[1]
    }

    fn first_linear(&self) -> &Linear {
        self.blocks.first().map_or(&self.head, |b| &b.linear)
    }

    fn shape(&self, name: &str) -> &[usize] {
        &self.weights[name].0
    }

    /// Names of the parameters a direction moves, in a fixed order: every
    /// learned array, but not batch norm's running statistics.
    pub fn parameters(&self) -> Vec<String> {
        let mut out = Vec::new();
        let linear = |l: &Linear, out: &mut Vec<String>| {
            out.push(l.weight.clone());
            out.extend(l.bias.clone());
        };
        for block in &self.blocks {
            linear(&block.linear, &mut out);
            match &block.norm {
                Some(NormLayer::Layer { gamma, beta }) | Some(NormLayer::Batch { gamma, beta, .. }) => {
                    out.push(gamma.clone());
                    out.push(beta.clone());
                }
                None => {}
            }
            if let Skip::Projection(p) = &block.skip {
                out.push(p.clone());
            }
        }
        linear(&self.head, &mut out);
        out
    }

    /// Every array the wiring names is present, finite, and of a shape that
    /// fits its neighbours.
    fn check(&self) -> Result<(), LandscapeError> {
        let get = |name: &str| -> Result<&(Vec<usize>, Vec<f32>), LandscapeError> {
            let array = self.weights.get(name).ok_or_else(|| LandscapeError::Missing(name.to_string()))?;
            if let Some(i) = array.1.iter().position(|v| !v.is_finite()) {
                return Err(LandscapeError::NonFinite(format!("weight `{name}` at flat index {i}")));
            }
            Ok(array)
        };
        let vector = |name: &str, len: usize| -> Result<(), LandscapeError> {
            let (shape, _) = get(name)?;
            if shape[..] != [len] {
                return Err(LandscapeError::Shape(format!("`{name}` has shape {shape:?}, expected [{len}]")));
            }
            Ok(())
        };
        let mut width: Option<usize> = None;
        // A block's map is a 3x3 kernel in a convolutional network; the head is always a matrix.
        let linear = |l: &Linear, conv: bool, width: &mut Option<usize>| -> Result<usize, LandscapeError> {
            let (shape, _) = get(&l.weight)?;
            let (inp, out) = match (conv, &shape[..]) {
                (true, &[out, inp, 3, 3]) => (inp, out),
                (false, &[inp, out]) => (inp, out),
                (true, _) => {
                    return Err(LandscapeError::Shape(format!(
                        "`{}` has shape {shape:?}, expected a 3x3 kernel [out, in, 3, 3]",
                        l.weight
                    )));
                }
                (false, _) => return Err(LandscapeError::Shape(format!("`{}` has shape {shape:?}, expected a matrix", l.weight))),
            };
            if let Some(w) = *width
                && w != inp
            {
                return Err(LandscapeError::Shape(format!("`{}` takes {inp} inputs but the layer before gives {w}", l.weight)));
            }
            if let Some(b) = &l.bias {
                vector(b, out)?;
            }
            *width = Some(out);
            Ok(inp)
        };
        for block in &self.blocks {
            let inp = linear(&block.linear, self.convolutional, &mut width)?;
            let out = width.expect("set by the linear map");
            match &block.norm {
                Some(NormLayer::Layer { gamma, beta }) => [gamma, beta].into_iter().try_for_each(|n| vector(n, out))?,
                Some(NormLayer::Batch { gamma, beta, running_mean, running_var }) => {
                    [gamma, beta, running_mean, running_var].into_iter().try_for_each(|n| vector(n, out))?
                }
                None => {}
            }
            match &block.skip {
                Skip::Identity if inp != out => {
                    return Err(LandscapeError::Shape(format!(
                        "`{}`: an identity skip needs equal widths, not {inp} -> {out}",
                        block.linear.weight
                    )));
                }
                Skip::Projection(p) => {
                    let expected = if self.convolutional { vec![out, inp, 1, 1] } else { vec![inp, out] };
                    if get(p)?.0 != expected {
                        return Err(LandscapeError::Shape(format!("`{p}` has shape {:?}, expected {expected:?}", get(p)?.0)));
                    }
                }
                _ => {}
            }
        }
        linear(&self.head, false, &mut width)?;
        Ok(())
    }
}

/// `(channels, height, width)` of the images a convolutional network sees
/// in `data`: its own image shape, or each feature row as a 1 x 1 x d image,
/// as the trainer reads plain features.
pub fn image_of(data: &Dataset) -> (usize, usize, usize) {
    data.image.unwrap_or((1, 1, data.dim))
}

/// `[rows, cols]` row-major to `[cols, rows]`.
pub fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}
