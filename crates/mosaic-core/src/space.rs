//! Search spaces: bounds and choices for every knob of an [`ArchSpec`], read from RON.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::spec::{Activation, ArchSpec, Family, Norm, Optimizer};

/// Inclusive bounds of a numeric knob; `log` means values are spread evenly in log space.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
    #[serde(default)]
    pub log: bool,
}

impl Bounds {
    pub const fn linear(min: f64, max: f64) -> Self {
        Bounds { min, max, log: false }
    }
    pub const fn log(min: f64, max: f64) -> Self {
        Bounds { min, max, log: true }
    }

    /// Maps a value in the bounds to [0, 1] (clamped).
    pub fn to_unit(&self, value: f64) -> f64 {
        let (lo, hi, v) = if self.log { (self.min.ln(), self.max.ln(), value.max(self.min).ln()) } else { (self.min, self.max, value) };
        if hi <= lo {
            return 0.0;
        }
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    }

    /// Maps [0, 1] back into the bounds; out-of-range and NaN inputs are clamped.
    pub fn from_unit(&self, u: f64) -> f64 {
        let u = if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) };
        if self.log {
            (self.min.ln() + u * (self.max.ln() - self.min.ln())).exp().clamp(self.min, self.max)
        } else {
            (self.min + u * (self.max - self.min)).clamp(self.min, self.max)
        }
    }

    /// Checks the bounds of `knob`; `limit` is the largest value NeuroMosaic accepts for it.
    fn validate(&self, knob: &'static str, integer: bool, limit: f64) -> Result<(), SpaceError> {
        let bad = |reason: String| SpaceError::Invalid { field: knob, reason };
        if !self.min.is_finite() || !self.max.is_finite() {
            return Err(bad(format!("bounds must be finite numbers, got ({}, {})", self.min, self.max)));
        }
        if self.min > self.max {
            return Err(bad(format!("min {} is greater than max {}", self.min, self.max)));
        }
        if self.log && self.min <= 0.0 {
            return Err(bad(format!("log scale needs min > 0, got {}", self.min)));
        }
        if integer && (self.min < 1.0 || self.min.fract() != 0.0 || self.max.fract() != 0.0) {
            return Err(bad(format!("needs whole numbers of at least 1, got ({}, {})", self.min, self.max)));
        }
        if self.max > limit {
            return Err(bad(format!("max {} is above the supported {limit}", self.max)));
        }
        Ok(())
    }
}

/// Bounds and choices for every knob. A space is a file:
/// `scenes/spaces/default.ron` is the one the explorer starts with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpace {
    pub name: String,
    pub families: Vec<Family>,
    pub depth: Bounds,
    pub width: Bounds,
    pub taper: Bounds,
    pub activations: Vec<Activation>,
    pub norms: Vec<Norm>,
    pub dropout: Bounds,
    pub skip: Vec<bool>,
    pub optimizers: Vec<Optimizer>,
    pub learning_rate: Bounds,
    pub batch_size: Bounds,
    pub weight_decay: Bounds,
    pub epochs: Bounds,
}

#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    #[error("cannot read search space {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("malformed search space {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid search space: field `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("invalid search space {path}: field `{field}`: {reason}")]
    InvalidIn { path: String, field: &'static str, reason: String },
}

/// The default space embedded in the binary, so the explorer runs with no files at hand.
pub const DEFAULT_SPACE_RON: &str = include_str!("../../../scenes/spaces/default.ron");
/// The space the explorer's demo sweep trains on the 2-D spirals task (no CNNs).
pub const DEMO_SPACE_RON: &str = include_str!("../../../scenes/spaces/demo.ron");
/// MLPs and CNNs sized for 28x28 images (the MNIST family).
pub const IMAGES_SPACE_RON: &str = include_str!("../../../scenes/spaces/images.ron");

impl SearchSpace {
    /// The space shipped as `scenes/spaces/default.ron`.
    pub fn default_space() -> SearchSpace {
        SearchSpace::from_ron(DEFAULT_SPACE_RON, "scenes/spaces/default.ron")
            .expect("the embedded default search space is valid (checked by tests)")
    }

