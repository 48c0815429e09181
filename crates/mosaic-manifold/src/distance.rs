//! Distances between networks from their hidden representations (Abel et
//! al., "Exploring the Manifold of Neural Networks Using Diffusion Geometry").
//!
//! Every network sees the same probe inputs. For one network, the probe
//! points' activations in a hidden layer (n x d, d may differ between
//! networks) give pairwise distances, a Gaussian kernel and its
//! row-normalised diffusion operator P (n x n). Two networks are as far apart
//! as their operators: ||P_i - P_j||_F. The probe index is shared, so
//! networks of any width compare directly.

use faer::Mat;

use crate::ManifoldError;

/// The diffusion operator of one representation, row-major n x n.
///
/// Kernel `K_ij = exp(-d_ij^2 / (2 sigma^2))` with `sigma` the median of the
/// non-zero pairwise distances between probe points (a scale-free default:
/// it adapts to each layer's magnitude). A representation with no spread at
/// all (a dead layer: every probe point maps to the same activation) has no
/// scale; it gets the uniform operator: every probe point is as similar as
/// any other.
pub fn representation_operator(activations: &[f32], points: usize, width: usize) -> Result<Vec<f32>, ManifoldError> {
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
    // The median of the distances between distinct activations: pairs that
    // coincide (units switched off) must not shrink the scale to nothing.
    let mut off: Vec<f64> = (0..points)
        .flat_map(|i| (i + 1..points).map(move |j| (i, j)))
        .map(|(i, j)| d2[i * points + j].sqrt())
        .filter(|d| *d > 0.0)
        .collect();
    let sigma = if off.is_empty() {
        0.0
    } else {
        let mid = off.len() / 2;
        *off.select_nth_unstable_by(mid, f64::total_cmp).1
    };
    let mut p = vec![0.0f32; points * points];
    for i in 0..points {
        let k: Vec<f64> = (0..points)
            .map(|j| if sigma > 0.0 { (-d2[i * points + j] / (2.0 * sigma * sigma)).exp() } else { 1.0 })
            .collect();
        let sum: f64 = k.iter().sum();
        for j in 0..points {
            p[i * points + j] = (k[j] / sum) as f32;
        }
    }
    Ok(p)
}

/// Pairwise Frobenius distances between operators of equal size (each
/// flattened to a row; see [`row_distances`]).
pub fn operator_distances(operators: &[Vec<f32>]) -> Result<Mat<f64>, ManifoldError> {
    let len = operators.first().map_or(0, Vec::len);
    if let Some((row, op)) = operators.iter().enumerate().find(|(_, o)| o.len() != len) {
        return Err(ManifoldError::RaggedRows { row, len: op.len(), expected: len });
    }
    let flat = Mat::from_fn(operators.len(), len, |i, k| operators[i][k] as f64);
    Ok(row_distances(&flat))
}

/// Euclidean distances between the rows of a matrix, through the Gram
/// matrix of the column-centred rows: ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b.
/// Centring leaves distances alone and keeps the Gram entries small, so the
/// subtraction loses little.
pub fn row_distances(m: &Mat<f64>) -> Mat<f64> {
    let (n, d) = (m.nrows(), m.ncols());
    let mean: Vec<f64> = (0..d).map(|k| (0..n).map(|i| m[(i, k)]).sum::<f64>() / n.max(1) as f64).collect();
    let centred = Mat::from_fn(n, d, |i, k| m[(i, k)] - mean[k]);
    let gram = &centred * centred.transpose();
    Mat::from_fn(n, n, |i, j| if i == j { 0.0 } else { (gram[(i, i)] + gram[(j, j)] - 2.0 * gram[(i, j)]).max(0.0).sqrt() })
}
