//! What the view knows about the selected network: details and its loss
//! landscape, both computed elsewhere and delivered over the bridge.

use bevy::prelude::*;
use mosaic_protocol::SceneUpdate;

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

impl Inspection {
    /// Whether `update` tells something new about the network shown: its
    /// details or landscape (answers about a network no longer selected,
    /// and superseded ones, do not).
    pub fn is_answered_by(&self, update: &SceneUpdate) -> bool {
        match update {
            SceneUpdate::Details { index, .. } | SceneUpdate::LandscapeProgress { index, .. } => self.index == Some(*index),
            SceneUpdate::Landscape { index, answer } => self.index == Some(*index) && !answer.is_superseded(),
            _ => false,
        }
    }

    /// Applies an answer about network `index`; answers about a network no
    /// longer selected, and superseded ones, are dropped.
    pub fn apply(&mut self, update: &SceneUpdate) {
        match update {
            SceneUpdate::Details { index, details } if self.index == Some(*index) => self.details = Some(details.clone()),
            SceneUpdate::LandscapeProgress { index, text } if self.index == Some(*index) => {
                self.landscape = LandscapeState::Loading(text.clone())
            }
            SceneUpdate::Landscape { index, answer } if self.index == Some(*index) => {
                if let Some(result) = answer.clone().into_result() {
                    self.landscape = match result.and_then(|l| l.validate().map(|()| l).map_err(|e| e.to_string())) {
                        Ok(landscape) => LandscapeState::Ready(landscape),
                        Err(e) => LandscapeState::Failed(e),
                    }
                }
            }
            _ => {}
        }
    }
}
