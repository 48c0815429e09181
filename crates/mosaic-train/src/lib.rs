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

/// The backend runs train on by default: pure-Rust CPU, with autodiff.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

pub fn cpu_device() -> burn::backend::flex::FlexDevice {
    burn::backend::flex::FlexDevice
}
