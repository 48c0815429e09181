//! Camera moves beyond orbiting: flying smoothly to the selection, a saved
//! view or home (the whole sphere), and a free-fly mode (Tab; WASD, Q/E down
//! and up, drag to look) for moving through a large population.

use bevy::input::mouse::AccumulatedMouseMotion;
use bevy::prelude::*;
use bevy_egui::egui::{self, Ui};
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraSystemSet};

use bevy_egui::{EguiContexts, EguiPrimaryContextPass};
use mosaic_core::theme::{PANEL_WIDTH, RING, TOOLTIP_FILL};

use crate::CameraPose;
use crate::panels::{self, PanelAction};
use crate::scene::ShownScene;
use crate::selection::{Neighbours, Selection};
use crate::session::{Bookmark, Bookmarks, SessionFile, current_pose};
use crate::ui::{AddPanelSection, PanelSection, UiInput};

/// Asks the camera to fly to the selected network (the F key, the
/// inspector's button).
#[derive(Message, Clone, Copy, Debug)]
pub struct FlyToSelection;

/// Saves the current viewpoint as a bookmark (B, the panel).
#[derive(Message, Clone, Copy, Debug)]
pub struct AddBookmark;

/// Flies to bookmark `n`.
#[derive(Message, Clone, Copy, Debug)]
pub struct GoToBookmark(pub usize);

/// Flies back to the whole sphere (the Home key, the panel).
#[derive(Message, Clone, Copy, Debug)]
pub struct ResetView;

/// Where the orbit camera is to ease to, once the mode allows it: set by
/// whatever flies the camera, applied with the mode switch (see
/// [`apply_camera_mode`]), so leaving free flight cannot undo it.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
struct Destination(Option<CameraPose>);

/// The person flew the camera (F, a saved view, Home) since the selection
/// last changed: views opening later (a landscape that took a while) leave
/// the camera where it was sent.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CameraFlown(pub bool);

/// How the mouse and keys move the camera.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CameraMode {
    /// Drag to orbit the focus, right-drag to pan, wheel to zoom.
    #[default]
    Orbit,
    /// WASD to move, Q/E down and up, drag to look around.
    Fly,
}

/// Free-fly speed in sphere radii per second (Shift doubles it).
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct FlySpeed(pub f32);

impl Default for FlySpeed {
    fn default() -> Self {
        FlySpeed(1.0)
    }
}

/// Least distance from the camera to a network it flew to, in sphere radii.
const CLOSE_UP: f32 = 1.4;
/// How much wider than its neighbours the view around a network is.
const NEIGHBOURHOOD_MARGIN: f32 = 1.6;
/// Radians of turn per pixel of mouse drag in fly mode.
const LOOK_SENSITIVITY: f32 = 0.004;

pub struct CameraMovesPlugin;

impl Plugin for CameraMovesPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<FlyToSelection>()
            .add_message::<AddBookmark>()
            .add_message::<GoToBookmark>()
            .add_message::<ResetView>()
            .init_resource::<CameraMode>()
            .init_resource::<FlySpeed>()
            .init_resource::<Destination>()
            .init_resource::<CameraFlown>()
            .add_systems(Update, (camera_keys, forget_flight, fly_to_selection, bookmarks, reset_view, apply_camera_mode, free_fly).chain())
            .add_systems(PostUpdate, hold_orbit_in_flight.before(PanOrbitCameraSystemSet))
            .add_systems(EguiPrimaryContextPass, fly_badge)
            .add_panel_section(PanelSection::Views, views_section);
    }
}

