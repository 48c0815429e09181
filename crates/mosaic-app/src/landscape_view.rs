//! The selected network's loss landscape, beside the sphere in the same
//! world: a height-field mesh (height and colour from the loss, contour
//! lines in the shader), its base frame, the training path walking over it
//! with a marker that plays it epoch by epoch, and the lowest point marked.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::ecs::system::{EntityCommands, SystemParam};
use bevy::mesh::{Indices, MeshVertexBufferLayoutRef, PrimitiveTopology};
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError};
use bevy::shader::ShaderRef;
use bevy_egui::{EguiContexts, egui};
use bevy_panorbit_camera::PanOrbitCamera;
use mosaic_core::Colormap;
use mosaic_core::theme::LANDSCAPE_FRAME;
pub use mosaic_core::theme::{MINIMUM, PATH, PLAYHEAD};

use crate::CameraPose;
use crate::inspect::{Inspection, LandscapeData, LandscapeState};
use crate::lines::{LinesMaterial, Segment, lines_bundle, lines_mesh, polyline};
use crate::panels::rgb;
use crate::points::{PointInstance, PointsMaterial, Ring, embed_shader, point_cloud_mesh};

pub const SURFACE_SHADER: Handle<Shader> = uuid_handle!("c41f6a09-2d7e-4b85-a3c8-9e5b1f2d7a64");

/// Half the side of the surface's square footprint, in sphere radii.
pub const HALF_WIDTH: f32 = 1.1;
/// Height from the lowest to the highest loss.
pub const HEIGHT: f32 = 1.0;
/// The path and markers float this far above the surface, so it never hides them.
const LIFT: f32 = 0.015;
/// Steps per leg of the training path as it follows the surface.
const DRAPE_STEPS: usize = 8;
/// Where the landscape sits, in the camera's frame at the moment it opens:
/// to the right of the sphere, its base a little below the sphere's centre.
const OFFSET: Vec3 = Vec3::new(2.75, -0.6, 0.0);

/// How surfaces are drawn; the panel edits it.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct LandscapeSettings {
    /// Height and colour from log(loss), so a deep, narrow minimum and a
    /// high rim both stay readable.
    pub log_scale: bool,
    pub colormap: Colormap,
    /// Contour lines over the height range (0: none).
    pub contours: u32,
}

impl Default for LandscapeSettings {
    fn default() -> Self {
        LandscapeSettings { log_scale: true, colormap: Colormap::Viridis, contours: 12 }
    }
}

/// Shading of a loss surface (see `shaders/surface.wgsl`).
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct SurfaceMaterial {
    /// The colour map's stops, sRGB in [0, 1].
    #[uniform(0)]
    pub stops: [Vec4; 10],
    /// x: contour levels; y: contour darkening; z: ambient light share.
    #[uniform(0)]
    pub params: Vec4,
}

impl SurfaceMaterial {
    pub fn new(settings: &LandscapeSettings) -> Self {
        let stops = settings.colormap.stops().map(|[r, g, b]| Vec4::new(r as f32, g as f32, b as f32, 255.0) / 255.0);
        SurfaceMaterial { stops, params: Vec4::new(settings.contours as f32, 0.55, 0.55, 0.0) }
    }
}

impl Material for SurfaceMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(SURFACE_SHADER)
    }
    fn enable_prepass() -> bool {
        false
    }
    fn enable_shadows() -> bool {
        false
    }
    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        _key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        // Seen from below as well as above.
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

