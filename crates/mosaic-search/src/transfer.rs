//! Transfer between tasks: describe each data set by meta-features, weight
//! past tasks by similarity, and hand the new task's surrogate a prior mean
//! made of the past tasks' surrogates (a similarity-weighted ensemble of
//! their standardised predictions, so tasks with different accuracy ranges mix).

use serde::{Deserialize, Serialize};

use crate::gp::Gp;

/// What a task looks like to the meta-learner. Landmarks are scores of cheap
/// classifiers: how far plain neighbours and centroids get on the task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskFeatures {
    pub examples: usize,
    pub dims: usize,
    pub classes: usize,
    /// Entropy of the class shares divided by its maximum (1: balanced).
    pub class_balance: f64,
    /// Leave-one-out accuracy of the 1-nearest-neighbour rule (on up to 500 examples).
    pub nearest_neighbour: f64,
    /// Accuracy of the nearest-class-centroid rule (a linear landmark).
    pub nearest_centroid: f64,
}

/// Examples the landmarks look at: enough for stable scores, quick at any size.
const LANDMARK_EXAMPLES: usize = 500;

impl TaskFeatures {
    /// Meta-features of a data set: `x` holds `labels.len()` rows of `dims` values.
    pub fn compute(x: &[f32], dims: usize, labels: &[u32], classes: usize) -> TaskFeatures {
        let n = labels.len();
        assert_eq!(x.len(), n * dims, "x holds {} values, not {n} rows of {dims}", x.len());
        let row = |i: usize| &x[i * dims..(i + 1) * dims];
        let mut counts = vec![0usize; classes.max(1)];
        labels.iter().for_each(|&l| counts[(l as usize).min(classes.max(1) - 1)] += 1);
        let entropy: f64 = counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n as f64).map(|p| -p * p.ln()).sum();
        let class_balance = if classes > 1 { entropy / (classes as f64).ln() } else { 1.0 };
        // An even stride through the data, so ordered files sample every class.
        let picked: Vec<usize> = (0..n.min(LANDMARK_EXAMPLES)).map(|k| k * n / n.clamp(1, LANDMARK_EXAMPLES)).collect();
        let sq = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(p, q)| ((p - q) as f64).powi(2)).sum::<f64>();
        let nn_hits = picked
            .iter()
            .filter(|&&i| {
                let nearest = picked.iter().filter(|&&j| j != i).min_by(|&&a, &&b| sq(row(i), row(a)).total_cmp(&sq(row(i), row(b))));
                nearest.is_some_and(|&j| labels[j] == labels[i])
            })
            .count();
        let mut centroids = vec![vec![0.0f64; dims]; classes.max(1)];
        for &i in &picked {
            let c = (labels[i] as usize).min(classes.max(1) - 1);
            centroids[c].iter_mut().zip(row(i)).for_each(|(s, v)| *s += *v as f64);
        }
        let mut members = vec![0usize; classes.max(1)];
        picked.iter().for_each(|&i| members[(labels[i] as usize).min(classes.max(1) - 1)] += 1);
        for (c, m) in centroids.iter_mut().zip(&members) {
            c.iter_mut().for_each(|s| *s /= (*m).max(1) as f64);
        }
        let centroid_hits = picked
            .iter()
            .filter(|&&i| {
                let d = |c: &Vec<f64>| c.iter().zip(row(i)).map(|(a, b)| (a - *b as f64).powi(2)).sum::<f64>();
                let best = (0..centroids.len()).filter(|&c| members[c] > 0).min_by(|&a, &b| d(&centroids[a]).total_cmp(&d(&centroids[b])));
                best == Some(labels[i] as usize)
            })
            .count();
        let share = |hits: usize| if picked.is_empty() { 0.0 } else { hits as f64 / picked.len() as f64 };
        TaskFeatures {
            examples: n,
            dims,
            classes,
            class_balance,
            nearest_neighbour: share(nn_hits),
            nearest_centroid: share(centroid_hits),
        }
    }

    /// The features on comparable scales: orders of magnitude for sizes, shares as they are.
    fn scaled(&self) -> [f64; 6] {
        [
            (self.examples.max(1) as f64).log10(),
            (self.dims.max(1) as f64).log10(),
            (self.classes.max(1) as f64).log2(),
            self.class_balance / 0.25,
            self.nearest_neighbour / 0.1,
            self.nearest_centroid / 0.1,
        ]
    }

    /// Similarity in (0, 1]: a Gaussian of the distance between scaled
    /// features. Ten times the data, or 0.1 of a landmark score, costs a factor e^-½.
    pub fn similarity(&self, other: &TaskFeatures) -> f64 {
        let d2: f64 = self.scaled().iter().zip(other.scaled()).map(|(a, b)| (a - b).powi(2)).sum();
        (-0.5 * d2).exp()
    }
}

