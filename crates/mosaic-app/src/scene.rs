//! What the sphere view shows: positions, labels and colourable columns.
//! The app reads this resource; it does not own how the data was made.

use bevy::prelude::*;
use mosaic_core::{Colormap, ValueRange};

/// One colourable quantity, a value per point.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricColumn {
    pub name: String,
    pub values: Vec<f64>,
}

/// The population on the sphere.
#[derive(Resource, Clone, Debug, Default)]
pub struct SphereScene {
    /// Shown in the panel, e.g. "400 sampled architectures · space `default`".
    pub title: String,
    /// A line under the title about work in progress (empty when idle).
    pub status: String,
    pub labels: Vec<String>,
    pub positions: Vec<[f32; 3]>,
    pub columns: Vec<MetricColumn>,
}

impl SphereScene {
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// How points are coloured: which column, through which map.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct ColorMapping {
    pub column: usize,
    pub colormap: Colormap,
}

impl Default for ColorMapping {
    fn default() -> Self {
        ColorMapping { column: 0, colormap: Colormap::Viridis }
    }
}

impl ColorMapping {
    /// The value range of the mapped column, for the legend.
    pub fn range(&self, scene: &SphereScene) -> Option<ValueRange> {
        scene.columns.get(self.column).and_then(|c| ValueRange::of(c.values.iter().copied()))
    }

    /// Whether point `i` has a finite value in the mapped column.
    pub fn has_value(&self, scene: &SphereScene, i: usize) -> bool {
        scene.columns.get(self.column).and_then(|c| c.values.get(i)).is_some_and(|v| v.is_finite())
    }

    /// How many points have no finite value in the mapped column.
    pub fn missing(&self, scene: &SphereScene) -> usize {
        scene.columns.get(self.column).map_or(scene.len(), |c| c.values.iter().filter(|v| !v.is_finite()).count())
    }

    /// sRGB colour of every point; points with no finite value are grey.
    pub fn colors(&self, scene: &SphereScene) -> Vec<[u8; 3]> {
        let Some(column) = scene.columns.get(self.column) else {
            return vec![MISSING_VALUE; scene.len()];
        };
        let range = self.range(scene);
        (0..scene.len())
            .map(|i| match (column.values.get(i), range) {
                (Some(v), Some(r)) if v.is_finite() => self.colormap.srgb(r.normalise(*v)),
                _ => MISSING_VALUE,
            })
            .collect()
    }
}

/// Colour of a point whose mapped value is missing or not finite (a network
/// not trained yet, say): a dim grey that recedes behind the coloured points.
pub const MISSING_VALUE: [u8; 3] = [64, 68, 78];
