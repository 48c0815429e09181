//! `mosaic`: the NeuroMosaic command line. With no subcommand it opens the explorer.

mod bench_claims;
mod bench_cmd;
mod bench_search;
mod cli;
mod embed_cmd;
mod explore_cmd;
mod import_cmd;
mod landscape_cmd;
mod launch;
mod path_cmd;
mod population;
mod record_cmd;
mod report_cmd;
mod search_cmd;
mod sweep_cmd;
mod worker_cmd;
mod xr_cmd;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::explore_cmd::{ExploreArgs, SnapshotArgs};

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
    /// Train a shared store's sweep beside other workers: claim a run, train it under a lease, repeat.
    Worker(worker_cmd::WorkerArgs),
    /// Manage stores: copy one between backends.
    #[command(subcommand)]
    Store(worker_cmd::StoreCommand),
    /// Write a stored sweep as a table (one row per run) for other tools.
    Export(sweep_cmd::ExportArgs),
    /// Bring a study made elsewhere into a store as a sweep of parameters.
    #[command(subcommand)]
    Import(import_cmd::ImportCommand),
    /// Embed points with PHATE: features or a distance matrix (.npy) in, coordinates (.npy) out.
    Embed(embed_cmd::EmbedArgs),
    /// The architectures between two trained networks, placed on the sphere.
    Path(path_cmd::PathArgs),
    /// The loss surface around a trained network (a store's run or a PyTorch MLP), .npy + JSON out.
    Landscape(landscape_cmd::LandscapeArgs),
    /// Render a tour (camera path and actions, RON) offline to MP4 or PNG frames.
    Record(record_cmd::RecordArgs),
    /// Measure Abel et al.'s findings on a trained sweep: Markdown with tables, SVG charts and PNG renders.
    Report(report_cmd::ReportArgs),
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
    /// Claims per second and latency of many workers claiming one sweep's runs at once (dummy runs).
    Claims(bench_claims::BenchClaimsArgs),
    /// Time a CNN's loss surface from files (benches/landscape_vs_pytorch.py bench --model cnn).
    CnnLandscape(bench_cmd::BenchCnnLandscapeArgs),
}

fn main() -> ExitCode {
    keep_freed_memory();
    init_logging();
    install_friendly_panic_hook();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // A command stopped by Ctrl-C has said where it stopped.
        Err(e) if e.downcast_ref::<cli::Interrupted>().is_some() => ExitCode::from(130),
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
        Command::Explore(args) => explore_cmd::explore(args),
        Command::Snapshot(args) => explore_cmd::snapshot(args),
        Command::Sweep(args) => sweep_cmd::sweep(args),
        Command::Export(args) => sweep_cmd::export(args),
        Command::Worker(args) => worker_cmd::worker(args),
        Command::Store(command) => worker_cmd::store(command),
        Command::Import(command) => import_cmd::import(command),
        Command::Embed(args) => embed_cmd::embed(args),
        Command::Path(args) => path_cmd::path(args),
        Command::Landscape(args) => landscape_cmd::landscape(args),
        Command::Record(args) => record_cmd::run(args),
        Command::Report(args) => report_cmd::report(args),
        Command::Suggest(args) => search_cmd::suggest(args),
        Command::Search(args) => search_cmd::search(args),
        Command::Xr(args) => xr_cmd::xr(args),
        Command::Bench(BenchCommand::Train(args)) => bench_cmd::bench_train(args),
        Command::Bench(BenchCommand::Claims(args)) => bench_claims::bench_claims(args),
        Command::Bench(BenchCommand::Explorer(args)) => bench_cmd::bench_explorer(args),
        Command::Bench(BenchCommand::CnnLandscape(args)) => bench_cmd::bench_cnn_landscape(args),
        Command::Bench(BenchCommand::Table(args)) => bench_search::bench_table(args),
        Command::Bench(BenchCommand::Search(args)) => bench_search::bench_search(args),
    }
}
