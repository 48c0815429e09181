//! `mosaic explore` (the window, the default) and `mosaic snapshot` (the
//! same view rendered offscreen to PNG).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use mosaic_app::CaptureRequest;

use crate::cli::{check_writable, refuse_overwriting};
use crate::population::{LiveArgs, PopulationArgs, Training, explorer_options, live_explorer_options, open_session};

#[derive(Args, Debug)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub population: PopulationArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Save a screenshot of the window to this PNG after `--frames` frames, then exit.
    #[arg(long, short, value_name = "PNG")]
    pub out: Option<PathBuf>,
    /// Frames to render before the screenshot (at least 5: the first frames may not be ready).
    #[arg(long, default_value_t = 10, requires = "out", value_parser = clap::value_parser!(u32).range(5..=100_000))]
    pub frames: u32,
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub population: PopulationArgs,
    /// Output PNG file.
    #[arg(long, short, value_name = "PNG")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1280, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub width: u32,
    #[arg(long, default_value_t = 720, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub height: u32,
    /// Frames to render before capturing (at least 5: the first frames may not be ready).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(5..=100_000))]
    pub frames: u32,
    /// Also write where every point landed on screen (JSON), for tests and tools.
    #[arg(long, value_name = "JSON")]
    pub manifest: Option<PathBuf>,
    /// Leave out the side panel.
    #[arg(long)]
    pub no_panel: bool,
}

pub fn explore(args: ExploreArgs) -> Result<()> {
    if let Some(path) = &args.out {
        check_writable(path)?;
        refuse_overwriting(path, args.population.store.as_deref(), &[])?;
    }
    // Environment first: nothing is trained or stored for a window that cannot open.
    mosaic_app::check_display()?;
    mosaic_app::check_gpu()?;
    let options = live_explorer_options(&args.population, &args.live)?;
    let capture = args.out.map(|path| CaptureRequest { path, frames: args.frames, manifest: None });
    mosaic_app::run_window(options, capture)
}

pub fn snapshot(args: SnapshotArgs) -> Result<()> {
    check_writable(&args.out)?;
    if let Some(m) = &args.manifest {
        check_writable(m)?;
    }
    let population = &args.population;
    let session = open_session(population);
    // A store named on the command line must open; one from a session
    // is reported in the picture, as the window would show it.
    let lenient = population.store.is_none();
    let store = population.store.clone().or_else(|| session.store());
    for path in std::iter::once(&args.out).chain(&args.manifest) {
        refuse_overwriting(path, store.as_deref(), &[])?;
    }
    let options = explorer_options(population, !args.no_panel, store, Training::Off, session, lenient)?;
    mosaic_app::check_gpu()?;
    let capture = CaptureRequest { path: args.out, frames: args.frames, manifest: args.manifest };
    mosaic_app::run_offscreen(options, args.width, args.height, capture)
}
