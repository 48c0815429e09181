//! Offline rendering of a tour: every frame at its own time (frame / fps),
//! the camera and actions applied, then captured and handed on (to an
//! encoder or a PNG file) before the next frame is drawn. No window, no
//! clock: the same tour and store give the same frames.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};
use bevy::camera::RenderTarget;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::transform::TransformSystems;
use bevy_egui::egui::{self, Color32};
use bevy_egui::{EguiContexts, EguiGlobalSettings, EguiPlugin, EguiPrimaryContextPass};

use crate::bridge::Pending;
use crate::landscape_view::{Playback, ShownLandscape};
use crate::scene::{ColorMapping, ShownScene};
use crate::selection::Selection;
use crate::tour::{Moment, Tour};
use crate::{ExplorerOptions, camera_components, offscreen_app, ui};

/// Why a frame could not be taken (a full disk, an encoder that stopped).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives each finished frame: its number and its RGBA pixels.
pub type FrameSink = Box<dyn FnMut(u32, &[u8]) -> Result<(), SinkError> + Send + Sync>;

/// Frames to draw after the view changed (a landscape opened, a colour
/// mapping changed) before capturing, so new meshes and pipelines are in.
const SETTLE_FRAMES: u32 = 3;

#[derive(Resource)]
struct Recording {
    tour: Tour,
    sink: Arc<Mutex<FrameSink>>,
    /// Frame being prepared or captured.
    frame: u32,
    /// Frames drawn since the frame's state was last changed.
    settled: u32,
    captured: Arc<Mutex<Option<u32>>>,
    /// Set when a capture came back blank (nothing drawn into the target
    /// yet, as on a busy machine's first frames): the frame is asked again.
    blank: Arc<AtomicBool>,
    requested: bool,
    progress: Arc<AtomicU32>,
    failed: Arc<Mutex<Option<String>>>,
}

/// What the overlays show now.
#[derive(Resource, Default, Clone, PartialEq)]
struct Overlays {
    caption: Option<String>,
    title: Option<String>,
    fade: f32,
}

/// Renders `tour` over the scene in `options` (no panel), handing every
/// frame to `sink`; `progress` counts finished frames.
pub fn record(mut options: ExplorerOptions, tour: Tour, sink: FrameSink, progress: Arc<AtomicU32>) -> Result<()> {
    options.panel = false;
    let (width, height) = (tour.output.width, tour.output.height);
    let (mut app, target) = offscreen_app(options, width, height);
    let failed = Arc::new(Mutex::new(None));
    let first = tour.moment(0.0);
    let camera_target = target.clone();
    app.insert_resource(EguiGlobalSettings { auto_create_primary_context: false, ..default() })
        .add_plugins(EguiPlugin::default())
        .insert_resource(Overlays::default())
        .insert_resource(Recording {
            tour,
            sink: Arc::new(Mutex::new(sink)),
            frame: 0,
            settled: 0,
            captured: Arc::new(Mutex::new(None)),
            blank: Arc::new(AtomicBool::new(false)),
            requested: false,
            progress,
            failed: failed.clone(),
        })
        .add_systems(Startup, move |mut commands: Commands| {
            let target = RenderTarget::Image(camera_target.clone().into());
            commands.spawn((camera_components(first.pose), target.clone()));
            commands.spawn(ui::ui_camera(target));
        })
        .add_systems(Update, (advance, apply_moment).chain())
        .add_systems(PostUpdate, place_camera.before(TransformSystems::Propagate))
        .add_systems(EguiPrimaryContextPass, draw_overlays)
        .add_systems(
            Last,
            move |commands: Commands,
                  recording: ResMut<Recording>,
                  pending: Res<Pending>,
                  cameras: Query<&Camera, With<Camera3d>>,
                  exit: MessageWriter<AppExit>| { capture(commands, recording, pending, cameras, exit, target.clone()) },
        );
    let exit = app.run();
    if let Some(e) = failed.lock().expect("the app has exited").take() {
        bail!("{e}");
    }
    if let AppExit::Error(code) = exit {
        bail!("rendering stopped with an error (code {code})");
    }
    Ok(())
}

/// Moves on once the current frame's image has arrived.
fn advance(mut recording: ResMut<Recording>) {
    let done = recording.captured.lock().expect("one writer").take();
    if done == Some(recording.frame) {
        recording.frame += 1;
        recording.settled = 0;
        recording.requested = false;
        recording.progress.store(recording.frame, Ordering::SeqCst);
    }
}