/// A surface laid out for drawing: every grid point's height in [0, 1]
/// (NaN-free: non-finite losses sit at the top, flagged), in local space.
#[derive(Clone, Debug, PartialEq)]
pub struct SurfaceLayout {
    pub nx: usize,
    pub ny: usize,
    /// Height of each grid point in [0, 1], row-major like the loss.
    pub heights: Vec<f32>,
    pub finite: Vec<bool>,
    /// The loss range the heights span, in the chosen scale.
    pub low: f64,
    pub high: f64,
    pub log_scale: bool,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl SurfaceLayout {
    pub fn new(data: &LandscapeData, log_scale: bool) -> Self {
        Self::spanning(data, log_scale, &[])
    }

    /// Like [`SurfaceLayout::new`], with heights spanning `also` as well
    /// (values drawn over the surface, such as runs above a smoothed fit).
    pub fn spanning(data: &LandscapeData, log_scale: bool, also: &[f64]) -> Self {
        let scaled: Vec<f64> = data.loss.iter().map(|&l| scale(l, log_scale)).collect();
        let (low, high) = scaled
            .iter()
            .copied()
            .chain(also.iter().map(|&v| scale(v, log_scale)))
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let span = if high > low { high - low } else { 1.0 };
        let heights = scaled.iter().map(|&v| if v.is_finite() { ((v - low) / span) as f32 } else { 1.0 }).collect();
        let finite = scaled.iter().map(|v| v.is_finite()).collect();
        let range = |a: &[f64]| (a[0], a[a.len() - 1]);
        SurfaceLayout {
            nx: data.x.len(),
            ny: data.y.len(),
            heights,
            finite,
            low,
            high,
            log_scale,
            x_range: range(&data.x),
            y_range: range(&data.y),
        }
    }

    /// A loss as a height in [0, 1] on this surface's scale.
    pub fn height_of(&self, loss: f64) -> f32 {
        let v = scale(loss, self.log_scale);
        let span = if self.high > self.low { self.high - self.low } else { 1.0 };
        if v.is_finite() { ((v - self.low) / span).clamp(0.0, 1.0) as f32 } else { 1.0 }
    }

    /// Local position of surface coordinates `(x, y)` at height `h` in [0, 1]:
    /// x runs left to right, y away from the viewer, height up.
    pub fn local(&self, x: f64, y: f64, h: f32) -> Vec3 {
        let unit = |v: f64, (a, b): (f64, f64)| if b > a { ((v - a) / (b - a)) as f32 } else { 0.5 };
        Vec3::new((2.0 * unit(x, self.x_range) - 1.0) * HALF_WIDTH, h * HEIGHT, -(2.0 * unit(y, self.y_range) - 1.0) * HALF_WIDTH)
    }

    /// Local position of grid point `(i, j)`.
    pub fn grid_point(&self, data: &LandscapeData, i: usize, j: usize) -> Vec3 {
        self.local(data.x[i], data.y[j], self.heights[j * self.nx + i])
    }

    /// The triangle mesh: positions, normals, and `uv = (height, finite)` for the shader.
    pub fn mesh(&self, data: &LandscapeData) -> Mesh {
        let (nx, ny) = (self.nx, self.ny);
        let positions: Vec<Vec3> = (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))).map(|(i, j)| self.grid_point(data, i, j)).collect();
        // Normals from central differences (one-sided at the edges).
        let at = |i: usize, j: usize| positions[j * nx + i];
        let normals: Vec<[f32; 3]> = (0..ny)
            .flat_map(|j| (0..nx).map(move |i| (i, j)))
            .map(|(i, j)| {
                let dx = at((i + 1).min(nx - 1), j) - at(i.saturating_sub(1), j);
                let dz = at(i, j.saturating_sub(1)) - at(i, (j + 1).min(ny - 1));
                dz.cross(dx).normalize_or(Vec3::Y).to_array()
            })
            .collect();
        let uvs: Vec<[f32; 2]> = self.heights.iter().zip(&self.finite).map(|(&h, &f)| [h, if f { 1.0 } else { 0.0 }]).collect();
        let mut indices = Vec::with_capacity(6 * (nx - 1) * (ny - 1));
        for j in 0..ny - 1 {
            for i in 0..nx - 1 {
                let k = (j * nx + i) as u32;
                let (right, up) = (k + 1, k + nx as u32);
                indices.extend_from_slice(&[k, right, up + 1, k, up + 1, up]);
            }
        }
        Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
            .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions.iter().map(|p| p.to_array()).collect::<Vec<_>>())
            .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
            .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uvs)
            .with_inserted_indices(Indices::U32(indices))
    }

    /// The training path's checkpoints, in local space, just above the surface.
    pub fn path(&self, data: &LandscapeData) -> Vec<Vec3> {
        data.path
            .iter()
            .map(|p| self.draped(data, p.x, p.y).unwrap_or_else(|| self.local(p.x, p.y, self.height_of(p.loss)) + Vec3::Y * LIFT))
            .collect()
    }

    /// The training path as a line draped over the surface through its
    /// checkpoints `marks` (from [`SurfaceLayout::path`]): each leg follows
    /// the surface in [`DRAPE_STEPS`] steps. (The checkpoints lie off the
    /// plane the surface is cut through, so their own losses would float
    /// above it or sink under it.)
    pub fn path_line(&self, data: &LandscapeData, marks: &[Vec3]) -> Vec<Vec3> {
        let mut line = Vec::with_capacity(marks.len() * DRAPE_STEPS);
        for (k, pair) in data.path.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            line.push(marks[k]);
            for step in 1..DRAPE_STEPS {
                let t = step as f64 / DRAPE_STEPS as f64;
                let (x, y) = (a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
                line.extend(self.draped(data, x, y));
            }
        }
        line.extend(marks.last());
        line
    }

    /// The point of the surface over `(x, y)`, just above it (bilinear
    /// between grid points); `None` where a corner's loss is not finite.
    pub fn draped(&self, data: &LandscapeData, x: f64, y: f64) -> Option<Vec3> {
        let cell = |axis: &[f64], v: f64| {
            let i = axis.partition_point(|&a| a <= v).clamp(1, axis.len().max(2) - 1) - 1;
            let span = axis.get(i + 1).map_or(0.0, |&b| b - axis[i]);
            let t = if span > 0.0 { ((v - axis[i]) / span).clamp(0.0, 1.0) } else { 0.0 };
            (i, (i + 1).min(axis.len() - 1), t as f32)
        };
        let ((i0, i1, tx), (j0, j1, ty)) = (cell(&data.x, x), cell(&data.y, y));
        let at = |i: usize, j: usize| self.finite[j * self.nx + i].then(|| self.heights[j * self.nx + i]);
        let (h00, h10, h01, h11) = (at(i0, j0)?, at(i1, j0)?, at(i0, j1)?, at(i1, j1)?);
        let h = (h00 * (1.0 - tx) + h10 * tx) * (1.0 - ty) + (h01 * (1.0 - tx) + h11 * tx) * ty;
        Some(self.local(x, y, h) + Vec3::Y * LIFT)
    }

    /// The lowest grid point, in local space, just above the surface.
    pub fn minimum(&self, data: &LandscapeData) -> Option<Vec3> {
        data.minimum().map(|(i, j, _)| self.grid_point(data, i, j) + Vec3::Y * LIFT)
    }

    /// The base frame: the footprint's outline at height 0.
    fn frame(&self) -> Vec<Segment> {
        let color = srgb(LANDSCAPE_FRAME);
        let (s, y) = (HALF_WIDTH, 0.0);
        let corners = [Vec3::new(-s, y, -s), Vec3::new(s, y, -s), Vec3::new(s, y, s), Vec3::new(-s, y, s), Vec3::new(-s, y, -s)];
        polyline(&corners, color)
    }
}

