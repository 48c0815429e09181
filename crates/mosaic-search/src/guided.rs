//! Manifold-guided sampling (after Abel et al., "Exploring the Manifold of
//! Neural Networks Using Diffusion Geometry"): new candidates are drawn
//! between neighbouring high performers on the sphere, where position means
//! function, then decoded to valid specs.

use mosaic_core::{ArchSpec, Encoder, Knob};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A finished run as the sphere shows it.
#[derive(Clone, Debug)]
pub struct PlacedRun {
    pub spec: ArchSpec,
    pub position: [f64; 3],
    pub value: f64,
}

/// Share of runs that make the high-performing region (at least 3 runs).
const TOP_SHARE: f64 = 0.2;
/// Neighbours on the sphere a draw may pair with.
const NEIGHBOURS: usize = 3;
/// Jitter on numeric knobs, in scaled units, so draws are not only on segments.
const JITTER: f64 = 0.05;

/// `n` specs between neighbouring good runs: pick a good run (better ranks
/// more often), one of its nearest good neighbours on the sphere, a point on
/// the segment between their encodings, a little jitter; decode. Returns
/// nothing when fewer than two runs have finite values.
pub fn near_good_region(encoder: &Encoder, runs: &[PlacedRun], n: usize, seed: u64) -> Vec<ArchSpec> {
    let mut ranked: Vec<&PlacedRun> = runs.iter().filter(|r| r.value.is_finite()).collect();
    if ranked.len() < 2 {
        return vec![];
    }
    ranked.sort_by(|a, b| b.value.total_cmp(&a.value));
    let good = &ranked[..((ranked.len() as f64 * TOP_SHARE).ceil() as usize).clamp(3.min(ranked.len()), ranked.len())];
    let encodings: Vec<Vec<f64>> = good.iter().map(|r| encoder.encode(&r.spec)).collect();
    let dist = |a: &[f64; 3], b: &[f64; 3]| (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>();
    let neighbours: Vec<Vec<usize>> = (0..good.len())
        .map(|i| {
            let mut others: Vec<usize> = (0..good.len()).filter(|&j| j != i).collect();
            others.sort_by(|&a, &b| dist(&good[i].position, &good[a].position).total_cmp(&dist(&good[i].position, &good[b].position)));
            others.truncate(NEIGHBOURS);
            others
        })
        .collect();
    // Rank weights m, m-1, ..., 1.
    let m = good.len();
    let total = (m * (m + 1) / 2) as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut draw = rng.random::<f64>() * total;
            let a = (0..m)
                .find(|&i| {
                    draw -= (m - i) as f64;
                    draw < 0.0
                })
                .unwrap_or(m - 1);
            let b = neighbours[a][rng.random_range(0..neighbours[a].len())];
            let t = rng.random::<f64>();
            let mut v: Vec<f64> = encodings[a].iter().zip(&encodings[b]).map(|(x, y)| x + t * (y - x)).collect();
            for u in &mut v[..Knob::ALL.len()] {
                *u += JITTER * (rng.random::<f64>() * 2.0 - 1.0);
            }
            encoder.decode(&v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use mosaic_core::{SearchSpace, sample};

    use super::*;

    #[test]
    fn draws_land_near_the_good_region() {
        let encoder = Encoder::new(SearchSpace::demo_space());
        // Value and position both follow the learning rate's scaled value.
        let runs: Vec<PlacedRun> = sample::random(&encoder, 100, 2)
            .into_iter()
            .map(|spec| {
                let u = encoder.encode(&spec)[Knob::ALL.iter().position(|k| *k == Knob::LearningRate).unwrap()];
                PlacedRun { spec, position: [u.cos(), u.sin(), 0.0], value: u }
            })
            .collect();
        let drawn = near_good_region(&encoder, &runs, 200, 5);
        assert_eq!(drawn.len(), 200);
        let lr = |s: &ArchSpec| s.learning_rate.log10();
        let mean = drawn.iter().map(lr).sum::<f64>() / 200.0;
        // The space spans 1e-4..1e-1; the good fifth lies above ~10^-1.6.
        assert!(mean > -1.8, "mean log10 learning rate {mean}");
        assert!(drawn.iter().all(|s| encoder.space().contains(s)));
        assert!(near_good_region(&encoder, &runs[..1], 5, 0).is_empty());
    }
}
