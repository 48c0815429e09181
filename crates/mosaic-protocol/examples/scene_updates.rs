//! What a view receives from compute, applied to its scene, and how answers
//! end: ready, failed, or superseded by a newer request.
//!
//! `cargo run -p mosaic-protocol --example scene_updates`

use mosaic_protocol::{Answer, CorrelationMethod, MetricColumn, SceneUpdate, SphereScene, VAL_ACCURACY, ViewRequest};

fn main() {
    let mut scene = SphereScene {
        title: "three networks".into(),
        labels: vec!["run 1".into(), "run 2".into(), "run 3".into()],
        positions: vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        columns: vec![MetricColumn { name: "depth".into(), values: vec![1.0, 2.0, 3.0] }],
        ..SphereScene::default()
    };
    // A sweep trains in the background: accuracies arrive one by one.
    for update in [
        SceneUpdate::Status("training 3 networks…".into()),
        SceneUpdate::SetValue { column: VAL_ACCURACY.into(), index: 0, value: 0.91 },
        SceneUpdate::Diverged { index: 2 },
    ] {
        assert!(update.is_about_scene());
        scene.apply(&update);
    }
    let accuracy = &scene.columns[scene.column_index(VAL_ACCURACY).expect("a new column")].values;
    println!("{} · {} · accuracy {:?} · run 3 diverged: {}", scene.title, scene.status, accuracy, scene.is_diverged(2));

    // Two correlation requests queued at once: only the newer is computed.
    let older = ViewRequest::Correlate { method: CorrelationMethod::Pearson, names: vec![], columns: vec![] };
    let newer = ViewRequest::Correlate { method: CorrelationMethod::Spearman, names: vec![], columns: vec![] };
    assert!(newer.supersedes(&older));
    let answer = older.superseded().expect("correlations can be superseded");
    assert!(answer.is_final_answer());
    println!("the older request is answered {answer:?}");

    // A view keeps ready and failed answers, and drops superseded ones.
    let failed: Answer<Vec<Option<usize>>> = Answer::Failed("no points".into());
    println!("kept: {:?}, {:?}", Answer::Ready(vec![Some(0usize)]).into_result(), failed.into_result());
    assert_eq!(Answer::<()>::Superseded.into_result(), None);
}
