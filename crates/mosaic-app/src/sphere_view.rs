//! The architecture sphere: one point-cloud entity kept in step with the
//! scene, its colour and size mappings, the filters and the selection.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui::{self, Ui};
use mosaic_core::theme::BACKGROUND;

use crate::bench::PointDrawing;
use crate::points::{
    PointCloud, PointInstance, PointsMaterial, Ring, point_cloud_bundle, point_cloud_mesh, set_point_centers, set_point_style,
};
use crate::scene::{ColorMapping, Filters, ShownScene, SizeMapping, SphereScene};
use crate::selection::{Neighbours, Selection};
use crate::session::SessionFile;
use crate::ui::{AddPanelSection, PanelSection};

pub struct SphereViewPlugin;

impl Plugin for SphereViewPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<SizeMapping>()
            .init_resource::<Filters>()
            .init_resource::<Glide>()
            .add_systems(Startup, spawn_point_cloud)
            .add_systems(Update, (update_point_cloud, glide_points).chain())
            .add_panel_section(PanelSection::Filters, filters_section);
    }
}

/// The panel's size mapping, filters and search.
fn filters_section(
    InMut(ui): InMut<Ui>,
    scene: Res<ShownScene>,
    session: Res<SessionFile>,
    mut size: ResMut<SizeMapping>,
    mut filters: ResMut<Filters>,
) {
    // Edit copies so the points are only restyled on a real change.
    let (mut edited_size, mut edited_filters) = (size.clone(), filters.clone());
    egui::CollapsingHeader::new("Size, filters, search").id_salt("filters").default_open(session.panel_open("filters")).show(ui, |ui| {
        crate::panels::filters(ui, &scene, &mut edited_size, &mut edited_filters);
    });
    size.set_if_neq(edited_size);
    filters.set_if_neq(edited_filters);
}

/// Point radius for `n` points on a unit sphere: a sixth of the mean spacing,
/// so points read as separate dots at any population size.
pub fn point_radius(n: usize) -> f32 {
    let spacing = (4.0 * std::f32::consts::PI / n.max(1) as f32).sqrt();
    (spacing / 6.0).clamp(0.002, 0.05)
}

/// Points without a value are drawn at this fraction of the full radius.
const MISSING_SCALE: f32 = 0.6;

/// The selected point is drawn this much larger, with a ring.
pub const SELECTED_SCALE: f32 = 1.6;

/// A point the filters leave out keeps this share of its colour (the rest
/// is background) and this share of its size.
const FADED_COLOR: f32 = 0.2;
const FADED_SCALE: f32 = 0.7;

/// Everything that decides how points look.
#[derive(SystemParam)]
pub struct Styling<'w> {
    pub mapping: Res<'w, ColorMapping>,
    pub size: Res<'w, SizeMapping>,
    pub filters: Res<'w, Filters>,
    pub selection: Res<'w, Selection>,
    pub neighbours: Res<'w, Neighbours>,
}

impl Styling<'_> {
    fn changed(&self) -> bool {
        let changed = |added: bool, changed: bool| changed && !added;
        changed(self.mapping.is_added(), self.mapping.is_changed())
            || changed(self.size.is_added(), self.size.is_changed())
            || changed(self.filters.is_added(), self.filters.is_changed())
            || changed(self.selection.is_added(), self.selection.is_changed())
            || changed(self.neighbours.is_added(), self.neighbours.is_changed())
    }

    /// The points to draw for a scene.
    pub fn instances(&self, scene: &SphereScene) -> Vec<PointInstance> {
        let radius = point_radius(scene.len());
        let background = Color::srgb_u8(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2]).to_linear();
        let filtering = self.filters.is_active();
        scene
            .positions
            .iter()
            .zip(self.mapping.colors(scene))
            .enumerate()
            .map(|(i, (p, c))| {
                let selected = self.selection.selected == Some(i);
                let kept = !filtering || self.filters.keeps(scene, i);
                let color = Color::srgb_u8(c[0], c[1], c[2]).to_linear();
                let scale = match (self.mapping.has_value(scene, i), self.size.factor(scene, i)) {
                    (true, Some(f)) => f,
                    _ => MISSING_SCALE,
                };
                PointInstance {
                    center: Vec3::from_array(*p),
                    color: if kept || selected { color } else { background.mix(&color, FADED_COLOR) },
                    radius: radius
                        * if selected {
                            SELECTED_SCALE.max(scale)
                        } else if kept {
                            scale
                        } else {
                            scale * FADED_SCALE
                        },
                    ring: if selected {
                        Ring::Selected
                    } else if self.neighbours.list.contains(&i) {
                        Ring::Neighbour
                    } else if scene.is_diverged(i) {
                        Ring::Diverged
                    } else {
                        Ring::None
                    },
                }
            })
            .collect()
    }
}

