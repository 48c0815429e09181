//! What answers carry: a network's details and landscape, correlation
//! tables, training dynamics, hyper-parameter surfaces, paths, suggestions.

use mosaic_core::EpochMetrics;

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
    pub fn validate(&self) -> Result<(), InvalidSurface> {
        let (nx, ny) = (self.x.len(), self.y.len());
        if nx < 2 || ny < 2 {
            return Err(InvalidSurface::TooSmall { nx, ny });
        }
        if self.loss.len() != nx * ny {
            return Err(InvalidSurface::WrongCount { values: self.loss.len(), nx, ny });
        }
        if !self.loss.iter().any(|l| l.is_finite()) {
            return Err(InvalidSurface::NoFiniteLoss);
        }
        Ok(())
    }
}

/// Why a landscape cannot be drawn.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InvalidSurface {
    #[error("a surface needs at least 2x2 grid points, not {nx}x{ny}")]
    TooSmall { nx: usize, ny: usize },
    #[error("{values} loss values for a {nx}x{ny} grid")]
    WrongCount { values: usize, nx: usize, ny: usize },
    #[error("no grid point has a finite loss")]
    NoFiniteLoss,
}

/// Which correlation the heatmap shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CorrelationMethod {
    Pearson,
    /// Rank correlation: robust to the skewed scales of sizes and rates.
    #[default]
    Spearman,
    Kendall,
}

impl CorrelationMethod {
    pub const ALL: [CorrelationMethod; 3] = [CorrelationMethod::Pearson, CorrelationMethod::Spearman, CorrelationMethod::Kendall];

    pub fn name(self) -> &'static str {
        match self {
            CorrelationMethod::Pearson => "Pearson",
            CorrelationMethod::Spearman => "Spearman",
            CorrelationMethod::Kendall => "Kendall",
        }
    }
}

/// Correlations between named columns: `r[i][j]` and its p-value `p[i][j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationTable {
    pub method: CorrelationMethod,
    pub names: Vec<String>,
    pub r: Vec<Vec<f64>>,
    pub p: Vec<Vec<f64>>,
    /// Anything the reader should know (e.g. a subsample was used).
    pub note: String,
}

/// One metric over a run's epochs: value, change per epoch, momentum.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicsSeries {
    pub name: String,
    pub values: Vec<f64>,
    pub derivative: Vec<f64>,
    pub momentum: Vec<f64>,
}

/// A target metric over two knobs, with the runs and the knobs' importance.
#[derive(Clone, Debug, PartialEq)]
pub struct HyperView {
    pub x_name: String,
    pub y_name: String,
    pub target: String,
    /// The surface on its grid (`loss` holds the target; no path).
    pub surface: LandscapeData,
    /// The runs: (x, y, target).
    pub runs: Vec<[f64; 3]>,
    /// Whether the runs formed a grid (exact cell means) rather than scattered points (a spline).
    pub exact: bool,
    /// Knobs by the share of the target's variance each explains alone, largest first.
    pub importance: Vec<(String, f64)>,
}

/// Architectures between two networks.
#[derive(Clone, Debug, PartialEq)]
pub struct PathView {
    /// One line per step, e.g. "Mlp 3x64 Relu lr 1.00e-3".
    pub labels: Vec<String>,
    /// Where each step sits on the sphere.
    pub positions: Vec<[f32; 3]>,
}

/// A batch of suggestions as the view shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SuggestionsView {
    /// Store ids, to train them by.
    pub ids: Vec<i64>,
    pub labels: Vec<String>,
    pub positions: Vec<[f32; 3]>,
    /// Predicted target (validation accuracy) and its standard deviation.
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    /// What went into the batch, in words.
    pub notes: Vec<String>,
}
