//! The meta-learner from the command line: `mosaic suggest` on a trained
//! sweep (plain, adapted, with transfer), `mosaic search` from an empty
//! store, and the errors that name the fix.

mod common;

use common::{mosaic, run_ok, scratch_dir, tiny_space};
use mosaic_search::AdaptedSpace;

fn sweep(store: &std::path::Path, space: &std::path::Path, dataset: &str, name: &str) {
    run_ok(
        mosaic()
            .args(["sweep", "--examples", "300", "--n", "12", "--dataset", dataset, "--sweep", name, "--store"])
            .arg(store)
            .arg("--space")
            .arg(space),
    );
}

fn stdout(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn suggest_prints_stores_adapts_and_transfers() {
    let dir = scratch_dir("search_suggest");
    let (store, space) = (dir.join("store"), tiny_space(&dir));
    sweep(&store, &space, "moons", "moons");
    sweep(&store, &space, "circles", "circles");
    let printed = stdout(mosaic().args(["suggest", "--sweep", "moons", "--n", "4", "--store"]).arg(&store));
    assert!(printed.contains("learnt from 12 finished runs"), "{printed}");
    let rows: Vec<&str> = printed.lines().filter(|l| l.contains('%') && l.contains(" lr ")).collect();
    assert_eq!(rows.len(), 4, "{printed}");
    let db = mosaic_store::open(&store).unwrap();
    let moons = db.sweep_by_name("moons").unwrap().unwrap();
    let stored = db.suggestions(moons.id, true).unwrap();
    assert_eq!(stored.len(), 4);
    let trained: Vec<_> = db.runs(moons.id).unwrap().into_iter().map(|r| r.encoding).collect();
    for s in &stored {
        assert!(moons.architectures("").unwrap().contains(&s.spec), "a suggestion outside the space");
        assert!(!trained.contains(&s.encoding), "a trained network suggested again");
        assert!((0.0..=1.0).contains(&s.mean) && s.std >= 0.0, "{s:?}");
    }
    // Adapted: the file reads back and fits the space; candidates come from it.
    let adapted = dir.join("adapted.ron");
    let printed = stdout(
        mosaic().args(["suggest", "--sweep", "moons", "--n", "2", "--strategy", "tpe", "--adapt"]).arg(&adapted).arg("--store").arg(&store),
    );
    assert!(printed.contains("adapted space"), "{printed}");
    let file = AdaptedSpace::from_ron(&std::fs::read_to_string(&adapted).unwrap()).unwrap();
    assert!(file.runs >= 10 && file.good == 5, "{file:?}");
    // Transfer: the other task's runs give the prior, weighted by similarity.
    let printed = stdout(mosaic().args(["suggest", "--sweep", "moons", "--n", "2", "--transfer-from", "circles", "--store"]).arg(&store));
    assert!(printed.contains("circles"), "the prior's weights are not reported:\n{printed}");
    // Mistakes name the fix.
    let out = mosaic().args(["suggest", "--sweep", "moons", "--transfer-from", "moons", "--store"]).arg(&store).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("that is the sweep being searched"));
    let out = mosaic().args(["suggest", "--sweep", "moons", "--guided", "--store"]).arg(&store).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `mosaic embed --store DIR` first"));
}

#[test]
fn search_trains_its_budget_of_suggestions_from_an_empty_store() {
    let dir = scratch_dir("search_loop");
    let (store, space) = (dir.join("store"), tiny_space(&dir));
    let printed = stdout(
        mosaic()
            .args(["search", "--dataset", "moons", "--examples", "300", "--init", "4", "--budget", "3", "--batch", "2", "--store"])
            .arg(&store)
            .arg("--space")
            .arg(&space),
    );
    assert!(printed.contains("3 networks trained"), "{printed}");
    let db = mosaic_store::open(&store).unwrap();
    let sweep = db.sweeps().unwrap().remove(0);
    let runs = db.runs(sweep.id).unwrap();
    assert_eq!(runs.len(), 7, "4 initial runs and 3 suggested");
    assert!(runs.iter().all(|r| r.status.is_finished()));
    let accepted: Vec<_> = db.suggestions(sweep.id, false).unwrap().into_iter().filter(|s| s.run.is_some()).collect();
    assert_eq!(accepted.len(), 3);
    assert_eq!(sweep.runs, 4, "the plan stays 4 runs, so `mosaic sweep` can still resume it");
}

#[test]
fn suggesting_without_finished_runs_says_what_to_do() {
    let dir = scratch_dir("search_empty");
    let store = dir.join("store");
    let db = mosaic_store::open(&store).unwrap();
    drop(db);
    let out = mosaic().args(["suggest", "--store"]).arg(&store).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no sweep"), "{}", String::from_utf8_lossy(&out.stderr));
}
