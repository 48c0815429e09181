//! NeuroMosaic's Bevy side: the plugins that draw the architecture sphere,
//! the camera, the egui panels, and the capture harness that renders any view
//! to PNG with no person present (tests today, offline video later).

pub mod analysis;
pub mod bench;
pub mod bridge;
pub mod camera;
pub mod capture;
pub mod charts;
pub mod checks;
pub mod clusters;
pub mod export;
pub mod files;
pub mod hyper_view;
pub mod inspect;
pub mod inspector;
pub mod landscape_view;
pub mod lines;
pub mod panels;
pub mod path_view;
pub mod points;
pub mod record;
pub mod scene;
pub mod selection;
pub mod session;
pub mod sphere_view;
pub mod suggestions;
pub mod tour;
pub mod tour_editor;
pub mod training;
pub mod ui;
pub mod ui_report;
pub mod wake;
pub mod xr;
#[cfg(feature = "xr")]
pub mod xr_session;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use bevy::app::ScheduleRunnerPlugin;
use bevy::camera::RenderTarget;
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::render_resource::TextureFormat;
use bevy::window::{ExitCondition, PresentMode, RequestRedraw, WindowResolution};
use bevy::winit::{UpdateMode, WinitPlugin, WinitSettings};
use bevy_egui::{EguiGlobalSettings, EguiPlugin};
use bevy_panorbit_camera::{PanOrbitCamera, PanOrbitCameraPlugin, PanOrbitCameraSystemSet};

pub use capture::CaptureRequest;
pub use checks::{check_display, check_gpu};
use scene::{ColorMapping, ShownScene, SphereScene};

/// Everything the explorer needs to show a population.
#[derive(Clone, Debug)]
pub struct ExplorerOptions {
    pub scene: SphereScene,
    pub mapping: ColorMapping,
    /// Show the egui side panel.
    pub panel: bool,
    /// Updates computed elsewhere (a sweep training in the background,
    /// answers to requests).
    pub feed: Option<crossbeam_channel::Receiver<bridge::SceneUpdate>>,
    /// Where the view sends requests (inspect a network); `None` when
    /// nothing can answer them (a sampled design has no trained networks).
    pub requests: Option<crossbeam_channel::Sender<bridge::ViewRequest>>,
    /// The network selected at start.
    pub select: Option<usize>,
    /// The other end of a path from the selection, at start.
    pub path_to: Option<usize>,
    /// Ask the meta-learner for this many suggestions at start (ghost points).
    pub suggest: Option<usize>,
    /// The session restored at start (mappings, filters, camera…) and where to save it.
    pub session: session::SessionFile,
    /// Problems met while opening, shown in the panel (the app runs on).
    pub errors: Vec<String>,
}

impl ExplorerOptions {
    /// The camera's first viewpoint: the session's, or the default.
    pub fn pose(&self) -> CameraPose {
        self.session.base.camera.map_or_else(CameraPose::default, CameraPose::from)
    }
}

pub use mosaic_core::theme::{BACKGROUND, PANEL_WIDTH};

/// The initial viewpoint: orbit angles around the sphere's centre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CameraPose {
    pub focus: Vec3,
    pub yaw: f32,
    pub pitch: f32,
    pub radius: f32,
}

impl Default for CameraPose {
    fn default() -> Self {
        CameraPose { focus: Vec3::ZERO, yaw: 0.5, pitch: 0.35, radius: 3.4 }
    }
}

impl CameraPose {
    /// The camera transform for this pose, built exactly as the orbit
    /// camera builds it, so a window and an offscreen render agree.
    pub fn transform(&self) -> Transform {
        let rotation = Quat::from_rotation_y(self.yaw) * Quat::from_rotation_x(-self.pitch);
        Transform { translation: self.focus + rotation * Vec3::new(0.0, 0.0, self.radius), rotation, ..default() }
    }
}

/// Camera components shared by every view: exact colours (no tonemapping,
/// no dithering), no MSAA (it would not smooth the impostors' discarded
/// edges anyway), a fixed field of view.
fn camera_components(pose: CameraPose) -> impl Bundle {
    (
        Camera3d::default(),
        Camera { clear_color: ClearColorConfig::Custom(Color::srgb_u8(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2])), ..default() },
        Projection::Perspective(PerspectiveProjection { fov: 40f32.to_radians(), ..default() }),
        Tonemapping::None,
        DebandDither::Disabled,
        Msaa::Off,
        pose.transform(),
    )
}

/// The scene, its view and its panel, independent of where frames go.
struct ExplorerPlugin {
    options: ExplorerOptions,
}

