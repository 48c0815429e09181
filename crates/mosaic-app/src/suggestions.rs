//! The meta-learner's suggestions on the sphere before they are trained:
//! ghost points placed beside the networks they resemble, pale in the colour
//! of their predicted accuracy and ringed in cyan. The panel asks for a
//! batch, lists it with predictions, and trains it; trained suggestions
//! become real points.

use bevy::camera::visibility::NoFrustumCulling;
use bevy::prelude::*;
use bevy_egui::egui;

use crate::bridge::{BridgeSystems, ComputeRequests, Computed, Pending, SceneUpdate, TrainingState, ViewRequest};
use crate::points::{PointInstance, PointsMaterial, Ring, point_cloud_mesh};
use crate::scene::{ColorMapping, ShownScene, SphereScene, VAL_ACCURACY};
use crate::session::SessionFile;
use crate::sphere_view::point_radius;
use crate::ui::{AddPanelSection, PanelSection};

pub use mosaic_core::theme::GHOST_RING;
/// How far a ghost's colour is washed toward white.
const PALE: f32 = 0.45;
/// Ghosts stand a little above the sphere and a little larger than the
/// points, so a suggestion inside a dense cluster still shows.
const LIFT: f32 = 1.04;
const GROW: f32 = 1.3;

/// Where a ghost placed at `at` on the unit sphere is drawn.
pub fn ghost_center(at: [f32; 3]) -> Vec3 {
    Vec3::from_array(at) * LIFT
}

pub use mosaic_protocol::SuggestionsView;

/// The suggestions shown, and the panel's settings for the next batch.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Suggestions {
    /// How many to ask for.
    pub count: usize,
    /// `None` while none was asked for or one is being computed.
    pub result: Option<Result<SuggestionsView, String>>,
    pub waiting: bool,
    /// A batch was sent to train: its note ("training N suggested
    /// networks…") goes when training does.
    pub training: bool,
}

impl Default for Suggestions {
    fn default() -> Self {
        Suggestions { count: 8, result: None, waiting: false, training: false }
    }
}

impl Suggestions {
    /// Takes an answer of the compute side.
    pub fn apply(&mut self, result: &Result<SuggestionsView, String>) {
        self.waiting = false;
        self.result = Some(result.clone());
    }
}

#[derive(Component)]
struct Ghost;

/// Draws suggestions; `initial` asks for that many once the view starts.
pub struct SuggestionsPlugin {
    pub initial: Option<usize>,
}

#[derive(Resource)]
struct AskAtStart(Option<usize>);

impl Plugin for SuggestionsPlugin {
    fn build(&self, app: &mut App) {
        // Waiting from the first frame, so the panel opens its section for the answer.
        app.insert_resource(Suggestions { waiting: self.initial.is_some(), ..default() })
            .insert_resource(AskAtStart(self.initial))
            .add_systems(PreUpdate, apply_suggestions.in_set(BridgeSystems::Apply))
            .add_systems(Update, (ask_at_start, draw_ghosts).chain())
            .add_panel_section(PanelSection::Suggestions, suggestions_section);
    }
}

/// Keeps the compute side's answer to the last Suggest (or Train these),
/// and lets the note of a batch in training go when training stops.
fn apply_suggestions(mut computed: MessageReader<Computed>, mut suggestions: ResMut<Suggestions>) {
    for Computed(update) in computed.read() {
        match update {
            SceneUpdate::Suggestions(answer) => {
                if let Some(result) = answer.clone().into_result() {
                    suggestions.apply(&result);
                }
            }
            SceneUpdate::Training { state: TrainingState::Idle { .. }, .. } if suggestions.training && !suggestions.waiting => {
                suggestions.training = false;
                if matches!(&suggestions.result, Some(Ok(view)) if view.ids.is_empty()) {
                    suggestions.result = None;
                }
            }
            _ => {}
        }
    }
}

fn ask_at_start(
    mut ask: ResMut<AskAtStart>,
    scene: Res<ShownScene>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut suggestions: ResMut<Suggestions>,
) {
    let Some(n) = ask.0.take() else { return };
    suggestions.count = n;
    send(ViewRequest::Suggest { n, positions: scene.positions.clone() }, requests.as_deref(), &mut pending, &mut suggestions);
}

/// The panel's section, open while a batch is asked for or shown.
fn suggestions_section(
    InMut(ui): InMut<egui::Ui>,
    scene: Res<ShownScene>,
    session: Res<SessionFile>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut suggestions: ResMut<Suggestions>,
) {
    // Suggestions learn from a store's accuracies (a sampled design has none).
    let has_store = requests.is_some() && scene.column_index(VAL_ACCURACY).is_some();
    // Edit a copy so the suggestions are only marked changed (redrawing the ghosts) on a real change.
    let mut edited = suggestions.clone();
    let mut request = None;
    egui::CollapsingHeader::new("Suggest next networks")
        .id_salt("suggest")
        .default_open(session.panel_open("suggest") || edited.waiting || edited.result.is_some())
        .show(ui, |ui| {
            request = batch(ui, &scene, &mut edited, has_store);
        });
    if let Some(request) = request {
        send(request, requests.as_deref(), &mut pending, &mut edited);
    }
    suggestions.set_if_neq(edited);
}

