//! The background training as the view sees it: where it stands (as last
//! told by the compute side) and the panel's Stop / Resume button.

use bevy::prelude::*;
use bevy_egui::egui::Ui;

use crate::bridge::{BridgeSystems, ComputeRequests, Computed, Pending, SceneUpdate, TrainingState, ViewRequest};
use crate::ui::{AddPanelSection, PanelSection};

/// Where the background training stands, as last told (`None`: nothing
/// trains in this view).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct Training(pub Option<TrainingState>);

pub struct TrainingPlugin;

impl Plugin for TrainingPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Training>()
            .add_systems(PreUpdate, apply_training_state.in_set(BridgeSystems::Apply))
            .add_panel_section(PanelSection::Training, training_section);
    }
}

fn apply_training_state(mut computed: MessageReader<Computed>, mut training: ResMut<Training>) {
    for Computed(update) in computed.read() {
        if let SceneUpdate::Training { state, .. } = update {
            training.0 = Some(*state);
        }
    }
}

/// The panel's Stop / Resume button, under the status line.
fn training_section(InMut(ui): InMut<Ui>, training: Res<Training>, requests: Option<Res<ComputeRequests>>, mut pending: ResMut<Pending>) {
    if let (Some(run), Some(requests)) = (training_controls(ui, training.0), &requests) {
        requests.send(ViewRequest::Train { run }, &mut pending);
    }
}

/// Stop or resume the background training; returns the request, if any.
fn training_controls(ui: &mut Ui, state: Option<TrainingState>) -> Option<bool> {
    let mut request = None;
    match state {
        Some(TrainingState::Running) => {
            if ui.button("Stop training").on_hover_text("the runs in flight stop and stay pending; resume any time").clicked() {
                request = Some(false);
            }
        }
        Some(TrainingState::Stopping) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("stopping…");
            });
        }
        Some(TrainingState::Idle { left }) if left > 0 => {
            if ui.button(format!("Resume training ({left} left)")).clicked() {
                request = Some(true);
            }
        }
        Some(TrainingState::Idle { .. }) | None => {}
    }
    request
}
