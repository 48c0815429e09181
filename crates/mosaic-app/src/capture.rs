//! The capture harness: render N frames, save the last one as PNG, exit.
//! Works on a window (under Xvfb in tests) and on an offscreen image target
//! (no display at all); video recording will drive the same path per frame.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use serde::Serialize;

use crate::bridge::Pending;
use crate::clusters::{Clusters, summaries};
use crate::files::FileError;
use crate::hyper_view::ShownHyper;
use crate::inspect::LandscapeData;
use crate::landscape_view::{ShownLandscape, SurfaceLayout};
use crate::path_view::ArchPath;
use crate::scene::ShownScene;
use crate::sphere_view::Styling;
use crate::suggestions::{Suggestions, ghost_center};

/// Frames rendered, once the target exists, before the earliest capture: a
/// screenshot asked for too early can be dropped by Bevy.
pub const MIN_FRAMES: u32 = 5;
/// Frames to wait for a requested screenshot before asking once more, then failing.
const TIMEOUT_FRAMES: u32 = 120;

#[derive(Clone, Debug)]
pub struct CaptureRequest {
    /// PNG to write.
    pub path: PathBuf,
    /// Frames to render before capturing (at least [`MIN_FRAMES`]).
    pub frames: u32,
    /// Where to write the on-screen position of every point (JSON).
    pub manifest: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub enum CaptureTarget {
    PrimaryWindow,
    Image(Handle<Image>),
}

pub struct CapturePlugin {
    pub request: CaptureRequest,
    pub target: CaptureTarget,
    /// Set once the PNG is written: the caller's proof that this run, not an
    /// earlier one, produced the file.
    pub saved: Arc<AtomicBool>,
}

#[derive(Resource)]
struct CaptureState {
    request: CaptureRequest,
    target: CaptureTarget,
    saved: Arc<AtomicBool>,
    /// Frame at which the camera first had a target to render into.
    ready_at: Option<u32>,
    requested_at: Option<u32>,
    retried: bool,
}

impl Plugin for CapturePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(CaptureState {
            request: self.request.clone(),
            target: self.target.clone(),
            saved: self.saved.clone(),
            ready_at: None,
            requested_at: None,
            retried: false,
        })
        .add_systems(Update, request_capture);
    }
}

/// Where one point landed in the captured image.
#[derive(Serialize, Debug)]
pub struct ProjectedPoint {
    /// The point's index in the scene.
    pub index: usize,
    pub label: String,
    /// Pixel coordinates, origin top-left, y down.
    pub x: f32,
    pub y: f32,
    /// Distance from the camera, for reasoning about occlusion.
    pub depth: f32,
    /// Where the point is in the world (sphere space), for tools that aim at it.
    pub world: [f32; 3],
    /// On-screen radius in pixels.
    pub radius_px: f32,
    /// The point's sRGB colour.
    pub color: [u8; 3],
    /// The mapped column's value (NaN where missing).
    pub value: f64,
    /// Whether its training diverged (drawn with a red ring).
    pub diverged: bool,
}

/// What a capture showed, written beside the PNG on request.
#[derive(Serialize, Debug)]
pub struct CaptureManifest {
    pub width: u32,
    pub height: u32,
    pub point_radius: f32,
    pub points: Vec<ProjectedPoint>,
    /// Scene index of the selected network.
    pub selected: Option<usize>,
    /// Its neighbours' indices, nearest first.
    pub neighbours: Vec<usize>,
    pub landscape: Option<LandscapeShot>,
    /// The hyper-parameter surface; `path` holds its runs.
    pub hyper: Option<LandscapeShot>,
    /// The steps of the path between two networks.
    pub path: Vec<[f32; 2]>,
    /// The clusters of the sphere (empty while hidden).
    pub clusters: Vec<ClusterShot>,
    /// The meta-learner's suggestions (ghost points): pixel and predicted value.
    pub ghosts: Vec<GhostShot>,
}

#[derive(Serialize, Debug)]
pub struct GhostShot {
    pub x: f32,
    pub y: f32,
    pub mean: f64,
}

/// One cluster: its id, size, and where its halo's centre landed.
#[derive(Serialize, Debug)]
pub struct ClusterShot {
    pub id: usize,
    pub size: usize,
    pub x: f32,
    pub y: f32,
}