impl Plugin for ExplorerPlugin {
    fn build(&self, app: &mut App) {
        if let Some(feed) = &self.options.feed {
            app.insert_resource(bridge::SceneFeed(feed.clone()));
        }
        if let Some(requests) = &self.options.requests {
            app.insert_resource(bridge::ComputeRequests(requests.clone()));
        }
        app.insert_resource(ShownScene(self.options.scene.clone()))
            .init_resource::<ui::UiInput>()
            .insert_resource(self.options.mapping.clone())
            .insert_resource(scene::Notices { errors: self.options.errors.clone(), info: None })
            // What the view knows: the scene and the answers, kept up to date by the bridge's messages.
            .add_plugins((bridge::BridgePlugin, scene::ScenePlugin, inspector::InspectorPlugin, training::TrainingPlugin))
            .add_plugins((
                points::PointCloudPlugin,
                lines::LinesPlugin,
                selection::SelectionPlugin { initial: self.options.select, path_to: self.options.path_to },
                sphere_view::SphereViewPlugin,
                landscape_view::LandscapeViewPlugin,
                camera::CameraMovesPlugin,
                session::SessionPlugin { file: self.options.session.clone() },
                export::ExportPlugin,
                analysis::AnalysisPlugin,
                hyper_view::HyperViewPlugin,
                path_view::PathViewPlugin,
                suggestions::SuggestionsPlugin { initial: self.options.suggest },
                clusters::ClustersPlugin,
                tour_editor::TourEditorPlugin,
            ));
        if self.options.panel {
            // The panel gets its own camera (see `ui::ui_camera`), spawned by each mode.
            app.insert_resource(EguiGlobalSettings { auto_create_primary_context: false, ..default() })
                .add_plugins((EguiPlugin::default(), ui::PanelPlugin));
        }
    }
}

fn default_plugins_without_log() -> bevy::app::PluginGroupBuilder {
    // Logging is set up by the binary (tracing-subscriber, RUST_LOG).
    DefaultPlugins.build().disable::<LogPlugin>()
}

/// How long an idle window waits before drawing anyway.
const IDLE_REDRAW: Duration = Duration::from_secs(10);

/// Opens the explorer window. With `capture`, saves a screenshot of the
/// window after the requested frames and exits (used under Xvfb in tests).
pub fn run_window(options: ExplorerOptions, capture: Option<CaptureRequest>) -> Result<()> {
    let (panel, pose) = (options.panel, options.pose());
    let mut resolution = WindowResolution::new(1280, 720);
    if capture.is_some() {
        // A capture has the requested pixel size whatever the screen's scaling.
        resolution = resolution.with_scale_factor_override(1.0);
    }
    let mut app = App::new();
    app.add_plugins(
        default_plugins_without_log()
            .set(WindowPlugin {
                primary_window: Some(Window { title: "NeuroMosaic".into(), resolution, present_mode: PresentMode::AutoVsync, ..default() }),
                ..default()
            })
            .set(RenderPlugin { synchronous_pipeline_compilation: capture.is_some(), ..default() }),
    )
    .add_plugins((ExplorerPlugin { options }, PanOrbitCameraPlugin))
    .add_systems(Startup, move |mut commands: Commands| {
        commands.spawn((
            camera_components(pose),
            PanOrbitCamera {
                focus: pose.focus,
                yaw: Some(pose.yaw),
                pitch: Some(pose.pitch),
                radius: Some(pose.radius),
                // A wheel notch zooms 10 % (not 20 %) and glides there: fine steps.
                zoom_sensitivity: 0.5,
                zoom_smoothness: 0.4,
                ..default()
            },
        ));
        if panel {
            commands.spawn(ui::ui_camera(RenderTarget::default()));
        }
    });
    if panel {
        app.add_systems(PostUpdate, ui::block_orbit_over_panel.before(PanOrbitCameraSystemSet));
    }
    if capture.is_none() {
        // Interactive: draw on input, while something moves, and when compute
        // sends an update (see `wake`); an idle view leaves the cores to
        // training. The long wait is only a safety net.
        app.insert_resource(WinitSettings {
            focused_mode: UpdateMode::reactive(IDLE_REDRAW),
            unfocused_mode: UpdateMode::reactive_low_power(IDLE_REDRAW),
        })
        .add_plugins(wake::WakeOnUpdatesPlugin)
        // After the orbit camera's own update: whatever sent the camera
        // moving this frame (a key in Update, the wheel or a drag there) is seen.
        .add_systems(PostUpdate, redraw_while_camera_moves.after(PanOrbitCameraSystemSet));
        if let Some(report) = ui_report::UiReportPlugin::from_env() {
            app.add_plugins(report);
        }
    }
    let saved = Arc::new(AtomicBool::new(false));
    let capturing = capture.is_some();
    if let Some(request) = capture {
        app.add_plugins(capture::CapturePlugin { request, target: capture::CaptureTarget::PrimaryWindow, saved: saved.clone() });
    }
    finish(app.run(), capturing.then_some(&saved))
}