/// Ask for a batch, see it, train it. Returns the request to send.
fn batch(ui: &mut egui::Ui, scene: &SphereScene, suggestions: &mut Suggestions, can_ask: bool) -> Option<ViewRequest> {
    let mut request = None;
    ui.horizontal(|ui| {
        ui.add(egui::DragValue::new(&mut suggestions.count).range(1..=64).suffix(" networks"));
        let ask = ui.add_enabled(can_ask && !suggestions.waiting, egui::Button::new("Suggest"));
        if ask.on_hover_text("Gaussian process + expected improvement over the architecture encoding, from every finished run").clicked() {
            request = Some(ViewRequest::Suggest { n: suggestions.count, positions: scene.positions.clone() });
            suggestions.waiting = true;
        }
    });
    if !can_ask {
        ui.weak("Suggestions learn from a store's runs: open one (`mosaic --store DIR`).");
    }
    if suggestions.waiting {
        ui.label("fitting the surrogate…");
    }
    match &suggestions.result {
        Some(Ok(view)) if !view.ids.is_empty() => {
            for note in &view.notes {
                ui.weak(note);
            }
            ui.label("predicted val accuracy · network");
            for ((label, mean), std) in view.labels.iter().zip(&view.mean).zip(&view.std) {
                ui.label(format!("{:.1}% ± {:.1} · {label}", 100.0 * mean, 100.0 * std));
            }
            if ui
                .button(format!("Train these {}", view.ids.len()))
                .on_hover_text("adds them to the sweep and trains them in the background")
                .clicked()
            {
                request = Some(ViewRequest::TrainSuggestions { ids: view.ids.clone(), positions: view.positions.clone() });
                suggestions.waiting = true;
                suggestions.training = true;
            }
        }
        Some(Ok(view)) => {
            for note in &view.notes {
                ui.weak(note);
            }
        }
        Some(Err(e)) => {
            ui.colored_label(crate::panels::rgb(mosaic_core::theme::SUGGESTION_WARNING), e);
        }
        None => {}
    }
    request
}

/// Sends a request, counting it as pending.
fn send(request: ViewRequest, requests: Option<&ComputeRequests>, pending: &mut Pending, suggestions: &mut Suggestions) {
    let sent = requests.is_some_and(|r| r.send(request, pending));
    if !sent {
        suggestions.apply(&Err("the compute service has stopped".into()));
    }
}

/// The ghosts' colour: the colour map at the predicted value, where the
/// sphere is coloured by the predicted column; washed toward white.
fn ghost_color(scene: &SphereScene, mapping: &ColorMapping, mean: f64) -> LinearRgba {
    let column = scene.columns.get(mapping.column);
    let rgb = match (column, mapping.range(scene)) {
        (Some(c), Some(range)) if c.name == crate::scene::VAL_ACCURACY => mapping.colormap.srgb(range.normalise(mean)),
        _ => [200, 200, 200],
    };
    let [r, g, b] = rgb.map(|c| c as f32 / 255.0);
    let pale = |c: f32| c + (1.0 - c) * PALE;
    Color::srgb(pale(r), pale(g), pale(b)).to_linear()
}

#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn draw_ghosts(
    mut commands: Commands,
    suggestions: Res<Suggestions>,
    scene: Res<ShownScene>,
    mapping: Res<ColorMapping>,
    drawn: Query<Entity, With<Ghost>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<PointsMaterial>>,
    mut drawn_for: Local<usize>,
) {
    // Status lines change the scene often: redraw only for what ghosts show
    // (the batch, the colour mapping, the point size, which follows the count).
    if !suggestions.is_changed() && !mapping.is_changed() && *drawn_for == scene.len() {
        return;
    }
    *drawn_for = scene.len();
    for entity in &drawn {
        commands.entity(entity).despawn();
    }
    let Some(Ok(view)) = &suggestions.result else { return };
    if view.positions.is_empty() {
        return;
    }
    let radius = point_radius(scene.len());
    let ghosts: Vec<PointInstance> = view
        .positions
        .iter()
        .zip(&view.mean)
        .map(|(p, &mean)| PointInstance {
            center: ghost_center(*p),
            color: ghost_color(&scene, &mapping, mean),
            radius: GROW * radius,
            ring: Ring::Selected,
        })
        .collect();
    let material =
        PointsMaterial { ring_color: Color::srgb_u8(GHOST_RING[0], GHOST_RING[1], GHOST_RING[2]).to_linear(), ..PointsMaterial::default() };
    commands.spawn((
        Ghost,
        Mesh3d(meshes.add(point_cloud_mesh(&ghosts))),
        MeshMaterial3d(materials.add(material)),
        Transform::IDENTITY,
        NoFrustumCulling,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::MetricColumn;

    #[test]
    fn ghosts_take_the_colour_of_their_prediction_washed_pale() {
        let scene = SphereScene {
            positions: vec![[1.0, 0.0, 0.0]; 2],
            columns: vec![MetricColumn { name: crate::scene::VAL_ACCURACY.into(), values: vec![0.5, 1.0] }],
            ..SphereScene::default()
        };
        let mapping = ColorMapping::default();
        let low = ghost_color(&scene, &mapping, 0.5).to_f32_array();
        let high = ghost_color(&scene, &mapping, 1.0).to_f32_array();
        assert_ne!(low, high);
        // Viridis runs from purple to yellow: the better prediction is the yellower.
        assert!(high[1] > low[1] && high[2] < low[2], "{low:?} {high:?}");
        // Coloured by another column: a neutral pale grey.
        let other = ColorMapping { column: 1, ..mapping };
        let grey = ghost_color(&scene, &other, 0.9).to_f32_array();
        assert!((grey[0] - grey[1]).abs() < 1e-6 && (grey[1] - grey[2]).abs() < 1e-6);
    }
}
