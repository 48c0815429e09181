//! Turning a search space into trained networks: data sets, networks built
//! from specs (burn, generic over the backend), the training loop with its
//! per-epoch record, checkpoints and probe activations, and sweeps.
//!
//! The CPU backend is burn's pure-Rust `Flex`, single-threaded per run; a
//! sweep runs one training per core.

pub mod checkpoint;
pub mod data;
pub mod model;
pub mod sweep;
pub mod train;
pub mod worker;

/// The default search space for a data set: MLPs and CNNs sized for 28x28
/// images for images of side 24 or more (the MNIST family), all families on
/// the small built-in images; no CNNs for plain feature vectors, where a 3x3
/// convolution has nothing to convolve (and CNNs took 85% of the demo
/// sweep's time).
pub fn default_space_for(data: &data::Dataset) -> mosaic_core::SearchSpace {
    match data.image {
        Some((_, h, w)) if h.min(w) >= 24 => mosaic_core::SearchSpace::images_space(),
        Some(_) => mosaic_core::SearchSpace::default_space(),
        None => mosaic_core::SearchSpace::demo_space(),
    }
}

/// The backend runs train on by default: pure-Rust CPU, with autodiff.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

pub fn cpu_device() -> burn::backend::flex::FlexDevice {
    burn::backend::flex::FlexDevice
}

/// GPU training through burn's wgpu backend (cargo feature `wgpu`).
#[cfg(feature = "wgpu")]
pub type GpuBackend = burn::backend::Autodiff<burn::backend::Wgpu>;

/// The default wgpu device: the first discrete GPU, else whatever adapter wgpu finds.
#[cfg(feature = "wgpu")]
pub fn gpu_device() -> burn::backend::wgpu::WgpuDevice {
    burn::backend::wgpu::WgpuDevice::default()
}

/// Where runs train.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    /// One run per worker thread, each on one core.
    #[default]
    Cpu,
    /// All runs on the GPU, one at a time (needs the `wgpu` feature).
    Gpu,
}

impl Device {
    /// Whether this build can train on the device.
    pub fn available(self) -> bool {
        self == Device::Cpu || cfg!(feature = "wgpu")
    }
}

/// The benchmarks' reference network: a 2x64 ReLU MLP, batch 64, Adam at
/// 3e-3 (`mosaic bench train` trains it on 2,000 two-spiral points).
pub fn reference_spec(epochs: u32) -> mosaic_core::ArchSpec {
    use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer};
    ArchSpec {
        family: Family::Mlp,
        depth: 2,
        width: 64,
        taper: 1.0,
        activation: Activation::Relu,
        norm: Norm::None,
        dropout: 0.0,
        skip: false,
        optimizer: Optimizer::Adam,
        learning_rate: 0.003,
        batch_size: 64,
        weight_decay: 0.0,
        epochs,
    }
}

/// The image benchmark's reference networks for 28x28 grey images (`mosaic
/// bench train --task images`; `benches/train_vs_pytorch.py --task images`
/// builds the same ones in PyTorch): two MLPs on the 784 pixels and three
/// CNNs of the image space's kinds (3x3 conv blocks, each ending in a 2x2
/// max-pool; batch norm; a skip), all with Adam at 1e-3 and batch 64.
pub fn image_reference_specs(epochs: u32) -> Vec<(&'static str, mosaic_core::ArchSpec)> {
    use mosaic_core::{Activation, ArchSpec, Family, Norm};
    let base = ArchSpec { learning_rate: 1e-3, ..reference_spec(epochs) };
    vec![
        ("mlp 256-128 relu", ArchSpec { depth: 2, width: 256, taper: 0.5, ..base.clone() }),
        (
            "residual mlp 3x128 batch-norm gelu",
            ArchSpec { family: Family::ResidualMlp, depth: 3, width: 128, norm: Norm::Batch, activation: Activation::Gelu, ..base.clone() },
        ),
        ("cnn 1x32 relu", ArchSpec { family: Family::Cnn, depth: 1, width: 32, ..base.clone() }),
        ("cnn 2x32 batch-norm relu", ArchSpec { family: Family::Cnn, depth: 2, width: 32, norm: Norm::Batch, ..base.clone() }),
        ("cnn 3x32 batch-norm relu skip", ArchSpec { family: Family::Cnn, depth: 3, width: 32, norm: Norm::Batch, skip: true, ..base }),
    ]
}
