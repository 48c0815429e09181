//! The hyper-parameter surface in the world, left of the sphere: a target
//! metric over two knobs (from the analysis window's choice), with the runs
//! that made it standing on it as points.

use bevy::prelude::*;
use mosaic_core::Colormap;

use crate::analysis::Analysis;
use crate::inspect::LandscapeData;
use crate::landscape_view::{
    LandscapeSettings, SurfaceAssets, SurfaceLayout, SurfaceMaterial, SurfaceParts, beside_sphere, spawn_surface, view_camera,
};
use crate::points::{PointInstance, Ring};

/// Where the surface stands, in the camera's frame when it opens: left of
/// the sphere, mirroring the landscape on the right.
const OFFSET: Vec3 = Vec3::new(-2.75, -0.6, 0.0);
use mosaic_core::theme::HYPER_RUN;
/// Runs float this far above the surface.
const LIFT: f32 = 0.015;

/// The hyper-parameter surface on screen, for the capture manifest.
#[derive(Resource, Clone, Debug)]
pub struct ShownHyper {
    pub transform: Transform,
    pub layout: SurfaceLayout,
    pub data: LandscapeData,
    /// The runs' points, in the surface's local space.
    pub runs: Vec<Vec3>,
}

#[derive(Component)]
struct HyperRoot;

pub struct HyperViewPlugin;

impl Plugin for HyperViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, show_hyper);
    }
}

/// How hyper-parameter surfaces look: plasma, so they never read as a loss landscape.
fn settings() -> LandscapeSettings {
    LandscapeSettings { log_scale: false, colormap: Colormap::Plasma, contours: 10 }
}

fn show_hyper(
    mut commands: Commands,
    analysis: Res<Analysis>,
    shown: Option<Res<ShownHyper>>,
    roots: Query<Entity, With<HyperRoot>>,
    cameras: Query<&GlobalTransform, With<Camera3d>>,
    mut assets: SurfaceAssets,
) {
    if !analysis.is_changed() {
        return;
    }
    let wanted = match (&analysis.hyper_view, analysis.hyper.show) {
        (Some(Ok(view)), true) => Some(view),
        _ => None,
    };
    let same = match (&shown, wanted) {
        (Some(s), Some(v)) => s.data == v.surface,
        (None, None) => true,
        _ => false,
    };
    if same {
        return;
    }
    for root in &roots {
        commands.entity(root).despawn();
    }
    let Some(view) = wanted else {
        commands.remove_resource::<ShownHyper>();
        return;
    };
    let Some(camera) = view_camera(&cameras) else { return };
    let transform = shown.as_ref().map_or_else(|| beside_sphere(&camera, OFFSET), |s| s.transform);
    let settings = settings();
    // Heights span the runs too: a smoothed surface sits between its noisy runs.
    let targets: Vec<f64> = view.runs.iter().map(|r| r[2]).collect();
    let layout = SurfaceLayout::spanning(&view.surface, settings.log_scale, &targets);
    let runs: Vec<Vec3> = view.runs.iter().map(|r| layout.local(r[0], r[1], layout.height_of(r[2])) + Vec3::Y * LIFT).collect();
    let color = Color::srgb_u8(HYPER_RUN[0], HYPER_RUN[1], HYPER_RUN[2]).to_linear();
    let markers: Vec<PointInstance> = runs.iter().map(|&center| PointInstance { center, color, radius: 0.02, ring: Ring::None }).collect();
    let material = SurfaceMaterial::new(&settings);
    let parts = SurfaceParts { transform, layout: &layout, data: &view.surface, material, segments: &[], markers: &markers };
    spawn_surface(&mut commands, &mut assets, HyperRoot, parts);
    commands.insert_resource(ShownHyper { transform, layout, data: view.surface.clone(), runs });
}