/// The panel's camera section: orbit or free flight, its speed, and the saved views.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn views_section(
    InMut(ui): InMut<Ui>,
    session: Res<SessionFile>,
    mut mode: ResMut<CameraMode>,
    mut speed: ResMut<FlySpeed>,
    mut bookmarks: ResMut<Bookmarks>,
    mut add: MessageWriter<AddBookmark>,
    mut go_to: MessageWriter<GoToBookmark>,
    mut reset: MessageWriter<ResetView>,
) {
    ui.separator();
    // Edit copies so resources are only marked changed on a real change.
    let (mut edited_mode, mut edited_speed, mut edited_bookmarks) = (*mode, *speed, bookmarks.clone());
    let mut action = None;
    egui::CollapsingHeader::new("Camera and views").id_salt("views").default_open(session.panel_open("views")).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.radio_value(&mut edited_mode, CameraMode::Orbit, "orbit");
            ui.radio_value(&mut edited_mode, CameraMode::Fly, "fly").on_hover_text("Tab switches; WASD move, Q/E down/up, drag to look");
        });
        if edited_mode == CameraMode::Fly {
            ui.add(egui::Slider::new(&mut edited_speed.0, 0.1..=10.0).logarithmic(true).text("speed"));
        }
        if ui.button("Reset view").on_hover_text("Home: back to the whole sphere").clicked() {
            reset.write(ResetView);
        }
        action = panels::views(ui, &mut edited_bookmarks);
    });
    bookmarks.set_if_neq(edited_bookmarks);
    mode.set_if_neq(edited_mode);
    speed.set_if_neq(edited_speed);
    match action {
        Some(PanelAction::AddBookmark) => {
            add.write(AddBookmark);
        }
        Some(PanelAction::GoToBookmark(i)) => {
            go_to.write(GoToBookmark(i));
        }
        _ => {}
    }
}

fn camera_keys(
    keys: Res<ButtonInput<KeyCode>>,
    ui: Res<UiInput>,
    mut mode: ResMut<CameraMode>,
    mut fly: MessageWriter<FlyToSelection>,
    mut bookmark: MessageWriter<AddBookmark>,
    mut reset: MessageWriter<ResetView>,
) {
    if ui.typing {
        return;
    }
    if keys.just_pressed(KeyCode::KeyF) {
        fly.write(FlyToSelection);
    }
    if keys.just_pressed(KeyCode::Home) {
        reset.write(ResetView);
    }
    if keys.just_pressed(KeyCode::KeyB) {
        bookmark.write(AddBookmark);
    }
    if keys.just_pressed(KeyCode::Tab) {
        *mode = match *mode {
            CameraMode::Orbit => CameraMode::Fly,
            CameraMode::Fly => CameraMode::Orbit,
        };
    }
}

/// Hands the camera between the orbit controller and free flight, then
/// sends the orbit camera on its way to any [`Destination`]. Back in orbit
/// mode, the orbit resumes around the point straight ahead, so the view does
/// not jump.
fn apply_camera_mode(
    mode: Res<CameraMode>,
    mut destination: ResMut<Destination>,
    mut flown: ResMut<CameraFlown>,
    mut cameras: Query<(&Transform, &mut PanOrbitCamera)>,
) {
    let switched = mode.is_changed() && !mode.is_added();
    let pose = destination.0.take();
    if pose.is_some() {
        flown.set_if_neq(CameraFlown(true));
    }
    for (transform, mut orbit) in &mut cameras {
        match *mode {
            CameraMode::Fly if switched => orbit.enabled = false,
            CameraMode::Orbit if switched => {
                let radius = orbit.radius.unwrap_or(CLOSE_UP);
                let focus = transform.translation + transform.forward() * radius;
                set_orbit(&mut orbit, current_pose(transform, None, focus), true);
                orbit.enabled = true;
            }
            _ => {}
        }
        if let Some(pose) = pose {
            set_orbit(&mut orbit, pose, false);
        }
    }
}

/// A new selection: views opening for it may frame themselves again.
fn forget_flight(selection: Res<Selection>, mut flown: ResMut<CameraFlown>) {
    if selection.is_changed() {
        flown.set_if_neq(CameraFlown(false));
    }
}

