//! `mosaic xr`: the explorer's world in a VR headset through OpenXR. Every
//! build finds the runtime first, so a missing loader, runtime or headset is
//! one message naming the fix; the session itself needs `--features xr`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mosaic_app::xr::{ScriptedAim, XrReport};

use crate::cli::check_writable;
use crate::population::PopulationArgs;

#[derive(Args, Debug)]
pub struct XrArgs {
    #[command(flatten)]
    pub population: PopulationArgs,
    #[command(flatten)]
    pub live: crate::population::LiveArgs,
    /// Stop after this many frames have been handed to the headset (tests, demos).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,
    /// Write what the session did (states reached, frames, frame budget, selection) as JSON.
    #[arg(long, value_name = "JSON")]
    pub report: Option<PathBuf>,
    /// A scripted right controller for tests and demos: its aim ray in the
    /// tracking space (metres), `x,y,z:dx,dy,dz`; the trigger is pulled at --select-at.
    #[arg(long, value_name = "POSE")]
    pub pointer: Option<ScriptedAim>,
    /// The frame at which the scripted pointer's trigger is pulled.
    #[arg(long, default_value_t = 30, requires = "pointer", value_parser = clap::value_parser!(u64).range(1..))]
    pub select_at: u64,
    /// A scripted left stick held for the whole run, `x,y` (x right, y forward; -1..1): flight along the gaze.
    #[arg(long, value_name = "X,Y", value_parser = parse_stick)]
    pub fly: Option<[f32; 2]>,
    /// Push a scripted right stick right at this frame: one snap turn.
    #[arg(long, value_name = "N")]
    pub turn_at: Option<u64>,
    /// Save what the left eye sees (PNG) ten frames before the last of --frames.
    #[arg(long, value_name = "PNG", requires = "frames")]
    pub eye_png: Option<PathBuf>,
    /// Seconds to wait for the headset's first frame before giving up.
    #[arg(long, default_value_t = 60)]
    pub start_timeout: u64,
}

pub fn xr(args: XrArgs) -> Result<()> {
    for path in [&args.report, &args.eye_png].into_iter().flatten() {
        check_writable(path)?;
    }
    // The loader reports each failed lookup on stderr; our message says it once, with the fix.
    if std::env::var_os("XR_LOADER_DEBUG").is_none() {
        // SAFETY: still single-threaded here: nothing has been started yet.
        unsafe { std::env::set_var("XR_LOADER_DEBUG", "none") };
    }
    // The runtime first: nothing is trained or opened for a headset that is not there.
    let runtime = mosaic_app::xr::probe().map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("VR: {} {} with {}", runtime.runtime, runtime.version, runtime.system);
    let report = session(&args, runtime)?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).context("writing the VR report")?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let b = &report.frame_budget;
    eprintln!(
        "VR: {} frames submitted ({} rendered); frame work median {:.1} ms, p95 {:.1} ms against {:.1} ms",
        report.frames_submitted, report.frames_rendered, b.median_ms, b.p95_ms, b.budget_ms
    );
    Ok(())
}

#[cfg(feature = "xr")]
fn session(args: &XrArgs, runtime: mosaic_app::xr::RuntimeInfo) -> Result<XrReport> {
    let options = crate::population::live_explorer_options(&args.population, &args.live)?;
    // The panel shows these too, but the user may not have the headset on yet.
    for problem in &options.errors {
        eprintln!("warning: {problem}");
    }
    let settings = mosaic_app::xr_session::XrSettings {
        frames: args.frames,
        start_timeout: std::time::Duration::from_secs(args.start_timeout),
        aim: args.pointer,
        select_at_frame: args.select_at,
        fly: args.fly,
        turn_at: args.turn_at,
        eye_png: args.eye_png.clone(),
    };
    mosaic_app::xr_session::run_xr(options, runtime, settings)
}

fn parse_stick(s: &str) -> Result<[f32; 2], String> {
    match mosaic_app::xr::finite_list(s).as_deref() {
        Some(&[x, y]) if x.abs() <= 1.0 && y.abs() <= 1.0 => Ok([x, y]),
        _ => Err(format!("`{s}` is not a stick position: expected `x,y` with both in -1..1, e.g. `0,1` for full forward")),
    }
}

#[cfg(not(feature = "xr"))]
fn session(_args: &XrArgs, runtime: mosaic_app::xr::RuntimeInfo) -> Result<XrReport> {
    anyhow::bail!(
        "found {} with {}, but this mosaic was built without VR support: run `cargo run --release --features xr -- xr`",
        runtime.runtime,
        runtime.system
    )
}
