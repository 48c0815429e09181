//! PHATE from `.npy` to `.npy`, as Python users hand data over (`np.save`
//! in, `np.load` out).
//!
//! `cargo run --release -p mosaic-manifold --example phate_npy -- [OPTIONS] [IN.npy] OUT.npy`
//! With no input, it embeds a made-up tree: three noisy branches in 10-D.
//!
//! Options (what `benches/phate_battery.py` drives):
//! `--distances` (IN is an n x n distance matrix), `--knn N`, `--decay X`,
//! `--landmarks N`, `--t auto|exact|N`, `--seed N`,
//! `--potential PATH` (potential distances, float32: L x L with landmarks),
//! `--clusters PATH` (each point's landmark, or its own index), `--timings`
//! (each step's seconds, on stderr).
//! The last line printed is `t=… source=… seconds=…` (seconds of the PHATE call).

use std::path::Path;

use faer::Mat;
use mosaic_manifold::diffusion::EntropySource;
use mosaic_manifold::npy::{self, Array2};
use mosaic_manifold::phate::{PhateConfig, phate, phate_from_distances};

/// Three branches leaving a common root, 200 points each, with a little noise.
fn tree() -> Array2 {
    let (dims, per_branch) = (10, 200);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut data = Vec::new();
    for branch in 0..3 {
        for i in 0..per_branch {
            let t = i as f64 / per_branch as f64;
            for d in 0..dims {
                data.push(if d == branch { 4.0 * t } else { 0.0 } + 0.05 * noise());
            }
        }
    }
    Array2 { rows: 3 * per_branch, cols: dims, data }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = PhateConfig::default();
    let (mut distances, mut potential, mut clusters, mut timings) = (false, None, None, false);
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--distances" => distances = true,
            "--timings" => timings = true,
            "--knn" => config.knn = value()?.parse()?,
            "--decay" => config.decay = value()?.parse()?,
            "--landmarks" => config.landmarks = value()?.parse()?,
            "--seed" => config.seed = value()?.parse()?,
            "--t" => match value()?.as_str() {
                "auto" => {}
                "exact" => config.exact_entropy = true,
                t => config.t = Some(t.parse()?),
            },
            "--potential" => potential = Some(value()?),
            "--clusters" => clusters = Some(value()?),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}").into()),
            _ => paths.push(arg),
        }
    }
    let (x, out) = match paths.as_slice() {
        [input, out] => (npy::read(Path::new(input))?, out.clone()),
        [out] => (tree(), out.clone()),
        _ => return Err("usage: phate_npy [OPTIONS] [IN.npy] OUT.npy".into()),
    };
    let started = std::time::Instant::now();
    let result = if distances {
        phate_from_distances(&Mat::from_fn(x.rows, x.cols, |i, j| x.data[i * x.cols + j]), &config)?
    } else {
        phate(&x.to_rows(), &config)?
    };
    let seconds = started.elapsed().as_secs_f64();
    if timings {
        result.timings.iter().for_each(|(step, s)| eprintln!("  {step:<32} {s:>8.3} s"));
    }
    let (rows, cols) = (result.embedding.len(), result.embedding.first().map_or(0, Vec::len));
    let y = Array2 { rows, cols, data: result.embedding.iter().flatten().copied().collect() };
    std::fs::write(&out, npy::to_bytes(&y))?;
    if let Some(path) = potential {
        let d = &result.potential_distances;
        let m = d.nrows();
        // float32 halves the file; the potential's own precision is far coarser.
        let data: Vec<f64> = (0..m).flat_map(|i| (0..m).map(move |j| d[(i, j)] as f32 as f64)).collect();
        std::fs::write(path, npy::to_bytes(&Array2 { rows: m, cols: m, data }))?;
    }
    if let Some(path) = clusters {
        let data: Vec<f64> = match &result.landmark_of {
            Some(l) => l.iter().map(|&c| c as f64).collect(),
            None => (0..rows).map(|i| i as f64).collect(),
        };
        std::fs::write(path, npy::to_bytes(&Array2 { rows, cols: 1, data }))?;
    }
    println!("{} points x {} features -> {rows} x {cols} (t = {}) in {out}", x.rows, x.cols, result.t);
    let source = match result.t_source {
        None => "given".to_string(),
        Some(EntropySource::Exact) => "exact".to_string(),
        Some(EntropySource::Estimated { probes }) => format!("estimated({probes})"),
        Some(EntropySource::ExactFallback { probes, margin }) => format!("exact-fallback({probes},{margin:.1}se)"),
    };
    assert_eq!(npy::read(Path::new(&out))?, y, "what was written reads back");
    println!("t={} source={source} seconds={seconds:.4}", result.t);
    Ok(())
}
