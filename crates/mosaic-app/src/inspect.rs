//! What the view knows about the selected network: details and its loss
//! landscape, both computed elsewhere and delivered over the bridge.

use bevy::prelude::*;
use mosaic_core::run::EpochMetrics;

/// What the compute side tells about one network, for the inspector.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkDetails {
    /// One line naming the network, e.g. "run 12 · ResidualMlp 3x64 Gelu".
    pub title: String,
    /// Name and value pairs: status, accuracy, parameters, knobs…
    pub facts: Vec<(String, String)>,
    /// Training curves, one entry per epoch (empty if not trained).
    pub epochs: Vec<EpochMetrics>,
}

/// One checkpoint of the training path, in the surface's coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathPoint {
    pub epoch: u32,
    pub x: f64,
    pub y: f64,
    pub loss: f64,
}

/// A 2-D loss surface around a network, with the path training took on it.
#[derive(Clone, Debug, PartialEq)]
pub struct LandscapeData {
    /// Grid coordinates along the two directions.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Loss at every grid point, row-major: `loss[j * x.len() + i]` at `(x[i], y[j])`.
    pub loss: Vec<f64>,
    /// Training path (empty when the directions are not the trajectory's).
    pub path: Vec<PathPoint>,
    /// What the directions and data are, for the panel.
    pub caption: String,
}

impl LandscapeData {
    /// Lowest finite loss and where: `(i, j, loss)`.
    pub fn minimum(&self) -> Option<(usize, usize, f64)> {
        let nx = self.x.len();
        self.loss.iter().enumerate().filter(|(_, l)| l.is_finite()).min_by(|a, b| a.1.total_cmp(b.1)).map(|(k, l)| (k % nx, k / nx, *l))
    }

    /// Checks the shapes agree, so a drawing never indexes out of range.
    pub fn validate(&self) -> Result<(), String> {
        if self.x.len() < 2 || self.y.len() < 2 {
            return Err(format!("a surface needs at least 2x2 grid points, not {}x{}", self.x.len(), self.y.len()));
        }
        if self.loss.len() != self.x.len() * self.y.len() {
            return Err(format!("{} loss values for a {}x{} grid", self.loss.len(), self.x.len(), self.y.len()));
        }
        if !self.loss.iter().any(|l| l.is_finite()) {
            return Err("no grid point has a finite loss".into());
        }
        Ok(())
    }
}

/// Where the landscape of the selected network stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LandscapeState {
    /// Nothing asked (no selection, or nothing can compute one).
    #[default]
    None,
    /// Being read or computed; the text says how far along.
    Loading(String),
    Ready(LandscapeData),
    Failed(String),
}

/// The selected network as the inspector shows it.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Inspection {
    /// The point these details belong to.
    pub index: Option<usize>,
    pub details: Option<NetworkDetails>,
    pub landscape: LandscapeState,
}
