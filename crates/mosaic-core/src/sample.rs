//! Samplers over a search space: plain random and a Latin hypercube design.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::encoding::Encoder;
use crate::spec::ArchSpec;

/// `n` specs drawn uniformly (in scaled units) from the space; same seed, same specs.
pub fn random(encoder: &Encoder, n: usize, seed: u64) -> Vec<ArchSpec> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dims = encoder.design_dims();
    (0..n)
        .map(|_| {
            let u: Vec<f64> = (0..dims).map(|_| rng.random::<f64>()).collect();
            encoder.from_design(&u)
        })
        .collect()
}

/// Points of a Latin hypercube in `[0, 1)^dims`: along every axis each of the
/// `n` equal strata holds exactly one point, jittered inside its stratum.
pub fn latin_hypercube_unit(n: usize, dims: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = vec![vec![0.0; dims]; n];
    let mut strata: Vec<usize> = (0..n).collect();
    for d in 0..dims {
        strata.shuffle(&mut rng);
        for (point, &s) in points.iter_mut().zip(&strata) {
            point[d] = (s as f64 + rng.random::<f64>()) / n as f64;
        }
    }
    points
}

/// `n` specs from a Latin hypercube over the space's knobs: numeric knobs are
/// spread evenly over their (log) ranges and categorical options appear in
/// equal shares.
pub fn latin_hypercube(encoder: &Encoder, n: usize, seed: u64) -> Vec<ArchSpec> {
    latin_hypercube_unit(n, encoder.design_dims(), seed).iter().map(|u| encoder.from_design(u)).collect()
}
