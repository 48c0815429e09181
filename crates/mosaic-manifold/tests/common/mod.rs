//! Helpers shared by the manifold tests.
#![allow(dead_code)]

use faer::Mat;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Procrustes disparity as scipy computes it: both centred and scaled to unit
/// Frobenius norm, the best rotation/reflection applied, the squared residual
/// (0 for shapes equal up to rotation and scale, at most 1).
pub fn procrustes_disparity(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let standardise = |m: &[Vec<f64>]| {
        let (n, d) = (m.len(), m[0].len());
        let mean: Vec<f64> = (0..d).map(|k| m.iter().map(|r| r[k]).sum::<f64>() / n as f64).collect();
        let c = Mat::from_fn(n, d, |i, k| m[i][k] - mean[k]);
        let norm = c.norm_l2();
        Mat::from_fn(n, d, |i, k| c[(i, k)] / norm)
    };
    let (a, b) = (standardise(a), standardise(b));
    let cross = a.transpose() * &b;
    let s: f64 = cross.singular_values().unwrap().iter().sum();
    1.0 - s * s
}

pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Three noisy arms from a common centre in `dims` dimensions; returns the
/// points, each one's arm and how far out along it (0..1).
pub fn branches(n: usize, dims: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let directions: Vec<Vec<f64>> = (0..3)
        .map(|_| {
            let d: Vec<f64> = (0..dims).map(|_| normal(&mut rng)).collect();
            let norm = d.iter().map(|v| v * v).sum::<f64>().sqrt();
            d.iter().map(|v| v / norm).collect()
        })
        .collect();
    let (mut x, mut arm, mut along) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let a = i % 3;
        let s: f64 = rng.random();
        x.push((0..dims).map(|k| 4.0 * s * directions[a][k] + 0.15 * normal(&mut rng)).collect());
        arm.push(a);
        along.push(s);
    }
    (x, arm, along)
}
