//! PHATE from `.npy` to `.npy`, as Python users hand data over (`np.save`
//! in, `np.load` out).
//!
//! `cargo run --release -p mosaic-manifold --example phate_npy -- [IN.npy] OUT.npy`
//! With no input, it embeds a made-up tree: three noisy branches in 10-D.

use std::path::Path;

use mosaic_manifold::npy::{self, Array2};
use mosaic_manifold::phate::{PhateConfig, phate};

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (x, out) = match args.as_slice() {
        [input, out] => (npy::read(Path::new(input))?, out.clone()),
        [out] => (tree(), out.clone()),
        _ => return Err("usage: phate_npy [IN.npy] OUT.npy".into()),
    };
    let result = phate(&x.to_rows(), &PhateConfig::default())?;
    let (rows, cols) = (result.embedding.len(), result.embedding.first().map_or(0, Vec::len));
    let y = Array2 { rows, cols, data: result.embedding.into_iter().flatten().collect() };
    std::fs::write(&out, npy::to_bytes(&y))?;
    println!("{} points x {} features -> {rows} x {cols} (t = {}) in {out}", x.rows, x.cols, result.t);
    assert_eq!(npy::read(Path::new(&out))?, y, "what was written reads back");
    Ok(())
}