/// A finished task the meta-learner can learn from.
#[derive(Clone, Debug)]
pub struct PastTask {
    pub name: String,
    pub features: TaskFeatures,
    /// A surrogate fitted to the task's runs, over the same search space.
    pub surrogate: Gp,
}

/// A prior mean for a new task: the past surrogates' standardised means, weighted by task similarity.
#[derive(Clone, Debug)]
pub struct Prior {
    tasks: Vec<(String, f64, Gp)>,
    scale: f64,
}

/// Past tasks less similar than this are left out.
const MIN_WEIGHT: f64 = 1e-3;

impl Prior {
    /// `None` when no past task is similar enough to help.
    pub fn new(target: &TaskFeatures, past: Vec<PastTask>) -> Option<Prior> {
        let weighted: Vec<(String, f64, Gp)> =
            past.into_iter().map(|t| (t.name, target.similarity(&t.features), t.surrogate)).filter(|(_, w, _)| *w >= MIN_WEIGHT).collect();
        let total: f64 = weighted.iter().map(|(_, w, _)| w).sum();
        if weighted.is_empty() || total <= 0.0 {
            return None;
        }
        let tasks: Vec<(String, f64, Gp)> = weighted.into_iter().map(|(n, w, g)| (n, w / total, g)).collect();
        let scale = tasks.iter().map(|(_, w, g)| w * g.target_scale().1).sum();
        Some(Prior { tasks, scale })
    }

    /// Each past task's name and weight (summing to 1).
    pub fn weights(&self) -> Vec<(String, f64)> {
        self.tasks.iter().map(|(n, w, _)| (n.clone(), *w)).collect()
    }

    /// The weighted standardised mean at `x`: how good the past tasks think it is, in their spreads.
    pub fn z(&self, x: &[f64]) -> f64 {
        self.tasks.iter().map(|(_, w, g)| w * g.standardised_mean(x)).sum()
    }

    /// The past tasks' weighted target spread: the prior's unit in the target's units.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gp::Layout;

    fn two_blobs(n: usize, gap: f32) -> (Vec<f32>, Vec<u32>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = (i % 2) as u32;
            let t = i as f32 * 0.61;
            x.extend([c as f32 * gap + 0.3 * t.sin(), 0.3 * (1.7 * t).cos()]);
            y.push(c);
        }
        (x, y)
    }

    #[test]
    fn landmarks_tell_easy_tasks_from_hard_ones() {
        let (x, y) = two_blobs(400, 3.0);
        let easy = TaskFeatures::compute(&x, 2, &y, 2);
        assert_eq!((easy.examples, easy.dims, easy.classes), (400, 2, 2));
        assert!((easy.class_balance - 1.0).abs() < 1e-9);
        assert!(easy.nearest_centroid > 0.99 && easy.nearest_neighbour > 0.99, "{easy:?}");
        // Labels unrelated to the inputs: both landmarks near chance.
        let (x, _) = two_blobs(400, 0.0);
        let noise: Vec<u32> = (0..400u32).map(|i| (i * 7919 % 13) % 2).collect();
        let hard = TaskFeatures::compute(&x, 2, &noise, 2);
        assert!(hard.nearest_centroid < 0.65, "{hard:?}");
        assert!(easy.similarity(&easy) == 1.0);
        assert!(easy.similarity(&hard) < 0.01, "{}", easy.similarity(&hard));
    }

    #[test]
    fn the_prior_weights_similar_tasks_more_and_ranks_like_them() {
        let (x, y) = two_blobs(200, 3.0);
        let target = TaskFeatures::compute(&x, 2, &y, 2);
        let near = TaskFeatures { examples: 300, ..target.clone() };
        let far = TaskFeatures { nearest_centroid: 0.5, nearest_neighbour: 0.6, ..target.clone() };
        let xs: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64 / 7.0]).collect();
        let up: Vec<f64> = xs.iter().map(|r| r[0]).collect();
        let down: Vec<f64> = xs.iter().map(|r| 1.0 - r[0]).collect();
        let layout = Layout::numeric(1);
        let past = vec![
            PastTask { name: "near".into(), features: near, surrogate: Gp::fit(&layout, &xs, &up, 0).unwrap() },
            PastTask { name: "far".into(), features: far, surrogate: Gp::fit(&layout, &xs, &down, 0).unwrap() },
        ];
        let prior = Prior::new(&target, past).unwrap();
        let w = prior.weights();
        assert!(w[0].1 > 0.9, "{w:?}");
        assert!((w.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(prior.z(&[0.9]) > prior.z(&[0.1]));
    }
}
