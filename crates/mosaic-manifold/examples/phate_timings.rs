//! PHATE of a `.npy` feature matrix with the time of each step:
//! `cargo run --release -p mosaic-manifold --example phate_timings -- X.npy [Y.npy]`.
use mosaic_manifold::{npy, phate};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let x = npy::read(std::path::Path::new(&args[1])).expect("read X");
    let started = std::time::Instant::now();
    let result = phate::phate(&x.to_rows(), &phate::PhateConfig::default()).expect("phate");
    println!("n = {}, t = {}, {} SMACOF iterations, {:.3} s", x.rows, result.t, result.mds_iterations, started.elapsed().as_secs_f64());
    for (what, secs) in &result.timings {
        println!("  {what:<26} {secs:.3} s");
    }
    if let Some(out) = args.get(2) {
        let rows = result.embedding.len();
        let cols = result.embedding[0].len();
        let data = result.embedding.iter().flatten().copied().collect();
        std::fs::write(out, npy::to_bytes(&npy::Array2 { rows, cols, data })).expect("write Y");
    }
}
