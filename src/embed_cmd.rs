//! `mosaic embed`: PHATE on plain arrays, for interchange with the Python
//! world (`np.save` in, `np.load` out).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use faer::Mat;
use mosaic_manifold::npy::{self, Array2};
use mosaic_manifold::phate::{PhateConfig, phate, phate_from_distances};

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["features", "distances"])))]
pub struct EmbedArgs {
    /// n x d feature matrix (.npy, float32 or float64).
    #[arg(long, value_name = "NPY")]
    pub features: Option<PathBuf>,
    /// n x n distance matrix (.npy): square, non-negative, zero diagonal.
    #[arg(long, value_name = "NPY")]
    pub distances: Option<PathBuf>,
    /// Where to write the n x dims embedding (.npy, float64).
    #[arg(long, short, value_name = "NPY")]
    pub out: PathBuf,
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
    /// Seed (reserved: the dense path uses no randomness).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Largest n the dense path accepts: its matrices hold n^2 doubles each.
const MAX_DENSE: usize = 5000;

pub fn embed(args: EmbedArgs) -> Result<()> {
    let t = match args.t.as_str() {
        "auto" => None,
        s => Some(s.parse::<usize>().ok().filter(|t| *t >= 1).with_context(|| format!("--t must be `auto` or a whole number >= 1, got `{s}`"))?),
    };
    if !(args.decay > 0.0 && args.decay.is_finite()) {
        bail!("--decay must be a positive number, got {}", args.decay);
    }
    let config = PhateConfig { knn: args.knn as usize, decay: args.decay, t, dims: args.dims as usize, ..PhateConfig::default() };
    let started = std::time::Instant::now();
    let result = match (&args.features, &args.distances) {
        (Some(path), _) => {
            let x = npy::read(path)?;
            check_size(x.rows, path)?;
            phate(&x.to_rows(), &config).with_context(|| format!("embedding {}", path.display()))?
        }
        (_, Some(path)) => {
            let d = npy::read(path)?;
            if d.rows != d.cols {
                bail!("{}: a distance matrix must be square, got {} x {}", path.display(), d.rows, d.cols);
            }
            check_size(d.rows, path)?;
            let m = Mat::from_fn(d.rows, d.cols, |i, j| d.data[i * d.cols + j]);
            phate_from_distances(&m, &config).with_context(|| format!("embedding {}", path.display()))?
        }
        (None, None) => unreachable!("clap requires one input"),
    };
    let rows = result.embedding.len();
    let out = Array2 { rows, cols: args.dims as usize, data: result.embedding.into_iter().flatten().collect() };
    std::fs::write(&args.out, npy::to_bytes(&out)).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "t = {}{} · {rows} points -> {} ({:.2} s)",
        result.t,
        if t.is_none() { " (auto)" } else { "" },
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn check_size(n: usize, path: &std::path::Path) -> Result<()> {
    if n > MAX_DENSE {
        bail!("{}: {n} points; this version embeds at most {MAX_DENSE} (landmarks for larger sets are not implemented yet)", path.display());
    }
    Ok(())
}
