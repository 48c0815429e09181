//! The two message types: what the view asks, and what compute tells it.

use mosaic_core::EpochMetrics;

use crate::Answer;
use crate::payload::{
    CorrelationMethod, CorrelationTable, DynamicsSeries, HyperView, LandscapeData, NetworkDetails, PathView, SuggestionsView,
};

/// A change to the scene, or an answer to a request, computed elsewhere.
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
    /// New points after the last (runs added to the sweep): their labels,
    /// places, and values by column (columns they lack stay empty).
    AddPoints { labels: Vec<String>, positions: Vec<[f32; 3]>, columns: Vec<(String, Vec<f64>)> },
    /// What is known about network `index` (sent first in answer to [`ViewRequest::Inspect`]).
    Details { index: usize, details: NetworkDetails },
    /// How far along the landscape of network `index` is.
    LandscapeProgress { index: usize, text: String },
    /// The landscape of network `index`: the final answer to a [`ViewRequest::Inspect`].
    Landscape { index: usize, answer: Answer<LandscapeData> },
    /// Correlations between columns (answers [`ViewRequest::Correlate`]).
    Correlations(Answer<CorrelationTable>),
    /// A network's training dynamics (answers [`ViewRequest::Dynamics`]).
    Dynamics { index: usize, answer: Answer<Vec<DynamicsSeries>> },
    /// A hyper-parameter surface (answers [`ViewRequest::HyperSurface`]).
    HyperSurface(Answer<HyperView>),
    /// The path between two networks (answers [`ViewRequest::Path`]).
    Path { from: usize, to: usize, answer: Answer<PathView> },
    /// Each point's cluster (`None`: noise) (answers [`ViewRequest::Clusters`]).
    Clusters(Answer<Vec<Option<usize>>>),
    /// Where the background training stands; `answers` when it replies to
    /// a [`ViewRequest::Train`] (it is also sent when training ends).
    Training { state: TrainingState, answers: bool },
    /// The meta-learner's suggestions (answers [`ViewRequest::Suggest`] and
    /// [`ViewRequest::TrainSuggestions`]).
    Suggestions(Answer<SuggestionsView>),
}