/// Where the landscape's parts landed in the image (pixels, origin top-left).
#[derive(Serialize, Debug)]
pub struct LandscapeShot {
    /// The training path's checkpoints.
    pub path: Vec<[f32; 2]>,
    /// The lowest grid point's marker.
    pub minimum: Option<[f32; 2]>,
    /// Every grid point: pixel, height in [0, 1] (the colour map's t), finite.
    pub grid: Vec<GridSample>,
}

#[derive(Serialize, Debug)]
pub struct GridSample {
    pub x: f32,
    pub y: f32,
    pub t: f32,
    pub finite: bool,
    pub depth: f32,
}

fn request_capture(
    mut commands: Commands,
    frame: Res<FrameCount>,
    mut state: ResMut<CaptureState>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    view: ViewState,
    pending: Res<Pending>,
    mut exit: MessageWriter<AppExit>,
) {
    let Ok((camera, transform)) = cameras.single() else {
        error!("capture needs exactly one 3-D camera");
        exit.write(AppExit::error());
        return;
    };
    // Answers still coming (a selection's landscape) hold the capture back:
    // frames are counted from when the last one arrived.
    if pending.0 > 0 && state.requested_at.is_none() {
        state.ready_at = None;
        return;
    }
    if state.ready_at.is_none() && camera.physical_target_size().is_some() {
        state.ready_at = Some(frame.0);
    }
    let Some(ready_at) = state.ready_at else { return };
    if let Some(at) = state.requested_at {
        if frame.0 > at + TIMEOUT_FRAMES {
            if state.retried {
                error!("the screenshot never arrived; the render target may not exist");
                exit.write(AppExit::error());
            } else {
                // A request that met an unready target is dropped, not retried: ask once more.
                warn!("no screenshot after {TIMEOUT_FRAMES} frames; asking again");
                state.retried = true;
                state.requested_at = None;
            }
        }
        return;
    }
    if frame.0 < ready_at + state.request.frames.max(MIN_FRAMES) {
        return;
    }
    if let Some(path) = &state.request.manifest
        && let Err(e) = write_manifest(path, camera, transform, &view)
    {
        error!("cannot write the manifest {}: {e}", path.display());
        exit.write(AppExit::error());
        return;
    }
    let screenshot = match &state.target {
        CaptureTarget::PrimaryWindow => Screenshot::primary_window(),
        CaptureTarget::Image(handle) => Screenshot::image(handle.clone()),
    };
    let (path, saved) = (state.request.path.clone(), state.saved.clone());
    commands.spawn(screenshot).observe(move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
        match save_png(&captured.image, &path) {
            Ok(()) => {
                info!("saved {}", path.display());
                saved.store(true, Ordering::SeqCst);
                exit.write(AppExit::Success);
            }
            Err(e) => {
                error!("cannot save {}: {e}", path.display());
                exit.write(AppExit::error());
            }
        }
    });
    state.requested_at = Some(frame.0);
}

/// Writes the frame as an RGB PNG, via a temporary file so a reader never
/// sees half an image.
pub fn save_png(frame: &Image, path: &Path) -> Result<(), FileError> {
    let encode = |message: String| FileError::Encode { path: path.display().to_string(), message };
    let rgb = frame.clone().try_into_dynamic().map_err(|e| encode(e.to_string()))?.to_rgb8();
    let mut png = Vec::new();
    rgb.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(|e| encode(e.to_string()))?;
    mosaic_core::fs::write_atomic(path, &png).map_err(FileError::write(path))
}

/// What the view shows, as the manifest describes it.
#[derive(bevy::ecs::system::SystemParam)]
pub(crate) struct ViewState<'w> {
    scene: Res<'w, ShownScene>,
    styling: Styling<'w>,
    landscape: Option<Res<'w, ShownLandscape>>,
    hyper: Option<Res<'w, ShownHyper>>,
    path: Res<'w, ArchPath>,
    clusters: Res<'w, Clusters>,
    suggestions: Res<'w, Suggestions>,
}

fn write_manifest(path: &Path, camera: &Camera, transform: &GlobalTransform, view: &ViewState) -> Result<(), FileError> {
    let encode = |message: String| FileError::Encode { path: path.display().to_string(), message };
    let manifest = manifest(camera, transform, view).ok_or_else(|| encode("the camera has no target size yet".into()))?;
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| encode(e.to_string()))?;
    std::fs::write(path, json).map_err(FileError::write(path))
}

