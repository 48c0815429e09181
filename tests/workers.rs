//! Pull workers on a shared PostgreSQL store, as a cluster runs them: many
//! `mosaic worker` processes train one sweep, each run exactly once, a worker
//! killed mid-run loses nothing, and the password shows up nowhere.
//! The test cluster comes from scripts/test.sh (scripts/test-postgres.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{mosaic, scratch_dir, tiny_space};
use mosaic_core::RunStatus;
use mosaic_store::testing;

/// A scratch database as a store URL (password included), and the cluster's password.
fn shared_store(name: &str, dir: &Path) -> Option<(String, String)> {
    let url = testing::scratch_postgres(&format!("workers_{name}"), &dir.join("files"))?;
    let cluster = testing::postgres_cluster().unwrap();
    let password = cluster.rsplit_once('@').unwrap().0.rsplit_once(':').unwrap().1.to_string();
    Some((url.display().to_string(), password))
}

fn ok(out: Output) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "failed ({}):\n{stderr}", out.status);
    format!("{stdout}{stderr}")
}

/// Plans a sweep of `n` small networks in the store without training it.
fn plan(url: &str, space: &Path, n: usize, examples: usize) -> String {
    ok(mosaic()
        .args(["sweep", "--launcher", "none", "--sweep", "shared", "--dataset", "moons", "--n", &n.to_string()])
        .args(["--examples", &examples.to_string(), "--store", url, "--space"])
        .arg(space)
        .output()
        .unwrap())
}

fn worker(url: &str, lease: &str) -> Command {
    let mut cmd = mosaic();
    cmd.args(["worker", "--store", url, "--lease", lease, "--idle-exit", "30"]);
    cmd
}

/// The runs a worker finished, by its summary: "worker HOST:PID: N trained, N diverged, N failed".
fn finished_by(output: &str) -> usize {
    let summary = output.lines().find(|l| l.contains(" trained, ")).unwrap_or_else(|| panic!("no summary in\n{output}"));
    let counts = summary.rsplit(": ").next().unwrap().split(", ");
    counts
        .filter_map(|part| {
            part.split_once(' ').filter(|(_, what)| ["trained", "diverged", "failed"].contains(what))?.0.parse::<usize>().ok()
        })
        .sum()
}

/// How many times each run was claimed, by run id (read from the database itself).
fn claims(url: &str) -> Vec<(i64, String, i64)> {
    let (base, _) = url.split_once("?files=").unwrap();
    let mut db = postgres::Client::connect(base, postgres::NoTls).unwrap();
    db.query("SELECT id, status, claims FROM runs ORDER BY id", &[]).unwrap().iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
}

#[test]
fn four_workers_train_a_sixteen_run_sweep_each_run_once() {
    let dir = scratch_dir("workers_four");
    let Some((url, password)) = shared_store("four", &dir) else { return };
    let mut printed = plan(&url, &tiny_space(&dir), 16, 300);
    let workers: Vec<_> = (0..4).map(|_| worker(&url, "10").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()).collect();
    let mut trained = 0;
    for w in workers {
        let out = ok(w.wait_with_output().unwrap());
        // "worker HOST:PID: N trained, N diverged, N failed"
        trained += finished_by(&out);
        printed += &out;
    }
    assert_eq!(trained, 16, "the workers' own counts add up to the sweep\n{printed}");
    let rows = claims(&url);
    assert_eq!(rows.len(), 16);
    for (id, status, claimed) in &rows {
        assert_eq!((status.as_str(), *claimed), ("done", 1), "run {id} was trained once");
    }
    let store = mosaic_store::open_existing(Path::new(&url)).unwrap();
    let runs = store.runs(store.sweep(None).unwrap().id).unwrap();
    assert!(runs.iter().all(|r| r.outcome.as_ref().is_some_and(|o| !o.epochs.is_empty())), "every run has its epochs");
    assert!(runs.iter().all(|r| store.run_files(r.id).final_weights().is_file()), "every run's weights are in the shared folder");
    assert!(!printed.contains(&password), "the password was printed:\n{printed}");

    // The sweep is finished: a late worker says so, and trains nothing.
    let late = ok(worker(&url, "10").output().unwrap());
    assert!(late.contains("is finished (16 runs): nothing to train"), "{late}");
}

