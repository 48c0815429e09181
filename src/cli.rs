//! What the commands share on the command line: flag types that map onto
//! the compute crate's plain types, Ctrl-C handling, and checking an output
//! path before any work starts.

use std::path::Path;
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
