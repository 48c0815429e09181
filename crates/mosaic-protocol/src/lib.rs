//! The protocol between the view and the compute service.
//!
//! The view sends [`ViewRequest`]s over one channel; whoever computes (the
//! sweep thread, the compute service, a test) sends [`SceneUpdate`]s back
//! over another. Every request gets exactly one final answer, an
//! [`Answer`]: ready, failed, or superseded by a newer request of its kind.
//! No Bevy here: the app wraps these types as resources.

mod answer;
mod messages;
pub mod payload;
pub mod scene;

pub use answer::Answer;
pub use messages::{SceneUpdate, TrainingState, ViewRequest};
pub use payload::{
    CorrelationMethod, CorrelationTable, DynamicsSeries, HyperView, InvalidSurface, LandscapeData, NetworkDetails, PathPoint, PathView,
    SuggestionsView,
};
pub use scene::{MetricColumn, OBJECTIVE, Radar, SphereScene, VAL_ACCURACY};
