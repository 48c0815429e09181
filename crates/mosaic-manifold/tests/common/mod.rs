//! Helpers shared by the manifold tests.

use faer::Mat;

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
