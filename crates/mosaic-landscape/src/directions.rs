//! Directions in weight space (Li et al. 2018, "Visualizing the Loss
//! Landscape of Neural Nets", section 4).
//!
//! A direction has one array per learned parameter, shaped like it. Random
//! directions are Gaussian and then normalised so that moving one unit along
//! them changes every filter by as much as the filter's own norm: without
//! that, a net with large weights would look flatter than the same function
//! with small ones.

use mosaic_train::checkpoint::Arrays;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::LandscapeError;
use crate::net::Net;

/// How a direction is scaled against the trained weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    /// Each filter (a dense neuron's incoming weights, a conv output
    /// channel) to the norm of the same filter in the weights.
    #[default]
    Filter,
    /// Each parameter array as a whole to the norm of its weights.
    Layer,
    /// Used as drawn or given.
    None,
}

impl Normalization {
    pub fn parse(name: &str) -> Option<Normalization> {
        match name {
            "filter" => Some(Normalization::Filter),
            "layer" => Some(Normalization::Layer),
            "none" => Some(Normalization::None),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectionOptions {
    pub normalization: Normalization,
    /// Zero the direction on biases and norm parameters (every 1-D array),
    /// as the reference does by default; otherwise they follow the weights.
    pub ignore_bias_and_norm: bool,
    /// Make the second direction orthogonal to the first.
    pub orthogonalize: bool,
    pub seed: u64,
}

impl Default for DirectionOptions {
    fn default() -> Self {
        DirectionOptions { normalization: Normalization::Filter, ignore_bias_and_norm: true, orthogonalize: false, seed: 0 }
    }
}

/// The flat indices of each filter of an array: a dense `[in, out]` matrix
/// has one filter per column, a conv `[out, in, k, k]` one per output channel.
fn filter_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let len: usize = shape.iter().product();
    match shape {
        [_, cols] => (0..*cols).map(|c| (c..len).step_by(*cols).collect()).collect(),
        _ => {
            let rows = shape.first().copied().unwrap_or(1).max(1);
            let per = len / rows;
            (0..rows).map(|r| (r * per..(r + 1) * per).collect()).collect()
        }
    }
}

fn norm(values: impl Iterator<Item = f32>) -> f64 {
    values.map(|v| (v as f64) * (v as f64)).sum::<f64>().sqrt()
}

/// Scales `direction` against `net`'s weights, in place. 1-D arrays are
/// zeroed (`ignore_bias_and_norm`) or set to the weights themselves, as in
/// the reference implementation.
pub fn normalize(direction: &mut Arrays, net: &Net, normalization: Normalization, ignore_bias_and_norm: bool) {
    for (name, (shape, d)) in direction.iter_mut() {
        let w = &net.weights[name].1;
        if shape.len() <= 1 {
            if ignore_bias_and_norm {
                d.iter_mut().for_each(|v| *v = 0.0);
            } else if normalization != Normalization::None {
                d.copy_from_slice(w);
            }
            continue;
        }
        let groups = match normalization {
            Normalization::None => continue,
            Normalization::Layer => vec![(0..d.len()).collect()],
            Normalization::Filter => filter_indices(shape),
        };
        for group in groups {
            let wn = norm(group.iter().map(|&i| w[i]));
            let dn = norm(group.iter().map(|&i| d[i]));
            // The reference's 1e-10 keeps an all-zero filter from dividing by zero.
            let scale = (wn / (dn + 1e-10)) as f32;
            group.iter().for_each(|&i| d[i] *= scale);
        }
    }
}

/// A seeded Gaussian direction over `net`'s parameters, normalised.
pub fn random_direction(net: &Net, options: &DirectionOptions, stream: u64) -> Arrays {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(stream);
    let mut direction = Arrays::new();
    for name in net.parameters() {
        let shape = net.weights[&name].0.clone();
        let len = shape.iter().product();
        direction.insert(name, (shape, (0..len).map(|_| gaussian(&mut rng)).collect()));
    }
    normalize(&mut direction, net, options.normalization, options.ignore_bias_and_norm);
    direction
}

/// Two directions for a surface: drawn (`given` is `None`) or given and
/// normalised only if asked; the second orthogonalised if asked.
pub fn surface_directions(net: &Net, options: &DirectionOptions, two: bool) -> (Arrays, Option<Arrays>) {
    let d1 = random_direction(net, options, 1);
    let mut d2 = two.then(|| random_direction(net, options, 2));
    if options.orthogonalize
        && let Some(d2) = &mut d2
    {
        orthogonalize(d2, &d1);
    }
    (d1, d2)
}

/// Removes from `d` its component along `along` (both read as one flat vector).
pub fn orthogonalize(d: &mut Arrays, along: &Arrays) {
    let dot: f64 = d.iter().map(|(n, (_, v))| v.iter().zip(&along[n].1).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>()).sum();
    let nn: f64 = along.values().map(|(_, v)| norm(v.iter().copied()).powi(2)).sum();
    if nn == 0.0 {
        return;
    }
    let k = (dot / nn) as f32;
    for (name, (_, v)) in d.iter_mut() {
        v.iter_mut().zip(&along[name].1).for_each(|(a, b)| *a -= k * b);
    }
}

/// Directions given in a file as `d1.<param>` and (optionally) `d2.<param>`,
/// in the network's own file layout (PyTorch's `[out, in]` for a network read
/// from PyTorch), checked against it and returned in the evaluation layout.
pub fn from_file(arrays: Arrays, net: &Net) -> Result<(Arrays, Option<Arrays>), LandscapeError> {
    let mut parts = [Arrays::new(), Arrays::new()];
    for (name, (shape, values)) in arrays {
        let (which, param) = match name.split_once('.') {
            Some(("d1", p)) => (0, p.to_string()),
            Some(("d2", p)) => (1, p.to_string()),
            _ => {
                return Err(LandscapeError::Format(format!("direction tensor `{name}`: names must start with `d1.` or `d2.`")));
            }
        };
        let (shape, values) = match shape[..] {
            [out, inp] if net.from_torch => (vec![inp, out], crate::net::transpose(&values, out, inp)),
            _ => (shape, values),
        };
        parts[which].insert(param, (shape, values));
    }
    let [d1, d2] = parts;
    if d1.is_empty() {
        return Err(LandscapeError::Missing("d1.* (the directions file has no first direction)".into()));
    }
    check_direction(&d1, net, "d1")?;
    let d2 = (!d2.is_empty()).then_some(d2);
    if let Some(d2) = &d2 {
        check_direction(d2, net, "d2")?;
    }
    Ok((d1, d2))
}

/// Checks that a given direction covers exactly `net`'s parameters, with
/// their shapes, and is finite. `label` names it in errors (`d1`).
pub fn check_direction(direction: &Arrays, net: &Net, label: &str) -> Result<(), LandscapeError> {
    let parameters = net.parameters();
    for name in &parameters {
        let (shape, values) = direction
            .get(name)
            .ok_or_else(|| LandscapeError::Missing(format!("{label}.{name} (the direction has no entry for this parameter)")))?;
        let expected = &net.weights[name].0;
        if shape != expected {
            return Err(LandscapeError::Shape(format!("{label}.{name} has shape {shape:?}, the weights {expected:?}")));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(LandscapeError::NonFinite(format!("direction {label}.{name} at flat index {i}")));
        }
    }
    if let Some(extra) = direction.keys().find(|k| !parameters.contains(k)) {
        return Err(LandscapeError::Format(format!("{label}.{extra} matches no parameter of the network")));
    }
    Ok(())
}

fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    // Box–Muller; the max keeps ln away from zero.
    let u1 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}
