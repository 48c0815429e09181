//! The architecture sphere: one point-cloud entity kept in step with the
//! scene and the colour mapping.

use bevy::prelude::*;

use crate::points::{PointCloud, PointInstance, PointsMaterial, point_cloud_bundle, point_cloud_mesh};
use crate::scene::{ColorMapping, SphereScene};

pub struct SphereViewPlugin;

impl Plugin for SphereViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_point_cloud)
            .add_systems(Update, recolor_points.run_if(resource_changed::<ColorMapping>.or_else(resource_changed::<SphereScene>)));
    }
}

/// Point radius for `n` points on a unit sphere: a fifth of the mean spacing,
/// so points read as separate dots at any population size.
pub fn point_radius(n: usize) -> f32 {
    let spacing = (4.0 * std::f32::consts::PI / n.max(1) as f32).sqrt();
    (0.2 * spacing).clamp(0.002, 0.06)
}

/// The points to draw for a scene under a mapping.
pub fn point_instances(scene: &SphereScene, mapping: &ColorMapping) -> Vec<PointInstance> {
    let radius = point_radius(scene.len());
    scene
        .positions
        .iter()
        .zip(mapping.colors(scene))
        .map(|(p, c)| PointInstance {
            center: Vec3::from_array(*p),
            color: Color::srgb_u8(c[0], c[1], c[2]).to_linear(),
            radius,
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

/// Rebuilds the cloud's mesh in place when the data or the mapping changes.
fn recolor_points(
    scene: Res<SphereScene>,
    mapping: Res<ColorMapping>,
    clouds: Query<&Mesh3d, With<PointCloud>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    for mesh in &clouds {
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            *m = point_cloud_mesh(&point_instances(&scene, &mapping));
        }
    }
}
