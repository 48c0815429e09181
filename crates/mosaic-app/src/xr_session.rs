//! The headset view (feature `xr`): the explorer's scene, plugins and data in
//! an OpenXR session through bevy_mod_openxr, with controller interaction
//! (a ray to hover and select, thumbstick flight, snap turns, a two-handed
//! grab that moves, turns and scales the world), the explorer's panel on a
//! board beside the user and a tooltip over the hovered network (both egui,
//! drawn into images), a comfort vignette, and the frame budget measured and
//! logged. No window: the headset is the display.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bevy::app::ScheduleRunnerPlugin;
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{ImageRenderTarget, ManualTextureViewHandle, RenderTarget};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::ecs::schedule::ScheduleLabel;
use bevy::prelude::*;
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::render::render_resource::TextureFormat;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{Render, RenderApp};
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;
use bevy_egui::egui;
use bevy_egui::input::EguiInputEvent;
use bevy_egui::{EguiContext, EguiSchedule};
use bevy_mod_openxr::action_binding::{OxrSendActionBindings, OxrSuggestActionBinding};
use bevy_mod_openxr::action_set_attaching::OxrAttachActionSet;
use bevy_mod_openxr::action_set_syncing::{OxrActionSetSyncSet, OxrSyncActionSet};
use bevy_mod_openxr::init::{OxrInitPlugin, should_run_frame_loop};
use bevy_mod_openxr::poll_events::{OxrEventHandlerExt, OxrEventIn};
use bevy_mod_openxr::render::{OxrWaitFrameSystem, XR_TEXTURE_INDEX};
use bevy_mod_openxr::resources::{OxrFrameState, OxrInstance};
use bevy_mod_openxr::session::OxrSession;
use bevy_mod_openxr::types::AppInfo;
use bevy_mod_openxr::{add_xr_plugins, openxr_session_running};
use bevy_mod_xr::camera::XrCamera;
use bevy_mod_xr::session::{XrFirst, XrRenderSystems, XrSessionCreated, XrState, XrTracker, XrTrackingRoot, session_available};
use bevy_mod_xr::spaces::XrSpaceLocationFlags;
use mosaic_core::theme::{BACKGROUND, TOOLTIP_FILL};

use crate::ExplorerOptions;
use crate::inspector::format_value;
use crate::landscape_view::ShownLandscape;
use crate::scene::{ColorMapping, ShownScene};
use crate::selection::{Hovered, LINK, Selection};
use crate::sphere_view::point_radius;
use crate::ui::{FullView, PANEL_WIDTH, ui_camera};
use crate::xr::{
    AimRay, FrameBudget, Grab, RAY_PICK_SLACK, Rig, RigReport, RuntimeInfo, ScriptedAim, SnapTurn, XrReport, point_on_board, point_on_ray,
    vignette_strength,
};

/// How an `xr` run goes.
#[derive(Clone, Debug)]
pub struct XrSettings {
    /// Stop after this many submitted frames (tests, demos); `None`: until the user quits.
    pub frames: Option<u64>,
    /// Give up when the session has not shown its first frame by then.
    pub start_timeout: Duration,
    /// A scripted right controller, and when (in submitted frames) its trigger is pulled.
    pub aim: Option<ScriptedAim>,
    pub select_at_frame: u64,
    /// A scripted left stick, held for the whole run (x right, y forward).
    pub fly: Option<[f32; 2]>,
    /// The frame at which a scripted right stick is pushed right once (a snap turn).
    pub turn_at: Option<u64>,
    /// Save what the left eye sees (PNG) ten frames before the last.
    pub eye_png: Option<PathBuf>,
}

/// The headset's frame budget: 90 Hz.
const BUDGET_MS: f64 = 1000.0 / 90.0;

/// Frame times kept for the budget: a minute at 90 Hz.
const KEPT_FRAMES: usize = 5400;
/// Frames in each logged summary: five seconds at 90 Hz.
const LOGGED_FRAMES: usize = 450;

/// Thumbstick flight speed (tracked metres per second, full deflection).
const FLY_SPEED: f32 = 1.5;