/// What the view shows, in pixels of its render target; `None` until the
/// camera has a target.
pub(crate) fn manifest(camera: &Camera, transform: &GlobalTransform, view: &ViewState) -> Option<CaptureManifest> {
    let (scene, mapping, styling) = (&**view.scene, &*view.styling.mapping, &view.styling);
    let size = camera.physical_target_size()?;
    let scale = camera.target_scaling_factor().unwrap_or(1.0);
    let instances = styling.instances(scene);
    let right = transform.right();
    let values = scene.columns.get(mapping.column).map(|c| c.values.as_slice()).unwrap_or(&[]);
    let points = scene
        .positions
        .iter()
        .zip(mapping.colors(scene))
        .zip(&scene.labels)
        .enumerate()
        .filter_map(|(i, ((p, color), label))| {
            let world = Vec3::from_array(*p);
            let screen = camera.world_to_viewport(transform, world).ok()? * scale;
            let edge = camera.world_to_viewport(transform, world + right * instances[i].radius).ok()? * scale;
            Some(ProjectedPoint {
                index: i,
                label: label.clone(),
                x: screen.x,
                y: screen.y,
                depth: transform.translation().distance(world),
                world: world.to_array(),
                radius_px: screen.distance(edge),
                color,
                value: values.get(i).copied().unwrap_or(f64::NAN),
                diverged: scene.is_diverged(i),
            })
        })
        .collect();
    let pixel = |world: Vec3| camera.world_to_viewport(transform, world).ok().map(|p| (p * scale).to_array());
    let camera_at = transform.translation();
    let shot = |transform: &Transform, layout: &SurfaceLayout, data: &LandscapeData, marks: Vec<Vec3>, minimum: Option<Vec3>| {
        let to_world = |local: Vec3| transform.transform_point(local);
        let grid = (0..layout.ny)
            .flat_map(|j| (0..layout.nx).map(move |i| (i, j)))
            .filter_map(|(i, j)| {
                let world = to_world(layout.grid_point(data, i, j));
                let [x, y] = pixel(world)?;
                let k = j * layout.nx + i;
                Some(GridSample { x, y, t: layout.heights[k], finite: layout.finite[k], depth: camera_at.distance(world) })
            })
            .collect();
        LandscapeShot {
            path: marks.into_iter().filter_map(|p| pixel(to_world(p))).collect(),
            minimum: minimum.and_then(|p| pixel(to_world(p))),
            grid,
        }
    };
    let landscape =
        view.landscape.as_ref().map(|s| shot(&s.transform, &s.layout, &s.data, s.layout.path(&s.data), s.layout.minimum(&s.data)));
    let hyper = view.hyper.as_ref().map(|s| shot(&s.transform, &s.layout, &s.data, s.runs.clone(), None));
    let manifest = CaptureManifest {
        width: size.x,
        height: size.y,
        point_radius: crate::sphere_view::point_radius(scene.len()),
        points,
        selected: styling.selection.selected,
        neighbours: styling.neighbours.list.clone(),
        landscape,
        hyper,
        clusters: if view.clusters.show && view.clusters.labels.len() == scene.len() {
            summaries(scene, &view.clusters.labels, mapping)
                .iter()
                .filter_map(|s| {
                    let [x, y] = pixel(s.centroid.normalize_or(Vec3::Y) * s.centroid.length().max(0.5))?;
                    Some(ClusterShot { id: s.id, size: s.size, x, y })
                })
                .collect()
        } else {
            Vec::new()
        },
        path: match &view.path.result {
            Some(Ok(p)) => p.positions.iter().filter_map(|&at| pixel(Vec3::from_array(at))).collect(),
            _ => Vec::new(),
        },
        ghosts: match &view.suggestions.result {
            Some(Ok(s)) => s
                .positions
                .iter()
                .zip(&s.mean)
                .filter_map(|(&at, &mean)| pixel(ghost_center(at)).map(|[x, y]| GhostShot { x, y, mean }))
                .collect(),
            _ => Vec::new(),
        },
    };
    Some(manifest)
}
