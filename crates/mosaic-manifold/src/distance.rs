//! Distances between networks from their hidden representations (Abel et
//! al., "Exploring the Manifold of Neural Networks Using Diffusion Geometry").
//!
//! Every network sees the same probe inputs. For one network, the probe
//! points' activations in a hidden layer (n x d, d may differ between
//! networks) give pairwise distances, a Gaussian kernel and its
//! row-normalised diffusion operator P (n x n). Two networks are as far apart
//! as their operators: ||P_i - P_j||_F. The probe index is shared, so
//! networks of any width compare directly.

use crate::dense::{par_update, symmetric_product};
use faer::Mat;

use crate::ManifoldError;

/// Euclidean distance between two vectors of the same length.
pub fn euclidean(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// The diffusion operator of one representation, row-major n x n: the
/// rows of [`representation_kernel`] normalised to sum to 1.
pub fn representation_operator(activations: &[f32], points: usize, width: usize) -> Result<Vec<f32>, ManifoldError> {
    let k = representation_kernel(activations, points, width)?;
    let mut p = vec![0.0f32; points * points];
    for (i, row) in k.chunks(points.max(1)).enumerate() {
        let sum: f64 = row.iter().sum();
        for (j, v) in row.iter().enumerate() {
            p[i * points + j] = (v / sum) as f32;
        }
    }
    Ok(p)
}

/// The Gaussian kernel of one representation, row-major n x n.
///
/// `K_ij = exp(-d_ij^2 / (2 sigma^2))` with `sigma` the median of the
/// non-zero pairwise distances between probe points (a scale-free default:
/// it adapts to each layer's magnitude). A representation with no spread at
/// all (a dead layer: every probe point maps to the same activation) has no
/// scale; it gets the all-ones kernel: every probe point is as similar as
/// any other.
pub fn representation_kernel(activations: &[f32], points: usize, width: usize) -> Result<Vec<f64>, ManifoldError> {
    let d2 = squared_distances(activations, points, width)?;
    let sigma = median_nonzero(&d2, points).sqrt();
    Ok(d2.iter().map(|&d| if sigma > 0.0 { (-d / (2.0 * sigma * sigma)).exp() } else { 1.0 }).collect())
}

/// Squared Euclidean distances between the rows of an n x width activation
/// matrix, row-major n x n; checks its size and values.
pub fn squared_distances(activations: &[f32], points: usize, width: usize) -> Result<Vec<f64>, ManifoldError> {
    if activations.len() != points * width {
        return Err(ManifoldError::RaggedRows { row: 0, len: activations.len(), expected: points * width });
    }
    if let Some(i) = activations.iter().position(|v| !v.is_finite()) {
        return Err(ManifoldError::NonFinite { row: i / width.max(1) });
    }
    let row = |i: usize| &activations[i * width..(i + 1) * width];
    let mut d2 = vec![0.0f64; points * points];
    for i in 0..points {
        for j in i + 1..points {
            let s: f64 = row(i).iter().zip(row(j)).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
            d2[i * points + j] = s;
            d2[j * points + i] = s;
        }
    }
    Ok(d2)
}

/// The median of the non-zero off-diagonal entries of a symmetric n x n
/// matrix (0 when all are zero): pairs that coincide (units switched off)
/// must not shrink a scale to nothing.
pub fn median_nonzero(m: &[f64], n: usize) -> f64 {
    let mut off: Vec<f64> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| m[i * n + j]).filter(|d| *d > 0.0).collect();
    if off.is_empty() {
        return 0.0;
    }
    let mid = off.len() / 2;
    *off.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// Pairwise Frobenius distances between operators of equal size (each
/// flattened to a row; see [`row_distances`]).
pub fn operator_distances(operators: &[Vec<f32>]) -> Result<Mat<f64>, ManifoldError> {
    let len = operators.first().map_or(0, Vec::len);
    if let Some((row, op)) = operators.iter().enumerate().find(|(_, o)| o.len() != len) {
        return Err(ManifoldError::RaggedRows { row, len: op.len(), expected: len });
    }
    let flat = Mat::from_fn(operators.len(), len, |i, k| operators[i][k] as f64);
    Ok(row_distances(flat))
}

/// Euclidean distances between the rows of a matrix, through the Gram
/// matrix of the column-centred rows: ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b.
/// Centring leaves distances alone and keeps the Gram entries small, so the
/// subtraction loses little.
pub fn row_distances(mut m: Mat<f64>) -> Mat<f64> {
    let (n, d) = (m.nrows(), m.ncols());
    let mean: Vec<f64> = (0..d).map(|k| m.col(k).iter().sum::<f64>() / n.max(1) as f64).collect();
    par_update(&mut m, |_, k, x| x - mean[k]);
    let mut out = symmetric_product(m.as_ref(), m.transpose());
    drop(m);
    let diagonal: Vec<f64> = (0..n).map(|i| out[(i, i)]).collect();
    par_update(&mut out, |i, j, x| if i == j { 0.0 } else { (diagonal[i] + diagonal[j] - 2.0 * x).max(0.0).sqrt() });
    out
}