/// Runs the explorer's scene in a headset until the user quits (or the
/// requested frames are shown), and reports what happened.
pub fn run_xr(options: ExplorerOptions, runtime: RuntimeInfo, settings: XrSettings) -> Result<XrReport> {
    let mut app = App::new();
    let plugins = crate::default_plugins_without_log()
        .set(WindowPlugin { primary_window: None, exit_condition: ExitCondition::DontExit, ..default() })
        .disable::<WinitPlugin>()
        // Views are located right before rendering: less latency for head and hands.
        .disable::<PipelinedRenderingPlugin>();
    app.add_plugins(
        add_xr_plugins(plugins).set(OxrInitPlugin { app_info: AppInfo { name: "NeuroMosaic".into(), ..default() }, ..default() }),
    )
    // No window drives the frames: the runtime's frame pacing (xrWaitFrame)
    // does; before the session runs, a short wait keeps the loop from spinning.
    .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::from_millis(2)));
    if !app.world().contains_resource::<OxrInstance>() {
        bail!(
            "OpenXR found the headset but would not start a session with Vulkan (the lines above say why): update the runtime and the GPU driver"
        );
    }
    let session = XrSessionPlugin::new(runtime, settings.clone());
    let (report, counters) = (session.report.clone(), session.counters.clone());
    app.add_plugins((crate::ExplorerPlugin { options: ExplorerOptions { panel: true, ..options } }, session));
    let exit = app.run();
    let mut report = report.lock().expect("report lock").clone();
    report.frames_submitted = counters.submitted.load(Ordering::SeqCst);
    report.frames_rendered = counters.rendered.load(Ordering::SeqCst);
    report.frame_budget = counters.budget(KEPT_FRAMES);
    if let Some(path) = settings.eye_png.as_ref().filter(|_| report.error.is_none() && !report.eye_saved) {
        bail!(
            "the left eye's picture was not captured into {} (the session showed too few frames: give --frames 20 or more)",
            path.display()
        );
    }
    if let Some(error) = &report.error {
        bail!("{error}");
    }
    if let AppExit::Error(code) = exit {
        bail!("the VR session stopped with an error (code {code}); the lines above say why");
    }
    Ok(report)
}

/// The headset session beside the explorer's plugins: controllers and the
/// rig, the ray's hover and selection, the panel's board and the tooltip,
/// the vignette, the frame counters (in the render world too) and the
/// run's report. Needs bevy_mod_openxr's plugins, added before it.
pub struct XrSessionPlugin {
    settings: XrSettings,
    /// What the run did, filled in as it goes.
    report: Arc<Mutex<XrReport>>,
    counters: FrameCounters,
}

impl XrSessionPlugin {
    pub fn new(runtime: RuntimeInfo, settings: XrSettings) -> Self {
        let report = Arc::new(Mutex::new(XrReport { runtime: Some(runtime), ..default() }));
        XrSessionPlugin { settings, report, counters: FrameCounters::default() }
    }
}

impl Plugin for XrSessionPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ClearColor(Color::srgb_u8(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2])))
            .insert_resource(RigState { rig: Rig::default(), last: Rig::default() })
            .insert_resource(Run {
                settings: self.settings.clone(),
                report: self.report.clone(),
                started: Instant::now(),
                logged: Instant::now(),
                ended: false,
            })
            .insert_resource(self.counters.clone())
            .init_resource::<Hands>()
            .add_oxr_event_handler(record_state)
            // Each eye keeps its whole view (the desktop fits its view beside the panel).
            .add_observer(|added: On<Add, XrCamera>, mut commands: Commands| {
                commands.entity(added.entity).insert(FullView);
            })
            .add_systems(Startup, (spawn_panel, spawn_tooltip, create_controls.run_if(session_available)))
            .add_systems(TooltipPass, draw_tooltip)
            .add_systems(OxrSendActionBindings, suggest_bindings)
            .add_systems(XrSessionCreated, (attach_controls, spawn_hands))
            .add_systems(XrFirst, start_frame_clock.after(OxrWaitFrameSystem).run_if(should_run_frame_loop))
            .add_systems(PreUpdate, sync_controls.before(OxrActionSetSyncSet).run_if(openxr_session_running))
            .add_systems(
                Update,
                (style_eyes, (read_controls, move_rig, pick_with_ray, place_tooltip, update_vignette).chain(), watch, save_eye),
            );
        if let Some(aim) = self.settings.aim {
            app.add_systems(Startup, move |mut commands: Commands| {
                commands.spawn((
                    Pointer { scripted: true },
                    XrTracker,
                    Transform::from_translation(aim.origin).looking_to(aim.direction, Vec3::Y),
                    Visibility::default(),
                ));
            });
        }
        app.sub_app_mut(RenderApp)
            .insert_resource(self.counters.clone())
            .add_systems(Render, count_frame.after(XrRenderSystems::PostRender).run_if(should_run_frame_loop));
    }
}