    /// The space shipped as `scenes/spaces/demo.ron`.
    pub fn demo_space() -> SearchSpace {
        SearchSpace::from_ron(DEMO_SPACE_RON, "scenes/spaces/demo.ron").expect("the embedded demo search space is valid (checked by tests)")
    }

    /// The space shipped as `scenes/spaces/images.ron`.
    pub fn images_space() -> SearchSpace {
        SearchSpace::from_ron(IMAGES_SPACE_RON, "scenes/spaces/images.ron")
            .expect("the embedded images search space is valid (checked by tests)")
    }

    /// Parses and validates a space; `origin` names the source in errors.
    pub fn from_ron(text: &str, origin: &str) -> Result<SearchSpace, SpaceError> {
        let space: SearchSpace = ron::from_str(text).map_err(|e| SpaceError::Parse {
            path: origin.to_string(),
            message: format!("line {}, column {}: {}", e.position.line, e.position.col, e.code),
        })?;
        space.validate().map_err(|e| match e {
            SpaceError::Invalid { field, reason } => SpaceError::InvalidIn { path: origin.to_string(), field, reason },
            other => other,
        })?;
        Ok(space)
    }

    pub fn load(path: &Path) -> Result<SearchSpace, SpaceError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpaceError::Io { path: path.display().to_string(), source })?;
        SearchSpace::from_ron(&text, &path.display().to_string())
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("a search space always serialises")
    }

    pub fn validate(&self) -> Result<(), SpaceError> {
        fn choices<T: PartialEq + std::fmt::Debug>(field: &'static str, v: &[T]) -> Result<(), SpaceError> {
            if v.is_empty() {
                return Err(SpaceError::Invalid { field, reason: "needs at least one choice".into() });
            }
            if let Some((i, dup)) = v.iter().enumerate().find(|(i, x)| v[..*i].contains(x)) {
                return Err(SpaceError::Invalid { field, reason: format!("choice {dup:?} is listed twice (entry {})", i + 1) });
            }
            Ok(())
        }
        choices("families", &self.families)?;
        choices("activations", &self.activations)?;
        choices("norms", &self.norms)?;
        choices("skip", &self.skip)?;
        choices("optimizers", &self.optimizers)?;
        // Limits keep every network countable and buildable on one machine.
        self.depth.validate("depth", true, 256.0)?;
        self.width.validate("width", true, 65_536.0)?;
        self.taper.validate("taper", false, 4.0)?;
        self.dropout.validate("dropout", false, 0.95)?;
        self.learning_rate.validate("learning_rate", false, 10.0)?;
        self.batch_size.validate("batch_size", true, 1_048_576.0)?;
        self.weight_decay.validate("weight_decay", false, 1.0)?;
        self.epochs.validate("epochs", true, 100_000.0)?;
        let bad = |field: &'static str, reason: &str| Err(SpaceError::Invalid { field, reason: reason.into() });
        if self.taper.min <= 0.0 {
            return bad("taper", "must be positive");
        }
        if self.dropout.min < 0.0 {
            return bad("dropout", "must lie in [0, 0.95]");
        }
        if self.learning_rate.min <= 0.0 {
            return bad("learning_rate", "must be positive");
        }
        if self.weight_decay.min < 0.0 {
            return bad("weight_decay", "must not be negative");
        }
        Ok(())
    }

    /// Whether a spec lies inside this space (its choices listed, its numbers in bounds).
    pub fn contains(&self, spec: &ArchSpec) -> bool {
        let within = |b: &Bounds, v: f64| v >= b.min - 1e-9 * b.min.abs() && v <= b.max + 1e-9 * b.max.abs();
        self.families.contains(&spec.family)
            && self.activations.contains(&spec.activation)
            && self.norms.contains(&spec.norm)
            && self.skip.contains(&spec.skip)
            && self.optimizers.contains(&spec.optimizer)
            && within(&self.depth, spec.depth as f64)
            && within(&self.width, spec.width as f64)
            && within(&self.taper, spec.taper)
            && within(&self.dropout, spec.dropout)
            && within(&self.learning_rate, spec.learning_rate)
            && within(&self.batch_size, spec.batch_size as f64)
            && within(&self.weight_decay, spec.weight_decay)
            && within(&self.epochs, spec.epochs as f64)
    }
}
