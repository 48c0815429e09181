//! Camera moves beyond orbiting: flying smoothly to the selection or a saved
//! view, and a free-fly mode (WASD, Q/E down and up, drag to look) for
//! moving through a large population.

use bevy::input::mouse::AccumulatedMouseMotion;
use bevy::prelude::*;
use bevy_egui::egui::{self, Ui};
use bevy_egui::input::EguiWantsInput;
use bevy_panorbit_camera::PanOrbitCamera;

use crate::CameraPose;
use crate::panels::{self, PanelAction};
use crate::scene::ShownScene;
use crate::selection::Selection;
use crate::session::{Bookmark, Bookmarks, SessionFile, current_pose};
use crate::ui::{AddPanelSection, PanelSection};

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

/// Distance from the camera to a network it flew to, in sphere radii.
const CLOSE_UP: f32 = 1.4;
/// Radians of turn per pixel of mouse drag in fly mode.
const LOOK_SENSITIVITY: f32 = 0.004;

pub struct CameraMovesPlugin;

impl Plugin for CameraMovesPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<FlyToSelection>()
            .add_message::<AddBookmark>()
            .add_message::<GoToBookmark>()
            .init_resource::<CameraMode>()
            .init_resource::<FlySpeed>()
            .add_systems(Update, (camera_keys, switch_mode, fly_to_selection, bookmarks, free_fly).chain())
            .add_panel_section(PanelSection::Views, views_section);
    }
}

/// The panel's camera section: orbit or free flight, its speed, and the saved views.
fn views_section(
    InMut(ui): InMut<Ui>,
    session: Res<SessionFile>,
    mut mode: ResMut<CameraMode>,
    mut speed: ResMut<FlySpeed>,
    mut bookmarks: ResMut<Bookmarks>,
    mut add: MessageWriter<AddBookmark>,
    mut go_to: MessageWriter<GoToBookmark>,
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
    egui: Option<Res<EguiWantsInput>>,
    mut mode: ResMut<CameraMode>,
    mut fly: MessageWriter<FlyToSelection>,
    mut bookmark: MessageWriter<AddBookmark>,
) {
    if egui.is_some_and(|e| e.wants_any_keyboard_input()) {
        return;
    }
    if keys.just_pressed(KeyCode::KeyF) {
        fly.write(FlyToSelection);
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

/// Hands the camera between the orbit controller and free flight. Back in
/// orbit mode, the orbit resumes around the point straight ahead, so the
/// view does not jump.
fn switch_mode(mode: Res<CameraMode>, mut cameras: Query<(&Transform, &mut PanOrbitCamera)>) {
    if !mode.is_changed() || mode.is_added() {
        return;
    }
    for (transform, mut orbit) in &mut cameras {
        match *mode {
            CameraMode::Fly => orbit.enabled = false,
            CameraMode::Orbit => {
                let radius = orbit.radius.unwrap_or(CLOSE_UP);
                let focus = transform.translation + transform.forward() * radius;
                let pose = current_pose(transform, None, focus);
                set_orbit(&mut orbit, pose, true);
                orbit.enabled = true;
            }
        }
    }
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

/// The orbit camera eases its focus onto the selection and closes in; its
/// angles stay, so the user keeps their bearings.
fn fly_to_selection(
    mut requests: MessageReader<FlyToSelection>,
    selection: Res<Selection>,
    scene: Res<ShownScene>,
    mut mode: ResMut<CameraMode>,
    mut cameras: Query<&mut PanOrbitCamera>,
) {
    if requests.read().count() == 0 {
        return;
    }
    let Some(target) = selection.selected.and_then(|i| scene.positions.get(i)) else { return };
    if *mode != CameraMode::Orbit {
        *mode = CameraMode::Orbit;
    }
    for mut camera in &mut cameras {
        camera.target_focus = Vec3::from_array(*target);
        camera.target_radius = CLOSE_UP;
    }
}

fn bookmarks(
    mut add: MessageReader<AddBookmark>,
    mut go: MessageReader<GoToBookmark>,
    mut saved: ResMut<Bookmarks>,
    mut mode: ResMut<CameraMode>,
    mut cameras: Query<(&Transform, &mut PanOrbitCamera)>,
) {
    for _ in add.read() {
        let Ok((transform, orbit)) = cameras.single() else { continue };
        let pose = current_pose(transform, Some(orbit), orbit.focus);
        let name = format!("view {}", saved.0.len() + 1);
        saved.0.push(Bookmark { name, pose: pose.into() });
    }
    for GoToBookmark(n) in go.read() {
        let Some(b) = saved.0.get(*n) else { continue };
        if *mode != CameraMode::Orbit {
            *mode = CameraMode::Orbit;
        }
        for (_, mut orbit) in &mut cameras {
            set_orbit(&mut orbit, b.pose.into(), false);
        }
    }
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
    egui: Option<Res<EguiWantsInput>>,
    mut cameras: Query<&mut Transform, With<PanOrbitCamera>>,
) {
    if *mode != CameraMode::Fly || egui.as_ref().is_some_and(|e| e.wants_any_keyboard_input()) {
        return;
    }
    let over_ui = egui.is_some_and(|e| e.wants_any_pointer_input());
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