/// Frames handed to the runtime, shared by the main and render worlds.
#[derive(Resource, Clone, Default)]
struct FrameCounters {
    submitted: Arc<AtomicU64>,
    rendered: Arc<AtomicU64>,
    /// When this frame's work began (xrWaitFrame returned).
    began: Arc<Mutex<Option<Instant>>>,
    /// Each frame's work, from xrWaitFrame's return to xrEndFrame: the
    /// last [`KEPT_FRAMES`] (a long session must not grow it without end).
    frame_ms: Arc<Mutex<VecDeque<f64>>>,
}

impl FrameCounters {
    /// The budget over the last `frames` frames.
    fn budget(&self, frames: usize) -> FrameBudget {
        let times = self.frame_ms.lock().expect("frame times lock");
        let recent: Vec<f64> = times.iter().rev().take(frames).copied().collect();
        FrameBudget::of(&recent, BUDGET_MS)
    }
}

fn start_frame_clock(counters: Res<FrameCounters>) {
    *counters.began.lock().expect("clock lock") = Some(Instant::now());
}

/// After xrEndFrame: one more frame submitted (rendered, if the runtime
/// asked for an image), and how long its work took.
fn count_frame(counters: Res<FrameCounters>, frame: Option<Res<OxrFrameState>>) {
    counters.submitted.fetch_add(1, Ordering::SeqCst);
    if frame.is_some_and(|f| f.should_render) {
        counters.rendered.fetch_add(1, Ordering::SeqCst);
    }
    if let Some(began) = counters.began.lock().expect("clock lock").take() {
        let mut times = counters.frame_ms.lock().expect("frame times lock");
        if times.len() == KEPT_FRAMES {
            times.pop_front();
        }
        times.push_back(began.elapsed().as_secs_f64() * 1e3);
    }
}

#[derive(Resource)]
struct Run {
    settings: XrSettings,
    report: Arc<Mutex<XrReport>>,
    started: Instant,
    logged: Instant,
    /// The runtime ended the session.
    ended: bool,
}

fn record_state(event: OxrEventIn, mut run: ResMut<Run>) {
    if let openxr::Event::SessionStateChanged(change) = *event {
        let state = change.state();
        info!("VR session: {state:?}");
        run.report.lock().expect("report lock").states.push(format!("{state:?}"));
        // The user quit from the runtime, or the headset went away: so does the app.
        if matches!(state, openxr::SessionState::EXITING | openxr::SessionState::LOSS_PENDING) {
            run.ended = true;
        }
    }
}

/// Ends the run when its frames are shown or the session never starts, and
/// logs the frame budget every few seconds.
fn watch(
    mut run: ResMut<Run>,
    counters: Res<FrameCounters>,
    landscape: Option<Res<ShownLandscape>>,
    scene: Res<ShownScene>,
    mut exit: MessageWriter<AppExit>,
) {
    let submitted = counters.submitted.load(Ordering::SeqCst);
    {
        let mut report = run.report.lock().expect("report lock");
        report.landscape = landscape.map(|l| (scene.labels.get(l.index).cloned().unwrap_or_default(), l.transform.translation.to_array()));
        report.frames_submitted = submitted;
        report.frames_rendered = counters.rendered.load(Ordering::SeqCst);
    }
    if run.logged.elapsed() > Duration::from_secs(5) {
        let b = counters.budget(LOGGED_FRAMES);
        if b.frames > 0 {
            info!(
                "VR frame work: median {:.1} ms, p95 {:.1} ms, max {:.1} ms; {:.0} % over the {:.1} ms budget",
                b.median_ms,
                b.p95_ms,
                b.max_ms,
                100.0 * b.over_budget,
                BUDGET_MS
            );
        }
        run.logged = Instant::now();
    }
    if run.ended || run.settings.frames.is_some_and(|n| submitted >= n) {
        exit.write(AppExit::Success);
    } else if submitted == 0 && run.started.elapsed() > run.settings.start_timeout {
        let states = run.report.lock().expect("report lock").states.join(" → ");
        run.report.lock().expect("report lock").error = Some(format!(
            "the VR session showed no frame in {} s (session states: {}): is the headset awake and the runtime's compositor running?",
            run.settings.start_timeout.as_secs(),
            if states.is_empty() { "none".to_string() } else { states }
        ));
        exit.write(AppExit::error());
    }
}

