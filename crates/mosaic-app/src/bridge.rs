//! The bridge between view and compute: the view sends [`ViewRequest`]s
//! (inspect this network) over one channel; whoever computes (the sweep
//! thread, the inspection service) sends [`SceneUpdate`]s back over another,
//! and one system drains them each frame. A frame never waits on compute.

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};

use crate::analysis::{Analysis, CorrelationMethod, CorrelationTable, DynamicsSeries, HyperView};
use crate::clusters::Clusters;
use crate::inspect::{Inspection, LandscapeData, LandscapeState, NetworkDetails};
use crate::path_view::{ArchPath, PathView};
use crate::scene::{MetricColumn, SphereScene};
use crate::suggestions::{Suggestions, SuggestionsView};
use mosaic_core::EpochMetrics;

/// A change to the scene, computed elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub enum SceneUpdate {
    /// Point `index` now has `value` in column `column` (created if new).
    SetValue { column: String, index: usize, value: f64 },
    /// The line under the title: what is being computed, how far along.
    Status(String),
    /// Point `index`'s training diverged.
    Diverged { index: usize },
    /// New positions for every point (a new layout) and the title naming it;
    /// ignored unless there is one position per point.
    Layout { positions: Vec<[f32; 3]>, title: String },
    /// What is known about network `index` (answers [`ViewRequest::Inspect`]).
    Details { index: usize, details: NetworkDetails },
    /// How far along the landscape of network `index` is.
    LandscapeProgress { index: usize, text: String },
    /// The landscape of network `index`, or why there is none: the last
    /// answer to an [`ViewRequest::Inspect`].
    Landscape { index: usize, result: Result<LandscapeData, String> },
    /// Correlations between columns (answers [`ViewRequest::Correlate`]).
    Correlations(CorrelationTable),
    /// A network's training dynamics (answers [`ViewRequest::Dynamics`]).
    Dynamics { index: usize, series: Vec<DynamicsSeries> },
    /// A hyper-parameter surface, or why there is none (answers [`ViewRequest::HyperSurface`]).
    HyperSurface(Result<HyperView, String>),
    /// The path between two networks, or why there is none (answers [`ViewRequest::Path`]).
    Path { from: usize, to: usize, result: Result<PathView, String> },
    /// Each point's cluster (`None`: noise), or why there are none (answers [`ViewRequest::Clusters`]).
    Clusters(Result<Vec<Option<usize>>, String>),
    /// Where the background training stands; `answers` when it replies to
    /// a [`ViewRequest::Train`] (it is also sent when training ends).
    Training { state: TrainingState, answers: bool },
    /// New points after the last (runs added to the sweep): their labels,
    /// places, and values by column (columns they lack stay empty).
    AddPoints { labels: Vec<String>, positions: Vec<[f32; 3]>, columns: Vec<(String, Vec<f64>)> },
    /// The meta-learner's suggestions, or why there are none (answers
    /// [`ViewRequest::Suggest`] and [`ViewRequest::TrainSuggestions`]).
    Suggestions(Result<SuggestionsView, String>),
}

/// Where the background training of the shown sweep stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainingState {
    Running,
    /// Asked to stop; the runs in flight are finishing their current step.
    Stopping,
    /// Not training; `left` runs are still untrained.
    Idle {
        left: usize,
    },
}

impl SceneUpdate {
    /// Whether this is the last answer to a request (so one fewer is pending).
    fn answers_a_request(&self) -> bool {
        matches!(
            self,
            SceneUpdate::Landscape { .. }
                | SceneUpdate::Correlations(_)
                | SceneUpdate::Dynamics { .. }
                | SceneUpdate::HyperSurface(_)
                | SceneUpdate::Path { .. }
                | SceneUpdate::Clusters(_)
                | SceneUpdate::Suggestions(_)
                | SceneUpdate::Training { answers: true, .. }
        )
    }
}

/// What the view asks of compute. Every request gets exactly one final answer.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewRequest {
    /// Details and the loss landscape of network `index`. Answered by one
    /// [`SceneUpdate::Details`], then one [`SceneUpdate::Landscape`].
    Inspect { index: usize },
    /// Correlations between these columns across the networks. Answered by
    /// one [`SceneUpdate::Correlations`].
    Correlate { method: CorrelationMethod, names: Vec<String>, columns: Vec<Vec<f64>> },
    /// Derivative and momentum (trailing mean over `window` epochs) of network
    /// `index`'s metrics. Answered by one [`SceneUpdate::Dynamics`].
    Dynamics { index: usize, epochs: Vec<EpochMetrics>, window: usize },
    /// Column `target` over columns `x` and `y` across the networks, and
    /// every knob's importance for it. Answered by one [`SceneUpdate::HyperSurface`].
    HyperSurface { x: String, y: String, target: String, columns: Vec<(String, Vec<f64>)> },
    /// The architectures between networks `from` and `to` (`steps` + 1 of
    /// them), placed on the sphere. Answered by one [`SceneUpdate::Path`].
    Path { from: usize, to: usize, steps: usize },
    /// DBSCAN clusters of the points at these places. Answered by one [`SceneUpdate::Clusters`].
    Clusters { positions: Vec<[f32; 3]> },
    /// Start (`run`) or stop the background training. Answered by one
    /// [`SceneUpdate::Training`] with `answers` set.
    Train { run: bool },
    /// `n` new networks to train next, placed beside the points at
    /// `positions` (the scene's layout). Answered by one [`SceneUpdate::Suggestions`].
    Suggest { n: usize, positions: Vec<[f32; 3]> },
    /// Add these suggestions to the sweep and train them; they become points
    /// at `positions` (where their ghosts stand). The view first gets
    /// [`SceneUpdate::AddPoints`], then one [`SceneUpdate::Suggestions`].
    TrainSuggestions { ids: Vec<i64>, positions: Vec<[f32; 3]> },
}