fn scale(loss: f64, log: bool) -> f64 {
    if log { if loss > 0.0 { loss.ln() } else { f64::NAN } } else { loss }
}

fn srgb(c: [u8; 3]) -> LinearRgba {
    Color::srgb_u8(c[0], c[1], c[2]).to_linear()
}

/// The landscape on screen: where it was put and what it shows, for the
/// capture manifest and the playback marker.
#[derive(Resource, Clone, Debug)]
pub struct ShownLandscape {
    pub index: usize,
    pub transform: Transform,
    pub layout: SurfaceLayout,
    pub data: LandscapeData,
}

/// The playback of the training path: the epoch the marker stands at.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Playback {
    /// Position along the path, in checkpoints (fractional while playing).
    pub at: f32,
    pub playing: bool,
}

/// Checkpoints the marker passes per second while playing.
const PLAY_SPEED: f32 = 4.0;

#[derive(Component)]
struct LandscapeRoot;

#[derive(Component)]
struct Playhead;

pub struct LandscapeViewPlugin;

impl Plugin for LandscapeViewPlugin {
    fn build(&self, app: &mut App) {
        embed_shader(app, &SURFACE_SHADER, include_str!("../../../shaders/surface.wgsl"), "shaders/surface.wgsl");
        app.add_plugins(MaterialPlugin::<SurfaceMaterial>::default())
            .init_resource::<LandscapeSettings>()
            .init_resource::<Playback>()
            .add_systems(Update, (show_landscape, play_path, move_playhead, frame_views).chain());
    }
}

