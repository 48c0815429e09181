//! The explorer's population on a shared PostgreSQL store (the test cluster
//! that scripts/test.sh starts): runs another process finishes reach the view.

use std::time::{Duration, Instant};

use mosaic_compute::live::{Layout, Population, open};
use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, EpochMetrics, RunOutcome, RunStatus, SearchSpace};
use mosaic_protocol::{SceneUpdate, VAL_ACCURACY};
use mosaic_store::{SqlStore, Store, SweepPlan, testing};

fn outcome(status: RunStatus, val_accuracy: f64) -> RunOutcome {
    let epoch = EpochMetrics {
        epoch: 1,
        train_loss: 0.5,
        train_accuracy: 0.8,
        val_loss: 0.6,
        val_accuracy,
        grad_norm: 0.1,
        weight_norm: 3.0,
        learning_rate: 1e-3,
        seconds: 0.1,
    };
    RunOutcome { status, epochs: vec![epoch], test_loss: None, test_accuracy: None, parameters: 100, seconds: 0.1, note: None }
}

#[test]
fn the_view_of_a_shared_store_hears_of_runs_finished_elsewhere() {
    let files = std::env::temp_dir().join(format!("mosaic-live-shared-{}", std::process::id()));
    let Some(url) = testing::scratch_postgres("live_view", &files) else { return };
    let mut writer = SqlStore::open(&url).unwrap();
    let space = SearchSpace::demo_space();
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, 4, 1);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    let plan = SweepPlan {
        name: "shared".into(),
        dataset: "spirals".into(),
        data: String::new(),
        examples: 200,
        seed: 0,
        space,
        specs,
        encodings,
    };
    let sweep = writer.create_sweep(&plan).unwrap();
    let population = Population {
        store: url.clone(),
        space: None,
        sweep: None,
        new_sweep: false,
        dataset: "spirals".into(),
        examples: 200,
        n: 4,
        seed: 0,
        layout: Layout::Design,
    };
    let opened = open(population, false).unwrap();
    assert!(opened.scene.status.starts_with("0 of 4 trained"), "{}", opened.scene.status);
    assert!(!opened.scene.status.contains(&testing::postgres_cluster().unwrap()), "no password in the view: {}", opened.scene.status);
    let runs = writer.runs(sweep.id).unwrap();
    // A worker elsewhere finishes runs 2 and 0 (the second one diverged).
    writer.finish_run(runs[2].id, &outcome(RunStatus::Done, 0.75)).unwrap();
    writer.finish_run(runs[0].id, &outcome(RunStatus::Diverged, f64::NAN)).unwrap();
    let (mut accuracy, mut diverged, mut status) = (None, None, String::new());
    let deadline = Instant::now() + Duration::from_secs(15);
    while (accuracy.is_none() || diverged.is_none()) && Instant::now() < deadline {
        match opened.feed.recv_timeout(Duration::from_millis(200)) {
            Ok(SceneUpdate::SetValue { column, index: 2, value }) if column == VAL_ACCURACY => accuracy = Some(value),
            Ok(SceneUpdate::Diverged { index }) => diverged = Some(index),
            Ok(SceneUpdate::Status(s)) => status = s,
            _ => {}
        }
    }
    assert_eq!(accuracy, Some(0.75), "run 2's accuracy reached the view");
    assert_eq!(diverged, Some(0), "run 0's divergence reached the view");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !status.starts_with("2 of 4 finished") && Instant::now() < deadline {
        if let Ok(SceneUpdate::Status(s)) = opened.feed.recv_timeout(Duration::from_millis(200)) {
            status = s;
        }
    }
    assert!(status.starts_with("2 of 4 finished") && status.contains(":***@"), "{status}");
}
