//! What the view knows about the selected network: details and its loss
//! landscape, both computed elsewhere and delivered over the bridge.

use bevy::prelude::*;

pub use mosaic_protocol::{LandscapeData, NetworkDetails, PathPoint};

/// Where the landscape of the selected network stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LandscapeState {
    /// Nothing asked (no selection, or nothing can compute one).
    #[default]
    None,
    /// Being read or computed; the text says how far along.
    Loading(String),
    Ready(LandscapeData),
    Failed(String),
}

/// The selected network as the inspector shows it.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Inspection {
    /// The point these details belong to.
    pub index: Option<usize>,
    pub details: Option<NetworkDetails>,
    pub landscape: LandscapeState,
}
