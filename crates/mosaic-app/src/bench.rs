//! Frame-time benchmark of the sphere view, offscreen: our one-mesh point
//! cloud against the naive way (an entity with its own mesh per point),
//! idle or while a sweep trains. `mosaic bench explorer` drives it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Result, bail};
use bevy::camera::RenderTarget;
use bevy::prelude::*;

use crate::{CameraPose, ExplorerOptions, camera_components, offscreen_app};

/// How the benchmark draws the points.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PointDrawing {
    /// The explorer's way: every point a quad of one mesh, one draw call.
    #[default]
    OneMesh,
    /// The naive way, for comparison only: an entity per point with its own
    /// sphere mesh (UV, 16 x 8) and its own unlit material.
    SpherePerPoint,
    /// Our impostor quad, but an entity with its own mesh per point: what
    /// one mesh saves over Bevy's automatic batching of many.
    QuadPerPoint,
}

/// Frame times of one benchmark run.
#[derive(Clone, Debug)]
pub struct FrameStats {
    pub frames: usize,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Peak resident memory of the process so far (VmHWM), MiB.
    pub peak_rss_mib: f64,
}

impl FrameStats {
    fn of(mut ms: Vec<f64>) -> FrameStats {
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        FrameStats {
            frames: ms.len(),
            mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            peak_rss_mib: peak_rss_mib(),
        }
    }
}

/// The process's peak resident set (Linux), MiB; NaN elsewhere.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

#[derive(Resource)]
struct Timing {
    warmup: u32,
    frames: u32,
    seen: u32,
    last: Option<Instant>,
    ms: Arc<Mutex<Vec<f64>>>,
}

/// Renders `frames` frames (after `warmup`) of the scene offscreen at the
/// given size, drawing points as `drawing` says, and returns their times.
pub fn frame_bench(
    mut options: ExplorerOptions,
    drawing: PointDrawing,
    width: u32,
    height: u32,
    warmup: u32,
    frames: u32,
) -> Result<FrameStats> {
    options.panel = false;
    let ms = Arc::new(Mutex::new(Vec::with_capacity(frames as usize)));
    let (mut app, target) = offscreen_app(options, width, height);
    app.insert_resource(drawing);
    app.add_systems(Startup, move |mut commands: Commands| {
        commands.spawn((camera_components(CameraPose::default()), RenderTarget::Image(target.clone().into())));
    })
    .insert_resource(Timing { warmup, frames, seen: 0, last: None, ms: ms.clone() })
    .add_systems(Last, time_frames);
    if let AppExit::Error(code) = app.run() {
        bail!("rendering stopped with an error (code {code})");
    }
    let ms = std::mem::take(&mut *ms.lock().expect("the app has exited"));
    if ms.is_empty() {
        bail!("no frames were timed");
    }
    Ok(FrameStats::of(ms))
}

fn time_frames(mut timing: ResMut<Timing>, mut exit: MessageWriter<AppExit>) {
    let now = Instant::now();
    timing.seen += 1;
    if timing.seen > timing.warmup
        && let Some(last) = timing.last
    {
        let ms = (now - last).as_secs_f64() * 1e3;
        timing.ms.lock().expect("one writer").push(ms);
    }
    timing.last = Some(now);
    if timing.seen >= timing.warmup + timing.frames {
        exit.write(AppExit::Success);
    }
}
