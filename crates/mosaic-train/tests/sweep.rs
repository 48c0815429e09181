//! Sweeps: every run trained once, reproducibly whatever the worker count,
//! diverging runs recorded without stopping the rest.

use std::sync::atomic::AtomicBool;

use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Activation, Encoder, Family, Norm, Optimizer, RunStatus, SearchSpace};
use mosaic_store::{SqlStore, Store, SweepPlan};
use mosaic_train::Device;
use mosaic_train::data::{BuiltIn, split};
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_seed, run_sweep};
use mosaic_train::train::Checkpoints;

fn small_space() -> SearchSpace {
    let text = mosaic_core::space::DEFAULT_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 2)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 4, max: 16, log: true)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 2, max: 4)");
    SearchSpace::from_ron(&text, "small").unwrap()
}

fn plan(n: usize, name: &str) -> SweepPlan {
    let space = small_space();
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, n, 5);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    SweepPlan { name: name.into(), dataset: "moons".into(), data: "moons".into(), examples: 400, seed: 5, space, specs, encodings }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-sweep-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn results_do_not_depend_on_the_number_of_workers() {
    let data = split(&BuiltIn::Moons.generate(300, 5), 5, 40);
    let outcomes = |workers: usize| {
        let dir = scratch(&format!("workers{workers}"));
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(6, "w")).unwrap();
        let options = SweepOptions { workers, checkpoints: Checkpoints::None, device: Device::Cpu };
        let mut finished = 0;
        let summary = run_sweep(&mut store, &sweep, &data, &options, &AtomicBool::new(false), &mut |e| {
            if let SweepEvent::Finished { .. } = e {
                finished += 1;
            }
        })
        .unwrap();
        assert_eq!(finished, 6);
        assert_eq!(summary.trained + summary.diverged + summary.failed, 6);
        store
            .runs(sweep.id)
            .unwrap()
            .into_iter()
            .map(|r| {
                let o = r.outcome.unwrap();
                (o.status, o.epochs.iter().map(|e| (e.train_loss, e.val_accuracy)).collect::<Vec<_>>())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(outcomes(1), outcomes(2));
}

#[test]
fn a_diverging_run_is_recorded_and_the_sweep_goes_on() {
    let data = split(&BuiltIn::Blobs(3).generate(300, 1), 1, 40);
    let mut p = plan(4, "div");
    // A plain ReLU MLP with SGD at learning rate 9: the loss explodes.
    let s = &mut p.specs[1];
    (s.family, s.activation, s.norm, s.skip, s.dropout) = (Family::Mlp, Activation::Relu, Norm::None, false, 0.0);
    (s.optimizer, s.learning_rate, s.width, s.depth, s.taper, s.epochs) = (Optimizer::SgdMomentum, 9.0, 64, 3, 1.0, 20);
    let dir = scratch("diverge");
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.create_sweep(&p).unwrap();
    let options = SweepOptions { workers: 2, checkpoints: Checkpoints::Final, device: Device::Cpu };
    let summary = run_sweep(&mut store, &sweep, &data, &options, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!(summary.diverged, 1, "{summary:?}");
    assert_eq!(summary.trained, 3);
    let runs = store.runs(sweep.id).unwrap();
    assert_eq!(runs[1].status, RunStatus::Diverged);
    assert!(runs.iter().all(|r| r.status.is_finished()));
    // Every run, the diverged one too, left its files beside the store.
    for r in &runs {
        assert!(dir.join("runs").join(r.id.to_string()).join("activations.safetensors").is_file());
    }
}

#[test]
fn a_cancelled_sweep_leaves_runs_pending_and_resumes() {
    let data = split(&BuiltIn::Moons.generate(300, 2), 2, 40);
    let dir = scratch("cancel");
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.create_sweep(&plan(4, "c")).unwrap();
    let options = SweepOptions { workers: 1, checkpoints: Checkpoints::None, device: Device::Cpu };
    let summary = run_sweep(&mut store, &sweep, &data, &options, &AtomicBool::new(true), &mut |_| {}).unwrap();
    assert_eq!((summary.trained, summary.left), (0, 4));
    let summary = run_sweep(&mut store, &sweep, &data, &options, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!((summary.trained + summary.diverged, summary.left), (4, 0));
    let mut plan_seen = None;
    run_sweep(&mut store, &sweep, &data, &options, &AtomicBool::new(false), &mut |e| {
        if let SweepEvent::Plan { finished, pending } = e {
            plan_seen = Some((*finished, *pending));
        }
    })
    .unwrap();
    assert_eq!(plan_seen, Some((4, 0)), "finished runs are never trained again");
}

#[test]
fn cancelling_mid_sweep_keeps_the_rest_pending() {
    let data = split(&BuiltIn::Moons.generate(300, 3), 3, 40);
    let dir = scratch("cancel_mid");
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.create_sweep(&plan(6, "m")).unwrap();
    let options = SweepOptions { workers: 1, checkpoints: Checkpoints::None, device: Device::Cpu };
    let cancel = AtomicBool::new(false);
    let summary = run_sweep(&mut store, &sweep, &data, &options, &cancel, &mut |e| {
        if let SweepEvent::Finished { .. } = e {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .unwrap();
    let finished = summary.trained + summary.diverged + summary.failed;
    assert!(finished >= 1 && summary.left >= 1 && finished + summary.left == 6, "{summary:?}");
    let pending = store.runs(sweep.id).unwrap().iter().filter(|r| !r.status.is_finished()).count();
    assert_eq!(pending, summary.left);
}

#[test]
fn an_environment_error_stops_the_sweep_and_leaves_runs_pending() {
    // A file where the runs' folder should be: no run can write its files.
    let data = split(&BuiltIn::Moons.generate(300, 3), 3, 40);
    let dir = scratch("env_error");
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.create_sweep(&plan(4, "e")).unwrap();
    std::fs::write(dir.join("runs"), b"not a folder").unwrap();
    let options = SweepOptions { workers: 1, checkpoints: Checkpoints::Final, device: Device::Cpu };
    let summary = run_sweep(&mut store, &sweep, &data, &options, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!((summary.trained, summary.failed, summary.left), (0, 0, 4), "{summary:?}");
    assert!(summary.stopped.as_deref().is_some_and(|s| s.contains("cannot write")), "{summary:?}");
    assert!(store.runs(sweep.id).unwrap().iter().all(|r| r.status == RunStatus::Pending));
}

#[test]
fn run_seeds_differ_between_runs_and_sweeps() {
    let seeds: std::collections::HashSet<u64> = (0..1000).map(|i| run_seed(0, i)).chain((0..1000).map(|i| run_seed(1, i))).collect();
    assert_eq!(seeds.len(), 2000);
    assert_eq!(run_seed(3, 7), run_seed(3, 7));
}
