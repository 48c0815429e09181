//! What the commands share on the command line: flag types that map onto
//! the compute crate's plain types, Ctrl-C handling, and checking an output
//! path before any work starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use mosaic_compute::live::Layout;

/// How the sphere places networks (see `mosaic_compute::live::Layout`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutArg {
    /// By what they compute: PHATE of their hidden representations (from
    /// `mosaic embed --store`, or computed when the explorer's training
    /// ends); the design layout until then.
    Representation,
    /// By PHATE of their architecture encodings (`mosaic embed --store DIR --mode architecture`).
    Architecture,
    /// By PCA of their encodings: no training or embedding needed.
    Design,
}

impl From<LayoutArg> for Layout {
    fn from(layout: LayoutArg) -> Layout {
        match layout {
            LayoutArg::Representation => Layout::Representation,
            LayoutArg::Architecture => Layout::Architecture,
            LayoutArg::Design => Layout::Design,
        }
    }
}

/// The data a new sweep trains on, as `sweep`, `search` and the explorer take it.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// Data set: a built-in task (spirals, moons, circles, blobs, blobsK,
    /// checkerboard, shapes), an image set of the MNIST family (fashion-mnist,
    /// mnist, kmnist: its four IDX files, plain or .gz, with the official
    /// test split), `csv:PATH[:LABEL_COLUMN]`, or `idx:IMAGES,LABELS`.
    #[arg(long, default_value = "spirals")]
    pub dataset: String,
    /// Folder of fashion-mnist's, mnist's or kmnist's files [default:
    /// /usr/share/datasets/NAME, where Debian's dataset-fashion-mnist puts them].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Examples generated for a built-in task [default: 2000], or a
    /// stratified subset of a data set read from files [default: all].
    #[arg(long, value_parser = clap::value_parser!(u32).range(20..=10_000_000))]
    pub examples: Option<u32>,
}

impl DataArgs {
    /// The data set's name as the sweep stores it, and its examples.
    pub fn load(&self, seed: u64) -> Result<(String, mosaic_train::data::Dataset)> {
        let spec = mosaic_compute::sweeps::dataset_spec(&self.dataset, self.data_dir.as_deref())?;
        let data = mosaic_compute::sweeps::load_dataset(&spec, self.examples.map(|n| n as usize), seed)?;
        Ok((spec, data))
    }
}

/// A command stopped by Ctrl-C after saying where it stopped: the process
/// exits with 130 (as a shell reports an interrupt), printing nothing more.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// `Err(Interrupted)` if `cancel` was set, after the command has reported.
pub fn unless_interrupted(cancel: &AtomicBool) -> Result<()> {
    if cancel.load(Ordering::SeqCst) { Err(Interrupted.into()) } else { Ok(()) }
}

/// A flag the first Ctrl-C sets (after saying `message`), so work can
/// finish cleanly; a second Ctrl-C exits at once.
pub fn cancel_on_ctrl_c(message: &'static str) -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\n{message}");
    });
    cancel
}

/// Fails early, before any window opens, if `path` cannot be written.
pub fn check_writable(path: &Path) -> Result<()> {
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

/// Refuses an output path that would destroy what the command reads or the
/// store keeps: one of `inputs`, the store's database (`mosaic.sqlite` and
/// its journal files), or a run's weights or activations (`runs/**/*.safetensors`).
/// A shared store's run files live elsewhere (its `files=` folder) and are not checked here.
pub fn refuse_overwriting(out: &Path, store: Option<&Path>, inputs: &[&Path]) -> Result<()> {
    let target = resolved(out);
    if let Some(input) = inputs.iter().find(|input| resolved(input) == target) {
        bail!("{} is this command's input {}: write the output elsewhere", out.display(), input.display());
    }
    let Some(root) = store.filter(|s| !mosaic_store::is_postgres(s)).and_then(|s| s.canonicalize().ok()) else { return Ok(()) };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if target.parent() == Some(root.as_path()) && name.starts_with(mosaic_store::DB_FILE) {
        bail!(
            "{} is the database of the store {}: writing there would destroy the store; choose a path outside it",
            out.display(),
            root.display()
        );
    }
    if target.starts_with(root.join("runs")) && name.ends_with(".safetensors") {
        bail!(
            "{} holds a run's weights or activations in the store {}: choose a path outside its runs folder",
            out.display(),
            root.display()
        );
    }
    Ok(())
}

/// `path` with its folder resolved (symbolic links, `..`), whether or not the file exists yet.
fn resolved(path: &Path) -> std::path::PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    path.file_name().map_or(dir.clone(), |name| dir.join(name))
}