impl SceneUpdate {
    /// Whether this is the final answer to a request (so one fewer is pending).
    pub fn is_final_answer(&self) -> bool {
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

    /// Whether this changes the [`SphereScene`](crate::SphereScene) itself
    /// rather than answering a question about it.
    pub fn is_about_scene(&self) -> bool {
        matches!(
            self,
            SceneUpdate::SetValue { .. }
                | SceneUpdate::Status(_)
                | SceneUpdate::Layout { .. }
                | SceneUpdate::Diverged { .. }
                | SceneUpdate::AddPoints { .. }
        )
    }
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

/// What the view asks of compute. Every request gets exactly one final
/// answer ([`SceneUpdate::is_final_answer`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ViewRequest {
    /// Details and the loss landscape of network `index`. Answered by one
    /// [`SceneUpdate::Details`] (unless it fails first), then one [`SceneUpdate::Landscape`].
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

impl ViewRequest {
    /// Requests of one kind replace each other: while a newer one waits, an
    /// older one is answered [`Answer::Superseded`] instead of computed (a
    /// newer selection's landscape, the newest correlations). Only `Train`
    /// and `TrainSuggestions` are never superseded: each changes the store or
    /// the trainer, and each batch of suggestions names its own networks.
    pub fn supersedes(&self, older: &ViewRequest) -> bool {
        let never = |r: &ViewRequest| matches!(r, ViewRequest::Train { .. } | ViewRequest::TrainSuggestions { .. });
        std::mem::discriminant(self) == std::mem::discriminant(older) && !never(self)
    }

    /// The final answer for this request when computing it failed (a bug
    /// caught by the service): the view shows `why` where the answer goes.
    pub fn failed(&self, why: String) -> SceneUpdate {
        match self {
            ViewRequest::Inspect { index } => SceneUpdate::Landscape { index: *index, answer: Answer::Failed(why) },
            ViewRequest::Correlate { .. } => SceneUpdate::Correlations(Answer::Failed(why)),
            ViewRequest::Dynamics { index, .. } => SceneUpdate::Dynamics { index: *index, answer: Answer::Failed(why) },
            ViewRequest::HyperSurface { .. } => SceneUpdate::HyperSurface(Answer::Failed(why)),
            ViewRequest::Path { from, to, .. } => SceneUpdate::Path { from: *from, to: *to, answer: Answer::Failed(why) },
            ViewRequest::Clusters { .. } => SceneUpdate::Clusters(Answer::Failed(why)),
            ViewRequest::Suggest { .. } | ViewRequest::TrainSuggestions { .. } => SceneUpdate::Suggestions(Answer::Failed(why)),
            // Training's answer is where it stands; the status line says why.
            ViewRequest::Train { .. } => SceneUpdate::Training { state: TrainingState::Idle { left: 0 }, answers: true },
        }
    }

    /// The final answer for this request when a newer one replaced it;
    /// `None` for the kinds that are never superseded.
    pub fn superseded(&self) -> Option<SceneUpdate> {
        Some(match self {
            ViewRequest::Inspect { index } => SceneUpdate::Landscape { index: *index, answer: Answer::Superseded },
            ViewRequest::Correlate { .. } => SceneUpdate::Correlations(Answer::Superseded),
            ViewRequest::Dynamics { index, .. } => SceneUpdate::Dynamics { index: *index, answer: Answer::Superseded },
            ViewRequest::HyperSurface { .. } => SceneUpdate::HyperSurface(Answer::Superseded),
            ViewRequest::Path { from, to, .. } => SceneUpdate::Path { from: *from, to: *to, answer: Answer::Superseded },
            ViewRequest::Clusters { .. } => SceneUpdate::Clusters(Answer::Superseded),
            ViewRequest::Suggest { .. } => SceneUpdate::Suggestions(Answer::Superseded),
            ViewRequest::Train { .. } | ViewRequest::TrainSuggestions { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<ViewRequest> {
        vec![
            ViewRequest::Inspect { index: 1 },
            ViewRequest::Correlate { method: CorrelationMethod::Pearson, names: vec![], columns: vec![] },
            ViewRequest::Dynamics { index: 2, epochs: vec![], window: 3 },
            ViewRequest::HyperSurface { x: "a".into(), y: "b".into(), target: "c".into(), columns: vec![] },
            ViewRequest::Path { from: 0, to: 1, steps: 8 },
            ViewRequest::Clusters { positions: vec![] },
            ViewRequest::Train { run: true },
            ViewRequest::Suggest { n: 4, positions: vec![] },
            ViewRequest::TrainSuggestions { ids: vec![1], positions: vec![] },
        ]
    }

    #[test]
    fn a_request_supersedes_only_its_own_kind_and_never_a_training_one() {
        let all = one_of_each();
        for (i, newer) in all.iter().enumerate() {
            for (j, older) in all.iter().enumerate() {
                let never = matches!(newer, ViewRequest::Train { .. } | ViewRequest::TrainSuggestions { .. });
                assert_eq!(newer.supersedes(older), i == j && !never, "{newer:?} over {older:?}");
            }
        }
        // Another network's landscape replaces the one asked before.
        assert!(ViewRequest::Inspect { index: 5 }.supersedes(&ViewRequest::Inspect { index: 1 }));
    }

    #[test]
    fn a_failed_answer_is_final_for_every_kind() {
        for request in one_of_each() {
            let update = request.failed("boom".into());
            assert!(update.is_final_answer() && !update.is_about_scene(), "{request:?}: {update:?}");
        }
    }

    #[test]
    fn a_superseded_answer_is_final_and_says_so() {
        for request in one_of_each() {
            match request.superseded() {
                Some(update) => {
                    assert!(update.is_final_answer() && !update.is_about_scene(), "{update:?}");
                    let superseded = match &update {
                        SceneUpdate::Landscape { answer, .. } => answer.is_superseded(),
                        SceneUpdate::Correlations(a) => a.is_superseded(),
                        SceneUpdate::Dynamics { answer, .. } => answer.is_superseded(),
                        SceneUpdate::HyperSurface(a) => a.is_superseded(),
                        SceneUpdate::Path { answer, .. } => answer.is_superseded(),
                        SceneUpdate::Clusters(a) => a.is_superseded(),
                        SceneUpdate::Suggestions(a) => a.is_superseded(),
                        other => panic!("not an answer: {other:?}"),
                    };
                    assert!(superseded, "{update:?}");
                }
                None => assert!(matches!(request, ViewRequest::Train { .. } | ViewRequest::TrainSuggestions { .. })),
            }
        }
    }

    #[test]
    fn progress_and_scene_changes_are_not_final_answers() {
        let not_final = [
            SceneUpdate::Status("x".into()),
            SceneUpdate::LandscapeProgress { index: 0, text: "1 of 9".into() },
            SceneUpdate::Details { index: 0, details: NetworkDetails { title: "t".into(), facts: vec![], epochs: vec![] } },
            SceneUpdate::Training { state: TrainingState::Running, answers: false },
            SceneUpdate::SetValue { column: "c".into(), index: 0, value: 1.0 },
        ];
        assert!(not_final.iter().all(|u| !u.is_final_answer()));
        assert!(SceneUpdate::Training { state: TrainingState::Idle { left: 3 }, answers: true }.is_final_answer());
    }
}
