//! `mosaic`: the NeuroMosaic command line. With no subcommand it opens the explorer.

mod bench_cmd;
mod bench_search;
mod cli;
mod embed_cmd;
mod landscape_cmd;
mod path_cmd;
mod record_cmd;
mod search_cmd;
mod sweep_cmd;
mod xr_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use mosaic_app::session::{Session, SessionFile};
use mosaic_app::{CaptureRequest, ExplorerOptions, scene::ColorMapping};
use mosaic_compute::embed::{CLASS_SEPARATION, H0_PERSISTENCE, H1_PERSISTENCE, HIERARCHY_CLUSTERS, SPECTRAL_ENTROPY};
use mosaic_compute::live::{self, Layout};
use mosaic_compute::sweeps::DEFAULT_EXAMPLES;
use mosaic_compute::{design, service};
use mosaic_core::{Colormap, SearchSpace};
use mosaic_protocol::VAL_ACCURACY;

use crate::cli::LayoutArg;

#[derive(Parser, Debug)]
#[command(name = "mosaic", version, about = "NeuroMosaic: fly through the space of neural networks")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand: the explorer's options.
    #[command(flatten)]
    explore: ExploreArgs,
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
    /// Embed points with PHATE: features or a distance matrix (.npy) in, coordinates (.npy) out.
    Embed(embed_cmd::EmbedArgs),
    /// The architectures between two trained networks, placed on the sphere.
    Path(path_cmd::PathArgs),
    /// The loss surface around a trained network (a store's run or a PyTorch MLP), .npy + JSON out.
    Landscape(landscape_cmd::LandscapeArgs),
    /// Render a tour (camera path and actions, RON) offline to MP4 or PNG frames.
    Record(record_cmd::RecordArgs),
    /// Suggest the next networks to train from a sweep's runs (Bayesian optimisation); stored for the explorer.
    Suggest(search_cmd::SuggestArgs),
    /// Run the loop suggest -> train -> learn for a budget of networks.
    Search(search_cmd::SearchArgs),
    /// Explore the sphere in a VR headset (OpenXR; build with --features xr).
    Xr(xr_cmd::XrArgs),
    /// Benchmarks (see benches/ for the scripts that compare with reference tools).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Epoch time of the reference MLP; writes the data for the PyTorch side.
    Train(bench_cmd::BenchTrainArgs),
    /// Frame times of the sphere view offscreen (one mesh vs a mesh per point; idle or while a sweep trains).
    Explorer(bench_cmd::BenchExplorerArgs),
    /// Build the search benchmark's table (spec -> accuracy per task) from sweeps of the same specs.
    Table(bench_search::BenchTableArgs),
    /// Replay search strategies on the table over many seeds (no training).
    Search(bench_search::BenchSearchArgs),
    /// Time a CNN's loss surface from files (benches/landscape_vs_pytorch.py bench --model cnn).
    CnnLandscape(bench_cmd::BenchCnnLandscapeArgs),
}