/// The marker's position `at` checkpoints along the path.
pub fn along(path: &[Vec3], at: f32) -> Option<Vec3> {
    let last = path.len().checked_sub(1)?;
    let at = at.clamp(0.0, last as f32);
    let i = (at.floor() as usize).min(last.saturating_sub(1));
    Some(if last == 0 { path[0] } else { path[i].lerp(path[i + 1], at - i as f32) })
}

/// The assets a surface's entities are built from.
#[derive(SystemParam)]
pub struct SurfaceAssets<'w> {
    pub meshes: ResMut<'w, Assets<Mesh>>,
    pub surfaces: ResMut<'w, Assets<SurfaceMaterial>>,
    pub lines: ResMut<'w, Assets<LinesMaterial>>,
    pub points: ResMut<'w, Assets<PointsMaterial>>,
}

/// What a surface entity shows: the surface laid out, its material, and
/// the lines (beside its base frame) and points drawn over it.
pub struct SurfaceParts<'a> {
    pub transform: Transform,
    pub layout: &'a SurfaceLayout,
    pub data: &'a LandscapeData,
    pub material: SurfaceMaterial,
    pub segments: &'a [Segment],
    pub markers: &'a [PointInstance],
}

/// Spawns a surface's mesh, base frame, lines and points under one root
/// tagged `root`.
pub fn spawn_surface<'a>(
    commands: &'a mut Commands,
    assets: &mut SurfaceAssets,
    root: impl Bundle,
    parts: SurfaceParts,
) -> EntityCommands<'a> {
    let mut all_segments = parts.layout.frame();
    all_segments.extend_from_slice(parts.segments);
    let surface = (
        Mesh3d(assets.meshes.add(parts.layout.mesh(parts.data))),
        MeshMaterial3d(assets.surfaces.add(parts.material)),
        Transform::IDENTITY,
    );
    let lines = lines_bundle(assets.meshes.add(lines_mesh(&all_segments)), assets.lines.add(LinesMaterial::new(3.0, 0.0)));
    let points = (
        Mesh3d(assets.meshes.add(point_cloud_mesh(parts.markers))),
        MeshMaterial3d(assets.points.add(PointsMaterial::default())),
        Transform::IDENTITY,
        NoFrustumCulling,
    );
    let mut root = commands.spawn((root, parts.transform, Visibility::default()));
    root.with_children(|parent| {
        parent.spawn(surface);
        parent.spawn(lines);
        parent.spawn(points);
    });
    root
}

/// Where a surface beside the sphere stands: `offset` in the camera's frame
/// (by its yaw), facing the camera.
/// The view camera's world transform (a headset has two eyes: either will do).
pub fn view_camera(cameras: &Query<&GlobalTransform, With<Camera3d>>) -> Option<Transform> {
    cameras.iter().next().map(GlobalTransform::compute_transform)
}

pub fn beside_sphere(camera: &Transform, offset: Vec3) -> Transform {
    let facing = Quat::from_rotation_y(camera.rotation.to_euler(EulerRot::YXZ).0);
    Transform { translation: facing * offset, rotation: facing, ..default() }
}