#[test]
fn a_worker_killed_mid_run_has_its_run_leased_again_and_finished_once() {
    let dir = scratch_dir("workers_kill");
    let Some((url, _)) = shared_store("kill", &dir) else { return };
    // Runs long enough (a second or more) to be killed in the middle of one.
    let space = dir.join("slow.ron");
    let text = std::fs::read_to_string(tiny_space(&dir)).unwrap().replace("epochs: (min: 4, max: 6)", "epochs: (min: 30, max: 40)");
    std::fs::write(&space, text).unwrap();
    plan(&url, &space, 3, 3000);
    let mut doomed = worker(&url, "1.5").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let held = loop {
        if let Some((id, _, _)) = claims(&url).into_iter().find(|(_, status, _)| status == "running") {
            break id;
        }
        assert!(Instant::now() < deadline, "the worker claimed nothing");
        assert!(doomed.try_wait().unwrap().is_none(), "the worker ended before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    };
    doomed.kill().unwrap(); // SIGKILL: no clean-up, the lease just stops being renewed
    doomed.wait().unwrap();
    let status_at_kill = claims(&url).into_iter().find(|(id, _, _)| *id == held).unwrap().1;
    assert_eq!(status_at_kill, "running", "killed mid-run");

    let out = ok(worker(&url, "1.5").output().unwrap());
    let rows = claims(&url);
    assert!(rows.iter().all(|(_, status, _)| status == "done"), "every run finished: {rows:?}\n{out}");
    let killed = rows.iter().find(|(id, _, _)| *id == held).unwrap();
    assert_eq!(killed.2, 2, "the killed worker's run was claimed again once its lease ran out");
    let store = mosaic_store::open_existing(Path::new(&url)).unwrap();
    let run = store.run(held).unwrap().unwrap();
    let expected_epochs = run.arch().unwrap().epochs as usize;
    assert_eq!(run.outcome.unwrap().epochs.len(), expected_epochs, "one whole record, not two runs' epochs mixed");
}

#[test]
fn a_store_copied_to_postgres_and_back_exports_the_same_table_and_no_output_shows_the_password() {
    let dir = scratch_dir("workers_copy");
    let Some((url, password)) = shared_store("copy", &dir) else { return };
    let folder = dir.join("local");
    let mut printed = ok(mosaic()
        .args(["sweep", "--dataset", "moons", "--examples", "300", "--n", "4", "--store"])
        .arg(&folder)
        .arg("--space")
        .arg(tiny_space(&dir))
        .output()
        .unwrap());
    let export = |store: &str| ok(mosaic().args(["export", "--store", store]).output().unwrap());
    printed += &ok(mosaic().args(["store", "copy"]).arg(&folder).arg(&url).output().unwrap());
    let back: PathBuf = dir.join("back");
    printed += &ok(mosaic().args(["store", "copy", &url]).arg(&back).output().unwrap());
    let (local, shared, returned) = (export(folder.to_str().unwrap()), export(&url), export(back.to_str().unwrap()));
    assert_eq!(shared, local, "the shared store holds the same table");
    assert_eq!(returned, local, "and so does the copy back");
    assert!(printed.contains("copied") && printed.contains("4 runs"), "{printed}");

    // Errors name the store too: never with its password.
    for args in [vec!["export", "--store", &url, "--sweep", "nope"], vec!["worker", "--store", &url, "--sweep", "nope"]] {
        let out = mosaic().args(&args).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(err.contains("no sweep `nope`") && err.contains(":***@"), "{err}");
        printed += &err;
    }
    let wrong = url.replace(&format!(":{password}@"), ":wrong-guess@");
    let out = mosaic().args(["export", "--store", &wrong]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("refused user") && !err.contains("wrong-guess"), "{err}");
    printed += &err;
    assert!(!printed.contains(&password), "the password was printed:\n{printed}");
}

#[test]
fn the_slurm_and_kubernetes_launchers_write_workers_without_the_password() {
    let dir = scratch_dir("workers_launchers");
    let Some((url, password)) = shared_store("launchers", &dir) else { return };
    let launch = |launcher: &str| {
        ok(mosaic()
            .args(["sweep", "--launcher", launcher, "--dry-run", "--workers", "3", "--sweep", "shared", "--dataset", "moons"])
            .args(["--examples", "300", "--n", "6", "--sbatch", "--time=0:10:00", "--store", &url])
            .output()
            .unwrap())
    };
    let script = launch("slurm");
    assert!(script.contains("#SBATCH --array=0-2") && script.contains("#SBATCH --time=0:10:00"), "{script}");
    assert!(script.contains(" worker --store 'postgres://mosaic@") && script.contains("--sweep 'shared'"), "{script}");
    let manifest = launch("kubernetes");
    assert!(manifest.contains("completionMode: Indexed") && manifest.contains("completions: 3"), "{manifest}");
    assert!(!script.contains(&password) && !manifest.contains(&password));
    // A cluster's workers need the shared store.
    let out = mosaic().args(["sweep", "--launcher", "slurm", "--dry-run", "--n", "2", "--store"]).arg(dir.join("folder")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("share a PostgreSQL store"), "{err}");
}

#[test]
fn a_headless_snapshot_of_the_shared_store_shows_every_network() {
    let dir = scratch_dir("workers_snapshot");
    let Some((url, _)) = shared_store("snapshot", &dir) else { return };
    plan(&url, &tiny_space(&dir), 6, 300);
    ok(worker(&url, "10").output().unwrap());
    let (png, json) = (dir.join("shared.png"), dir.join("shared.json"));
    ok(mosaic()
        .args(["snapshot", "--no-panel", "--width", "480", "--height", "300", "--store", &url, "--out"])
        .arg(&png)
        .arg("--manifest")
        .arg(&json)
        .output()
        .unwrap());
    let manifest = common::read_manifest(&json);
    assert_eq!(manifest.points.len(), 6);
    let store = mosaic_store::open_existing(Path::new(&url)).unwrap();
    let runs = store.runs(store.sweep(None).unwrap().id).unwrap();
    for p in &manifest.points {
        let stored = runs[p.index].outcome.as_ref().unwrap().val_accuracy().unwrap();
        assert_eq!(p.value, stored, "network {} coloured by its stored accuracy", p.index);
        assert!(runs[p.index].status == RunStatus::Done);
    }
    let image = common::load(&png);
    let lit = image.pixels().filter(|p| p.0.iter().map(|&c| c as u32).sum::<u32>() > 120).count();
    assert!(lit > 200, "the points are drawn ({lit} bright pixels)");
}

/// The test Slurm cluster's configuration (scripts/test.sh starts one with
/// scripts/test-slurm.sh), or why this machine has none: missing only fails
/// under CI=true, where Slurm runs.
fn slurm() -> Option<String> {
    match std::env::var("SLURM_CONF") {
        Ok(conf) if Path::new(&conf).is_file() => Some(conf),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no test Slurm cluster (SLURM_CONF unset): scripts/test.sh starts one with scripts/test-slurm.sh")
        }
        _ => {
            eprintln!("no SLURM_CONF: the Slurm array test is left out (scripts/test.sh starts a single-node cluster)");
            None
        }
    }
}

#[test]
fn a_slurm_array_of_three_workers_finishes_a_sweep() {
    let dir = scratch_dir("workers_slurm");
    let Some(_conf) = slurm() else { return };
    let Some((url, password)) = shared_store("slurm", &dir) else { return };
    let printed = ok(mosaic()
        .args(["sweep", "--launcher", "slurm", "--workers", "3", "--sweep", "shared", "--dataset", "moons", "--n", "9"])
        .args(["--examples", "300", "--sbatch", "--time=0:10:00", "--store", &url, "--space"])
        .arg(tiny_space(&dir))
        .output()
        .unwrap());
    let job = printed
        .split("submitted Slurm job ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no job id in\n{printed}"))
        .to_string();
    assert!(!printed.contains(&password), "{printed}");
    let deadline = Instant::now() + Duration::from_secs(300);
    let rows = loop {
        let rows = claims(&url);
        let queued = Command::new("squeue").args(["-h", "-j", &job]).output().map(|o| o.stdout).unwrap_or_default();
        if rows.iter().all(|(_, status, _)| status == "done") && queued.is_empty() {
            break rows;
        }
        assert!(Instant::now() < deadline, "the Slurm array did not finish the sweep: {rows:?}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(rows.len(), 9);
    assert!(rows.iter().all(|(_, _, claimed)| *claimed == 1), "each run trained once: {rows:?}");
    // Each array task was a worker, and wrote its log to the shared folder.
    let logs: Vec<String> =
        std::fs::read_dir(dir.join("files").join("logs")).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    assert_eq!(logs.len(), 3, "one log per array task");
    // A task that starts after the others finished the sweep says so and trains nothing.
    let trained: usize = logs.iter().map(|log| if log.contains("nothing to train") { 0 } else { finished_by(log) }).sum();
    assert_eq!(trained, 9, "the tasks' own counts add up to the sweep: {logs:?}");
    assert!(logs.iter().all(|log| !log.contains(&password)));
    let script = std::fs::read_to_string(dir.join("files").join("mosaic-shared.sbatch")).unwrap();
    assert!(!script.contains(&password), "the script holds no password:\n{script}");
}

#[test]
fn mosaic_sweep_on_a_shared_store_trains_beside_other_workers_without_training_a_run_twice() {
    let dir = scratch_dir("workers_beside");
    let Some((url, _)) = shared_store("beside", &dir) else { return };
    let space = tiny_space(&dir);
    plan(&url, &space, 12, 300);
    let elsewhere = worker(&url, "10").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let here = ok(mosaic()
        .args([
            "sweep",
            "--sweep",
            "shared",
            "--dataset",
            "moons",
            "--n",
            "12",
            "--examples",
            "300",
            "--workers",
            "2",
            "--store",
            &url,
            "--space",
        ])
        .arg(&space)
        .output()
        .unwrap());
    let there = ok(elsewhere.wait_with_output().unwrap());
    assert_eq!(finished_by(&here) + finished_by(&there), 12, "{here}\n{there}");
    let rows = claims(&url);
    assert!(rows.iter().all(|(_, status, claimed)| status == "done" && *claimed == 1), "{rows:?}");
}
