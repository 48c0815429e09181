//! A live report of what the window shows, for driving it from outside (the
//! real-input UI tests under Xvfb): where every point, the selection and the
//! landscape stand on screen (the snapshot manifest's fields), where the 3-D
//! camera is, and every control as a screen reader sees it (egui's AccessKit
//! tree: role, label, rectangle). Written only when [`REPORT_ENV`] names a
//! file, and only when something in it changed.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy_egui::egui::accesskit::{self, Role};
use bevy_egui::{EguiContexts, EguiOutput, EguiPostUpdateSet, PrimaryEguiContext};
use bevy_panorbit_camera::PanOrbitCameraSystemSet;
use serde::Serialize;

use crate::camera::CameraMode;
use crate::capture::{CaptureManifest, ViewState, manifest};
use crate::wake::PipelinesCompiling;

/// The environment variable naming the report's file.
pub const REPORT_ENV: &str = "MOSAIC_UI_REPORT";

/// One control of the panel (a button, checkbox, link, label, slider…).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Control {
    /// AccessKit's role: "Button", "CheckBox", "Link", "Label", "Slider", "ComboBox"…
    pub role: String,
    /// Its text: a button's caption, a label's words.
    pub label: String,
    /// `[left, top, right, bottom]` in window pixels.
    pub rect: [f32; 4],
    /// A checkbox's or toggle's state.
    pub checked: Option<bool>,
}

#[derive(Serialize)]
struct UiReport {
    #[serde(flatten)]
    view: CaptureManifest,
    /// Render pipelines were still compiling: the picture is unfinished.
    compiling: bool,
    /// "Orbit" or "Fly".
    camera_mode: String,
    /// The 3-D camera's position and the way it looks, in world space.
    camera_position: [f32; 3],
    camera_forward: [f32; 3],
    controls: Vec<Control>,
}

pub struct UiReportPlugin {
    pub path: PathBuf,
}

#[derive(Resource)]
struct ReportFile {
    path: PathBuf,
    last: String,
}

impl UiReportPlugin {
    /// The plugin, where [`REPORT_ENV`] asks for a report.
    pub fn from_env() -> Option<UiReportPlugin> {
        std::env::var_os(REPORT_ENV).filter(|p| !p.is_empty()).map(|p| UiReportPlugin { path: p.into() })
    }
}

impl Plugin for UiReportPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ReportFile { path: self.path.clone(), last: String::new() })
            .add_systems(PreUpdate, enable_accesskit)
            .add_systems(PostUpdate, write_report.after(EguiPostUpdateSet::ProcessOutput).after(PanOrbitCameraSystemSet));
    }
}

/// egui builds its AccessKit tree only when asked to.
fn enable_accesskit(mut contexts: EguiContexts, mut done: Local<bool>) {
    if !*done && let Ok(ctx) = contexts.ctx_mut() {
        ctx.enable_accesskit();
        *done = true;
    }
}

fn write_report(
    mut file: ResMut<ReportFile>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    outputs: Query<&EguiOutput, With<PrimaryEguiContext>>,
    mode: Res<CameraMode>,
    compiling: Option<Res<PipelinesCompiling>>,
    view: ViewState,
) {
    let Ok((camera, transform)) = cameras.single() else { return };
    let Some(shown) = manifest(camera, transform, &view) else { return };
    let controls = outputs.single().map(controls).unwrap_or_default();
    let report = UiReport {
        view: shown,
        compiling: compiling.is_some_and(|c| c.get()),
        camera_mode: format!("{:?}", *mode),
        camera_position: transform.translation().to_array(),
        camera_forward: transform.forward().to_array(),
        controls,
    };
    let Ok(json) = serde_json::to_string_pretty(&report) else { return };
    if json != file.last {
        if let Err(e) = mosaic_core::fs::write_atomic(&file.path, json.as_bytes()) {
            warn!("cannot write the UI report {}: {e}", file.path.display());
        }
        file.last = json;
    }
}

/// The labelled controls of egui's last AccessKit update, in window pixels.
fn controls(output: &EguiOutput) -> Vec<Control> {
    let Some(update) = &output.platform_output.accesskit_update else { return Vec::new() };
    let scale = output.pixels_per_point as f64;
    update
        .nodes
        .iter()
        .filter_map(|(_, node)| {
            let label = node.label().or(node.value())?.to_string();
            let b = node.bounds()?;
            // A label's text runs repeat its words; unnamed containers say nothing.
            if node.role() == Role::TextRun || (matches!(node.role(), Role::Window | Role::Unknown) && label.is_empty()) {
                return None;
            }
            Some(Control {
                role: format!("{:?}", node.role()),
                label,
                rect: [b.x0, b.y0, b.x1, b.y1].map(|v| (v * scale) as f32),
                checked: node.toggled().and_then(|t| match t {
                    accesskit::Toggled::True => Some(true),
                    accesskit::Toggled::False => Some(false),
                    accesskit::Toggled::Mixed => None,
                }),
            })
        })
        .collect()
}