/// Rebuilds the landscape when the inspection's landscape or the settings
/// change.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn show_landscape(
    mut commands: Commands,
    inspection: Res<Inspection>,
    settings: Res<LandscapeSettings>,
    shown: Option<Res<ShownLandscape>>,
    roots: Query<Entity, With<LandscapeRoot>>,
    cameras: Query<&GlobalTransform, With<Camera3d>>,
    mut playback: ResMut<Playback>,
    mut assets: SurfaceAssets,
) {
    if !inspection.is_changed() && !settings.is_changed() {
        return;
    }
    let wanted = match (&inspection.landscape, inspection.index) {
        (LandscapeState::Ready(data), Some(index)) => Some((index, data)),
        _ => None,
    };
    let same = match (&shown, wanted) {
        (Some(s), Some((index, data))) => s.index == index && s.data == *data && s.layout.log_scale == settings.log_scale,
        (None, None) => true,
        _ => false,
    };
    if same && !settings.is_changed() {
        return;
    }
    for root in &roots {
        commands.entity(root).despawn();
    }
    let Some((index, data)) = wanted else {
        commands.remove_resource::<ShownLandscape>();
        return;
    };
    let Some(camera) = view_camera(&cameras) else { return };
    // Placed to the right of the sphere as the camera sees it now (or where
    // it stood already, for the same network).
    let transform = match &shown {
        Some(s) if s.index == index => s.transform,
        _ => beside_sphere(&camera, OFFSET),
    };
    let layout = SurfaceLayout::new(data, settings.log_scale);
    let path = layout.path(data);
    // The checkpoints, the start larger and white, the end larger.
    let last = path.len().saturating_sub(1);
    let mut markers: Vec<PointInstance> = path
        .iter()
        .enumerate()
        .map(|(k, &center)| match k {
            0 if last > 0 => PointInstance { center, color: srgb(PLAYHEAD), radius: 0.032, ring: Ring::None },
            k if k == last => PointInstance { center, color: srgb(PATH), radius: 0.036, ring: Ring::None },
            _ => PointInstance { center, color: srgb(PATH), radius: 0.022, ring: Ring::None },
        })
        .collect();
    if let Some(center) = layout.minimum(data) {
        markers.push(PointInstance { center, color: srgb(MINIMUM), radius: 0.045, ring: Ring::None });
    }
    let segments = polyline(&layout.path_line(data, &path), srgb(PATH));
    let material = SurfaceMaterial::new(&settings);
    let playhead: Vec<PointInstance> = along(&path, path.len() as f32)
        .into_iter()
        .map(|center| PointInstance { center, color: srgb(PLAYHEAD), radius: 0.04, ring: Ring::Selected })
        .collect();
    let playhead = (
        Playhead,
        Mesh3d(assets.meshes.add(point_cloud_mesh(&playhead))),
        MeshMaterial3d(assets.points.add(PointsMaterial::default())),
        Transform::IDENTITY,
        NoFrustumCulling,
    );
    let parts = SurfaceParts { transform, layout: &layout, data, material, segments: &segments, markers: &markers };
    spawn_surface(&mut commands, &mut assets, LandscapeRoot, parts).with_children(|p| {
        p.spawn(playhead);
    });
    if shown.as_ref().is_none_or(|s| s.index != index) {
        *playback = Playback { at: path.len().saturating_sub(1) as f32, playing: false };
    }
    commands.insert_resource(ShownLandscape { index, transform, layout, data: data.clone() });
}

/// Frames the sphere with whatever surfaces stand beside it (the selected
/// network's landscape, the hyper-parameter surface), keeping the camera's
/// angles; with none, back to the sphere alone. Not where the person has
/// flown the camera since selecting (see [`crate::camera::CameraFlown`]).
fn frame_views(
    landscape: Option<Res<ShownLandscape>>,
    hyper: Option<Res<crate::hyper_view::ShownHyper>>,
    flown: Option<Res<crate::camera::CameraFlown>>,
    mut last: Local<(bool, bool)>,
    mut cameras: Query<(&mut Transform, Option<&mut PanOrbitCamera>), With<Camera3d>>,
) {
    let now = (landscape.is_some(), hyper.is_some());
    if now == *last {
        return;
    }
    *last = now;
    if flown.is_some_and(|f| f.0) {
        return;
    }
    let Ok((mut camera, orbit)) = cameras.single_mut() else { return };
    let anchors: Vec<Vec3> =
        landscape.iter().map(|l| l.transform.translation).chain(hyper.iter().map(|h| h.transform.translation)).collect();
    let home = CameraPose::default();
    let (focus, radius) = match anchors.len() {
        0 => (home.focus, home.radius),
        n => (anchors.iter().sum::<Vec3>() / (n + 1) as f32 + Vec3::Y * 0.25, if n == 1 { 6.4 } else { 8.6 }),
    };
    let (yaw, x_angle, _) = camera.rotation.to_euler(EulerRot::YXZ);
    match orbit {
        Some(mut orbit) => {
            orbit.target_focus = focus;
            orbit.target_radius = radius;
        }
        None => *camera = CameraPose { focus, yaw, pitch: -x_angle, radius }.transform(),
    }
}

fn play_path(time: Res<Time>, shown: Option<Res<ShownLandscape>>, mut playback: ResMut<Playback>) {
    if !playback.playing {
        return;
    }
    let last = shown.map_or(0, |s| s.data.path.len().saturating_sub(1)) as f32;
    playback.at = (playback.at + time.delta_secs() * PLAY_SPEED).min(last);
    if playback.at >= last {
        playback.playing = false;
    }
}