/// The eyes draw the scene as the desktop camera does (exact colours), each
/// with its own layer for the vignette in front of it.
fn style_eyes(
    mut commands: Commands,
    eyes: Query<(Entity, &XrCamera), Added<XrCamera>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for (entity, eye) in &eyes {
        let layer = 1 + eye.0 as usize;
        let vignette = materials.add(StandardMaterial {
            base_color: Color::BLACK.with_alpha(0.0),
            unlit: true,
            alpha_mode: AlphaMode::Blend,
            ..default()
        });
        commands
            .entity(entity)
            .insert((Tonemapping::None, DebandDither::Disabled, Msaa::Off, RenderLayers::from_layers(&[0, layer])))
            .with_child((
                Vignette,
                Mesh3d(meshes.add(Annulus::new(0.09, 0.6))),
                MeshMaterial3d(vignette),
                Transform::from_xyz(0.0, 0.0, -0.15),
                RenderLayers::layer(layer),
            ));
    }
}

#[derive(Component)]
struct Vignette;

/// A controller's aim (or the scripted stand-in), drawn as a ray.
#[derive(Component)]
struct Pointer {
    scripted: bool,
}

#[derive(Component, Clone, Copy, PartialEq, Eq)]
enum Hand {
    Left,
    Right,
}

/// The controller inputs the app uses.
#[derive(Resource)]
struct Controls {
    set: openxr::ActionSet,
    aim_left: openxr::Action<openxr::Posef>,
    aim_right: openxr::Action<openxr::Posef>,
    select: openxr::Action<bool>,
    grab_left: openxr::Action<bool>,
    grab_right: openxr::Action<bool>,
    fly: openxr::Action<openxr::Vector2f>,
    turn: openxr::Action<openxr::Vector2f>,
}

fn create_controls(instance: Res<OxrInstance>, mut commands: Commands) {
    let made = (|| -> openxr::Result<Controls> {
        let set = instance.create_action_set("mosaic", "NeuroMosaic", 0)?;
        Ok(Controls {
            aim_left: set.create_action("aim_left", "Left hand aim", &[])?,
            aim_right: set.create_action("aim_right", "Right hand aim", &[])?,
            select: set.create_action("select", "Select a network", &[])?,
            grab_left: set.create_action("grab_left", "Grab (left)", &[])?,
            grab_right: set.create_action("grab_right", "Grab (right)", &[])?,
            fly: set.create_action("fly", "Fly", &[])?,
            turn: set.create_action("turn", "Turn", &[])?,
            set,
        })
    })();
    match made {
        Ok(controls) => commands.insert_resource(controls),
        // The scene still shows; only the controllers do nothing.
        Err(e) => error!("VR controllers unavailable: creating their actions failed: {e}"),
    }
}

fn suggest_bindings(controls: Option<Res<Controls>>, mut bindings: MessageWriter<OxrSuggestActionBinding>) {
    let Some(c) = controls else { return };
    let mut bind = |profile: &'static str, action: openxr::sys::Action, paths: &[&'static str]| {
        bindings.write(OxrSuggestActionBinding {
            action,
            interaction_profile: profile.into(),
            bindings: paths.iter().map(|&p| p.into()).collect(),
        });
    };
    const SIMPLE: &str = "/interaction_profiles/khr/simple_controller";
    bind(SIMPLE, c.aim_left.as_raw(), &["/user/hand/left/input/aim/pose"]);
    bind(SIMPLE, c.aim_right.as_raw(), &["/user/hand/right/input/aim/pose"]);
    bind(SIMPLE, c.select.as_raw(), &["/user/hand/right/input/select/click"]);
    for profile in ["/interaction_profiles/oculus/touch_controller", "/interaction_profiles/valve/index_controller"] {
        bind(profile, c.aim_left.as_raw(), &["/user/hand/left/input/aim/pose"]);
        bind(profile, c.aim_right.as_raw(), &["/user/hand/right/input/aim/pose"]);
        bind(profile, c.select.as_raw(), &["/user/hand/right/input/trigger/value"]);
        bind(profile, c.grab_left.as_raw(), &["/user/hand/left/input/squeeze/value"]);
        bind(profile, c.grab_right.as_raw(), &["/user/hand/right/input/squeeze/value"]);
        bind(profile, c.fly.as_raw(), &["/user/hand/left/input/thumbstick"]);
        bind(profile, c.turn.as_raw(), &["/user/hand/right/input/thumbstick"]);
    }
}

fn attach_controls(controls: Option<Res<Controls>>, mut attach: MessageWriter<OxrAttachActionSet>) {
    if let Some(c) = controls {
        attach.write(OxrAttachActionSet(c.set.clone()));
    }
}

fn sync_controls(controls: Option<Res<Controls>>, mut sync: MessageWriter<OxrSyncActionSet>) {
    if let Some(c) = controls {
        sync.write(OxrSyncActionSet(c.set.clone()));
    }
}