fn spawn_point_cloud(
    mut commands: Commands,
    scene: Res<ShownScene>,
    styling: Styling,
    drawing: Option<Res<PointDrawing>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<PointsMaterial>>,
    mut standard: ResMut<Assets<StandardMaterial>>,
) {
    let instances = styling.instances(&scene);
    let material = materials.add(PointsMaterial::default());
    commands.insert_resource(Glide { to: scene.positions.clone(), ..default() });
    match drawing.map_or(PointDrawing::OneMesh, |d| *d) {
        PointDrawing::OneMesh => {
            commands.spawn(point_cloud_bundle(meshes.add(point_cloud_mesh(&instances)), material));
        }
        // The benchmark's baselines: an entity and a mesh per point.
        PointDrawing::QuadPerPoint => {
            for instance in &instances {
                commands.spawn(point_cloud_bundle(meshes.add(point_cloud_mesh(std::slice::from_ref(instance))), material.clone()));
            }
        }
        PointDrawing::SpherePerPoint => {
            for p in &instances {
                commands.spawn((
                    Mesh3d(meshes.add(Sphere::new(p.radius).mesh().uv(16, 8))),
                    MeshMaterial3d(standard.add(StandardMaterial { base_color: p.color.into(), unlit: true, ..default() })),
                    Transform::from_translation(p.center),
                ));
            }
        }
    }
}

/// Keeps the cloud in step. A new layout glides the points there (see
/// [`Glide`]); a new value, mapping, filter or selection rewrites only the
/// colour and radius attributes. Startup already built the first mesh, so
/// the resources' insertion is not a change here; but the first run restyles
/// once, since to a system's first run every resource counts as added, and a
/// selection's neighbours found earlier in that frame (`--select`, a session)
/// would otherwise never get their rings.
fn update_point_cloud(
    scene: Res<ShownScene>,
    styling: Styling,
    clouds: Query<&Mesh3d, With<PointCloud>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut glide: ResMut<Glide>,
    mut ran: Local<bool>,
) {
    let first_run = !std::mem::replace(&mut *ran, true);
    let data_changed = scene.is_changed() && !scene.is_added();
    if !data_changed && !styling.changed() && !first_run {
        return;
    }
    // A new value (a run finished) changes the scene but not where points
    // are: restyling is enough, and keeps frames smooth while a sweep trains.
    let moved = data_changed && glide.to != scene.positions;
    // The same points in a new layout glide there; a new population is drawn at once.
    let glides = moved && glide.to.len() == scene.len();
    if moved {
        let from = glide.drawn();
        *glide = Glide { to: scene.positions.clone(), from: if glides { from } else { Vec::new() }, elapsed: 0.0 };
    }
    let mut instances = styling.instances(&scene);
    if glide.is_active() {
        let drawn = glide.drawn();
        instances.iter_mut().zip(&drawn).for_each(|(p, at)| p.center = Vec3::from_array(*at));
    }
    for mesh in &clouds {
        let Some(mut m) = meshes.get_mut(&mesh.0) else { continue };
        if moved && !glides {
            *m = point_cloud_mesh(&instances);
        } else {
            set_point_style(&mut m, &instances);
        }
    }
}

/// How long points take to glide to a new layout (the sphere eases rather
/// than jumps when, say, the representation embedding arrives).
pub const GLIDE_SECONDS: f32 = 1.2;

/// Points on their way from one layout to the next.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Glide {
    /// Where they started (empty: no glide, they stand at `to`).
    pub from: Vec<[f32; 3]>,
    pub to: Vec<[f32; 3]>,
    pub elapsed: f32,
}

impl Glide {
    pub fn is_active(&self) -> bool {
        self.from.len() == self.to.len() && !self.from.is_empty() && self.elapsed < GLIDE_SECONDS
    }

    /// Where the points are drawn now: eased (smoothstep) between the layouts.
    pub fn drawn(&self) -> Vec<[f32; 3]> {
        if !self.is_active() {
            return self.to.clone();
        }
        let t = (self.elapsed / GLIDE_SECONDS).clamp(0.0, 1.0);
        let s = t * t * (3.0 - 2.0 * t);
        self.from.iter().zip(&self.to).map(|(a, b)| Vec3::from_array(*a).lerp(Vec3::from_array(*b), s).to_array()).collect()
    }
}

fn glide_points(time: Res<Time>, mut glide: ResMut<Glide>, clouds: Query<&Mesh3d, With<PointCloud>>, mut meshes: ResMut<Assets<Mesh>>) {
    if !glide.is_active() {
        return;
    }
    // The frame that ends the glide draws the new layout exactly.
    glide.elapsed += time.delta_secs();
    let drawn = glide.drawn();
    for mesh in &clouds {
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            set_point_centers(&mut m, &drawn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glide_eases_from_the_old_layout_to_the_new() {
        let mut glide = Glide { from: vec![[0.0, 0.0, 0.0]], to: vec![[1.0, 0.0, 0.0]], elapsed: 0.0 };
        assert_eq!(glide.drawn(), vec![[0.0, 0.0, 0.0]]);
        glide.elapsed = GLIDE_SECONDS / 2.0;
        assert_eq!(glide.drawn(), vec![[0.5, 0.0, 0.0]], "half-way at half time (smoothstep is symmetric)");
        glide.elapsed = GLIDE_SECONDS / 4.0;
        assert!(glide.drawn()[0][0] < 0.25, "slow at the start");
        glide.elapsed = GLIDE_SECONDS;
        assert!(!glide.is_active());
        assert_eq!(glide.drawn(), vec![[1.0, 0.0, 0.0]]);
        assert!(!Glide { from: vec![], to: vec![[1.0; 3]], elapsed: 0.0 }.is_active(), "nothing to glide from");
    }
}
