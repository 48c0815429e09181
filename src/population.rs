//! What the viewers share (`explore`, `snapshot`, `record`, `xr`): which
//! population they show and how it is coloured, and the scene built from it
//! (a store's sweep, trained in the background or not, or the sampled design).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use mosaic_app::ExplorerOptions;
use mosaic_app::scene::ColorMapping;
use mosaic_app::session::{Session, SessionFile};
use mosaic_compute::embed::{CLASS_SEPARATION, H0_PERSISTENCE, H1_PERSISTENCE, HIERARCHY_CLUSTERS, SPECTRAL_ENTROPY};
use mosaic_compute::live::{self, Layout};
use mosaic_compute::{design, service};
use mosaic_core::{Colormap, SearchSpace};
use mosaic_protocol::{OBJECTIVE, VAL_ACCURACY};

use crate::cli::{DataArgs, LayoutArg};

/// Which architectures are shown and how they are coloured.
#[derive(Args, Debug, Clone)]
pub struct PopulationArgs {
    /// Search space file (RON); default: scenes/spaces/default.ron for the
    /// sampled design; for training, the space that suits the data (see `mosaic sweep --help`).
    #[arg(long, value_name = "FILE")]
    space: Option<PathBuf>,
    /// Number of architectures: sampled, or planned for a new sweep.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(3..=1_000_000))]
    n: u32,
    /// Seed of the sampler (and of the data and training).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Experiment store to show (and, in the explorer, to train into); the
    /// explorer's default is the demo store under ~/.local/share/neuromosaic.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Which of the store's sweeps to show; default: the store's only sweep
    /// (the explorer: the newest; with --new-sweep, the one named after the plan).
    #[arg(long, value_name = "NAME")]
    sweep: Option<String>,
    /// The data a new sweep trains on (see `mosaic sweep --help`).
    #[command(flatten)]
    data: DataArgs,
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
pub enum ColorBy {
    Accuracy,
    /// The objective a study reported (a sweep of parameters: imported from Optuna, or `Run.finish(value=...)`).
    Objective,
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
pub enum MapName {
    Viridis,
    Plasma,
    Inferno,
}

/// What a live view (the window, the headset) trains.
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// Train nothing: show the store's sweep as it is (with --store or a
    /// session's store), else the sampled architectures, touching no store.
    #[arg(long)]
    pub no_train: bool,
    /// Plan and train a new sweep (named by --sweep, or after --n, --seed,
    /// --dataset and --space) even though the store holds others. Without it
    /// a store's sweep is opened as it is and only its unfinished runs train.
    #[arg(long, conflicts_with = "no_train")]
    pub new_sweep: bool,
}

/// The scene a live view shows (the window, the headset): the session's or
/// the demo store, training what is left of its sweep in the background
/// (a store without sweeps gets a new plan); with `no_train`, a named store's
/// sweep as it is, or the sampled design. The view opens whatever the
/// store: its problems show in the panel.
pub fn live_explorer_options(p: &PopulationArgs, live: &LiveArgs) -> Result<ExplorerOptions> {
    let session = open_session(p);
    let store = p.store.clone().or_else(|| session.store());
    if live.no_train {
        return explorer_options(p, true, store, Training::Off, session, true);
    }
    let training = if live.new_sweep { Training::NewSweep } else { Training::Resume };
    explorer_options(p, true, Some(store.unwrap_or_else(live::default_store)), training, session, true)
}

/// Whether a view trains the store's sweep while it shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Training {
    /// Show it as it is (the store must hold it).
    Off,
    /// Train its unfinished runs (a store without sweeps gets a new plan).
    Resume,
    /// Plan a new sweep (or take up the one of that plan) and train it.
    NewSweep,
}

/// The scene a recording shows: as a snapshot would (a store must open), never training.
pub fn explorer_options_for_recording(p: &PopulationArgs) -> Result<ExplorerOptions> {
    let session = open_session(p);
    let store = p.store.clone().or_else(|| session.store());
    explorer_options(p, false, store, Training::Off, session, false)
}

/// The session to restore, where saving writes it, and what went wrong reading it.
pub struct OpenedSession {
    file: SessionFile,
    errors: Vec<String>,
}

impl OpenedSession {
    pub fn store(&self) -> Option<PathBuf> {
        self.file.base.store.as_ref().map(PathBuf::from)
    }
}