/// One entity per controller aim, placed by the runtime each frame. A
/// scripted pointer, when there is one, replaces the right hand's ray.
fn spawn_hands(controls: Option<Res<Controls>>, session: Res<OxrSession>, run: Res<Run>, mut commands: Commands) {
    let Some(c) = controls else { return };
    for (hand, action) in [(Hand::Left, &c.aim_left), (Hand::Right, &c.aim_right)] {
        match session.create_action_space(action, openxr::Path::NULL, Isometry3d::IDENTITY) {
            Ok(space) => {
                let mut entity = commands.spawn((hand, space));
                if hand == Hand::Right && run.settings.aim.is_none() {
                    entity.insert(Pointer { scripted: false });
                }
            }
            Err(e) => error!("VR controller space unavailable: {e}"),
        }
    }
}

/// This frame's controller input.
#[derive(Resource, Default)]
struct Hands {
    select_pressed: bool,
    select_was: bool,
    grab: [bool; 2],
    fly: Vec2,
    turn: f32,
    snap: SnapTurn,
    grabbing: Option<Grab>,
}

fn read_controls(
    controls: Option<Res<Controls>>,
    session: Option<Res<OxrSession>>,
    state: Option<Res<XrState>>,
    run: Res<Run>,
    counters: Res<FrameCounters>,
    mut hands: ResMut<Hands>,
) {
    let was = hands.select_pressed;
    hands.select_was = was;
    // Actions answer only once attached, which a running session is.
    let running = state.is_some_and(|s| *s == XrState::Running);
    if let (Some(c), Some(session), true) = (controls, session, running) {
        let session: &openxr::Session<openxr::AnyGraphics> = &session;
        let bool_of =
            |a: &openxr::Action<bool>| a.state(session, openxr::Path::NULL).map(|s| s.is_active && s.current_state).unwrap_or(false);
        let vec_of = |a: &openxr::Action<openxr::Vector2f>| {
            a.state(session, openxr::Path::NULL)
                .ok()
                .filter(|s| s.is_active)
                .map_or(Vec2::ZERO, |s| Vec2::new(s.current_state.x, s.current_state.y))
        };
        hands.select_pressed = bool_of(&c.select);
        hands.grab = [bool_of(&c.grab_left), bool_of(&c.grab_right)];
        hands.fly = vec_of(&c.fly);
        hands.turn = vec_of(&c.turn).x;
    }
    // The scripted trigger: held for one frame at the frame it is due.
    let frame = counters.submitted.load(Ordering::SeqCst);
    if run.settings.aim.is_some() {
        hands.select_pressed = frame == run.settings.select_at_frame.max(1);
    }
    if let Some(stick) = run.settings.fly {
        hands.fly = Vec2::from_array(stick);
    }
    if let Some(at) = run.settings.turn_at {
        hands.turn = if frame == at { 1.0 } else { 0.0 };
    }
}

#[derive(Resource)]
struct RigState {
    rig: Rig,
    /// The rig a frame ago, for the vignette's speed.
    last: Rig,
}

/// Thumbstick flight along the gaze, snap turns about the head, and the
/// two-handed grab; the result moves the tracking space.
fn move_rig(
    time: Res<Time>,
    run: Res<Run>,
    mut hands: ResMut<Hands>,
    mut state: ResMut<RigState>,
    eyes: Query<&GlobalTransform, With<XrCamera>>,
    held: Query<(&Hand, &Transform)>,
    mut root: Query<&mut Transform, (With<XrTrackingRoot>, Without<Hand>)>,
) {
    state.last = state.rig;
    let head = eyes.iter().fold((Vec3::ZERO, Vec3::ZERO, 0), |(p, f, n), t| (p + t.translation(), f + t.forward().as_vec3(), n + 1));
    if head.2 > 0 {
        let (position, forward) = (head.0 / head.2 as f32, head.1 / head.2 as f32);
        let fly = hands.fly;
        state.rig.fly(forward, fly, FLY_SPEED, time.delta_secs());
        let turn = hands.turn;
        let angle = hands.snap.update(turn);
        if angle != 0.0 {
            state.rig.turn_about(position, angle);
        }
    }
    // Both hands squeezing: the world follows them. Hand poses are in the tracking space.
    let tracked = |which: Hand| held.iter().find(|(h, _)| **h == which).map(|(_, t)| t.translation);
    match (hands.grab, tracked(Hand::Left), tracked(Hand::Right)) {
        ([true, true], Some(l), Some(r)) => match hands.grabbing {
            // Hands closer than a few centimetres give no usable scale yet.
            None if l.distance(r) > 0.05 => hands.grabbing = Some(Grab::start(&state.rig, [l, r])),
            None => {}
            Some(grab) => state.rig = grab.rig([l, r], &state.rig),
        },
        _ => hands.grabbing = None,
    }
    if let Ok(mut t) = root.single_mut() {
        *t = state.rig.transform();
    }
    run.report.lock().expect("report lock").rig = RigReport::from(&state.rig);
}

