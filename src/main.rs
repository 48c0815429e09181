//! `mosaic`: the NeuroMosaic command line. With no subcommand it opens the explorer.

mod design;
mod sweep_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use mosaic_app::{CaptureRequest, ExplorerOptions, scene::ColorMapping};
use mosaic_core::{Colormap, SearchSpace};

#[derive(Parser, Debug)]
#[command(name = "mosaic", version, about = "NeuroMosaic: fly through the space of neural networks")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    population: PopulationArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the explorer window (the default).
    Explore(ExploreArgs),
    /// Render the sphere offscreen (no window, no display) and save it as PNG.
    Snapshot(SnapshotArgs),
    /// Train a population of networks from a search space into a store.
    Sweep(sweep_cmd::SweepArgs),
    /// Write a stored sweep as a table (one row per run) for other tools.
    Export(sweep_cmd::ExportArgs),
}

/// Which architectures are shown and how they are coloured.
#[derive(Args, Debug, Clone)]
struct PopulationArgs {
    /// Search space file (RON); default: the embedded scenes/spaces/default.ron.
    #[arg(long, global = true, value_name = "FILE")]
    space: Option<PathBuf>,
    /// Number of architectures to sample.
    #[arg(long, global = true, default_value_t = 400, value_parser = clap::value_parser!(u32).range(3..=1_000_000))]
    points: u32,
    /// Seed of the sampler.
    #[arg(long, global = true, default_value_t = 0)]
    seed: u64,
    /// Quantity that colours the points.
    #[arg(long, global = true, value_enum, default_value_t = ColorBy::Parameters)]
    color_by: ColorBy,
    /// Colour map.
    #[arg(long, global = true, value_enum, default_value_t = MapName::Viridis)]
    colormap: MapName,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ColorBy {
    Parameters,
    Depth,
    Width,
    LearningRate,
    Dropout,
    Epochs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum MapName {
    Viridis,
    Plasma,
    Inferno,
}

#[derive(Args, Debug)]
struct ExploreArgs {
    /// Save a screenshot of the window to this PNG after `--frames` frames, then exit.
    #[arg(long, value_name = "PNG")]
    screenshot: Option<PathBuf>,
    /// Frames to render before the screenshot (at least 5: the first frames may not be ready).
    #[arg(long, default_value_t = 10, requires = "screenshot", value_parser = clap::value_parser!(u32).range(5..=100_000))]
    frames: u32,
}

#[derive(Args, Debug)]
struct SnapshotArgs {
    /// Output PNG file.
    #[arg(long, short, value_name = "PNG")]
    out: PathBuf,
    #[arg(long, default_value_t = 1280, value_parser = clap::value_parser!(u32).range(16..=8192))]
    width: u32,
    #[arg(long, default_value_t = 720, value_parser = clap::value_parser!(u32).range(16..=8192))]
    height: u32,
    /// Frames to render before capturing (at least 5: the first frames may not be ready).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(5..=100_000))]
    frames: u32,
    /// Also write where every point landed on screen (JSON), for tests and tools.
    #[arg(long, value_name = "JSON")]
    manifest: Option<PathBuf>,
    /// Leave out the side panel.
    #[arg(long)]
    no_panel: bool,
}

fn main() -> ExitCode {
    init_logging();
    mosaic_app::install_friendly_panic_hook();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    // Quiet by default; RUST_LOG=info (or debug, or per-crate filters) for more.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn run(cli: Cli) -> Result<()> {
    let population = cli.population;
    match cli.command.unwrap_or(Command::Explore(ExploreArgs { screenshot: None, frames: 10 })) {
        Command::Explore(args) => {
            if let Some(path) = &args.screenshot {
                check_writable(path)?;
            }
            let options = explorer_options(&population, true)?;
            mosaic_app::check_display()?;
            mosaic_app::check_gpu()?;
            let capture = args.screenshot.map(|path| CaptureRequest { path, frames: args.frames, manifest: None });
            mosaic_app::run_window(options, capture)
        }
        Command::Snapshot(args) => {
            check_writable(&args.out)?;
            if let Some(m) = &args.manifest {
                check_writable(m)?;
            }
            let options = explorer_options(&population, !args.no_panel)?;
            mosaic_app::check_gpu()?;
            let capture = CaptureRequest { path: args.out, frames: args.frames, manifest: args.manifest };
            mosaic_app::run_offscreen(options, args.width, args.height, capture)
        }
        Command::Sweep(args) => sweep_cmd::sweep(args),
        Command::Export(args) => sweep_cmd::export(args),
    }
}

fn explorer_options(p: &PopulationArgs, panel: bool) -> Result<ExplorerOptions> {
    let space = match &p.space {
        Some(path) => SearchSpace::load(path)?,
        None => SearchSpace::default_space(),
    };
    let scene = design::design_sphere(space, p.points as usize, p.seed)?;
    let column_name = match p.color_by {
        ColorBy::Parameters => design::COLUMNS[0],
        ColorBy::Depth => design::COLUMNS[1],
        ColorBy::Width => design::COLUMNS[2],
        ColorBy::LearningRate => design::COLUMNS[3],
        ColorBy::Dropout => design::COLUMNS[4],
        ColorBy::Epochs => design::COLUMNS[5],
    };
    let column = scene.column_index(column_name).context("colour column missing from the scene")?;
    let colormap = match p.colormap {
        MapName::Viridis => Colormap::Viridis,
        MapName::Plasma => Colormap::Plasma,
        MapName::Inferno => Colormap::Inferno,
    };
    Ok(ExplorerOptions { scene, mapping: ColorMapping { column, colormap }, panel })
}

/// Fails early, before any window opens, if `path` cannot be written.
fn check_writable(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {}: folder {} does not exist; create it or choose another path", path.display(), dir.display());
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot write {}; choose a writable path", path.display()))?;
    if !existed {
        // Leave no empty file behind if the render later fails.
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