fn move_playhead(
    playback: Res<Playback>,
    shown: Option<Res<ShownLandscape>>,
    heads: Query<&Mesh3d, With<Playhead>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    let Some(shown) = shown else { return };
    if !playback.is_changed() {
        return;
    }
    let path = shown.layout.path(&shown.data);
    let Some(center) = along(&path, playback.at) else { return };
    for mesh in &heads {
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            *m = point_cloud_mesh(&[PointInstance { center, color: srgb(PLAYHEAD), radius: 0.04, ring: Ring::Selected }]);
        }
    }
}

/// Text on a dark backing, so it reads over the surface's bright colours too.
fn chip(painter: &egui::Painter, at: egui::Pos2, align: egui::Align2, text: String, color: egui::Color32) {
    let galley = painter.layout_no_wrap(text, egui::FontId::proportional(11.0), color);
    let rect = align.anchor_size(at, galley.size());
    let [r, g, b] = mosaic_core::theme::TOOLTIP_FILL;
    painter.rect_filled(rect.expand(2.0), 3.0, egui::Color32::from_rgba_unmultiplied(r, g, b, 200));
    painter.galley(rect.min, galley, color);
}

/// The shown landscape's axes, over the 3-D view: the two directions'
/// coordinates along the frame's front and left edges and the loss at the
/// bottom and top of the height, each tick a short line and a number.
pub(crate) fn landscape_axes(
    mut contexts: EguiContexts,
    shown: Option<Res<ShownLandscape>>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
) -> Result {
    let (Some(shown), Ok((camera, view))) = (shown, cameras.single()) else { return Ok(()) };
    let ctx = contexts.ctx_mut()?;
    let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Background, egui::Id::new("landscape_axes")));
    let (text, tick) = (rgb(mosaic_core::theme::AXIS_TEXT), egui::Stroke::new(1.0, rgb(LANDSCAPE_FRAME)));
    let screen = |local: Vec3| camera.world_to_viewport(view, shown.transform.transform_point(local)).ok().map(|p| egui::pos2(p.x, p.y));
    let mark = |at: Vec3, out: Vec3, label: String, align: egui::Align2| {
        if let (Some(a), Some(b)) = (screen(at), screen(at + out * 0.12)) {
            painter.line_segment([a, b], tick);
            chip(&painter, b + (b - a).normalized() * 3.0, align, label, text);
        }
    };
    let (data, layout, s) = (&shown.data, &shown.layout, HALF_WIDTH);
    let (x, y) = (&data.x, &data.y);
    let ends = |axis: &[f64]| [axis[0], (axis[0] + axis[axis.len() - 1]) / 2.0, axis[axis.len() - 1]];
    // Direction 1 along the front edge (y at its least), direction 2 along the left edge.
    for v in ends(x) {
        mark(layout.local(v, y[0], 0.0), Vec3::Z, format!("{v:.2}"), egui::Align2::CENTER_TOP);
    }
    for v in ends(y) {
        mark(layout.local(x[0], v, 0.0), -Vec3::X, format!("{v:.2}"), egui::Align2::RIGHT_CENTER);
    }
    let unscale = |v: f64| if layout.log_scale { v.exp() } else { v };
    // The loss up the back right corner, clear of the two directions' ticks.
    for (h, v) in [(0.0, layout.low), (1.0, layout.high)] {
        mark(Vec3::new(s, h * HEIGHT, -s), Vec3::X, format!("{:.3}", unscale(v)), egui::Align2::LEFT_CENTER);
    }
    // The axes' names, beyond their middle ticks' numbers (clear of the surface's markers).
    let names = [
        (layout.local(ends(x)[1], y[0], 0.0) + Vec3::Z * 0.4, "direction 1"),
        (layout.local(x[0], ends(y)[1], 0.0) - Vec3::X * 0.6, "direction 2"),
        (Vec3::new(s, HEIGHT * 0.5, -s) + Vec3::X * 0.2, if layout.log_scale { "loss (log)" } else { "loss" }),
    ];
    for (at, name) in names {
        if let Some(p) = screen(at) {
            chip(&painter, p, egui::Align2::CENTER_CENTER, name.to_string(), text);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::PathPoint;

    fn bowl() -> LandscapeData {
        let axis: Vec<f64> = (0..5).map(|i| -1.0 + 0.5 * i as f64).collect();
        let loss = axis.iter().flat_map(|&y| axis.iter().map(move |&x| 0.1 + x * x + 2.0 * y * y)).collect();
        let path = vec![PathPoint { epoch: 1, x: -1.0, y: 1.0, loss: 3.1 }, PathPoint { epoch: 2, x: 0.0, y: 0.0, loss: 0.1 }];
        LandscapeData { x: axis.clone(), y: axis, loss, path, caption: String::new() }
    }

    #[test]
    fn heights_span_the_loss_range_and_the_minimum_sits_lowest() {
        let data = bowl();
        for log in [false, true] {
            let layout = SurfaceLayout::new(&data, log);
            let (lo, hi) = layout.heights.iter().fold((f32::MAX, f32::MIN), |(a, b), &h| (a.min(h), b.max(h)));
            assert_eq!((lo, hi), (0.0, 1.0));
            let min = layout.minimum(&data).unwrap();
            assert_eq!(min, Vec3::new(0.0, LIFT, 0.0), "the bowl's bottom is the centre, at height 0");
            let path = layout.path(&data);
            assert!((path[0].y - LIFT - layout.height_of(3.1)).abs() < 1e-6);
            // (-1, 1) is the left, far corner: x left, y away from the viewer (-z).
            assert_eq!((path[0].x, path[0].z), (-HALF_WIDTH, -HALF_WIDTH));
        }
        let linear = SurfaceLayout::new(&data, false);
        // Linear scale: loss 1.1 (x = ±1, y = 0) is a third of the way up from 0.1 to 3.1.
        assert!((linear.heights[2 * 5] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn the_path_is_draped_over_the_surface_between_checkpoints() {
        let data = bowl();
        let layout = SurfaceLayout::new(&data, false);
        // On a grid point, the grid's height; half-way between two, their mean.
        let on_grid = layout.draped(&data, 0.5, -0.5).unwrap();
        assert!((on_grid.y - LIFT - layout.heights[5 + 3]).abs() < 1e-6);
        let between = layout.draped(&data, 0.25, -0.5).unwrap();
        assert!((between.y - LIFT - (layout.heights[5 + 2] + layout.heights[5 + 3]) / 2.0).abs() < 1e-6);
        // The line walks each leg in steps, every one on the surface.
        let line = layout.path_line(&data, &layout.path(&data));
        assert_eq!(line.len(), DRAPE_STEPS + 1);
        let height_at = |p: Vec3| p.y - LIFT;
        let (first, last) = (line[0], line[line.len() - 1]);
        assert!((height_at(first) - layout.height_of(3.1)).abs() < 1e-6 && height_at(last).abs() < 1e-6);
        // From the far corner to the bowl's bottom, the line only descends.
        assert!(line.windows(2).all(|w| w[1].y <= w[0].y + 1e-6), "the draped path climbs: {line:?}");
    }

    #[test]
    fn non_finite_losses_are_flagged_and_drawn_at_the_top() {
        let mut data = bowl();
        data.loss[0] = f64::NAN;
        data.loss[1] = f64::INFINITY;
        let layout = SurfaceLayout::new(&data, true);
        assert_eq!(&layout.finite[..3], &[false, false, true]);
        assert_eq!(&layout.heights[..2], &[1.0, 1.0]);
        assert!(layout.heights.iter().all(|h| h.is_finite()));
        let mesh = layout.mesh(&data);
        assert_eq!(mesh.count_vertices(), 25);
        assert_eq!(mesh.indices().unwrap().len(), 6 * 16);
    }

    #[test]
    fn the_playhead_moves_between_checkpoints() {
        let path = [Vec3::ZERO, Vec3::X, Vec3::new(1.0, 1.0, 0.0)];
        assert_eq!(along(&path, 0.5), Some(Vec3::new(0.5, 0.0, 0.0)));
        assert_eq!(along(&path, 9.0), Some(Vec3::new(1.0, 1.0, 0.0)), "clamped to the end");
        assert_eq!(along(&path[..1], 3.0), Some(Vec3::ZERO));
        assert_eq!(along(&[], 0.0), None);
    }
}
