//! `mosaic embed`: PHATE on plain arrays, for interchange with the Python
//! world (`np.save` in, `np.load` out).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use faer::Mat;
use mosaic_compute::embed::{SweepEmbedding, embed_sweep};
use mosaic_manifold::npy::{self, Array2};
use mosaic_manifold::phate::{PhateConfig, phate, phate_from_distances};
use mosaic_store::EmbeddingKind;

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
    #[arg(long, value_enum, default_value_t = ModeArg::Representation)]
    pub mode: ModeArg,
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
    /// Diffusion time: `auto` (knee of the von Neumann entropy curve of the
    /// diffusion operator, P or, above --landmarks points, the landmark
    /// operator: from every singular value up to 1,000 points; above, an
    /// estimated curve whose knee is kept only when it beats every other
    /// break by 3 jackknife standard errors, else the exact curve up to
    /// 4,000 points (so always with the default 2,000 landmarks) and more
    /// probes beyond), `exact` (the curve from every singular value at any
    /// size, as the Python package computes it; slower above 4,000 points)
    /// or a number.
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
    /// With --store: embed every network afresh instead of placing new ones
    /// beside an existing embedding (which moves the ones already placed).
    #[arg(long, requires = "store")]
    pub refit: bool,
}

/// What places the networks: what they compute, or their architecture encodings.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    Representation,
    Architecture,
}

impl From<ModeArg> for EmbeddingKind {
    fn from(mode: ModeArg) -> EmbeddingKind {
        match mode {
            ModeArg::Representation => EmbeddingKind::Representation,
            ModeArg::Architecture => EmbeddingKind::Architecture,
        }
    }
}

pub fn embed(args: EmbedArgs) -> Result<()> {
    let t = match args.t.as_str() {
        "auto" | "exact" => None,
        s => Some(s.parse::<usize>().ok().filter(|t| (1..=mosaic_manifold::phate::MAX_T).contains(t)).with_context(|| {
            format!("--t must be `auto`, `exact` or a whole number in 1..={}, got `{s}`", mosaic_manifold::phate::MAX_T)
        })?),
    };
    if !(args.decay > 0.0 && args.decay.is_finite()) {
        bail!("--decay must be a positive number, got {}", args.decay);
    }
    let config = PhateConfig {
        knn: args.knn as usize,
        decay: args.decay,
        t,
        exact_entropy: args.t == "exact",
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
    let inputs: Vec<&std::path::Path> = args.features.iter().chain(&args.distances).map(|p| p.as_path()).collect();
    crate::cli::refuse_overwriting(path, None, &inputs)?;
    mosaic_core::fs::write_atomic(path, &npy::to_bytes(&out)).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "t = {}{} · {rows} points{} -> {} ({:.2} s)",
        result.t,
        if t.is_none() { format!(" ({})", args.t) } else { String::new() },
        landmark_note(&result),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    if args.timings {
        result.timings.iter().for_each(|(step, seconds)| println!("  {step:<32} {seconds:>8.3} s"));
    }
    Ok(())
}

/// Embeds a stored sweep's trained networks and records the coordinates in the store.
fn embed_store(args: &EmbedArgs, config: &PhateConfig) -> Result<()> {
    let dir = args.store.as_ref().expect("checked by clap");
    if config.dims != 3 {
        bail!("--dims must be 3 with --store: the store keeps 3-D embeddings for the sphere");
    }
    let mut store = mosaic_store::open_existing(dir)?;
    let sweep = store.sweep(args.sweep.as_deref())?;
    let started = std::time::Instant::now();
    let mode = EmbeddingKind::from(args.mode);
    let request = SweepEmbedding { mode, config: config.clone(), probe_points: args.probe_points as usize, refit: args.refit };
    let report = embed_sweep(&mut *store, &sweep, &request)?;
    let how = match report.placed {
        0 => format!("{} networks of `{}` embedded by {}", report.coords.len(), sweep.name, mode.as_str()),
        placed => format!(
            "{placed} new networks of `{}` placed beside the {} embedded by {}, which keep their places (--refit re-embeds all)",
            sweep.name,
            report.coords.len() - placed,
            mode.as_str()
        ),
    };
    println!(
        "t = {}{} · {how}{} ({:.2} s)",
        report.t,
        if config.t.is_none() && report.placed == 0 { " (auto)" } else { "" },
        if report.skipped > 0 { format!(", {} skipped (no usable activations)", report.skipped) } else { String::new() },
        started.elapsed().as_secs_f64()
    );
    print!("{}", report.cluster_table);
    Ok(())
}

/// ", through N landmarks" when landmarks were used.
fn landmark_note(result: &mosaic_manifold::phate::Phate) -> String {
    match &result.landmark_of {
        Some(l) => format!(" through {} landmarks", l.iter().max().map_or(0, |m| m + 1)),
        None => String::new(),
    }
}
