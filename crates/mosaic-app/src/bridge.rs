//! The bridge between view and compute: the view sends [`ViewRequest`]s
//! (inspect this network) over one channel; whoever computes (the sweep
//! thread, the inspection service) sends [`SceneUpdate`]s back over another,
//! and one system drains them each frame. A frame never waits on compute.

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};
pub use mosaic_protocol::{Answer, SceneUpdate, TrainingState, ViewRequest};

use crate::analysis::Analysis;
use crate::clusters::Clusters;
use crate::inspect::{Inspection, LandscapeState};
use crate::path_view::ArchPath;
use crate::scene::ShownScene;
use crate::suggestions::Suggestions;

/// Where the background training stands, as last told (`None`: nothing
/// trains in this view).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct Training(pub Option<TrainingState>);

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
    /// longer selected, and superseded ones, are dropped.
    pub fn apply(&mut self, update: &SceneUpdate) {
        match update {
            SceneUpdate::Details { index, details } if self.index == Some(*index) => self.details = Some(details.clone()),
            SceneUpdate::LandscapeProgress { index, text } if self.index == Some(*index) => {
                self.landscape = LandscapeState::Loading(text.clone())
            }
            SceneUpdate::Landscape { index, answer } if self.index == Some(*index) => {
                if let Some(result) = answer.clone().into_result() {
                    self.landscape = match result.and_then(|l| l.validate().map(|()| l)) {
                        Ok(landscape) => LandscapeState::Ready(landscape),
                        Err(e) => LandscapeState::Failed(e),
                    }
                }
            }
            _ => {}
        }
    }
}

/// Drains everything that arrived since the last frame, touching each
/// resource (and so rebuilding what draws it) at most once per frame.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it feeds
fn apply_scene_updates(
    feed: Res<SceneFeed>,
    mut scene: ResMut<ShownScene>,
    mut inspection: ResMut<Inspection>,
    mut analysis: ResMut<Analysis>,
    mut path: ResMut<ArchPath>,
    mut clusters: ResMut<Clusters>,
    mut training: ResMut<Training>,
    mut suggestions: ResMut<Suggestions>,
    mut pending: ResMut<Pending>,
) {
    let updates: Vec<SceneUpdate> = feed.0.try_iter().collect();
    let (about_scene, about_networks): (Vec<_>, Vec<_>) = updates.iter().partition(|u| u.is_about_scene());
    if !about_scene.is_empty() {
        for update in about_scene {
            scene.apply(update);
        }
    }
    for update in about_networks {
        if update.is_final_answer() {
            pending.0 = pending.0.saturating_sub(1);
        }
        match update {
            // A superseded answer is dropped: the newer one follows.
            SceneUpdate::Correlations(answer) => {
                if let Some(Ok(table)) = answer.clone().into_result().filter(|r| r.as_ref().is_ok_and(|t| !t.names.is_empty())) {
                    analysis.correlations = Some(table);
                }
            }
            SceneUpdate::Dynamics { index, answer } => {
                if let Some(Ok(series)) = answer.clone().into_result().filter(|r| r.as_ref().is_ok_and(|s| !s.is_empty())) {
                    analysis.dynamics = Some((*index, series));
                }
            }
            SceneUpdate::HyperSurface(answer) => {
                if let Some(result) = answer.clone().into_result() {
                    analysis.hyper_view = Some(result);
                }
            }
            SceneUpdate::Path { from, to, answer } if path.ends == Some((*from, *to)) => {
                if let Some(result) = answer.clone().into_result() {
                    path.result = Some(result);
                }
            }
            SceneUpdate::Path { .. } => {}
            SceneUpdate::Training { state, .. } => training.0 = Some(*state),
            SceneUpdate::Suggestions(answer) => {
                if let Some(result) = answer.clone().into_result() {
                    suggestions.apply(&result);
                }
            }
            SceneUpdate::Clusters(answer) => match answer.clone().into_result() {
                Some(Ok(labels)) => (clusters.labels, clusters.note) = (labels, String::new()),
                Some(Err(e)) => (clusters.labels, clusters.note) = (Vec::new(), e),
                None => {}
            },
            other => inspection.apply(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{MetricColumn, SphereScene};

    fn scene() -> ShownScene {
        ShownScene(SphereScene {
            title: "t".into(),
            labels: vec!["a".into(), "b".into()],
            positions: vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            columns: vec![MetricColumn { name: "depth".into(), values: vec![1.0, 2.0] }],
            ..SphereScene::default()
        })
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
        let s = app.world().resource::<ShownScene>();
        assert_eq!(s.columns[0].values, vec![1.0, 9.0]);
        assert_eq!(s.status, "2 of 2");
        assert!(tx.is_empty());
    }
}