/// In free flight the orbit camera has nothing to ease to: while it eases
/// (towards a view framed a moment ago; and its easing never quite reaches
/// a focus at the origin) it rewrites the transform free flight moves.
fn hold_orbit_in_flight(mode: Res<CameraMode>, mut cameras: Query<&mut PanOrbitCamera>) {
    if *mode != CameraMode::Fly {
        return;
    }
    for mut orbit in &mut cameras {
        let settled = (Some(orbit.target_yaw), Some(orbit.target_pitch), Some(orbit.target_radius), orbit.target_focus);
        if (orbit.yaw, orbit.pitch, orbit.radius, orbit.focus) != settled {
            (orbit.yaw, orbit.pitch, orbit.radius, orbit.focus) = settled;
        }
    }
}

/// Asks for the orbit camera to ease to `pose`, leaving free flight first.
fn fly_orbit_to(pose: CameraPose, mode: &mut CameraMode, destination: &mut Destination) {
    if *mode != CameraMode::Orbit {
        *mode = CameraMode::Orbit;
    }
    destination.0 = Some(pose);
}

/// Points the orbit camera at `pose`: at once, or easing there.
fn set_orbit(orbit: &mut PanOrbitCamera, pose: CameraPose, at_once: bool) {
    orbit.target_focus = pose.focus;
    orbit.target_yaw = pose.yaw;
    orbit.target_pitch = pose.pitch;
    orbit.target_radius = pose.radius;
    if at_once {
        orbit.focus = pose.focus;
        orbit.yaw = Some(pose.yaw);
        orbit.pitch = Some(pose.pitch);
        orbit.radius = Some(pose.radius);
        orbit.force_update = true;
    }
}

/// The orbit camera eases onto the selection, looking at it from outside
/// the sphere (so no other network stands in front of it), from just far
/// enough that its neighbours stay in view.
fn fly_to_selection(
    mut requests: MessageReader<FlyToSelection>,
    selection: Res<Selection>,
    neighbours: Res<Neighbours>,
    scene: Res<ShownScene>,
    mut mode: ResMut<CameraMode>,
    mut destination: ResMut<Destination>,
    cameras: Query<(&Camera, &Projection, Option<&PanOrbitCamera>), With<Camera3d>>,
) {
    if requests.read().count() == 0 {
        return;
    }
    let Some(target) = selection.selected.and_then(|i| scene.positions.get(i)).map(|p| Vec3::from_array(*p)) else { return };
    let Ok((camera, projection, orbit)) = cameras.single() else { return };
    let spread =
        neighbours.list.iter().filter_map(|&j| scene.positions.get(j)).map(|p| target.distance(Vec3::from_array(*p))).fold(0.0, f32::max);
    let (fov, aspect) = match projection {
        Projection::Perspective(p) => (p.fov, camera.logical_viewport_size().map_or(p.aspect_ratio, |s| s.x / s.y.max(1.0))),
        _ => return,
    };
    let current_yaw = orbit.and_then(|o| o.yaw).unwrap_or(0.0);
    fly_orbit_to(close_up(target, spread, fov, aspect, current_yaw), &mut mode, &mut destination);
}

/// The pose that looks at `target` (on the sphere) from outside, along its
/// radius, from far enough that everything within `spread` of it fits a
/// view of vertical field `fov` and width/height `aspect`; the yaw is the
/// turn nearest `current_yaw`, so the camera does not spin round.
pub fn close_up(target: Vec3, spread: f32, fov: f32, aspect: f32, current_yaw: f32) -> CameraPose {
    let outward = target.try_normalize().unwrap_or(Vec3::Z);
    let yaw = outward.x.atan2(outward.z);
    let turns = ((current_yaw - yaw) / std::f32::consts::TAU).round();
    let half_view = (fov / 2.0).tan() * aspect.min(1.0);
    // No farther than home: from there the whole sphere is in view anyway.
    let radius = (NEIGHBOURHOOD_MARGIN * spread / half_view).clamp(CLOSE_UP, CameraPose::default().radius.max(CLOSE_UP));
    CameraPose { focus: target, yaw: yaw + turns * std::f32::consts::TAU, pitch: outward.y.clamp(-1.0, 1.0).asin(), radius }
}