/// Which architectures are shown and how they are coloured.
#[derive(Args, Debug, Clone)]
struct PopulationArgs {
    /// Search space file (RON); default: scenes/spaces/default.ron for the
    /// sampled design; for training, the space that suits the data (see `mosaic sweep --help`).
    #[arg(long, value_name = "FILE")]
    space: Option<PathBuf>,
    /// Number of architectures (networks to train, when training).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(3..=1_000_000))]
    n: u32,
    /// Seed of the sampler (and of the data and training).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Experiment store to show (and, in the explorer, to train into); the
    /// explorer's default is the demo store under ~/.local/share/neuromosaic.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Which of the store's sweeps to show; default: the store's only sweep
    /// (or, when the explorer trains, the one named after the plan).
    #[arg(long, value_name = "NAME")]
    sweep: Option<String>,
    /// Data set the networks learn (see `mosaic sweep --help`).
    #[arg(long, default_value = "spirals")]
    dataset: String,
    /// Examples generated for a built-in data set.
    #[arg(long, default_value_t = DEFAULT_EXAMPLES, value_parser = clap::value_parser!(u32).range(20..=10_000_000))]
    examples: u32,
    /// Quantity that colours the points; default: validation accuracy when
    /// networks are trained, parameter count otherwise.
    #[arg(long, value_enum)]
    color_by: Option<ColorBy>,
    /// Colour map [default: viridis].
    #[arg(long, value_enum)]
    colormap: Option<MapName>,
    /// How networks are placed on the sphere (with a store) [default: representation].
    #[arg(long, value_enum)]
    layout: Option<LayoutArg>,
    /// Select a network at start, showing its neighbours, details and loss
    /// landscape: a store's run id (`mosaic export` lists them), or the
    /// number of a sampled architecture (#N).
    #[arg(long, value_name = "ID")]
    select: Option<i64>,
    /// With --select and a store placed by an embedding: also show the path
    /// of architectures from the selection to this run (Shift+click in the app).
    #[arg(long, value_name = "ID", requires = "select")]
    path_to: Option<i64>,
    /// Ask the meta-learner for N suggestions at start: ghost points on the
    /// sphere (a store's view; the panel's "Suggest next networks" does the same).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    suggest: Option<u32>,
    /// Session file (RON) to restore: store, mappings, filters, search,
    /// selection, camera, bookmarks. Saving (Ctrl+S) writes it; a file that
    /// does not exist yet starts a new session. Flags given here win over it.
    #[arg(long, value_name = "RON")]
    session: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ColorBy {
    Accuracy,
    /// How well each network's last hidden layer separates the classes (after `mosaic embed --store`).
    ClassSeparation,
    /// Diffusion spectral entropy of the last hidden layer (after `mosaic embed --store`).
    SpectralEntropy,
    /// Total H0 persistence of the last hidden layer (after `mosaic embed --store`).
    H0Persistence,
    /// Total H1 (loop) persistence of the last hidden layer (after `mosaic embed --store`).
    H1Persistence,
    /// Clusters at the most distinct level of the last hidden layer's hierarchy (after `mosaic embed --store`).
    HierarchyClusters,
    Parameters,
    Depth,
    Width,
    LearningRate,
    Dropout,
    Epochs,
    /// FLOPs of one forward pass on one sample (log10).
    Flops,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum MapName {
    Viridis,
    Plasma,
    Inferno,
}

#[derive(Args, Debug)]
struct ExploreArgs {
    #[command(flatten)]
    population: PopulationArgs,
    /// Show the sampled architectures only; train nothing, touch no store.
    #[arg(long)]
    no_train: bool,
    /// Save a screenshot of the window to this PNG after `--frames` frames, then exit.
    #[arg(long, short, value_name = "PNG")]
    out: Option<PathBuf>,
    /// Frames to render before the screenshot (at least 5: the first frames may not be ready).
    #[arg(long, default_value_t = 10, requires = "out", value_parser = clap::value_parser!(u32).range(5..=100_000))]
    frames: u32,
}

#[derive(Args, Debug)]
struct SnapshotArgs {
    #[command(flatten)]
    population: PopulationArgs,
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
    keep_freed_memory();
    init_logging();
    install_friendly_panic_hook();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Large temporary matrices (PHATE's n x n products, a landscape's grids)
/// are freed and allocated again many times. By default glibc maps each
/// fresh and unmaps it on free, so every first touch of every page faults
/// again: about a tenth of `mosaic embed`'s time on a 2,000-point set here.
/// Kept in the heap below 256 MiB instead, freed blocks are reused.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator thresholds; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

/// Panics are bugs or broken environments; either way the user gets one line
/// with the cause and a hint, not a backtrace. Panics inside a sweep's runs
/// are caught and recorded with the run, so they print nothing here.
/// `MOSAIC_BACKTRACE=1` restores Rust's default report.
fn install_friendly_panic_hook() {
    if std::env::var_os("MOSAIC_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        if mosaic_train::sweep::in_guarded_run() {
            return;
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let hint = if message.contains("XOpenDisplay") || message.contains("event loop") {
            "no usable display: run in a desktop session or under `xvfb-run -a mosaic`"
        } else if message.contains("GPU") || message.contains("adapter") {
            "no usable graphics device: install Vulkan drivers (Debian: apt-get install mesa-vulkan-drivers libvulkan1)"
        } else {
            "this is a bug: please report it with MOSAIC_BACKTRACE=1 output"
        };
        eprintln!("error: internal failure: {message}{location}. Hint: {hint}");
    }));
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    // Quiet by default; RUST_LOG=info (or debug, or per-crate filters) for more.
    // bevy_egui's note that software Vulkan lacks texture binding arrays is
    // harmless (it falls back) and would otherwise print on every run.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,bevy_egui::render=error"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn run(cli: Cli) -> Result<()> {
    match cli.command.unwrap_or(Command::Explore(cli.explore)) {
        Command::Explore(args) => {
            if let Some(path) = &args.out {
                check_writable(path)?;
            }
            // Environment first: nothing is trained or stored for a window that cannot open.
            mosaic_app::check_display()?;
            mosaic_app::check_gpu()?;
            let options = live_explorer_options(&args.population, args.no_train)?;
            let capture = args.out.map(|path| CaptureRequest { path, frames: args.frames, manifest: None });
            mosaic_app::run_window(options, capture)
        }
        Command::Snapshot(args) => {
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
            let options = explorer_options(population, !args.no_panel, store, false, session, lenient)?;
            mosaic_app::check_gpu()?;
            let capture = CaptureRequest { path: args.out, frames: args.frames, manifest: args.manifest };
            mosaic_app::run_offscreen(options, args.width, args.height, capture)
        }
        Command::Sweep(args) => sweep_cmd::sweep(args),
        Command::Export(args) => sweep_cmd::export(args),
        Command::Embed(args) => embed_cmd::embed(args),
        Command::Path(args) => path_cmd::path(args),
        Command::Landscape(args) => landscape_cmd::landscape(args),
        Command::Record(args) => record_cmd::run(args),
        Command::Suggest(args) => search_cmd::suggest(args),
        Command::Search(args) => search_cmd::search(args),
        Command::Xr(args) => xr_cmd::xr(args),
        Command::Bench(BenchCommand::Train(args)) => bench_cmd::bench_train(args),
        Command::Bench(BenchCommand::Explorer(args)) => bench_cmd::bench_explorer(args),
        Command::Bench(BenchCommand::CnnLandscape(args)) => bench_cmd::bench_cnn_landscape(args),
        Command::Bench(BenchCommand::Table(args)) => bench_search::bench_table(args),
        Command::Bench(BenchCommand::Search(args)) => bench_search::bench_search(args),
    }
}

/// The scene a live view shows (the window, the headset): the session's or
/// the demo store, trained in the background unless `no_train` (then the
/// sampled design). The view opens whatever the store: its problems show in the panel.
fn live_explorer_options(p: &PopulationArgs, no_train: bool) -> Result<ExplorerOptions> {
    let session = open_session(p);
    let store = p.store.clone().or_else(|| session.store());
    let trained = (!no_train).then(|| store.unwrap_or_else(live::default_store));
    explorer_options(p, true, trained, true, session, true)
}

/// The scene a recording shows: as a snapshot would (a store must open), never training.
fn explorer_options_for_recording(p: &PopulationArgs) -> Result<ExplorerOptions> {
    let session = open_session(p);
    let store = p.store.clone().or_else(|| session.store());
    explorer_options(p, false, store, false, session, false)
}

/// The session to restore, where saving writes it, and what went wrong reading it.
struct OpenedSession {
    file: SessionFile,
    errors: Vec<String>,
}

impl OpenedSession {
    fn store(&self) -> Option<PathBuf> {
        self.file.base.store.as_ref().map(PathBuf::from)
    }
}

/// Reads `--session` (a file not there yet is a new session). A malformed
/// file is reported and left alone: the app starts without it and will
/// not save over it.
fn open_session(p: &PopulationArgs) -> OpenedSession {
    let Some(path) = &p.session else {
        return OpenedSession { file: SessionFile { base: Session::default(), path: Some(live::default_session()) }, errors: vec![] };
    };
    if !path.exists() {
        return OpenedSession { file: SessionFile { base: Session::default(), path: Some(path.clone()) }, errors: vec![] };
    }
    match Session::load(path) {
        Ok(base) => OpenedSession { file: SessionFile { base, path: Some(path.clone()) }, errors: vec![] },
        Err(e) => OpenedSession {
            file: SessionFile { base: Session::default(), path: None },
            errors: vec![format!("{e}. Started without it; fix the file, or save this session elsewhere with --session OTHER.ron")],
        },
    }
}

/// The scene to show: the sampled design, or a store's sweep (trained in the
/// background when `train` is set and runs are left). With `lenient`, a
/// store that fails to open is reported in the panel over the sampled design.
fn explorer_options(
    p: &PopulationArgs,
    panel: bool,
    store: Option<PathBuf>,
    train: bool,
    session: OpenedSession,
    lenient: bool,
) -> Result<ExplorerOptions> {
    let OpenedSession { mut file, mut errors } = session;
    // Flags given on the command line win over the session's.
    if p.color_by.is_some() {
        file.base.color_by = None;
    }
    if p.colormap.is_some() {
        file.base.colormap = None;
    }
    match population_options(p, panel, store.clone(), train, &file.base) {
        Ok(mut options) => {
            // Saving keeps what this session showed.
            if let Some(store) = &store {
                file.base.store = Some(store.display().to_string());
            }
            options.errors = errors;
            options.session = file;
            Ok(options)
        }
        Err(e) if lenient && store.is_some() => {
            errors.push(format!("{e:#}. Showing the sampled design space instead"));
            let mut options = population_options(p, panel, None, false, &file.base)?;
            // The session's store stays in the session: saving must not forget it.
            options.errors = errors;
            options.session = file;
            Ok(options)
        }
        Err(e) => Err(e),
    }
}

fn population_options(p: &PopulationArgs, panel: bool, store: Option<PathBuf>, train: bool, session: &Session) -> Result<ExplorerOptions> {
    let space = p.space.as_ref().map(|path| SearchSpace::load(path)).transpose()?;
    let layout = match (p.layout, session.layout.as_deref()) {
        (Some(layout), _) => Layout::from(layout),
        (None, Some(name)) => Layout::from_name(name)
            .ok_or_else(|| anyhow::anyhow!("the session's layout `{name}` is not one of representation, architecture, design"))?,
        (None, None) => Layout::Representation,
    };
    let (scene, feed, requests, select, path_to) = match store {
        Some(store) => {
            let population = live::Population {
                store,
                space,
                sweep: p.sweep.clone().or_else(|| session.sweep.clone()),
                dataset: p.dataset.clone(),
                examples: p.examples as usize,
                n: p.n as usize,
                seed: p.seed,
                layout,
            };
            let opened = live::open(population, train)?;
            if let Some(trainer) = &opened.trainer {
                tracing::info!("background training: {:?}", trainer.state());
            }
            let index_of = |flag: &str, id: i64| {
                opened.runs.iter().position(|&r| r == id).with_context(|| {
                    let (lo, hi) = (opened.runs.iter().min().unwrap_or(&0), opened.runs.iter().max().unwrap_or(&0));
                    format!("--{flag} {id}: the sweep has no run {id}; its runs are {lo}..={hi}")
                })
            };
            let select = p.select.map(|id| index_of("select", id)).transpose()?;
            let path_to = p.path_to.map(|id| index_of("path-to", id)).transpose()?;
            (opened.scene, Some(opened.feed), Some(opened.requests), select, path_to)
        }
        None => {
            let scene = design::design_sphere(space.unwrap_or_else(SearchSpace::default_space), p.n as usize, p.seed)?;
            // No store: the service still computes what the view asks
            // (correlations), and says why sampled designs have no landscape.
            let (tx, rx) = crossbeam_channel::unbounded();
            let requests = service::spawn(None, None, tx)?;
            let index_of = |flag: &str, n: i64| match usize::try_from(n) {
                Ok(i) if i < scene.len() => Ok(i),
                _ => Err(anyhow::anyhow!("--{flag} {n}: the sampled architectures are numbered 0..{}", scene.len())),
            };
            let select = p.select.map(|n| index_of("select", n)).transpose()?;
            let path_to = p.path_to.map(|n| index_of("path-to", n)).transpose()?;
            (scene, Some(rx), Some(requests), select, path_to)
        }
    };
    let has_accuracy = scene.column_index(VAL_ACCURACY).is_some();
    // A representation feature's column, or the command that computes it.
    let feature = |name: &'static str, flag: &str| match scene.column_index(name) {
        Some(_) => Ok(name),
        None => Err(anyhow::anyhow!("--color-by {flag} needs the store's features: run `mosaic embed --store DIR` first")),
    };
    let column_name = match p.color_by.unwrap_or(if has_accuracy { ColorBy::Accuracy } else { ColorBy::Parameters }) {
        ColorBy::Accuracy if !has_accuracy => {
            bail!("--color-by accuracy needs trained networks: pass --store with a sweep (or drop --no-train)")
        }
        ColorBy::Accuracy => VAL_ACCURACY,
        ColorBy::ClassSeparation => feature(CLASS_SEPARATION, "class-separation")?,
        ColorBy::SpectralEntropy => feature(SPECTRAL_ENTROPY, "spectral-entropy")?,
        ColorBy::H0Persistence => feature(H0_PERSISTENCE, "h0-persistence")?,
        ColorBy::H1Persistence => feature(H1_PERSISTENCE, "h1-persistence")?,
        ColorBy::HierarchyClusters => feature(HIERARCHY_CLUSTERS, "hierarchy-clusters")?,
        ColorBy::Parameters => design::COLUMNS[0],
        ColorBy::Depth => design::COLUMNS[1],
        ColorBy::Width => design::COLUMNS[2],
        ColorBy::LearningRate => design::COLUMNS[3],
        ColorBy::Dropout => design::COLUMNS[4],
        ColorBy::Epochs => design::COLUMNS[5],
        ColorBy::Flops => design::COLUMNS[7],
    };
    let column = scene.column_index(column_name).context("colour column missing from the scene")?;
    let colormap = match p.colormap {
        None | Some(MapName::Viridis) => Colormap::Viridis,
        Some(MapName::Plasma) => Colormap::Plasma,
        Some(MapName::Inferno) => Colormap::Inferno,
    };
    Ok(ExplorerOptions {
        scene,
        mapping: ColorMapping { column, colormap },
        panel,
        feed,
        requests,
        select,
        path_to,
        suggest: p.suggest.map(|n| n as usize),
        session: SessionFile { base: Session::default(), path: None },
        errors: Vec::new(),
    })
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