/// Keeps frames coming while the camera moves (the orbit camera easing
/// towards its target, a key held in free flight) or the training path
/// plays, so reactive updates do not freeze them half-way.
fn redraw_while_camera_moves(
    cameras: Query<&PanOrbitCamera>,
    mode: Res<camera::CameraMode>,
    keys: Res<ButtonInput<KeyCode>>,
    buttons: Res<ButtonInput<MouseButton>>,
    playback: Res<landscape_view::Playback>,
    glide: Res<sphere_view::Glide>,
    mut redraw: MessageWriter<RequestRedraw>,
) {
    let flying = *mode == camera::CameraMode::Fly
        && (buttons.pressed(MouseButton::Left)
            || keys.any_pressed([KeyCode::KeyW, KeyCode::KeyA, KeyCode::KeyS, KeyCode::KeyD, KeyCode::KeyQ, KeyCode::KeyE]));
    let easing = cameras.iter().any(|c| {
        let off = |now: Option<f32>, target: f32| now.is_some_and(|v| (v - target).abs() > 1e-4);
        off(c.yaw, c.target_yaw)
            || off(c.pitch, c.target_pitch)
            || off(c.radius, c.target_radius)
            || c.focus.distance(c.target_focus) > 1e-4
    });
    if flying || easing || playback.playing || glide.is_active() {
        redraw.write(RequestRedraw);
    }
}

/// Renders the explorer offscreen (no window, no display server) at the given
/// size and saves the frame after `capture.frames` frames.
pub fn run_offscreen(options: ExplorerOptions, width: u32, height: u32, capture: CaptureRequest) -> Result<()> {
    let (panel, pose) = (options.panel, options.pose());
    if panel && (width as f32) < PANEL_WIDTH + 100.0 {
        bail!(
            "--width {width} leaves no room beside the {PANEL_WIDTH} px panel: use --width {} or more, or --no-panel",
            PANEL_WIDTH as u32 + 100
        );
    }
    let saved = Arc::new(AtomicBool::new(false));
    let (mut app, target) = offscreen_app(options, width, height);
    let camera_target = target.clone();
    app.add_systems(Startup, move |mut commands: Commands| {
        let target = RenderTarget::Image(camera_target.clone().into());
        commands.spawn((camera_components(pose), target.clone()));
        if panel {
            commands.spawn(ui::ui_camera(target));
        }
    })
    .add_plugins(capture::CapturePlugin { request: capture, target: capture::CaptureTarget::Image(target), saved: saved.clone() });
    finish(app.run(), Some(&saved))
}

/// An app that draws the explorer into an image of the given size, with no
/// window or display server, frames as fast as they come; and that image.
fn offscreen_app(options: ExplorerOptions, width: u32, height: u32) -> (App, Handle<Image>) {
    let mut app = App::new();
    app.add_plugins(
        default_plugins_without_log()
            .set(WindowPlugin { primary_window: None, exit_condition: ExitCondition::DontExit, ..default() })
            // Compile pipelines before drawing so the first frames are complete.
            .set(RenderPlugin { synchronous_pipeline_compilation: true, ..default() })
            .disable::<WinitPlugin>(),
    )
    // Without winit something must drive the frames; no wait between them.
    .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::ZERO))
    .add_plugins(ExplorerPlugin { options });
    let target =
        app.world_mut().resource_mut::<Assets<Image>>().add(Image::new_target_texture(width, height, TextureFormat::Rgba8UnormSrgb, None));
    (app, target)
}

/// Turns the app's exit into a result. A capture must also have saved its
/// image in this run: some driver failures end the app "successfully"
/// without rendering, and an old file of the same name proves nothing.
fn finish(exit: AppExit, saved: Option<&Arc<AtomicBool>>) -> Result<()> {
    if let AppExit::Error(code) = exit {
        bail!("rendering stopped with an error (code {code}); the lines above say why");
    }
    if saved.is_some_and(|s| !s.load(Ordering::SeqCst)) {
        bail!("no image was captured: the renderer produced no frame (run with RUST_LOG=info to see why)");
    }
    Ok(())
}
