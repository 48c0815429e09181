//! How big and how costly a network is (layers, parameters, FLOPs per
//! sample, activation memory), counted from its spec the way
//! `mosaic-train` builds it, and normalised against a population for the
//! explorer's radar chart.

use mosaic_core::{ArchSpec, Family, Norm, TaskShape};
use serde::Serialize;

/// One network's size and cost.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Complexity {
    /// Weight layers: hidden layers (dense or conv) plus the output layer.
    pub layers: u32,
    pub parameters: u64,
    /// Floating-point operations of one forward pass on one sample (a
    /// multiply-add counts two; activations, norms, pooling one per element).
    pub flops: u64,
    /// Bytes of the hidden activations one sample produces (f32), the memory
    /// a forward pass needs for training's backward pass.
    pub activation_bytes: u64,
}

impl Complexity {
    /// Names of the radar's axes, in [`Complexity::axes`] order.
    pub const AXES: [&'static str; 4] = ["layers", "parameters", "FLOPs", "activation memory"];

    fn axes(&self) -> [f64; 4] {
        [self.layers as f64, self.parameters as f64, self.flops as f64, self.activation_bytes as f64]
    }
}

/// Counts a network. `image` is `(channels, height, width)` for image data
/// (the conv family sees plain features as a 1 x 1 image).
pub fn complexity(spec: &ArchSpec, task: TaskShape, image: Option<(u32, u32, u32)>) -> Complexity {
    let widths = spec.hidden_widths();
    let conv = spec.family == Family::Cnn;
    let residual = spec.family == Family::ResidualMlp || spec.skip;
    let (mut channels, mut h, mut w) = match (conv, image) {
        (true, Some((c, h, w))) => (c as u64, h as u64, w as u64),
        (true, None) => (1, 1, task.input_dim as u64),
        (false, _) => (task.input_dim as u64, 1, 1),
    };
    let (mut flops, mut activations) = (0u64, 0u64);
    for (i, &width) in widths.iter().enumerate() {
        let width = width as u64;
        let kernel = if conv { 9 } else { 1 };
        let positions = h * w;
        // The layer (multiply-adds plus bias), its norm, its activation.
        flops += positions * width * (2 * kernel * channels + 1);
        if spec.norm != Norm::None {
            flops += 4 * positions * width;
        }
        flops += positions * width;
        if residual && i > 0 {
            // A projected skip where widths differ, then the addition.
            if channels != width {
                flops += 2 * positions * channels * width;
            }
            flops += positions * width;
        }
        activations += positions * width;
        if conv && h >= 2 && w >= 2 {
            flops += positions * width;
            (h, w) = (h / 2, w / 2);
        }
        channels = width;
    }
    if conv {
        // Global average pooling to a vector.
        flops += h * w * channels;
    }
    let classes = task.classes as u64;
    flops += classes * (2 * channels + 1);
    Complexity { layers: widths.len() as u32 + 1, parameters: spec.parameter_count(task), flops, activation_bytes: 4 * activations }
}

/// Each network's axes scaled against the population, for a radar chart:
/// log10 of each quantity (they span orders of magnitude), then 0 for the
/// population's smallest and 1 for its largest. An axis on which every
/// network is equal sits at 0.5.
pub fn radar(population: &[Complexity]) -> Vec<[f64; 4]> {
    let logs: Vec<[f64; 4]> = population.iter().map(|c| c.axes().map(|v| v.max(1.0).log10())).collect();
    let mut lo = [f64::INFINITY; 4];
    let mut hi = [f64::NEG_INFINITY; 4];
    for l in &logs {
        for k in 0..4 {
            lo[k] = lo[k].min(l[k]);
            hi[k] = hi[k].max(l[k]);
        }
    }
    logs.iter().map(|l| std::array::from_fn(|k| if hi[k] > lo[k] { (l[k] - lo[k]) / (hi[k] - lo[k]) } else { 0.5 })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mosaic_core::{Activation, Optimizer};

    fn mlp(depth: u32, width: u32) -> ArchSpec {
        ArchSpec {
            family: Family::Mlp,
            depth,
            width,
            taper: 1.0,
            activation: Activation::Relu,
            norm: Norm::None,
            dropout: 0.0,
            skip: false,
            optimizer: Optimizer::Adam,
            learning_rate: 1e-3,
            batch_size: 32,
            weight_decay: 0.0,
            epochs: 5,
        }
    }

    #[test]
    fn a_dense_net_counts_by_hand() {
        // 2 -> 64 -> 64 -> 2, ReLU: multiply-adds 2*64 + 64*64 + 64*2, biases 64 + 64 + 2, ReLUs 128.
        let c = complexity(&mlp(2, 64), TaskShape::PLANAR_BINARY, None);
        assert_eq!(c.layers, 3);
        assert_eq!(c.parameters, 2 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
        assert_eq!(c.flops, 2 * (2 * 64 + 64 * 64 + 64 * 2) + (64 + 64 + 2) + 128);
        assert_eq!(c.activation_bytes, 4 * 128);
    }

    #[test]
    fn a_conv_net_pools_between_layers() {
        let mut spec = mlp(2, 8);
        spec.family = Family::Cnn;
        let task = TaskShape { input_dim: 256, input_channels: 1, classes: 4 };
        let c = complexity(&spec, task, Some((1, 16, 16)));
        // Layer 1 on 16x16, layer 2 on 8x8 (after a 2x2 pool), then pooled to 4x4 and averaged.
        let layer1 = 256 * 8 * (2 * 9 + 1) + 256 * 8 + 256 * 8;
        let layer2 = 64 * 8 * (2 * 9 * 8 + 1) + 64 * 8 + 64 * 8;
        assert_eq!(c.flops, layer1 + layer2 + 16 * 8 + 4 * (2 * 8 + 1));
        assert_eq!(c.activation_bytes, 4 * (256 * 8 + 64 * 8));
    }

    #[test]
    fn radar_axes_differ_between_networks_and_span_the_unit_range() {
        let task = TaskShape::PLANAR_BINARY;
        let population: Vec<Complexity> =
            [(1, 8), (3, 64), (6, 256), (2, 256)].iter().map(|&(d, w)| complexity(&mlp(d, w), task, None)).collect();
        let r = radar(&population);
        for k in 0..4 {
            let column: Vec<f64> = r.iter().map(|v| v[k]).collect();
            assert!(column.iter().all(|v| (0.0..=1.0).contains(v)));
            assert!(column.contains(&0.0) && column.contains(&1.0), "axis {k}: {column:?}");
        }
        assert_ne!(r[2], r[3], "networks of different shape get different radars");
        assert_eq!(radar(&population[..1]), vec![[0.5; 4]], "one network alone sits in the middle");
    }
}
