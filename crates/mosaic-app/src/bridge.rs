//! The bridge from compute to view: whoever computes (a sweep thread, later
//! the compute service) sends [`SceneUpdate`]s over a channel; one system
//! drains them each frame. A frame never waits on compute.

use bevy::prelude::*;
use crossbeam_channel::Receiver;

use crate::scene::{MetricColumn, SphereScene};

/// A change to the scene, computed elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub enum SceneUpdate {
    /// Point `index` now has `value` in column `column` (created if new).
    SetValue { column: String, index: usize, value: f64 },
    /// The line under the title: what is being computed, how far along.
    Status(String),
    /// New positions for every point (a new layout) and the title naming it;
    /// ignored unless there is one position per point.
    Layout { positions: Vec<[f32; 3]>, title: String },
}

/// The receiving end of the compute channel.
#[derive(Resource)]
pub struct SceneFeed(pub Receiver<SceneUpdate>);

pub struct BridgePlugin;

impl Plugin for BridgePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, apply_scene_updates.run_if(resource_exists::<SceneFeed>));
    }
}

impl SphereScene {
    /// Applies one update; values for points the scene does not have are ignored.
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
            SceneUpdate::Layout { positions, title } => {
                if positions.len() == self.len() {
                    self.positions = positions.clone();
                    self.title = title.clone();
                }
            }
        }
    }
}

/// Drains everything that arrived since the last frame, touching the scene
/// (and so rebuilding the point cloud) at most once per frame.
fn apply_scene_updates(feed: Res<SceneFeed>, mut scene: ResMut<SphereScene>) {
    let updates: Vec<SceneUpdate> = feed.0.try_iter().collect();
    if updates.is_empty() {
        return;
    }
    for update in &updates {
        scene.apply(update);
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
        s.apply(&SceneUpdate::Status("training 1/2".into()));
        assert_eq!(s.status, "training 1/2");
        s.apply(&SceneUpdate::Layout { positions: vec![[0.0, 0.0, 1.0]], title: "wrong size".into() });
        assert_eq!((s.positions[0], s.title.as_str()), ([1.0, 0.0, 0.0], "t"), "a layout for other points is ignored");
        s.apply(&SceneUpdate::Layout { positions: vec![[0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], title: "by PHATE".into() });
        assert_eq!((s.positions.clone(), s.title.as_str()), (vec![[0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], "by PHATE"));
    }

    #[test]
    fn the_system_drains_the_channel_into_the_scene_each_frame() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut app = App::new();
        app.insert_resource(scene()).insert_resource(SceneFeed(rx)).add_plugins(BridgePlugin);
        app.update();
        tx.send(SceneUpdate::SetValue { column: "depth".into(), index: 1, value: 9.0 }).unwrap();
        tx.send(SceneUpdate::Status("2 of 2".into())).unwrap();
        app.update();
        let s = app.world().resource::<SphereScene>();
        assert_eq!(s.columns[0].values, vec![1.0, 9.0]);
        assert_eq!(s.status, "2 of 2");
        assert!(tx.is_empty());
    }
}
