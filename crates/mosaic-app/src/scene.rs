//! What the sphere view shows (the protocol's `SphereScene`, held as the
//! [`ShownScene`] resource) and the view's own state about it: colour and
//! size mappings, filters, notices. The app does not own how the data was made.

use bevy::prelude::*;
use mosaic_core::{Colormap, ValueRange};

use crate::bridge::{BridgeSystems, Computed};

pub use mosaic_protocol::{MetricColumn, Radar, SphereScene, VAL_ACCURACY};

/// The population the view shows, as a resource: the protocol's
/// [`SphereScene`], changed only by the bridge's updates.
#[derive(Resource, Clone, Debug, Default, Deref, DerefMut)]
pub struct ShownScene(pub SphereScene);

/// Keeps [`ShownScene`] in step with the compute side's scene updates (new
/// values, layouts, points, the status line).
pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(PreUpdate, apply_scene_updates.in_set(BridgeSystems::Apply));
    }
}

/// Applies this frame's scene updates, touching the scene (and so
/// rebuilding what draws it) at most once per frame, and only when one came.
fn apply_scene_updates(mut computed: MessageReader<Computed>, mut scene: ResMut<ShownScene>) {
    let mut updates = computed.read().map(|c| &c.0).filter(|u| u.is_about_scene()).peekable();
    if updates.peek().is_none() {
        return;
    }
    let scene = &mut scene.0;
    for update in updates {
        scene.apply(update);
    }
}

/// How points are coloured: which column, through which map.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct ColorMapping {
    pub column: usize,
    pub colormap: Colormap,
    /// Accuracies on the fixed scale 0–1 rather than stretched over the
    /// values present: a 66 % network is not bright yellow because only
    /// four runs have finished, and colours keep their meaning as runs arrive.
    pub fixed_accuracy_scale: bool,
}

impl Default for ColorMapping {
    fn default() -> Self {
        ColorMapping { column: 0, colormap: Colormap::Viridis, fixed_accuracy_scale: true }
    }
}

/// Whether a column holds accuracies (fractions in 0–1).
pub fn is_accuracy(name: &str) -> bool {
    name.ends_with("accuracy")
}

impl ColorMapping {
    /// Colour by `column` through `colormap`, accuracies on the fixed 0–1 scale.
    pub fn new(column: usize, colormap: Colormap) -> ColorMapping {
        ColorMapping { column, colormap, ..ColorMapping::default() }
    }

    /// The value range the colours span, for the points and the legend: the
    /// mapped column's values, or 0–1 for accuracies on the fixed scale.
    pub fn range(&self, scene: &SphereScene) -> Option<ValueRange> {
        let column = scene.columns.get(self.column)?;
        let data = ValueRange::of(column.values.iter().copied());
        if self.fixed_accuracy_scale && is_accuracy(&column.name) && data.is_some_and(|r| r.min >= 0.0 && r.max <= 1.0) {
            return Some(ValueRange { min: 0.0, max: 1.0 });
        }
        data
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

pub use mosaic_core::theme::MISSING_VALUE;

/// Which column sizes the points (`None`: all the same size).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct SizeMapping {
    pub column: Option<usize>,
}

impl SizeMapping {
    /// Radius factor of point `i`: 0.55 at the column's low end to 1.45 at
    /// its high end; `None` where the point has no finite value.
    pub fn factor(&self, scene: &SphereScene, i: usize) -> Option<f32> {
        let Some(column) = self.column.and_then(|c| scene.columns.get(c)) else { return Some(1.0) };
        let v = column.values.get(i).copied().filter(|v| v.is_finite())?;
        let range = ValueRange::of(column.values.iter().copied())?;
        Some(0.55 + 0.9 * range.normalise(v) as f32)
    }
}

pub use crate::session::RangeFilter;

/// Messages for the user at the top of the panel: problems the app worked
/// around (a malformed session, a store that would not open) and the last
/// thing done (a file written).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Notices {
    pub errors: Vec<String>,
    pub info: Option<String>,
}

/// Which points stay lit: those inside every range and matching the search.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Filters {
    pub ranges: Vec<RangeFilter>,
    /// Case-insensitive text the point's name must contain (empty: any).
    pub search: String,
}

impl Filters {
    pub fn is_active(&self) -> bool {
        !self.ranges.is_empty() || !self.search.trim().is_empty()
    }

    /// Whether point `i` passes. A range on a column the scene lacks is
    /// ignored; a point with no value in a filtered column fails it.
    pub fn keeps(&self, scene: &SphereScene, i: usize) -> bool {
        let in_ranges = self.ranges.iter().all(|f| match scene.column_index(&f.column) {
            Some(c) => scene.columns[c].values.get(i).is_some_and(|v| (f.min..=f.max).contains(v)),
            None => true,
        });
        let query = self.search.trim().to_lowercase();
        in_ranges && (query.is_empty() || scene.labels.get(i).is_some_and(|l| l.to_lowercase().contains(&query)))
    }

    /// How many points pass.
    pub fn count(&self, scene: &SphereScene) -> usize {
        (0..scene.len()).filter(|&i| self.keeps(scene, i)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> SphereScene {
        SphereScene {
            labels: vec!["run 1 · Mlp".into(), "run 2 · Cnn".into(), "run 3 · Mlp".into()],
            positions: vec![[0.0; 3]; 3],
            columns: vec![MetricColumn { name: "depth".into(), values: vec![1.0, 4.0, f64::NAN] }],
            ..SphereScene::default()
        }
    }

    #[test]
    fn filters_keep_points_in_range_and_matching_the_search() {
        let s = scene();
        let mut f = Filters::default();
        assert!(!f.is_active() && f.count(&s) == 3);
        f.ranges.push(RangeFilter { column: "depth".into(), min: 0.0, max: 2.0 });
        assert_eq!((0..3).map(|i| f.keeps(&s, i)).collect::<Vec<_>>(), [true, false, false], "no value fails a range");
        f.ranges[0].column = "gone".into();
        assert_eq!(f.count(&s), 3, "a filter on a missing column is ignored");
        f.ranges.clear();
        f.search = " mlp ".into();
        assert_eq!((0..3).map(|i| f.keeps(&s, i)).collect::<Vec<_>>(), [true, false, true]);
    }

    #[test]
    fn sizes_follow_the_column_and_missing_values_have_none() {
        let s = scene();
        assert_eq!(SizeMapping::default().factor(&s, 2), Some(1.0));
        let size = SizeMapping { column: Some(0) };
        assert_eq!((size.factor(&s, 0), size.factor(&s, 1), size.factor(&s, 2)), (Some(0.55), Some(1.45), None));
    }
}
