//! What a view shows of a population: positions, labels, colourable
//! columns; and how [`SceneUpdate`]s change it.

use crate::SceneUpdate;

/// One colourable quantity, a value per point.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricColumn {
    pub name: String,
    pub values: Vec<f64>,
}

/// The column of each network's final validation accuracy (what the meta-learner predicts).
pub const VAL_ACCURACY: &str = "val accuracy";
/// The column of the objective a study reported (a sweep of parameters: imported, or told by `Run.finish(value=...)`).
pub const OBJECTIVE: &str = "objective";

/// The population on the sphere.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SphereScene {
    /// Shown in the panel, e.g. "400 sampled architectures · space `default`".
    pub title: String,
    /// A line under the title about work in progress (empty when idle).
    pub status: String,
    pub labels: Vec<String>,
    pub positions: Vec<[f32; 3]>,
    pub columns: Vec<MetricColumn>,
    /// Each network's size and cost against the population, for the radar.
    pub radar: Radar,
    /// Points whose training diverged (marked with a red ring); empty: none.
    pub diverged: Vec<bool>,
}

/// Axes of a radar chart and every point's position on them, each in [0, 1]
/// against the population (empty when nothing measured them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Radar {
    pub axes: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

impl SphereScene {
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn is_diverged(&self, i: usize) -> bool {
        self.diverged.get(i).copied().unwrap_or(false)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Applies one update; values for points the scene does not have are
    /// ignored, and so are answers (they are about networks, not the scene).
    pub fn apply(&mut self, update: &SceneUpdate) {
        match update {
            SceneUpdate::SetValue { column, index, value } => {
                let n = self.len();
                let col = match self.column_index(column) {
                    Some(c) => c,
                    None => {
                        self.columns.push(MetricColumn { name: column.clone(), values: vec![f64::NAN; n] });
                        self.columns.len() - 1
                    }
                };
                if let Some(v) = self.columns[col].values.get_mut(*index) {
                    *v = *value;
                }
            }
            SceneUpdate::Status(text) => self.status = text.clone(),
            SceneUpdate::Diverged { index } => {
                if *index < self.len() {
                    self.diverged.resize(self.len(), false);
                    self.diverged[*index] = true;
                }
            }
            SceneUpdate::Layout { positions, title } => {
                if positions.len() == self.len() {
                    self.positions = positions.clone();
                    self.title = title.clone();
                }
            }
            SceneUpdate::AddPoints { labels, positions, columns } => self.add_points(labels, positions, columns),
            SceneUpdate::Details { .. }
            | SceneUpdate::LandscapeProgress { .. }
            | SceneUpdate::Landscape { .. }
            | SceneUpdate::Correlations(_)
            | SceneUpdate::Dynamics { .. }
            | SceneUpdate::HyperSurface(_)
            | SceneUpdate::Path { .. }
            | SceneUpdate::Clusters(_)
            | SceneUpdate::Suggestions(_)
            | SceneUpdate::Training { .. } => {}
        }
    }

    /// Appends points; ignored unless there is one label per position.
    fn add_points(&mut self, labels: &[String], positions: &[[f32; 3]], columns: &[(String, Vec<f64>)]) {
        if labels.len() != positions.len() {
            return;
        }
        let before = self.len();
        self.labels.resize(before, String::new());
        self.labels.extend(labels.iter().cloned());
        self.positions.extend_from_slice(positions);
        for (name, _) in columns {
            if self.column_index(name).is_none() {
                self.columns.push(MetricColumn { name: name.clone(), values: vec![f64::NAN; before] });
            }
        }
        for column in &mut self.columns {
            let new = columns.iter().find(|(n, _)| *n == column.name).map(|(_, v)| v.as_slice()).unwrap_or(&[]);
            column.values.resize(before, f64::NAN);
            column.values.extend((0..positions.len()).map(|i| new.get(i).copied().unwrap_or(f64::NAN)));
        }
        self.diverged.resize(self.len(), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene() -> SphereScene {
        SphereScene {
            title: "t".into(),
            status: String::new(),
            labels: vec!["a".into(), "b".into()],
            positions: vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            columns: vec![MetricColumn { name: "depth".into(), values: vec![1.0, 2.0] }],
            ..SphereScene::default()
        }
    }

    #[test]
    fn updates_set_values_create_columns_and_ignore_strangers() {
        let mut s = scene();
        s.apply(&SceneUpdate::SetValue { column: "val accuracy".into(), index: 1, value: 0.9 });
        let acc = &s.columns[s.column_index("val accuracy").unwrap()].values;
        assert!(acc[0].is_nan() && acc[1] == 0.9);
        s.apply(&SceneUpdate::SetValue { column: "depth".into(), index: 0, value: 5.0 });
        assert_eq!(s.columns[0].values, vec![5.0, 2.0]);
        s.apply(&SceneUpdate::SetValue { column: "depth".into(), index: 7, value: 5.0 });
        assert_eq!(s.columns[0].values, vec![5.0, 2.0]);
        s.apply(&SceneUpdate::Diverged { index: 1 });
        s.apply(&SceneUpdate::Diverged { index: 9 });
        assert_eq!((s.is_diverged(0), s.is_diverged(1)), (false, true), "a stranger's divergence is ignored");
        s.apply(&SceneUpdate::Status("training 1/2".into()));
        assert_eq!(s.status, "training 1/2");
        s.apply(&SceneUpdate::Layout { positions: vec![[0.0, 0.0, 1.0]], title: "wrong size".into() });
        assert_eq!((s.positions[0], s.title.as_str()), ([1.0, 0.0, 0.0], "t"), "a layout for other points is ignored");
        s.apply(&SceneUpdate::Layout { positions: vec![[0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], title: "by PHATE".into() });
        assert_eq!((s.positions.clone(), s.title.as_str()), (vec![[0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], "by PHATE"));
    }

    #[test]
    fn added_points_extend_every_column_and_mismatched_ones_are_ignored() {
        let mut s = scene();
        s.apply(&SceneUpdate::AddPoints {
            labels: vec!["c".into()],
            positions: vec![[0.0, 0.0, 1.0]],
            columns: vec![("depth".into(), vec![3.0]), ("width".into(), vec![16.0])],
        });
        assert_eq!((s.len(), s.labels[2].as_str()), (3, "c"));
        assert_eq!(s.columns[0].values, vec![1.0, 2.0, 3.0]);
        let width = &s.columns[s.column_index("width").unwrap()].values;
        assert!(width[0].is_nan() && width[1].is_nan() && width[2] == 16.0, "{width:?}");
        assert_eq!(s.diverged.len(), 3);
        // Later values reach the new point by its index.
        s.apply(&SceneUpdate::SetValue { column: "depth".into(), index: 2, value: 4.0 });
        assert_eq!(s.columns[0].values[2], 4.0);
        s.apply(&SceneUpdate::AddPoints { labels: vec![], positions: vec![[1.0, 0.0, 0.0]], columns: vec![] });
        assert_eq!(s.len(), 3, "a position without a label is refused");
    }
}
