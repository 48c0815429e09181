//! The interpolation path between two networks (the selection and a
//! Shift+clicked one): the architectures on the straight line between their
//! encodings, each decoded to a valid spec and placed on the sphere by the
//! compute side, drawn as a chain of points.

use bevy::camera::visibility::NoFrustumCulling;
use bevy::prelude::*;
use bevy_egui::egui::{Color32, RichText, Ui};

use crate::bridge::{BridgeSystems, ComputeRequests, Computed, Pending, SceneUpdate, ViewRequest};
use crate::lines::{LinesMaterial, lines_bundle, lines_mesh, polyline};
use crate::points::{PointInstance, PointsMaterial, Ring, point_cloud_mesh};
use crate::scene::{ShownScene, SphereScene};
use crate::selection::Selection;
use crate::sphere_view::point_radius;
use crate::ui::{AddPanelSection, PanelSection};

use mosaic_core::theme::ARCH_PATH;

pub use mosaic_protocol::PathView;

/// The path between the selection and `Selection::path_to`, as far as known.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ArchPath {
    /// The two ends it was asked for.
    pub ends: Option<(usize, usize)>,
    /// `None` while computing.
    pub result: Option<Result<PathView, String>>,
}

/// Steps from one end to the other (the path has one more architecture).
pub const PATH_STEPS: usize = 8;

#[derive(Component)]
struct PathDrawing;

pub struct PathViewPlugin;

impl Plugin for PathViewPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<ArchPath>()
            .add_systems(PreUpdate, apply_path.in_set(BridgeSystems::Apply))
            .add_systems(Update, (ask_path, draw_path).chain())
            .add_panel_section(PanelSection::Path, path_section);
    }
}

/// Keeps the path the compute side found between the ends last asked for
/// (an answer for other ends is dropped).
fn apply_path(mut computed: MessageReader<Computed>, mut path: ResMut<ArchPath>) {
    for Computed(update) in computed.read() {
        if let SceneUpdate::Path { from, to, answer } = update
            && path.ends == Some((*from, *to))
            && let Some(result) = answer.clone().into_result()
        {
            path.result = Some(result);
        }
    }
}

fn ask_path(selection: Res<Selection>, requests: Option<Res<ComputeRequests>>, mut pending: ResMut<Pending>, mut path: ResMut<ArchPath>) {
    let ends = selection.selected.zip(selection.path_to);
    if path.ends == ends {
        return;
    }
    *path = ArchPath { ends, result: None };
    let (Some((from, to)), Some(requests)) = (ends, requests) else { return };
    if !requests.send(ViewRequest::Path { from, to, steps: PATH_STEPS }, &mut pending) {
        path.result = Some(Err("the compute service has stopped".into()));
    }
}

/// The panel's path section, under the inspector while a network is selected.
fn path_section(InMut(ui): InMut<Ui>, scene: Res<ShownScene>, selection: Res<Selection>, path: Res<ArchPath>) {
    if selection.selected.is_some() {
        path_steps(ui, &scene, &selection, &path);
    }
}

/// The path from the selection to the Shift+clicked network, step by step.
fn path_steps(ui: &mut Ui, scene: &SphereScene, selection: &Selection, path: &ArchPath) {
    ui.add_space(4.0);
    let Some(to) = selection.path_to else {
        ui.weak("Shift+click another network for the architectures between them.");
        return;
    };
    let name = scene.labels.get(to).map_or("?", String::as_str);
    let [r, g, b] = ARCH_PATH;
    ui.colored_label(Color32::from_rgb(r, g, b), RichText::new(format!("Path to {name}")).strong());
    match &path.result {
        None => {
            ui.spinner();
        }
        Some(Err(e)) => {
            ui.colored_label(crate::panels::rgb(mosaic_core::theme::WARNING_TEXT), e);
        }
        Some(Ok(view)) => {
            for (step, label) in view.labels.iter().enumerate() {
                ui.label(format!("{step}. {label}"));
            }
        }
    }
}

/// The path's points (slightly smaller than the population's) and the
/// chords joining them.
fn draw_path(
    mut commands: Commands,
    path: Res<ArchPath>,
    scene: Res<ShownScene>,
    drawn: Query<Entity, With<PathDrawing>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut lines: ResMut<Assets<LinesMaterial>>,
    mut points: ResMut<Assets<PointsMaterial>>,
) {
    if !path.is_changed() {
        return;
    }
    for entity in &drawn {
        commands.entity(entity).despawn();
    }
    let Some(Ok(view)) = &path.result else { return };
    let color = Color::srgb_u8(ARCH_PATH[0], ARCH_PATH[1], ARCH_PATH[2]).to_linear();
    let centers: Vec<Vec3> = view.positions.iter().map(|p| Vec3::from_array(*p)).collect();
    let radius = 0.7 * point_radius(scene.len());
    let markers: Vec<PointInstance> = centers.iter().map(|&center| PointInstance { center, color, radius, ring: Ring::None }).collect();
    commands
        .spawn((PathDrawing, lines_bundle(meshes.add(lines_mesh(&polyline(&centers, color))), lines.add(LinesMaterial::new(2.5, 0.0)))));
    commands.spawn((
        PathDrawing,
        Mesh3d(meshes.add(point_cloud_mesh(&markers))),
        MeshMaterial3d(points.add(PointsMaterial::default())),
        Transform::IDENTITY,
        NoFrustumCulling,
    ));
}
