//! `mosaic sweep` and `mosaic export` as a user runs them: killed mid-sweep,
//! resumed, nothing lost and nothing trained twice.

mod common;

use std::time::{Duration, Instant};

use common::{mosaic, scratch_dir};
use mosaic_core::RunStatus;

fn small_space(dir: &std::path::Path) -> std::path::PathBuf {
    let text = mosaic_core::space::DEFAULT_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 3)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 8, max: 48, log: true)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 3, max: 8)");
    let path = dir.join("small.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn finished(store: &std::path::Path) -> usize {
    let Ok(store) = mosaic_store::open(store) else { return 0 };
    let Ok(sweeps) = store.sweeps() else { return 0 };
    sweeps.first().and_then(|s| store.runs(s.id).ok()).map_or(0, |runs| runs.iter().filter(|r| r.status.is_finished()).count())
}

#[test]
fn a_killed_sweep_resumes_with_no_run_lost_or_repeated() {
    let dir = scratch_dir("sweep_kill");
    let space = small_space(&dir);
    let store = dir.join("store");
    let args = |cmd: &mut std::process::Command| {
        cmd.args(["sweep", "--dataset", "moons", "--examples", "1200", "--n", "16", "--workers", "2", "--store"])
            .arg(&store)
            .arg("--space")
            .arg(&space);
    };
    let mut first = mosaic();
    args(&mut first);
    let mut child = first.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while finished(&store) < 3 {
        assert!(Instant::now() < deadline, "the sweep made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();
    let done_before = finished(&store);
    eprintln!("killed with {done_before} of 16 runs finished");
    assert!(done_before < 16, "killed too late to test resuming");

    let mut again = mosaic();
    args(&mut again);
    let out = again.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    let s = mosaic_store::open(&store).unwrap();
    let sweeps = s.sweeps().unwrap();
    assert_eq!(sweeps.len(), 1, "the resume reused the sweep");
    let runs = s.runs(sweeps[0].id).unwrap();
    assert_eq!(runs.len(), 16);
    assert_eq!(runs.iter().map(|r| r.index).collect::<Vec<_>>(), (0..16).collect::<Vec<_>>());
    for r in &runs {
        let o = r.outcome.as_ref().unwrap_or_else(|| panic!("run {} was lost", r.index));
        if o.status == RunStatus::Done {
            assert_eq!(o.epochs.len(), r.arch().unwrap().epochs as usize, "run {} has a partial record", r.index);
        }
    }
    // The resume trained exactly what the kill left: "N trained, N diverged, N failed".
    let counts: Vec<usize> =
        summary.split(": ").nth(1).unwrap_or_default().split(", ").filter_map(|part| part.split(' ').next()?.parse().ok()).collect();
    assert_eq!(counts.len(), 3, "{summary}");
    assert_eq!(counts.iter().sum::<usize>(), 16 - done_before, "{summary}");
}

#[test]
fn export_writes_one_csv_row_per_run() {
    let dir = scratch_dir("sweep_export");
    let space = small_space(&dir);
    let store = dir.join("store");
    let out = mosaic()
        .args(["sweep", "--dataset", "blobs3", "--examples", "300", "--n", "4", "--store"])
        .arg(&store)
        .arg("--space")
        .arg(&space)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = dir.join("runs.csv");
    let out = mosaic().args(["export", "--format", "csv", "--store"]).arg(&store).arg("-o").arg(&csv).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("run,status,family,"));
    let acc = lines[0].split(',').position(|h| h == "val_accuracy").unwrap();
    for row in &lines[1..] {
        let v: f64 = row.split(',').nth(acc).unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&v), "{row}");
    }
    // The `run` column is the id that --select, --run and the Python client take (it was the index in the sweep).
    let opened = mosaic_store::open_existing(&store).unwrap();
    let ids: Vec<String> = opened.runs(opened.sweep(None).unwrap().id).unwrap().iter().map(|r| r.id.to_string()).collect();
    let listed: Vec<&str> = lines[1..].iter().map(|row| row.split(',').next().unwrap()).collect();
    assert_eq!(listed, ids);
}