/// Where the background training stands, as last told (`None`: nothing
/// trains in this view).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct Training(pub Option<TrainingState>);

/// The answer to a request a newer one of its kind replaced (the newer
/// answer follows).
pub const SUPERSEDED: &str = "superseded by a newer request";

/// The receiving end of the compute channel.
#[derive(Resource)]
pub struct SceneFeed(pub Receiver<SceneUpdate>);

/// The sending end of the request channel; absent when nothing serves requests.
#[derive(Resource)]
pub struct ComputeRequests(pub Sender<ViewRequest>);

/// Requests sent and not answered yet: a capture waits for them, so a
/// snapshot of a selection shows its landscape.
#[derive(Resource, Default, Debug)]
pub struct Pending(pub usize);

impl ComputeRequests {
    /// Sends a request, counting it as pending; false if the service is gone.
    pub fn send(&self, request: ViewRequest, pending: &mut Pending) -> bool {
        let sent = self.0.send(request).is_ok();
        if sent {
            pending.0 += 1;
        }
        sent
    }
}

pub struct BridgePlugin;

impl Plugin for BridgePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Pending>()
            .init_resource::<Inspection>()
            .init_resource::<Analysis>()
            .init_resource::<ArchPath>()
            .init_resource::<Clusters>()
            .init_resource::<Training>()
            .init_resource::<Suggestions>()
            .add_systems(Update, apply_scene_updates.run_if(resource_exists::<SceneFeed>));
    }
}

impl Inspection {
    /// Applies an answer about network `index`; answers about a network no
    /// longer selected are dropped.
    pub fn apply(&mut self, update: &SceneUpdate) {
        match update {
            SceneUpdate::Details { index, details } if self.index == Some(*index) => self.details = Some(details.clone()),
            SceneUpdate::LandscapeProgress { index, text } if self.index == Some(*index) => {
                self.landscape = LandscapeState::Loading(text.clone())
            }
            SceneUpdate::Landscape { index, result } if self.index == Some(*index) => {
                self.landscape = match result.clone().and_then(|l| l.validate().map(|()| l)) {
                    Ok(landscape) => LandscapeState::Ready(landscape),
                    Err(e) => LandscapeState::Failed(e),
                }
            }
            _ => {}
        }
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

/// Drains everything that arrived since the last frame, touching each
/// resource (and so rebuilding what draws it) at most once per frame.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it feeds
fn apply_scene_updates(
    feed: Res<SceneFeed>,
    mut scene: ResMut<SphereScene>,
    mut inspection: ResMut<Inspection>,
    mut analysis: ResMut<Analysis>,
    mut path: ResMut<ArchPath>,
    mut clusters: ResMut<Clusters>,
    mut training: ResMut<Training>,
    mut suggestions: ResMut<Suggestions>,
    mut pending: ResMut<Pending>,
) {
    let updates: Vec<SceneUpdate> = feed.0.try_iter().collect();
    let (about_scene, about_networks): (Vec<_>, Vec<_>) = updates.iter().partition(|u| {
        matches!(
            u,
            SceneUpdate::SetValue { .. }
                | SceneUpdate::Status(_)
                | SceneUpdate::Layout { .. }
                | SceneUpdate::Diverged { .. }
                | SceneUpdate::AddPoints { .. }
        )
    });
    if !about_scene.is_empty() {
        for update in about_scene {
            scene.apply(update);
        }
    }
    for update in about_networks {
        if update.answers_a_request() {
            pending.0 = pending.0.saturating_sub(1);
        }
        match update {
            // Answers to superseded requests are empty: the newer answer follows.
            SceneUpdate::Correlations(table) if !table.names.is_empty() => analysis.correlations = Some(table.clone()),
            SceneUpdate::Dynamics { index, series } if !series.is_empty() => analysis.dynamics = Some((*index, series.clone())),
            SceneUpdate::Correlations(_) | SceneUpdate::Dynamics { .. } => {}
            SceneUpdate::HyperSurface(result) if result.as_ref().is_err_and(|e| e == SUPERSEDED) => {}
            SceneUpdate::HyperSurface(result) => analysis.hyper_view = Some(result.clone()),
            SceneUpdate::Path { from, to, result } if path.ends == Some((*from, *to)) => path.result = Some(result.clone()),
            SceneUpdate::Path { .. } => {}
            SceneUpdate::Training { state, .. } => training.0 = Some(*state),
            SceneUpdate::Suggestions(Err(e)) if e == SUPERSEDED => {}
            SceneUpdate::Suggestions(result) => suggestions.apply(result),
            SceneUpdate::Clusters(Err(e)) if e == SUPERSEDED => {}
            SceneUpdate::Clusters(result) => match result {
                Ok(labels) => (clusters.labels, clusters.note) = (labels.clone(), String::new()),
                Err(e) => (clusters.labels, clusters.note) = (Vec::new(), e.clone()),
            },
            other => inspection.apply(other),
        }
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
