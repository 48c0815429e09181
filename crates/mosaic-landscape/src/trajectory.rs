//! The optimiser's path in weight space, seen in the plane that holds most
//! of it (Li et al. 2018, section 7): PCA of the vectors from the final
//! weights to each checkpoint. The top two components are unit directions;
//! a surface over them has the trajectory lying on it, the final weights at
//! the origin.

use mosaic_manifold::pca::symmetric_eigen;
use mosaic_train::checkpoint::Arrays;

use crate::LandscapeError;
use crate::net::Net;

#[derive(Clone, Debug)]
pub struct Trajectory {
    /// Unit principal directions, shaped like the parameters.
    pub d1: Arrays,
    pub d2: Arrays,
    /// Each checkpoint's `(checkpoint - final) . d`, in checkpoint order.
    pub coords: Vec<[f64; 2]>,
    /// Fraction of the path's variance along each direction.
    pub explained: [f64; 2],
}

impl Trajectory {
    /// PCA over `checkpoints` (oldest first) of `net`'s learned parameters.
    /// With `ignore_bias_and_norm`, 1-D arrays are left out, as for
    /// filter-normalised surfaces.
    pub fn fit(net: &Net, checkpoints: &[Arrays], ignore_bias_and_norm: bool) -> Result<Trajectory, LandscapeError> {
        if checkpoints.len() < 3 {
            return Err(LandscapeError::Format(format!(
                "a trajectory needs at least 3 checkpoints, got {}: train with `--checkpoints all` and 3 or more epochs",
                checkpoints.len()
            )));
        }
        let names: Vec<String> = net.parameters().into_iter().filter(|n| !(ignore_bias_and_norm && net.weights[n].0.len() <= 1)).collect();
        let mut rows = Vec::with_capacity(checkpoints.len());
        for (i, ckpt) in checkpoints.iter().enumerate() {
            let mut row = Vec::new();
            for name in &names {
                let (shape, w) = &net.weights[name];
                let (cshape, c) = ckpt.get(name).ok_or_else(|| LandscapeError::Missing(format!("{name} in checkpoint {}", i + 1)))?;
                if cshape != shape {
                    return Err(LandscapeError::Shape(format!(
                        "{name} in checkpoint {} is {cshape:?}, the final weights {shape:?}",
                        i + 1
                    )));
                }
                if let Some(j) = c.iter().position(|v| !v.is_finite()) {
                    return Err(LandscapeError::NonFinite(format!("{name} in checkpoint {} at flat index {j}", i + 1)));
                }
                row.extend(c.iter().zip(w).map(|(c, w)| *c as f64 - *w as f64));
            }
            rows.push(row);
        }
        let k = rows.len();
        let p = rows[0].len();
        let mean: Vec<f64> = (0..p).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / k as f64).collect();
        let centred: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().zip(&mean).map(|(x, m)| x - m).collect()).collect();
        // Few checkpoints, many weights: eigen-decompose the k x k Gram matrix.
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let gram: Vec<Vec<f64>> = (0..k).map(|i| (0..k).map(|j| dot(&centred[i], &centred[j])).collect()).collect();
        let (values, vectors) = symmetric_eigen(gram);
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        if total <= 0.0 || values[order[1]] <= total * 1e-12 {
            return Err(LandscapeError::Format("the checkpoints lie on a line or a point: the path spans no plane".into()));
        }
        let component = |c: usize| -> Vec<f64> {
            let mut axis = vec![0.0; p];
            for (i, row) in centred.iter().enumerate() {
                let u = vectors[i][c];
                axis.iter_mut().zip(row).for_each(|(a, x)| *a += u * x);
            }
            let norm = dot(&axis, &axis).sqrt();
            axis.iter_mut().for_each(|a| *a /= norm);
            // Fix the sign so the same run gives the same picture.
            let largest = axis.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap_or(0.0);
            if largest < 0.0 {
                axis.iter_mut().for_each(|a| *a = -*a);
            }
            axis
        };
        let (c1, c2) = (component(order[0]), component(order[1]));
        let coords = rows.iter().map(|r| [dot(r, &c1), dot(r, &c2)]).collect();
        let unflatten = |flat: &[f64]| -> Arrays {
            let mut out = Arrays::new();
            let mut at = 0;
            for name in net.parameters() {
                let shape = net.weights[&name].0.clone();
                let len: usize = shape.iter().product();
                let values = if names.contains(&name) {
                    at += len;
                    flat[at - len..at].iter().map(|&v| v as f32).collect()
                } else {
                    vec![0.0; len]
                };
                out.insert(name, (shape, values));
            }
            out
        };
        Ok(Trajectory {
            d1: unflatten(&c1),
            d2: unflatten(&c2),
            coords,
            explained: [values[order[0]].max(0.0) / total, values[order[1]].max(0.0) / total],
        })
    }

    /// Axes that hold the whole path with a margin of `margin` times its
    /// extent on each side (and the final weights, at the origin).
    pub fn axes(&self, margin: f64, num: usize) -> (crate::Axis, crate::Axis) {
        let axis = |k: usize| {
            let (lo, hi) = self.coords.iter().fold((0.0f64, 0.0f64), |(lo, hi), c| (lo.min(c[k]), hi.max(c[k])));
            let pad = ((hi - lo) * margin).max(1e-6);
            crate::Axis { min: lo - pad, max: hi + pad, num }
        };
        (axis(0), axis(1))
    }
}
