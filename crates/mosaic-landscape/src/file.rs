//! A surface on disk: the loss grid as `.npy` (`ny x nx`, or `nx` for a 1-D
//! scan) for NumPy users, and a JSON sidecar of the same stem with the axes,
//! the settings, the accuracy grid and the trajectory, for the explorer.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::surface::{Axis, Surface};
use crate::{DirectionOptions, LandscapeError};

/// Where the directions came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionSource {
    /// Drawn at random and normalised with the recorded options.
    Random,
    /// Read from a file, normalised only if the options say so.
    File(String),
    /// The top two principal components of the training trajectory.
    Trajectory,
}

/// The path the optimiser took, in the surface's coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryInfo {
    /// Epoch of each checkpoint.
    pub epochs: Vec<u32>,
    /// `(x, y)` of each checkpoint; the final weights are at the origin.
    pub coords: Vec<[f64; 2]>,
    /// Loss of each checkpoint on the surface's data.
    pub loss: Vec<f64>,
    /// Fraction of the path's variance along x and y.
    pub explained: [f64; 2],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurfaceInfo {
    /// What was evaluated: a store's run or a weights file.
    pub source: String,
    pub run: Option<i64>,
    /// The data set and split the loss is measured on.
    pub data: String,
    pub examples: usize,
    pub x: Axis,
    pub y: Option<Axis>,
    pub directions: DirectionSource,
    pub options: DirectionOptions,
    /// The `.npy` holding the loss grid, next to this file.
    pub loss_file: String,
    /// Accuracy at each grid point, row-major like the loss (NaN, written
    /// `null`, where there is none: a regression, a diverged point).
    #[serde(deserialize_with = "nulls_as_nan")]
    pub accuracy: Vec<f64>,
    /// `[x, y, loss]` of the lowest finite loss on the grid.
    pub minimum: Option<[f64; 3]>,
    /// Grid points whose loss overflowed.
    pub non_finite: usize,
    pub trajectory: Option<TrajectoryInfo>,
    /// Time spent evaluating the grid.
    pub seconds: f64,
}

/// JSON has no NaN: serde writes it as `null`, and reads `null` back as NaN here.
fn nulls_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

impl SurfaceInfo {
    pub fn minimum_of(surface: &Surface) -> Option<[f64; 3]> {
        let nx = surface.x.len();
        surface.minimum().map(|(k, loss)| {
            let y = surface.y.as_ref().map_or(0.0, |ys| ys[k / nx]);
            [surface.x[k % nx], y, loss]
        })
    }
}

/// The sidecar of `surface.npy`: `surface.json`.
pub fn sidecar_path(npy: &Path) -> PathBuf {
    npy.with_extension("json")
}

/// Writes the loss grid and its sidecar (each atomically).
pub fn write(npy: &Path, surface: &Surface, info: &SurfaceInfo) -> Result<(), LandscapeError> {
    let shape: Vec<usize> = match &surface.y {
        Some(ys) => vec![ys.len(), surface.x.len()],
        None => vec![surface.x.len()],
    };
    let io = |path: &Path, e: std::io::Error| LandscapeError::Format(format!("cannot write {}: {e}", path.display()));
    mosaic_core::fs::write_atomic(npy, &mosaic_manifold::npy::shaped_bytes(&shape, &surface.loss)).map_err(|e| io(npy, e))?;
    let json = serde_json::to_vec_pretty(info).expect("plain data serialises");
    let side = sidecar_path(npy);
    mosaic_core::fs::write_atomic(&side, &json).map_err(|e| io(&side, e))
}

/// Reads a surface written by [`write`], from its `.npy` path.
pub fn read(npy: &Path) -> Result<(Surface, SurfaceInfo), LandscapeError> {
    let side = sidecar_path(npy);
    let text = std::fs::read(&side).map_err(|e| LandscapeError::Format(format!("cannot read {}: {e}", side.display())))?;
    let info: SurfaceInfo =
        serde_json::from_slice(&text).map_err(|e| LandscapeError::Format(format!("{} is not a surface sidecar: {e}", side.display())))?;
    let grid = mosaic_manifold::npy::read(npy).map_err(|e| LandscapeError::Format(e.to_string()))?;
    let (x, y) = (info.x.values(), info.y.map(|a| a.values()));
    let expected = x.len() * y.as_ref().map_or(1, Vec::len);
    if grid.data.len() != expected || info.accuracy.len() != expected {
        return Err(LandscapeError::Shape(format!(
            "{} holds {} values and its sidecar {} accuracies, the axes {expected}",
            npy.display(),
            grid.data.len(),
            info.accuracy.len()
        )));
    }
    Ok((Surface { x, y, loss: grid.data, accuracy: info.accuracy.clone() }, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sidecar_with_missing_accuracies_reads_them_as_nan() {
        let json = r#"{"source": "python", "run": 3, "data": "digits", "examples": 10,
            "x": {"min": -1.0, "max": 1.0, "num": 2}, "y": null, "directions": "random",
            "options": {"normalization": "filter", "ignore_bias_and_norm": true, "orthogonalize": false, "seed": 0},
            "loss_file": "landscape.npy", "accuracy": [0.5, null], "minimum": null, "non_finite": 0,
            "trajectory": null, "seconds": 0.1}"#;
        let info: SurfaceInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.accuracy[0], 0.5);
        assert!(info.accuracy[1].is_nan());
        assert_eq!(info.directions, DirectionSource::Random);
    }
}