/// The ray from the aiming hand hovers the first network it meets; the
/// trigger selects it (and opens its details, as a click does on the desktop).
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn pick_with_ray(
    mut commands: Commands,
    mut pointers: Query<(Entity, &GlobalTransform, &Pointer, Option<&XrSpaceLocationFlags>, &mut Visibility)>,
    mut beams: Query<(&mut Transform, &ChildOf), With<Beam>>,
    scene: Res<ShownScene>,
    hands: Res<Hands>,
    run: Res<Run>,
    state: Res<RigState>,
    mut hovered: ResMut<Hovered>,
    mut selection: ResMut<Selection>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut panel: Option<ResMut<WorldPanel>>,
    boards: Query<&GlobalTransform, Without<Pointer>>,
    mut egui_input: MessageWriter<EguiInputEvent>,
    mut contexts: Query<&mut EguiContext>,
) {
    let Some((entity, at, pointer, tracked, mut visibility)) = pointers.iter_mut().next() else { return };
    // A controller the runtime does not track (off, or none at all) has no ray.
    let tracked = tracked.is_none_or(|f| f.position_tracked && f.rotation_tracked);
    visibility.set_if_neq(if tracked { Visibility::Inherited } else { Visibility::Hidden });
    if !tracked {
        return;
    }
    let ray = AimRay::from_transform(at);
    let hit = point_on_ray(ray, &scene.positions, RAY_PICK_SLACK * point_radius(scene.len()));
    // The panel, when the ray meets it before any network, takes the pointer.
    let on_board = panel
        .as_ref()
        .and_then(|p| boards.get(p.board).ok())
        .and_then(|b| point_on_board(ray, b, BOARD, Vec2::new(PANEL_WIDTH, PANEL_HEIGHT)));
    let on_board = on_board.filter(|(d, _)| hit.is_none_or(|(_, t)| *d < t));
    if let Some(panel) = panel.as_mut() {
        point_at_panel(panel, on_board.map(|(_, p)| egui::pos2(p.x, p.y)), &hands, &mut egui_input);
    }
    if let Some((_, p)) = on_board {
        let mut report = run.report.lock().expect("report lock");
        report.panel_pointer = Some(p.to_array());
        // egui's own word on where its pointer is and whether it clicked (its last pass).
        if let Some(mut ctx) = panel.as_ref().and_then(|p| contexts.get_mut(p.context).ok()) {
            let (at, clicked) = ctx.get_mut().input(|i| (i.pointer.latest_pos(), i.pointer.primary_clicked()));
            report.panel_egui_pointer = at.map(|p| [p.x, p.y]);
            report.panel_clicks += u32::from(clicked);
        }
    }
    // The board hides the networks behind it; the beam ends where the ray stops.
    let hit = hit.filter(|_| on_board.is_none());
    let length = on_board.map(|(d, _)| d).or(hit.map(|(_, t)| t));
    let now = hit.map(|(i, _)| i);
    if hovered.0 != now {
        hovered.0 = now;
        let label = now.and_then(|i| scene.labels.get(i).cloned());
        if let Some(label) = &label {
            info!("VR ray over {label}{}", if pointer.scripted { " (scripted pointer)" } else { "" });
        }
        run.report.lock().expect("report lock").hovered = label;
    }
    if on_board.is_none() && hands.select_pressed && !hands.select_was && selection.selected != now {
        *selection = Selection { selected: now, path_to: None };
        let label = now.and_then(|i| scene.labels.get(i).cloned());
        info!("VR selected {}", label.as_deref().unwrap_or("nothing"));
        run.report.lock().expect("report lock").selected = label;
    }
    // The beam runs to the hit, or 10 m on; in the pointer's own (tracked) units.
    let length = length.map_or(10.0, |t| t / state.rig.scale);
    let beam = Transform::from_xyz(0.0, 0.0, -length / 2.0).with_scale(Vec3::new(1.0, 1.0, length));
    match beams.iter_mut().find(|(_, parent)| parent.parent() == entity) {
        Some((mut t, _)) => *t = beam,
        None => {
            commands.entity(entity).with_child((
                Beam,
                Mesh3d(meshes.add(Cuboid::new(0.004, 0.004, 1.0))),
                MeshMaterial3d(materials.add(StandardMaterial {
                    base_color: Color::srgb_u8(LINK[0], LINK[1], LINK[2]),
                    unlit: true,
                    ..default()
                })),
                beam,
            ));
        }
    }
}

