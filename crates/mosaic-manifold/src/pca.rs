//! Principal component analysis for small feature dimensions.
//!
//! The covariance matrix is d x d with d the encoding length (tens), so a
//! cyclic Jacobi eigensolver is exact, dependency-free and fast enough; large
//! n x n eigenproblems (MDS, PHATE) belong to a dedicated solver.

use crate::ManifoldError;

/// A fitted PCA: centre, principal axes and their variances.
#[derive(Clone, Debug)]
pub struct Pca {
    pub mean: Vec<f64>,
    /// `components[k]` is the k-th unit principal axis (length d).
    pub components: Vec<Vec<f64>>,
    /// Variance along each component (eigenvalues of the covariance), descending.
    pub variances: Vec<f64>,
    /// Total variance of the data (trace of the covariance).
    pub total_variance: f64,
}

impl Pca {
    /// Fits `k` components to the rows of `data` (n rows of equal length d).
    pub fn fit(data: &[Vec<f64>], k: usize) -> Result<Pca, ManifoldError> {
        let n = data.len();
        let d = data.first().map_or(0, Vec::len);
        if n < 2 {
            return Err(ManifoldError::TooFewPoints { needed: 2, got: n });
        }
        if let Some((row, r)) = data.iter().enumerate().find(|(_, r)| r.len() != d) {
            return Err(ManifoldError::RaggedRows { row, len: r.len(), expected: d });
        }
        if let Some(row) = data.iter().position(|r| r.iter().any(|x| !x.is_finite())) {
            return Err(ManifoldError::NonFinite { row });
        }
        let mean: Vec<f64> = (0..d).map(|j| data.iter().map(|r| r[j]).sum::<f64>() / n as f64).collect();
        let mut cov = vec![vec![0.0; d]; d];
        for r in data {
            for i in 0..d {
                let di = r[i] - mean[i];
                for j in i..d {
                    cov[i][j] += di * (r[j] - mean[j]);
                }
            }
        }
        for i in 0..d {
            for j in i..d {
                cov[i][j] /= (n - 1) as f64;
                cov[j][i] = cov[i][j];
            }
        }
        let total_variance = (0..d).map(|i| cov[i][i]).sum();
        let (values, vectors) = symmetric_eigen(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let k = k.min(d);
        let components = order[..k]
            .iter()
            .map(|&c| {
                let mut axis: Vec<f64> = (0..d).map(|i| vectors[i][c]).collect();
                // Eigenvectors have no sign: fix it so layouts are identical from
                // run to run. The first entry of (nearly) the largest magnitude
                // must be positive; the tolerance settles exact ties such as a
                // +-1/sqrt(2) one-hot pair, whatever the rounding.
                let largest = axis.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let pivot = axis.iter().copied().find(|x| x.abs() >= largest * (1.0 - 1e-6)).unwrap_or(0.0);
                if pivot < 0.0 {
                    axis.iter_mut().for_each(|x| *x = -*x);
                }
                axis
            })
            .collect();
        let variances = order[..k].iter().map(|&c| values[c].max(0.0)).collect();
        Ok(Pca { mean, components, variances, total_variance })
    }

    /// Coordinates of a row along the components.
    pub fn project(&self, row: &[f64]) -> Vec<f64> {
        self.components.iter().map(|axis| axis.iter().zip(row).zip(&self.mean).map(|((a, x), m)| a * (x - m)).sum()).collect()
    }

    /// Fraction of the total variance each component explains.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        self.variances.iter().map(|v| if self.total_variance > 0.0 { v / self.total_variance } else { 0.0 }).collect()
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations.
/// Returns the eigenvalues and a matrix whose columns are the eigenvectors.
pub fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(i == j)).collect()).collect();
    let scale: f64 = a.iter().flatten().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum();
        if off.sqrt() <= 1e-14 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() <= f64::MIN_POSITIVE {
                    continue;
                }
                // Rotation angle that zeroes a[p][q] (Golub & Van Loan, 8.5.2).
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}
