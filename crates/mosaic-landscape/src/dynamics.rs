//! Training dynamics: how fast each metric moved, epoch by epoch, and its
//! momentum (the moving average of that rate), as series and as a 3-D path
//! with momentum vectors for the explorer to draw.

use serde::Serialize;

/// One metric's movement over training.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricDynamics {
    pub name: String,
    pub values: Vec<f64>,
    /// Change per epoch: central differences inside, one-sided at the ends
    /// (NumPy's `gradient` with unit spacing).
    pub derivative: Vec<f64>,
    /// Trailing mean of the derivative over `window` epochs (fewer at the start).
    pub momentum: Vec<f64>,
}

/// Derivative and momentum of a series of per-epoch values.
pub fn dynamics(name: &str, values: &[f64], window: usize) -> MetricDynamics {
    let derivative = gradient(values);
    MetricDynamics { name: name.to_string(), values: values.to_vec(), momentum: moving_average(&derivative, window), derivative }
}

/// NumPy's `gradient` for unit spacing.
pub fn gradient(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    match n {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => (0..n)
            .map(|i| match i {
                0 => v[1] - v[0],
                i if i == n - 1 => v[n - 1] - v[n - 2],
                i => (v[i + 1] - v[i - 1]) / 2.0,
            })
            .collect(),
    }
}

/// Trailing moving average: element i is the mean of `v[i+1-window ..= i]`
/// (from the start while fewer than `window` exist). A window of 0 counts as 1.
pub fn moving_average(v: &[f64], window: usize) -> Vec<f64> {
    let w = window.max(1);
    let mut sum = 0.0;
    v.iter()
        .enumerate()
        .map(|(i, x)| {
            sum += x;
            if i >= w {
                sum -= v[i - w];
            }
            sum / (i + 1).min(w) as f64
        })
        .collect()
}

/// A point of the 3-D dynamics path and the momentum arrow leaving it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PathStep {
    /// (epoch, first metric, second metric), each scaled to [0, 1] over the run.
    pub at: [f64; 3],
    /// Momentum of the three coordinates in the same scaled units per epoch.
    pub momentum: [f64; 3],
}

/// Training as a path through (epoch, a, b), with momentum vectors: how the
/// two metrics moved together, scaled so each axis spans [0, 1].
pub fn path(a: &MetricDynamics, b: &MetricDynamics) -> Vec<PathStep> {
    let n = a.values.len().min(b.values.len());
    if n == 0 {
        return Vec::new();
    }
    let span = |v: &[f64]| {
        let (lo, hi) = v.iter().filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
        let width = if hi > lo { hi - lo } else { 1.0 };
        (lo, width)
    };
    let ((la, wa), (lb, wb)) = (span(&a.values[..n]), span(&b.values[..n]));
    let we = (n - 1).max(1) as f64;
    (0..n)
        .map(|i| PathStep {
            at: [i as f64 / we, (a.values[i] - la) / wa, (b.values[i] - lb) / wb],
            momentum: [1.0 / we, a.momentum[i] / wa, b.momentum[i] / wb],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_and_momentum_follow_numpy_and_a_trailing_window() {
        let v = [1.0, 2.0, 4.0, 7.0, 11.0];
        assert_eq!(gradient(&v), vec![1.0, 1.5, 2.5, 3.5, 4.0]);
        assert_eq!(moving_average(&[1.0, 2.0, 3.0, 4.0], 2), vec![1.0, 1.5, 2.5, 3.5]);
        assert_eq!(moving_average(&[1.0, 2.0, 3.0], 0), vec![1.0, 2.0, 3.0]);
        let d = dynamics("val loss", &v, 3);
        assert_eq!(d.momentum[4], (2.5 + 3.5 + 4.0) / 3.0);
        assert_eq!(gradient(&[5.0]), vec![0.0]);
    }

    #[test]
    fn the_path_spans_the_unit_cube() {
        let loss = dynamics("loss", &[1.0, 0.5, 0.25, 0.2], 2);
        let acc = dynamics("accuracy", &[0.5, 0.7, 0.8, 0.85], 2);
        let p = path(&loss, &acc);
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].at, [0.0, 1.0, 0.0]);
        assert_eq!(p[3].at, [1.0, 0.0, 1.0]);
        assert!(p.iter().all(|s| s.momentum[1] <= 0.0 && s.momentum[2] >= 0.0), "loss falls while accuracy rises");
    }
}
