//! NeuroMosaic's geometry: from feature vectors to positions on the
//! architecture sphere: PCA, PHATE, sphere projection, and `.npy` files for
//! interchange with Python. Network distances and clustering join here.

pub mod cluster;
pub mod dense;
pub mod diffusion;
pub mod distance;
pub mod features;
pub mod graph;
pub mod kdtree;
pub mod landmark;
pub mod npy;
pub mod pca;
pub mod phate;
pub mod sphere;
pub mod topology;

pub use pca::Pca;
pub use sphere::{project_to_sphere, xyz};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ManifoldError {
    #[error("need at least {needed} points, got {got}")]
    TooFewPoints { needed: usize, got: usize },
    #[error("row {row} has {len} values, expected {expected}")]
    RaggedRows { row: usize, len: usize, expected: usize },
    #[error("row {row} holds a NaN or infinite value")]
    NonFinite { row: usize },
    #[error("a distance matrix must be square, got {rows} x {cols}")]
    NotSquare { rows: usize, cols: usize },
    #[error("entry ({row}, {col}) = {value} is not a distance (finite, non-negative, zero on the diagonal)")]
    BadDistance { row: usize, col: usize, value: f64 },
    #[error(
        "the distance matrix is not symmetric: ({row}, {col}) = {upper} but ({col}, {row}) = {lower}; symmetrise it, e.g. (D + D.T) / 2"
    )]
    Asymmetric { row: usize, col: usize, upper: f64, lower: f64 },
    #[error("{0}: nothing to embed")]
    Degenerate(String),
    #[error("numerical failure: {0}")]
    Numerics(String),
    #[error("invalid settings: {0}")]
    Config(String),
}

/// Scales each block of columns (a knob's one column, or a categorical
/// knob's one-hot block) to a total variance of 1, so every knob weighs the
/// same in PCA: unscaled, a binary knob's one-hot pair outweighs every
/// numeric knob and splits the sphere in two. Constant blocks stay as they are.
pub fn balance_blocks(rows: &[Vec<f64>], blocks: &[std::ops::Range<usize>]) -> Vec<Vec<f64>> {
    let n = rows.len().max(1) as f64;
    let mut out = rows.to_vec();
    for block in blocks {
        let variance: f64 = block
            .clone()
            .map(|j| {
                let mean = rows.iter().map(|r| r[j]).sum::<f64>() / n;
                rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n
            })
            .sum();
        if variance > 0.0 {
            let scale = variance.sqrt().recip();
            for row in &mut out {
                row[block.clone()].iter_mut().for_each(|x| *x *= scale);
            }
        }
    }
    out
}

/// Architecture-space layout: PCA of the feature rows to 3-D, then onto a
/// sphere of the given radius.
pub fn sphere_layout(features: &[Vec<f64>], radius: f64) -> Result<Vec<[f64; 3]>, ManifoldError> {
    let pca = Pca::fit(features, 3)?;
    let coords: Vec<[f64; 3]> = features.iter().map(|r| xyz(&pca.project(r))).collect();
    Ok(project_to_sphere(&coords, |_| radius))
}
