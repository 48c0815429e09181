//! Training analysis for one network or a whole sweep: loss landscapes over
//! filter-normalised directions (Li et al. 2018), the optimiser's trajectory
//! over them, and the dynamics, correlations, hyper-parameter surfaces and
//! complexity measures the explorer charts.
//!
//! Surfaces of dense and convolutional networks are computed by two engines
//! that tests hold equal: `surface`, on burn and generic over the backend
//! (`Flex` on the CPU, a GPU through wgpu), and `cpu`, fused f32 kernels,
//! the default.

pub mod complexity;
pub mod cpu;
pub mod directions;
pub mod dynamics;
pub mod file;
pub mod hyper;
pub mod net;
pub mod stats;
pub mod surface;
pub mod trajectory;

pub use cpu::surface_cpu;
pub use directions::{DirectionOptions, Normalization};
pub use net::Net;
pub use surface::{Axis, Surface, surface};
pub use trajectory::Trajectory;

/// What can go wrong, each naming the array, file or setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum LandscapeError {
    #[error("missing tensor {0}")]
    Missing(String),
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("non-finite value in {0}")]
    NonFinite(String),
    #[error("{0}")]
    Format(String),
    #[error("cancelled")]
    Cancelled,
}
