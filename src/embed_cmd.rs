//! `mosaic embed`: PHATE on plain arrays, for interchange with the Python
//! world (`np.save` in, `np.load` out).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use faer::Mat;
use mosaic_core::{Encoder, RunStatus};
use mosaic_manifold::distance::{operator_distances, representation_operator};
use mosaic_manifold::features::class_separation;
use mosaic_manifold::npy::{self, Array2};
use mosaic_manifold::phate::{PhateConfig, phate, phate_from_distances};
use mosaic_store::RunRecord;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["features", "distances", "store"])))]
pub struct EmbedArgs {
    /// Embed the trained networks of a store's sweep and record the result there.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// With --store: which sweep (default: the only one).
    #[arg(long, requires = "store")]
    pub sweep: Option<String>,
    /// With --store: place networks by what they compute (their hidden
    /// representations of the probe set) or by their architecture encodings.
    #[arg(long, value_enum, default_value_t = Mode::Representation)]
    pub mode: Mode,
    /// With --store: probe points used for representation distances (the
    /// first ones of the sweep's 500-point probe set).
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(10..=500))]
    pub probe_points: u32,
    /// n x d feature matrix (.npy, float32 or float64).
    #[arg(long, value_name = "NPY")]
    pub features: Option<PathBuf>,
    /// n x n distance matrix (.npy): square, non-negative, zero diagonal.
    #[arg(long, value_name = "NPY")]
    pub distances: Option<PathBuf>,
    /// Where to write the n x dims embedding (.npy, float64); required for .npy inputs.
    #[arg(long, short, value_name = "NPY", required_unless_present = "store")]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub dims: u32,
    /// Neighbour that sets each point's kernel bandwidth.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub knn: u32,
    /// Alpha-decay exponent of the kernel.
    #[arg(long, default_value_t = 40.0)]
    pub decay: f64,
    /// Diffusion time: `auto` (knee of the von Neumann entropy) or a number.
    #[arg(long, default_value = "auto")]
    pub t: String,
    /// Above this many points, diffuse between this many landmarks (0: never).
    #[arg(long, default_value_t = 2000)]
    pub landmarks: usize,
    /// Seed of the landmark clustering (the only randomness).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the time each step took.
    #[arg(long)]
    pub timings: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Representation,
    Architecture,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Representation => "representation",
            Mode::Architecture => "architecture",
        }
    }
}

pub fn embed(args: EmbedArgs) -> Result<()> {
    let t = match args.t.as_str() {
        "auto" => None,
        s => Some(
            s.parse::<usize>()
                .ok()
                .filter(|t| (1..=mosaic_manifold::phate::MAX_T).contains(t))
                .with_context(|| format!("--t must be `auto` or a whole number in 1..={}, got `{s}`", mosaic_manifold::phate::MAX_T))?,
        ),
    };
    if !(args.decay > 0.0 && args.decay.is_finite()) {
        bail!("--decay must be a positive number, got {}", args.decay);
    }
    let config = PhateConfig {
        knn: args.knn as usize,
        decay: args.decay,
        t,
        dims: args.dims as usize,
        landmarks: args.landmarks,
        seed: args.seed,
        ..PhateConfig::default()
    };
    let started = std::time::Instant::now();
    let result = match (&args.features, &args.distances) {
        (Some(path), _) => {
            let x = npy::read(path)?;
            phate(&x.to_rows(), &config).with_context(|| format!("embedding {}", path.display()))?
        }
        (_, Some(path)) => {
            let d = npy::read(path)?;
            if d.rows != d.cols {
                bail!("{}: a distance matrix must be square, got {} x {}", path.display(), d.rows, d.cols);
            }
            let m = Mat::from_fn(d.rows, d.cols, |i, j| d.data[i * d.cols + j]);
            phate_from_distances(&m, &config).with_context(|| format!("embedding {}", path.display()))?
        }
        (None, None) => return embed_store(&args, &config),
    };
    let rows = result.embedding.len();
    // Fewer points than dimensions give fewer coordinates than asked.
    let cols = result.embedding.first().map_or(0, Vec::len);
    let out = Array2 { rows, cols, data: result.embedding.iter().flatten().copied().collect() };
    let path = args.out.as_ref().context("--out is required")?;
    std::fs::write(path, npy::to_bytes(&out)).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "t = {}{} · {rows} points{} -> {} ({:.2} s)",
        result.t,
        if t.is_none() { " (auto)" } else { "" },
        landmark_note(&result),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    if args.timings {
        print_timings(&result);
    }
    Ok(())
}

