//! The bridge between view and compute: the view sends [`ViewRequest`]s
//! (inspect this network) over one channel; whoever computes (the sweep
//! thread, the compute service) sends [`SceneUpdate`]s back over another.
//! One system drains that channel each frame and re-emits every update as a
//! [`Computed`] message; each feature's plugin reads those messages in its
//! own system (in [`BridgeSystems::Apply`], right after the drain, before
//! `Update`) and keeps what concerns it. A frame never waits on compute.

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};
pub use mosaic_protocol::{Answer, SceneUpdate, TrainingState, ViewRequest};

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

/// An update from the compute side, as it arrived this frame (in the order
/// sent). Superseded answers come through too; features ignore them.
#[derive(Message, Clone, Debug)]
pub struct Computed(pub SceneUpdate);

/// The bridge's place in `PreUpdate`: the channel is drained, then every
/// feature applies the updates; so every `Update` system (and a capture
/// waiting on [`Pending`]) sees this frame's answers.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BridgeSystems {
    /// The channel drained into [`Computed`] messages, [`Pending`] counted down.
    Drain,
    /// Each feature applies what concerns it.
    Apply,
}

pub struct BridgePlugin;

impl Plugin for BridgePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Pending>()
            .add_message::<Computed>()
            .configure_sets(PreUpdate, (BridgeSystems::Drain, BridgeSystems::Apply).chain())
            .add_systems(PreUpdate, drain_scene_feed.run_if(resource_exists::<SceneFeed>).in_set(BridgeSystems::Drain));
    }
}

/// Everything that arrived since the last frame, re-emitted as messages;
/// one request fewer is pending for each final answer.
fn drain_scene_feed(feed: Res<SceneFeed>, mut pending: ResMut<Pending>, mut computed: MessageWriter<Computed>) {
    for update in feed.0.try_iter() {
        if update.is_final_answer() {
            pending.0 = pending.0.saturating_sub(1);
        }
        computed.write(Computed(update));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::{Clusters, apply_clusters};
    use crate::scene::{MetricColumn, ScenePlugin, ShownScene, SphereScene};

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
        app.insert_resource(scene()).insert_resource(SceneFeed(rx)).add_plugins((BridgePlugin, ScenePlugin));
        app.update();
        tx.send(SceneUpdate::SetValue { column: "depth".into(), index: 1, value: 9.0 }).unwrap();
        tx.send(SceneUpdate::Status("2 of 2".into())).unwrap();
        app.update();
        let s = app.world().resource::<ShownScene>();
        assert_eq!(s.columns[0].values, vec![1.0, 9.0]);
        assert_eq!(s.status, "2 of 2");
        assert!(tx.is_empty());
    }

    #[test]
    fn answers_reach_their_feature_and_count_down_once_each() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut app = App::new();
        app.insert_resource(scene())
            .insert_resource(SceneFeed(rx))
            .init_resource::<Clusters>()
            .add_plugins((BridgePlugin, ScenePlugin))
            .add_systems(PreUpdate, apply_clusters.in_set(BridgeSystems::Apply));
        app.world_mut().resource_mut::<Pending>().0 = 3;
        tx.send(SceneUpdate::Clusters(Answer::Ready(vec![Some(0), None]))).unwrap();
        // Not final: nothing pending ends with it.
        tx.send(SceneUpdate::Status("clustering".into())).unwrap();
        tx.send(SceneUpdate::Training { state: TrainingState::Running, answers: false }).unwrap();
        // Final, but superseded: it ends a request and changes nothing.
        tx.send(SceneUpdate::Clusters(Answer::Superseded)).unwrap();
        app.update();
        assert_eq!(app.world().resource::<Clusters>().labels, vec![Some(0), None], "the answer, applied in the frame it arrived");
        assert_eq!(app.world().resource::<Pending>().0, 1);
        tx.send(SceneUpdate::Clusters(Answer::Failed("too few points".into()))).unwrap();
        tx.send(SceneUpdate::Training { state: TrainingState::Idle { left: 0 }, answers: true }).unwrap();
        app.update();
        let clusters = app.world().resource::<Clusters>();
        assert_eq!((clusters.labels.len(), clusters.note.as_str()), (0, "too few points"));
        assert_eq!(app.world().resource::<Pending>().0, 0);
        app.update();
        assert_eq!(app.world().resource::<Pending>().0, 0, "nothing is counted twice");
    }
}
