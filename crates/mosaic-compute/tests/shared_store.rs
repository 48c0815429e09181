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
        examples: Some(200),
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

#[test]
fn the_explorer_trains_a_shared_sweep_as_workers_so_no_run_is_trained_twice() {
    let files = std::env::temp_dir().join(format!("mosaic-live-train-{}", std::process::id()));
    let Some(url) = testing::scratch_postgres("live_train", &files) else { return };
    let text = mosaic_core::space::DEMO_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 2)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 8, max: 16, log: true)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 3, max: 4)");
    let population = Population {
        store: url.clone(),
        space: Some(SearchSpace::from_ron(&text, "tiny").unwrap()),
        sweep: Some("shared".into()),
        new_sweep: true,
        dataset: "moons".into(),
        examples: Some(200),
        n: 6,
        seed: 0,
        layout: Layout::Design,
    };
    let opened = open(population, true).unwrap();
    let mut coloured = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while coloured.len() < 6 && Instant::now() < deadline {
        if let Ok(SceneUpdate::SetValue { column, index, value }) = opened.feed.recv_timeout(Duration::from_millis(200))
            && column == VAL_ACCURACY
            && value.is_finite()
        {
            coloured.insert(index);
        }
    }
    assert_eq!(coloured.len(), 6, "every network was trained and coloured");
    let (base, _) = url.to_str().unwrap().split_once("?files=").unwrap();
    let mut db = postgres::Client::connect(base, postgres::NoTls).unwrap();
    let claims: Vec<(String, i64)> =
        db.query("SELECT status, claims FROM runs ORDER BY id", &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(claims.iter().all(|(status, claimed)| status == "done" && *claimed == 1), "each run claimed once: {claims:?}");
}