/// Embeds a stored sweep's trained networks and records the coordinates in the store.
fn embed_store(args: &EmbedArgs, config: &PhateConfig) -> Result<()> {
    let dir = args.store.as_ref().expect("checked by clap");
    if config.dims != 3 {
        bail!("--dims must be 3 with --store: the store keeps 3-D embeddings for the sphere");
    }
    let mut store = crate::sweep_cmd::open_existing_store(dir)?;
    let sweep = crate::sweep_cmd::pick_sweep(&store, args.sweep.as_deref())?;
    let started = std::time::Instant::now();
    let runs: Vec<_> = store.runs(sweep.id)?.into_iter().filter(|r| r.status == RunStatus::Done).collect();
    let layers = last_layers(&runs, dir);
    // Features of each representation, whatever the layout mode.
    let separation: Vec<(i64, f64)> = layers
        .iter()
        .filter_map(|l| Some((l.run, class_separation(&l.data, l.labels.as_ref()?, l.width).ok()?)))
        .collect();
    store.save_feature(sweep.id, CLASS_SEPARATION, &separation)?;
    let (ids, distances, skipped) = match args.mode {
        Mode::Representation => representation_distances(&layers, runs.len(), args.probe_points as usize)?,
        Mode::Architecture => {
            let encoder = Encoder::new(sweep.space.clone());
            let d = Mat::from_fn(runs.len(), runs.len(), |i, j| encoder.distance(&runs[i].spec, &runs[j].spec));
            (runs.iter().map(|r| r.id).collect(), d, 0)
        }
    };
    if ids.len() < 4 {
        bail!("sweep `{}` has {} trained networks to embed; PHATE needs at least 4", sweep.name, ids.len());
    }
    let result = phate_from_distances(&distances, config)?;
    let coords: Vec<(i64, [f64; 3])> = ids.iter().zip(&result.embedding).map(|(id, y)| (*id, [y[0], y[1], y[2]])).collect();
    store.save_embedding(sweep.id, args.mode.name(), result.t, &coords)?;
    println!(
        "t = {}{} · {} networks of `{}` embedded by {}{} ({:.2} s)",
        result.t,
        if config.t.is_none() { " (auto)" } else { "" },
        ids.len(),
        sweep.name,
        args.mode.name(),
        if skipped > 0 { format!(", {skipped} skipped (no usable activations)") } else { String::new() },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Name of the class-separation feature in the store (and the explorer).
pub const CLASS_SEPARATION: &str = "class separation";

/// One run's last hidden layer on the probe set.
struct LastLayer {
    run: i64,
    points: usize,
    width: usize,
    data: Vec<f32>,
    labels: Option<Vec<u32>>,
}

/// The last hidden layer (the highest `layerN`) of every run whose
/// activations file is readable.
fn last_layers(runs: &[RunRecord], store: &std::path::Path) -> Vec<LastLayer> {
    runs.iter()
        .filter_map(|run| {
            let path = mosaic_train::sweep::run_dir(store, run.id).join("activations.safetensors");
            let mut arrays = mosaic_train::checkpoint::read_safetensors(&path).ok()?;
            let labels = arrays.remove(mosaic_train::train::PROBE_LABELS).map(|(_, v)| v.iter().map(|&l| l as u32).collect());
            let last = arrays.keys().filter_map(|k| k.strip_prefix("layer")?.parse::<usize>().ok()).max()?;
            let (shape, data) = arrays.remove(&format!("layer{last}"))?;
            let [points, width] = shape[..] else { return None };
            Some(LastLayer { run: run.id, points, width, data, labels })
        })
        .collect()
}

/// Network distances from each run's last hidden layer on the first
/// `probe` points of the shared probe set; runs without usable activations
/// are skipped and counted.
fn representation_distances(layers: &[LastLayer], runs: usize, probe: usize) -> Result<(Vec<i64>, Mat<f64>, usize)> {
    let mut ids = Vec::new();
    let mut operators = Vec::new();
    for l in layers {
        let points = l.points.min(probe);
        if let Ok(op) = representation_operator(&l.data[..points * l.width], points, l.width) {
            ids.push(l.run);
            operators.push(op);
        }
    }
    // Runs trained on the same probe set have operators of one size.
    let size = operators.first().map_or(0, Vec::len);
    if operators.iter().any(|o| o.len() != size) {
        bail!("the sweep's runs have probe sets of different sizes; retrain them with one data set");
    }
    let skipped = runs - ids.len();
    Ok((ids, operator_distances(&operators)?, skipped))
}

fn print_timings(result: &mosaic_manifold::phate::Phate) {
    for (step, seconds) in &result.timings {
        println!("  {step:<24} {seconds:>8.3} s");
    }
}

/// ", through N landmarks" when landmarks were used.
fn landmark_note(result: &mosaic_manifold::phate::Phate) -> String {
    match &result.landmark_of {
        Some(l) => format!(" through {} landmarks", l.iter().max().map_or(0, |m| m + 1)),
        None => String::new(),
    }
}
