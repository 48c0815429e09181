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
    Ok(if within > 0.0 { between / within } else if between > 0.0 { f64::INFINITY } else { 0.0 })
}