fn bookmarks(
    mut add: MessageReader<AddBookmark>,
    mut go: MessageReader<GoToBookmark>,
    mut saved: ResMut<Bookmarks>,
    mut mode: ResMut<CameraMode>,
    mut destination: ResMut<Destination>,
    cameras: Query<(&Transform, &PanOrbitCamera)>,
) {
    for _ in add.read() {
        let Ok((transform, orbit)) = cameras.single() else { continue };
        let pose = current_pose(transform, Some(orbit), orbit.focus);
        let name = format!("view {}", saved.0.len() + 1);
        saved.0.push(Bookmark { name, pose: pose.into() });
    }
    for GoToBookmark(n) in go.read() {
        if let Some(b) = saved.0.get(*n) {
            fly_orbit_to(b.pose.into(), &mut mode, &mut destination);
        }
    }
}

/// Home: the whole sphere from the first viewpoint of a new session.
fn reset_view(mut requests: MessageReader<ResetView>, mut mode: ResMut<CameraMode>, mut destination: ResMut<Destination>) {
    if requests.read().count() > 0 {
        fly_orbit_to(CameraPose::default(), &mut mode, &mut destination);
    }
}

/// Says so while free flight is on, at the top of the 3-D view, with its keys.
fn fly_badge(mut contexts: EguiContexts, mode: Res<CameraMode>) -> Result {
    if *mode != CameraMode::Fly {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let view = ctx.content_rect();
    let at = egui::pos2((view.left() + PANEL_WIDTH + view.right()) / 2.0, view.top() + 10.0);
    egui::Area::new("fly_badge".into()).pivot(egui::Align2::CENTER_TOP).fixed_pos(at).interactable(false).show(ctx, |ui| {
        egui::Frame::popup(ui.style()).fill(panels::rgb(TOOLTIP_FILL)).show(ui, |ui| {
            ui.label(egui::RichText::new("FREE FLIGHT").strong().color(panels::rgb(RING)));
            ui.label("W/A/S/D move · Q/E down/up · drag to look · Shift: faster · Tab: orbit · Home: reset view");
        });
    });
    Ok(())
}

/// Free flight: keys move along the view, a drag turns it.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn free_fly(
    mode: Res<CameraMode>,
    speed: Res<FlySpeed>,
    time: Res<Time>,
    keys: Res<ButtonInput<KeyCode>>,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    ui: Res<UiInput>,
    mut cameras: Query<&mut Transform, With<PanOrbitCamera>>,
) {
    if *mode != CameraMode::Fly || ui.typing {
        return;
    }
    let over_ui = ui.pointer;
    for mut t in &mut cameras {
        if buttons.pressed(MouseButton::Left) && !over_ui && motion.delta != Vec2::ZERO {
            let (yaw, pitch, _) = t.rotation.to_euler(EulerRot::YXZ);
            let pitch = (pitch - motion.delta.y * LOOK_SENSITIVITY).clamp(-1.54, 1.54);
            t.rotation = Quat::from_euler(EulerRot::YXZ, yaw - motion.delta.x * LOOK_SENSITIVITY, pitch, 0.0);
        }
        let axis = |plus: KeyCode, minus: KeyCode| (keys.pressed(plus) as i32 - keys.pressed(minus) as i32) as f32;
        let (forward, right, up) = (t.forward(), t.right(), Vec3::Y);
        let step = forward * axis(KeyCode::KeyW, KeyCode::KeyS)
            + right * axis(KeyCode::KeyD, KeyCode::KeyA)
            + up * axis(KeyCode::KeyE, KeyCode::KeyQ);
        let boost = if keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]) { 2.0 } else { 1.0 };
        t.translation += step.normalize_or_zero() * speed.0 * boost * time.delta_secs();
    }
}
