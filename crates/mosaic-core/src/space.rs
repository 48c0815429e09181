//! Search spaces: bounds and choices for every knob of an [`ArchSpec`], read from RON.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::spec::{Activation, ArchSpec, Family, Norm, Optimizer};

/// Inclusive bounds of a numeric knob; `log` means values are spread evenly in log space.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
        let (lo, hi, v) = if self.log {
            (self.min.ln(), self.max.ln(), value.max(self.min).ln())
        } else {
            (self.min, self.max, value)
        };
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

    fn validate(&self, knob: &'static str, integer: bool) -> Result<(), SpaceError> {
        let bad = |reason: String| SpaceError::Invalid { field: knob, reason };
        if !self.min.is_finite() || !self.max.is_finite() {
            return Err(bad("bounds must be finite numbers".into()));
        }
        if self.min > self.max {
            return Err(bad(format!("min {} is greater than max {}", self.min, self.max)));
        }
        if self.log && self.min <= 0.0 {
            return Err(bad(format!("log scale needs min > 0, got {}", self.min)));
        }
        if integer && (self.min < 1.0 || self.min.fract() != 0.0 || self.max.fract() != 0.0) {
            return Err(bad("integer knobs need whole bounds of at least 1".into()));
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
}

/// The default space embedded in the binary, so the explorer runs with no files at hand.
pub const DEFAULT_SPACE_RON: &str = include_str!("../../../scenes/spaces/default.ron");

impl SearchSpace {
    /// The space shipped as `scenes/spaces/default.ron`.
    pub fn default_space() -> SearchSpace {
        SearchSpace::from_ron(DEFAULT_SPACE_RON, "scenes/spaces/default.ron")
            .expect("the embedded default search space is valid (checked by tests)")
    }

    /// Parses and validates a space; `origin` names the source in errors.
    pub fn from_ron(text: &str, origin: &str) -> Result<SearchSpace, SpaceError> {
        let space: SearchSpace = ron::from_str(text).map_err(|e| SpaceError::Parse {
            path: origin.to_string(),
            message: format!("line {}, column {}: {}", e.position.line, e.position.col, e.code),
        })?;
        space.validate()?;
        Ok(space)
    }

    pub fn load(path: &Path) -> Result<SearchSpace, SpaceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SpaceError::Io { path: path.display().to_string(), source })?;
        SearchSpace::from_ron(&text, &path.display().to_string())
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .expect("a search space always serialises")
    }

    pub fn validate(&self) -> Result<(), SpaceError> {
        fn non_empty<T>(field: &'static str, v: &[T]) -> Result<(), SpaceError> {
            if v.is_empty() {
                return Err(SpaceError::Invalid { field, reason: "needs at least one choice".into() });
            }
            Ok(())
        }
        non_empty("families", &self.families)?;
        non_empty("activations", &self.activations)?;
        non_empty("norms", &self.norms)?;
        non_empty("skip", &self.skip)?;
        non_empty("optimizers", &self.optimizers)?;
        self.depth.validate("depth", true)?;
        self.width.validate("width", true)?;
        self.taper.validate("taper", false)?;
        self.dropout.validate("dropout", false)?;
        self.learning_rate.validate("learning_rate", false)?;
        self.batch_size.validate("batch_size", true)?;
        self.weight_decay.validate("weight_decay", false)?;
        self.epochs.validate("epochs", true)?;
        if self.taper.min <= 0.0 {
            return Err(SpaceError::Invalid { field: "taper", reason: "must be positive".into() });
        }
        if self.dropout.min < 0.0 || self.dropout.max >= 1.0 {
            return Err(SpaceError::Invalid { field: "dropout", reason: "must lie in [0, 1)".into() });
        }
        if self.learning_rate.min <= 0.0 {
            return Err(SpaceError::Invalid { field: "learning_rate", reason: "must be positive".into() });
        }
        if self.weight_decay.min < 0.0 {
            return Err(SpaceError::Invalid { field: "weight_decay", reason: "must not be negative".into() });
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
