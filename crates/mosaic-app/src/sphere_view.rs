//! The architecture sphere: one point-cloud entity kept in step with the
//! scene and the colour mapping.

use bevy::prelude::*;

use crate::points::{PointCloud, PointInstance, PointsMaterial, point_cloud_bundle, point_cloud_mesh, set_point_style};
use crate::scene::{ColorMapping, SphereScene};

pub struct SphereViewPlugin;

impl Plugin for SphereViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_point_cloud).add_systems(Update, update_point_cloud);
    }
}

/// Point radius for `n` points on a unit sphere: a sixth of the mean spacing,
/// so points read as separate dots at any population size.
pub fn point_radius(n: usize) -> f32 {
    let spacing = (4.0 * std::f32::consts::PI / n.max(1) as f32).sqrt();
    (spacing / 6.0).clamp(0.002, 0.05)
}

/// Points without a value are drawn at this fraction of the full radius.
const MISSING_SCALE: f32 = 0.6;

/// The points to draw for a scene under a mapping.
pub fn point_instances(scene: &SphereScene, mapping: &ColorMapping) -> Vec<PointInstance> {
    let radius = point_radius(scene.len());
    scene
        .positions
        .iter()
        .zip(mapping.colors(scene))
        .enumerate()
        .map(|(i, (p, c))| PointInstance {
            center: Vec3::from_array(*p),
            color: Color::srgb_u8(c[0], c[1], c[2]).to_linear(),
            radius: if mapping.has_value(scene, i) { radius } else { radius * MISSING_SCALE },
        })
        .collect()
}

fn spawn_point_cloud(
    mut commands: Commands,
    scene: Res<SphereScene>,
    mapping: Res<ColorMapping>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<PointsMaterial>>,
) {
    let mesh = meshes.add(point_cloud_mesh(&point_instances(&scene, &mapping)));
    commands.spawn(point_cloud_bundle(mesh, materials.add(PointsMaterial::default())));
}

/// Keeps the cloud in step: new data rebuilds the mesh; a new colour mapping
/// rewrites only the colour and radius attributes. Startup already built the first mesh,
/// so the resources' insertion is not a change here.
fn update_point_cloud(
    scene: Res<SphereScene>,
    mapping: Res<ColorMapping>,
    clouds: Query<&Mesh3d, With<PointCloud>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let data_changed = scene.is_changed() && !scene.is_added();
    let colors_changed = mapping.is_changed() && !mapping.is_added();
    if !data_changed && !colors_changed {
        return;
    }
    for mesh in &clouds {
        let Some(mut m) = meshes.get_mut(&mesh.0) else { continue };
        if data_changed {
            *m = point_cloud_mesh(&point_instances(&scene, &mapping));
        } else {
            set_point_style(&mut m, &point_instances(&scene, &mapping));
        }
    }
}
