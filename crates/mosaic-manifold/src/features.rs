//! Features of one network's representation of the probe set.

use crate::ManifoldError;

/// How well a representation separates the classes: the Fisher ratio of the
/// between-class scatter to the within-class scatter (traces). 0 when the
/// class means coincide; grows as classes pull apart relative to their spread.
pub fn class_separation(activations: &[f32], labels: &[u32], width: usize) -> Result<f64, ManifoldError> {
    let n = labels.len();
    if activations.len() != n * width {
        return Err(ManifoldError::RaggedRows { row: 0, len: activations.len(), expected: n * width });
    }
    let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut count = vec![0usize; classes];
    let mut means = vec![vec![0.0f64; width]; classes];
    let mut overall = vec![0.0f64; width];
    for (i, &l) in labels.iter().enumerate() {
        count[l as usize] += 1;
        for k in 0..width {
            let v = activations[i * width + k] as f64;
            means[l as usize][k] += v;
            overall[k] += v;
        }
    }
    overall.iter_mut().for_each(|v| *v /= n.max(1) as f64);
    for (c, m) in means.iter_mut().enumerate() {
        m.iter_mut().for_each(|v| *v /= count[c].max(1) as f64);
    }
    let between: f64 = (0..classes).map(|c| count[c] as f64 * (0..width).map(|k| (means[c][k] - overall[k]).powi(2)).sum::<f64>()).sum();
    let within: f64 = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| (0..width).map(|k| (activations[i * width + k] as f64 - means[l as usize][k]).powi(2)).sum::<f64>())
        .sum();
    Ok(if within > 0.0 {
        between / within
    } else if between > 0.0 {
        f64::INFINITY
    } else {
        0.0
    })
}

/// Diffusion spectral entropy (Liao et al. 2023, "Assessing Neural Network
/// Representations During Training Using Noise-Resilient Diffusion
/// Spectral Entropy"): the Shannon entropy of the normalised eigenvalue
/// magnitudes of the diffusion operator raised to `t`, from the
/// representation's Gaussian kernel ([`crate::distance::representation_kernel`]).
/// About the log of the representation's effective number of dimensions
/// at the kernel's scale: 0 for a dead layer (one eigenvalue), ln n at most.
pub fn diffusion_spectral_entropy(activations: &[f32], points: usize, width: usize, t: u32) -> Result<f64, ManifoldError> {
    let k = crate::distance::representation_kernel(activations, points, width)?;
    let degree: Vec<f64> = k.chunks(points.max(1)).map(|r| r.iter().sum()).collect();
    // P = D^-1 K has the eigenvalues of the symmetric D^-1/2 K D^-1/2.
    let a = faer::Mat::from_fn(points, points, |i, j| k[i * points + j] / (degree[i] * degree[j]).sqrt());
    let values = a.self_adjoint_eigenvalues(faer::Side::Lower).map_err(|e| ManifoldError::Numerics(format!("{e:?}")))?;
    let powered: Vec<f64> = values.iter().map(|v| v.abs().powi(t as i32)).collect();
    let total: f64 = powered.iter().sum();
    Ok(-powered.iter().filter(|&&v| v > 0.0).map(|v| v / total).map(|p| p * p.ln()).sum::<f64>())
}