#[derive(Component)]
struct Beam;

/// The ray on the panel is its mouse: it moves the pointer there, and the
/// trigger clicks.
fn point_at_panel(panel: &mut WorldPanel, at: Option<egui::Pos2>, hands: &Hands, input: &mut MessageWriter<EguiInputEvent>) {
    let context = panel.context;
    let mut send = |event| {
        input.write(EguiInputEvent { context, event });
    };
    match at {
        Some(pos) => {
            send(egui::Event::PointerMoved(pos));
            if hands.select_pressed != hands.select_was {
                let pressed = hands.select_pressed;
                send(egui::Event::PointerButton { pos, button: egui::PointerButton::Primary, pressed, modifiers: egui::Modifiers::NONE });
            }
        }
        None if panel.pointed => send(egui::Event::PointerGone),
        None => {}
    }
    panel.pointed = at.is_some();
}

/// The explorer's panel (inspector, colour mapping, filters…) drawn by egui
/// into an image, on a board at the user's left that moves with them.
#[derive(Resource)]
struct WorldPanel {
    board: Entity,
    /// The egui context's entity (the panel camera), where pointer events go.
    context: Entity,
    /// Whether the ray was on the board last frame.
    pointed: bool,
}

/// The board's size in tracked metres, and the panel's in logical pixels.
const BOARD: Vec2 = Vec2::new(0.35, 0.9);
const PANEL_HEIGHT: f32 = PANEL_WIDTH * BOARD.y / BOARD.x;
/// Pixels per logical pixel of the panel's image, for sharp text.
const PANEL_SCALE: f32 = 2.0;

fn spawn_panel(
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let (w, h) = ((PANEL_WIDTH * PANEL_SCALE) as u32, (PANEL_HEIGHT * PANEL_SCALE) as u32);
    let image = images.add(Image::new_target_texture(w, h, TextureFormat::Rgba8UnormSrgb, None));
    let target = RenderTarget::Image(ImageRenderTarget { handle: image.clone(), scale_factor: PANEL_SCALE });
    let context = commands.spawn(ui_camera(target)).id();
    // Ahead and to the left at chest height, turned to face the user.
    let at = Vec3::new(-0.55, 1.25, -0.55);
    let board = commands
        .spawn((
            Mesh3d(meshes.add(Rectangle::from_size(BOARD))),
            MeshMaterial3d(materials.add(StandardMaterial { base_color_texture: Some(image.clone()), unlit: true, ..default() })),
            Transform::from_translation(at).with_rotation(Quat::from_rotation_y((-at.x).atan2(-at.z))),
            XrTracker,
        ))
        .id();
    commands.insert_resource(WorldPanel { board, context, pointed: false });
}

/// The hovered network's name and coloured value, on a small board above
/// it that faces the user: egui into its own image, in its own pass.
#[derive(ScheduleLabel, Clone, Debug, PartialEq, Eq, Hash)]
struct TooltipPass;

#[derive(Component)]
struct TooltipContext;

#[derive(Component)]
struct TooltipBoard;

/// The tooltip's aspect (its world size follows its distance, see
/// [`TOOLTIP_ANGLE`]), its size in logical pixels, and its fill (sRGB;
/// tests/xr.rs finds the tooltip by it).
const TOOLTIP: Vec2 = Vec2::new(0.32, 0.08);
const TOOLTIP_PX: Vec2 = Vec2::new(256.0, 64.0);
/// Its width over its distance from the eyes.
const TOOLTIP_ANGLE: f32 = 0.18;

fn spawn_tooltip(
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let scale = PANEL_SCALE;
    let image = images.add(Image::new_target_texture(
        (TOOLTIP_PX.x * scale) as u32,
        (TOOLTIP_PX.y * scale) as u32,
        TextureFormat::Rgba8UnormSrgb,
        None,
    ));
    commands.spawn((
        TooltipContext,
        Camera2d,
        RenderLayers::none(),
        Camera { order: 2, clear_color: ClearColorConfig::Custom(Color::NONE), ..default() },
        RenderTarget::Image(ImageRenderTarget { handle: image.clone(), scale_factor: scale }),
        Tonemapping::None,
        DebandDither::Disabled,
        EguiSchedule::new(TooltipPass),
    ));
    commands.spawn((
        TooltipBoard,
        Mesh3d(meshes.add(Rectangle::from_size(TOOLTIP))),
        MeshMaterial3d(materials.add(StandardMaterial { base_color_texture: Some(image), unlit: true, ..default() })),
        Transform::default(),
        Visibility::Hidden,
    ));
}