#[test]
fn sweep_and_export_errors_name_the_fix() {
    let dir = scratch_dir("sweep_errors");
    let out = mosaic().args(["sweep", "--dataset", "imagenet", "--store"]).arg(dir.join("s")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown data set `imagenet`") && err.contains("spirals"), "{err}");

    let out = mosaic().args(["export", "--store"]).arg(dir.join("nothing")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a NeuroMosaic store") && err.contains("mosaic sweep"), "{err}");

    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "x,y,label\n1,2,0\n3,x,1\n").unwrap();
    let out =
        mosaic().arg("sweep").arg("--dataset").arg(format!("csv:{}", csv.display())).arg("--store").arg(dir.join("s2")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3"), "{err}");
}

#[test]
fn a_snapshot_of_a_store_colours_each_network_by_its_accuracy() {
    let dir = scratch_dir("sweep_snapshot");
    let space = small_space(&dir);
    let store = dir.join("store");
    let common = |cmd: &mut std::process::Command| {
        cmd.args(["--dataset", "moons", "--examples", "300", "--store"]).arg(&store).arg("--space").arg(&space);
    };
    // `sweep` and the viewers both name the sweep's size --n: the same sweep either way.
    let mut sweep = mosaic();
    sweep.args(["sweep", "--n", "6"]);
    common(&mut sweep);
    let out = sweep.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (png, json) = (dir.join("view.png"), dir.join("view.json"));
    let mut snap = mosaic();
    snap.args(["snapshot", "--no-panel", "--n", "6", "--width", "640", "--height", "360", "--out"]).arg(&png).arg("--manifest").arg(&json);
    common(&mut snap);
    let out = snap.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let s = mosaic_store::open(&store).unwrap();
    let runs = s.runs(s.sweeps().unwrap()[0].id).unwrap();
    let manifest = common::read_manifest(&json);
    assert_eq!(manifest.points.len(), 6);
    for p in &manifest.points {
        let index = p.index;
        assert!(p.label.starts_with(&format!("run {} ·", runs[index].id)), "networks go by their run ids: {}", p.label);
        let stored = runs[index].outcome.as_ref().unwrap().val_accuracy().unwrap();
        assert_eq!(p.value, stored, "network {index}");
    }
}

#[test]
fn a_snapshot_with_default_flags_shows_the_sweep_it_trained_and_creates_none() {
    let dir = scratch_dir("sweep_defaults");
    let store = dir.join("store");
    let out = mosaic().args(["sweep", "--examples", "200", "--n", "4", "--store"]).arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = mosaic()
        .args(["snapshot", "--no-panel", "--width", "320", "--height", "200", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(dir.join("v.png"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mosaic_store::open(&store).unwrap().sweeps().unwrap().len(), 1, "viewing created no sweep");
    // A mistyped store is an error, not a new empty store.
    let out = mosaic().args(["snapshot", "--store"]).arg(dir.join("typo")).arg("--out").arg(dir.join("w.png")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a NeuroMosaic store"));
    assert!(!dir.join("typo").exists());
}

#[test]
fn resuming_with_other_data_is_refused() {
    let dir = scratch_dir("sweep_other_data");
    let store = dir.join("store");
    let go = |examples: &str| {
        mosaic().args(["sweep", "--n", "3", "--sweep", "s", "--examples", examples, "--store"]).arg(&store).output().unwrap()
    };
    assert!(go("200").status.success());
    let out = go("300");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another plan") && err.contains("200 examples"), "{err}");
}

/// Issue 28, problems 8 and 9: a sweep stopped by Ctrl-C says where it
/// stopped and exits 130 (not 0); `mosaic export | head` is no error.
#[test]
fn ctrl_c_stops_a_sweep_with_exit_130_and_a_closed_pipe_ends_an_export_quietly() {
    let dir = scratch_dir("sweep_interrupt");
    let space = small_space(&dir);
    let store = dir.join("store");
    let mut child = mosaic()
        .args(["sweep", "--dataset", "moons", "--examples", "1200", "--n", "16", "--workers", "1", "--store"])
        .arg(&store)
        .arg("--space")
        .arg(&space)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while finished(&store) < 1 {
        assert!(Instant::now() < deadline, "the sweep made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before it could be interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("left (run the same command to resume)") || finished(&store) == 16, "{stdout}");
    assert!(!stderr.contains("error:"), "{stderr}");

    // A table longer than a pipe holds, read one line at a time and closed early.
    let plan = mosaic()
        .args(["sweep", "--launcher", "none", "--sweep", "big", "--n", "3000", "--dataset", "moons", "--examples", "200", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let mut export = mosaic()
        .args(["export", "--sweep", "big", "--store"])
        .arg(&store)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(export.stdout.take().unwrap()), &mut first).unwrap();
    assert!(first.starts_with("run,status,"), "{first}");
    let out = export.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !stderr.contains("Broken pipe"), "{stderr}");
}
