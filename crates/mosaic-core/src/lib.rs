//! NeuroMosaic's data model, free of heavy dependencies: architecture specs,
//! search spaces (RON files), fixed-length encodings with evolutionary
//! operators, samplers, the colour maps every view shares, and atomic file
//! writes ([`fs::write_atomic`]).

pub mod colormap;
pub mod encoding;
pub mod fs;
pub mod params;
pub mod run;
pub mod sample;
pub mod space;
pub mod spec;
pub mod theme;

pub use colormap::{Colormap, ValueRange};
pub use encoding::{Choice, Encoder, Knob};
pub use params::{ParamError, ParamSpace, Params};
pub use run::{EpochMetrics, RunOutcome, RunStatus};
pub use space::{Bounds, SearchSpace, SpaceError};
pub use spec::{Activation, ArchSpec, Family, Norm, Optimizer, TaskShape};
