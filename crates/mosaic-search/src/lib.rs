//! NeuroMosaic's meta-learner: learns from every run in the store where to
//! look next.
//!
//! - [`gp`]: a Gaussian process over architecture encodings (Matérn-5/2 on
//!   numeric knobs times an overlap kernel per categorical knob), fitted by
//!   marginal likelihood; [`tpe`]: a cheap density-ratio alternative.
//! - [`acquisition`]: expected improvement, UCB, and batches by the kriging believer.
//! - [`suggest`]: candidate specs (the space, an [`adapt`]ed space, mutations of
//!   the best runs, [`guided`] draws near the good region of the sphere),
//!   scored and decoded to valid specs.
//! - [`transfer`]: task meta-features, similarity weights and a prior mean
//!   from past tasks' surrogates.
//! - [`table`]: the tabular benchmark that compares strategies without training.

pub mod acquisition;
pub mod adapt;
pub mod gp;
pub mod guided;
mod lbfgs;
pub mod model;
pub mod study;
pub mod suggest;
pub mod table;
pub mod tpe;
pub mod transfer;

pub use acquisition::Acquisition;
pub use adapt::{AdaptOptions, AdaptedSpace};
pub use gp::{Gp, Layout, Prediction};
pub use model::Model;
pub use study::{Direction, Study, StudyOptions, Trial, TrialState};
pub use suggest::{Strategy, SuggestOptions, Suggestion, suggest};
pub use transfer::{PastTask, Prior, TaskFeatures};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("not enough data: {0}")]
    NoData(String),
    #[error("{0}")]
    Invalid(String),
    #[error("numerical problem: {0}")]
    Numerics(String),
}
