//! Architecture specifications: one network and how it is trained.

use serde::{Deserialize, Serialize};

/// The shape of a network family's layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Plain stack of dense layers.
    Mlp,
    /// Dense layers with identity (or projected) skip connections around each block.
    ResidualMlp,
    /// 3x3 convolutions, 2x2 max-pooling, global average pooling, dense head.
    Cnn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    Relu,
    Gelu,
    Tanh,
    Silu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Norm {
    None,
    Layer,
    Batch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Optimizer {
    /// SGD with momentum 0.9.
    SgdMomentum,
    Adam,
    AdamW,
}

/// One point of a search space: a network and its training recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchSpec {
    pub family: Family,
    /// Number of hidden layers (dense layers, residual blocks or conv layers).
    pub depth: u32,
    /// Width of the first hidden layer (neurons or channels).
    pub width: u32,
    /// Width multiplier from one hidden layer to the next (1.0 keeps widths equal).
    pub taper: f64,
    pub activation: Activation,
    pub norm: Norm,
    pub dropout: f64,
    /// Skip connections between hidden layers of equal width (always on for `ResidualMlp`).
    pub skip: bool,
    pub optimizer: Optimizer,
    pub learning_rate: f64,
    pub batch_size: u32,
    pub weight_decay: f64,
    pub epochs: u32,
}

/// What a network maps from and to; needed to count its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskShape {
    /// Input features (for images: channels * height * width).
    pub input_dim: u32,
    /// Channels of an image input; 1 for plain feature vectors.
    pub input_channels: u32,
    pub classes: u32,
}

impl TaskShape {
    /// A two-dimensional, two-class task such as two spirals.
    pub const PLANAR_BINARY: TaskShape = TaskShape { input_dim: 2, input_channels: 1, classes: 2 };
}

impl ArchSpec {
    /// The gist of the spec in words, e.g. "ResidualMlp 3x64 Gelu": how the
    /// view, the command line and the store name an architecture.
    pub fn label(&self) -> String {
        format!("{:?} {}x{} {:?}", self.family, self.depth, self.width, self.activation)
    }

    /// Widths of the hidden layers: `width * taper^i`, at least 1.
    pub fn hidden_widths(&self) -> Vec<u32> {
        (0..self.depth).map(|i| ((self.width as f64) * self.taper.powi(i as i32)).round().max(1.0) as u32).collect()
    }

    /// Number of trainable parameters for a task. The trainer builds exactly
    /// this network, so the count is part of the spec's contract.
    ///
    /// Dense layer: `in*out + out`. Conv layer: `9*in*out + out` (3x3, padded).
    /// Layer/batch norm: `2*width` (scale and shift). A skip between layers of
    /// different width goes through a bias-free projection `in*out`.
    pub fn parameter_count(&self, task: TaskShape) -> u64 {
        // Saturating arithmetic: an absurd spec counts as u64::MAX, never wraps.
        let (add, mul) = (u64::saturating_add, u64::saturating_mul);
        let widths = self.hidden_widths();
        let mut total = 0u64;
        let mut prev = match self.family {
            Family::Cnn => task.input_channels as u64,
            _ => task.input_dim as u64,
        };
        let residual = self.family == Family::ResidualMlp || self.skip;
        for (i, &w) in widths.iter().enumerate() {
            let w = w as u64;
            let kernel = if self.family == Family::Cnn { 9 } else { 1 };
            total = add(total, add(mul(mul(kernel, prev), w), w));
            if self.norm != Norm::None {
                total = add(total, mul(2, w));
            }
            // The first layer changes the representation's kind (input -> hidden):
            // skips start from the second hidden layer.
            if residual && i > 0 && prev != w {
                total = add(total, mul(prev, w));
            }
            prev = w;
        }
        add(total, add(mul(prev, task.classes as u64), task.classes as u64))
    }
}
