//! The background training as the view sees it: where it stands, as last
//! told by the compute side.

use bevy::prelude::*;

use crate::bridge::{BridgeSystems, Computed, SceneUpdate, TrainingState};

/// Where the background training stands, as last told (`None`: nothing
/// trains in this view).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct Training(pub Option<TrainingState>);

pub struct TrainingPlugin;

impl Plugin for TrainingPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Training>().add_systems(PreUpdate, apply_training_state.in_set(BridgeSystems::Apply));
    }
}

fn apply_training_state(mut computed: MessageReader<Computed>, mut training: ResMut<Training>) {
    for Computed(update) in computed.read() {
        if let SceneUpdate::Training { state, .. } = update {
            training.0 = Some(*state);
        }
    }
}