/// Reads `--session` (a file not there yet is a new session). A malformed
/// file is reported and left alone: the app starts without it and will
/// not save over it.
pub fn open_session(p: &PopulationArgs) -> OpenedSession {
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
pub fn explorer_options(
    p: &PopulationArgs,
    panel: bool,
    store: Option<PathBuf>,
    training: Training,
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
    match population_options(p, panel, store.clone(), training, &file.base) {
        Ok((mut options, sweep)) => {
            // Saving keeps what this session showed; a shared store's password
            // stays out of the file (reopening reads it from PGPASSWORD or ~/.pgpass).
            if let Some(store) = &store {
                file.base.store = Some(mosaic_store::split_password(store).0);
                file.base.sweep = sweep;
            }
            options.errors = errors;
            options.session = file;
            Ok(options)
        }
        Err(e) if lenient && store.is_some() => {
            errors.push(format!("{e:#}. Showing the sampled design space instead"));
            let (mut options, _) = population_options(p, panel, None, Training::Off, &file.base)?;
            // The session's store stays in the session: saving must not forget it.
            options.errors = errors;
            options.session = file;
            Ok(options)
        }
        Err(e) => Err(e),
    }
}

/// The options, and the name of the store's sweep shown (if any).
fn population_options(
    p: &PopulationArgs,
    panel: bool,
    store: Option<PathBuf>,
    training: Training,
    session: &Session,
) -> Result<(ExplorerOptions, Option<String>)> {
    let space = p.space.as_ref().map(|path| SearchSpace::load(path)).transpose()?;
    let layout = match (p.layout, session.layout.as_deref()) {
        (Some(layout), _) => Layout::from(layout),
        (None, Some(name)) => Layout::from_name(name)
            .ok_or_else(|| anyhow::anyhow!("the session's layout `{name}` is not one of representation, architecture, design"))?,
        (None, None) => Layout::Representation,
    };
    let (scene, feed, requests, select, path_to, sweep) = match store {
        Some(store) => {
            let population = live::Population {
                store,
                space,
                sweep: p.sweep.clone().or_else(|| session.sweep.clone()),
                dataset: mosaic_compute::sweeps::dataset_spec(&p.data.dataset, p.data.data_dir.as_deref())?,
                examples: p.data.examples.map(|n| n as usize),
                n: p.n as usize,
                seed: p.seed,
                layout,
                new_sweep: training == Training::NewSweep,
            };
            let opened = live::open(population, training != Training::Off)?;
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
            (opened.scene, Some(opened.feed), Some(opened.requests), select, path_to, Some(opened.sweep))
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
            (scene, Some(rx), Some(requests), select, path_to, None)
        }
    };
    let has_accuracy = scene.column_index(VAL_ACCURACY).is_some();
    // A representation feature's column, or the command that computes it.
    let feature = |name: &'static str, flag: &str| match scene.column_index(name) {
        Some(_) => Ok(name),
        None => Err(anyhow::anyhow!("--color-by {flag} needs the store's features: run `mosaic embed --store DIR` first")),
    };
    let has_objective = scene.column_index(OBJECTIVE).is_some();
    let default = if has_accuracy {
        ColorBy::Accuracy
    } else if has_objective {
        ColorBy::Objective
    } else {
        ColorBy::Parameters
    };
    let column_name = match p.color_by.unwrap_or(default) {
        ColorBy::Objective if !has_objective => {
            bail!("--color-by objective needs a sweep of parameters whose runs have values (mosaic import optuna)")
        }
        ColorBy::Objective => OBJECTIVE,
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
    // A sweep of parameters has none of the architecture columns: its first column stands in.
    let column = match scene.column_index(column_name) {
        Some(c) => c,
        None if p.color_by.is_none() && !scene.columns.is_empty() => 0,
        None => bail!(
            "--color-by: this sweep has no `{column_name}` column; it has {}",
            scene.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    let colormap = match p.colormap {
        None | Some(MapName::Viridis) => Colormap::Viridis,
        Some(MapName::Plasma) => Colormap::Plasma,
        Some(MapName::Inferno) => Colormap::Inferno,
    };
    let options = ExplorerOptions {
        scene,
        mapping: ColorMapping::new(column, colormap),
        panel,
        feed,
        requests,
        select,
        path_to,
        suggest: p.suggest.map(|n| n as usize),
        session: SessionFile { base: Session::default(), path: None },
        errors: Vec::new(),
    };
    Ok((options, sweep))
}