/// Applies what the tour shows at the current frame's time; any change
/// restarts the settling count.
fn apply_moment(
    mut recording: ResMut<Recording>,
    scene: Res<ShownScene>,
    shown: Option<Res<ShownLandscape>>,
    mut selection: ResMut<Selection>,
    mut mapping: ResMut<ColorMapping>,
    mut playback: ResMut<Playback>,
    mut overlays: ResMut<Overlays>,
) {
    let time = recording.tour.time_of(recording.frame);
    let m: Moment = recording.tour.moment(time);
    let mut changed = false;
    if let Some(wanted) = &m.select {
        let index = wanted.as_ref().and_then(|name| {
            scene.labels.iter().position(|l| l == name || l.strip_prefix(name.as_str()).is_some_and(|rest| rest.starts_with(" ·")))
        });
        if selection.selected != index {
            *selection = Selection { selected: index, path_to: None };
            changed = true;
        }
    }
    if let Some(column) = m.color_by.as_deref().and_then(|name| scene.column_index(name))
        && mapping.column != column
    {
        mapping.column = column;
        changed = true;
    }
    if let (Some(progress), Some(shown)) = (m.path_progress, &shown) {
        let at = progress * shown.data.path.len().saturating_sub(1) as f32;
        if playback.at != at || playback.playing {
            *playback = Playback { at, playing: false };
        }
    }
    let wanted = Overlays { caption: m.caption, title: m.title, fade: m.fade };
    if *overlays != wanted {
        *overlays = wanted;
    }
    if changed {
        recording.settled = 0;
    }
}

/// The tour's camera for the current frame, after anything else moved it.
fn place_camera(recording: Res<Recording>, mut cameras: Query<(&mut Transform, &mut Projection), With<Camera3d>>) {
    let (pose, fov) = recording.tour.camera_at(recording.tour.time_of(recording.frame));
    for (mut transform, mut projection) in &mut cameras {
        *transform = pose.transform();
        if let Projection::Perspective(p) = &mut *projection {
            p.fov = fov.to_radians();
        }
    }
}

fn capture(
    mut commands: Commands,
    mut recording: ResMut<Recording>,
    pending: Res<Pending>,
    cameras: Query<&Camera, With<Camera3d>>,
    mut exit: MessageWriter<AppExit>,
    target: Handle<Image>,
) {
    if recording.frame >= recording.tour.frames() {
        exit.write(AppExit::Success);
        return;
    }
    if recording.blank.swap(false, Ordering::SeqCst) {
        recording.requested = false;
        recording.settled = 0;
    }
    if recording.requested {
        return;
    }
    // Answers still coming (a landscape) hold the frame, however long they
    // take; so does a camera whose target is not set up yet.
    if pending.0 > 0 || cameras.iter().any(|c| c.physical_target_size().is_none()) {
        recording.settled = 0;
        return;
    }
    recording.settled += 1;
    // The first frame also waits for everything to be set up once.
    let settle = if recording.frame == 0 { crate::capture::MIN_FRAMES } else { SETTLE_FRAMES };
    if recording.settled < settle {
        return;
    }
    recording.requested = true;
    let (frame, sink, captured, failed) = (recording.frame, recording.sink.clone(), recording.captured.clone(), recording.failed.clone());
    let blank = recording.blank.clone();
    commands.spawn(Screenshot::image(target)).observe(move |shot: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
        let rgba = match shot.image.clone().try_into_dynamic() {
            Ok(image) => image.to_rgba8(),
            Err(e) => {
                *failed.lock().expect("one writer") = Some(format!("frame {frame}: {e}"));
                exit.write(AppExit::error());
                return;
            }
        };
        // Every drawn frame is opaque (the clear colour): all-transparent means nothing was drawn yet.
        if rgba.pixels().all(|p| p.0[3] == 0) {
            blank.store(true, Ordering::SeqCst);
            return;
        }
        match (sink.lock().expect("one writer"))(frame, rgba.as_raw()) {
            Ok(()) => *captured.lock().expect("one writer") = Some(frame),
            Err(e) => {
                *failed.lock().expect("one writer") = Some(e.to_string());
                exit.write(AppExit::error());
            }
        }
    });
}

/// Captions at the bottom, a title card in the middle, and the fade.
fn draw_overlays(mut contexts: EguiContexts, overlays: Res<Overlays>) -> bevy::ecs::error::Result {
    let ctx = contexts.ctx_mut()?;
    let screen = ctx.viewport_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::new("tour_overlays")));
    let size = screen.height();
    if let Some(title) = &overlays.title {
        painter.text(screen.center(), egui::Align2::CENTER_CENTER, title, egui::FontId::proportional(size * 0.08), Color32::WHITE);
    }
    if let Some(caption) = &overlays.caption {
        let at = egui::pos2(screen.center().x, screen.bottom() - size * 0.08);
        let font = egui::FontId::proportional(size * 0.045);
        let galley = painter.layout_no_wrap(caption.clone(), font.clone(), Color32::WHITE);
        let band = egui::Rect::from_center_size(at, galley.size() + egui::vec2(size * 0.04, size * 0.02));
        painter.rect_filled(band, 6.0, Color32::from_black_alpha(150));
        painter.text(at, egui::Align2::CENTER_CENTER, caption, font, Color32::WHITE);
    }
    if overlays.fade > 0.0 {
        painter.rect_filled(screen, 0.0, Color32::from_black_alpha((overlays.fade.clamp(0.0, 1.0) * 255.0).round() as u8));
    }
    Ok(())
}
