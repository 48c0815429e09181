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

/// The default search space for a data set: all families for images; no
/// CNNs for plain feature vectors, where a 3x3 convolution has nothing to
/// convolve (and CNNs took 85% of the demo sweep's time).
pub fn default_space_for(data: &data::Dataset) -> mosaic_core::SearchSpace {
    if data.image.is_some() { mosaic_core::SearchSpace::default_space() } else { mosaic_core::SearchSpace::demo_space() }
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