fn draw_tooltip(
    mut context: Single<&mut EguiContext, With<TooltipContext>>,
    hovered: Res<Hovered>,
    scene: Res<ShownScene>,
    mapping: Res<ColorMapping>,
) {
    let ctx = context.get_mut().clone();
    let rect = ctx.viewport_rect();
    let mut root = egui::Ui::new(ctx, "tooltip".into(), egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(rect));
    let [r, g, b] = TOOLTIP_FILL;
    root.painter().rect_filled(rect, 0.0, egui::Color32::from_rgb(r, g, b));
    let Some(i) = hovered.0 else { return };
    root.scope_builder(egui::UiBuilder::new().max_rect(rect.shrink(8.0)), |ui| {
        ui.label(egui::RichText::new(scene.labels.get(i).map_or("", String::as_str)).strong().size(15.0));
        if let Some(column) = scene.columns.get(mapping.column) {
            ui.label(format!("{}: {}", column.name, format_value(column.values.get(i).copied().unwrap_or(f64::NAN))));
        }
    });
}

/// Puts the tooltip just above the hovered network, turned to the head, at
/// a constant size to the user; hides it when the ray hovers nothing.
fn place_tooltip(
    hovered: Res<Hovered>,
    scene: Res<ShownScene>,
    eyes: Query<&GlobalTransform, With<XrCamera>>,
    mut tooltip: Single<(&mut Transform, &mut Visibility), With<TooltipBoard>>,
) {
    let (transform, visibility) = &mut *tooltip;
    let point = hovered.0.and_then(|i| scene.positions.get(i));
    let head = eyes.iter().map(|t| t.translation()).reduce(|a, b| (a + b) / 2.0);
    let (Some(point), Some(head)) = (point, head) else {
        visibility.set_if_neq(Visibility::Hidden);
        return;
    };
    // A constant angle of view (about 10 degrees across), so it reads at any distance or scale.
    let point = Vec3::from_array(*point);
    let width = TOOLTIP_ANGLE * point.distance(head);
    let scale = width / TOOLTIP.x;
    let at = point + Vec3::Y * (2.0 * point_radius(scene.len()) + 0.6 * scale * TOOLTIP.y);
    // +Z (the board's face) towards the head.
    **transform = Transform::from_translation(at).looking_at(2.0 * at - head, Vec3::Y).with_scale(Vec3::splat(scale));
    visibility.set_if_neq(Visibility::Inherited);
}

/// Saves the left eye's view when asked, ten frames before the end. (The
/// panel shows in it; a screenshot of the panel's own image comes back
/// black inside a session, though the eyes draw it.)
fn save_eye(mut commands: Commands, run: Res<Run>, counters: Res<FrameCounters>, mut asked: Local<bool>) {
    let (Some(frames), Some(path)) = (run.settings.frames, run.settings.eye_png.clone()) else { return };
    if *asked || counters.rendered.load(Ordering::SeqCst) == 0 || counters.submitted.load(Ordering::SeqCst) < frames.saturating_sub(10) {
        return;
    }
    *asked = true;
    let report = run.report.clone();
    commands.spawn(Screenshot::texture_view(ManualTextureViewHandle(XR_TEXTURE_INDEX))).observe(move |captured: On<ScreenshotCaptured>| {
        if let Err(e) = crate::capture::save_png(&captured.image, &path) {
            report.lock().expect("report lock").error = Some(format!("cannot save {}: {e}", path.display()));
        } else {
            report.lock().expect("report lock").eye_saved = true;
        }
    });
}

/// Darkens the edge of view while the rig moves fast (flight, turns, grabs).
fn update_vignette(
    time: Res<Time>,
    run: Res<Run>,
    state: Res<RigState>,
    vignettes: Query<&MeshMaterial3d<StandardMaterial>, With<Vignette>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let dt = time.delta_secs().max(1e-3);
    let linear = (state.rig.translation - state.last.translation).length() / state.rig.scale / dt;
    let angular = (state.rig.yaw - state.last.yaw).abs() / dt;
    let alpha = vignette_strength(linear, angular);
    let mut report = run.report.lock().expect("report lock");
    report.vignette_max = report.vignette_max.max(alpha);
    for handle in &vignettes {
        if let Some(mut m) = materials.get_mut(&handle.0)
            && (m.base_color.alpha() - alpha).abs() > 1e-3
        {
            m.base_color.set_alpha(alpha);
        }
    }
}
