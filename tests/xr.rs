//! `mosaic xr`: with no OpenXR loader, runtime or headset it exits with a
//! message naming the fix (never a panic); with Monado's simulated headset
//! (scripts/test-xr.sh) the session reaches FOCUSED, submits frames and a
//! scripted controller ray selects the network it points at, and scripted
//! sticks fly and turn the user, and the ray is the world-space panel's pointer.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use common::{mosaic, read_manifest, run_ok, scratch_dir, snapshot};
use mosaic_core::theme::TOOLTIP_FILL;
use serde::Deserialize;

/// Runs `mosaic xr` expecting a clean failure; returns its stderr.
fn fails_cleanly(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{cmd:?} should fail with status 1:\n{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("internal failure"), "a panic, not a message:\n{stderr}");
    stderr
}

#[test]
fn with_no_openxr_loader_xr_names_what_to_install() {
    let stderr = fails_cleanly(mosaic().args(["xr", "--no-train"]).env("MOSAIC_OPENXR_LOADER", "/nonexistent/libopenxr_loader.so"));
    assert!(stderr.contains("no OpenXR loader found"), "{stderr}");
    assert!(stderr.contains("/nonexistent/libopenxr_loader.so") && stderr.contains("libopenxr-loader1"), "{stderr}");
}

#[test]
fn with_no_openxr_runtime_xr_says_to_install_one_and_names_xr_runtime_json() {
    // The loader is there (scripts/install-deps.sh test installs it); no runtime is.
    let missing = "/nonexistent/openxr_runtime.json";
    let stderr = fails_cleanly(mosaic().args(["xr", "--no-train"]).env("XR_RUNTIME_JSON", missing).env("XDG_CONFIG_DIRS", "/nonexistent"));
    assert!(
        !stderr.contains("no OpenXR loader found") && !stderr.contains("not the libopenxr_loader.so"),
        "the OpenXR loader is missing: install libopenxr-loader1 and libopenxr-dev (scripts/install-deps.sh test does)\n{stderr}"
    );
    assert!(stderr.contains("no OpenXR runtime found: install Monado or SteamVR and set XR_RUNTIME_JSON"), "{stderr}");
    assert!(stderr.contains(&format!("XR_RUNTIME_JSON is {missing}, which is not a file")), "{stderr}");
}

#[test]
fn an_unwritable_report_fails_before_looking_for_a_headset() {
    let stderr = fails_cleanly(mosaic().args(["xr", "--no-train", "--report", "/nonexistent/dir/report.json"]));
    assert!(stderr.contains("folder /nonexistent/dir does not exist"), "{stderr}");
}

#[test]
fn a_malformed_pointer_pose_is_refused_with_the_expected_form() {
    let out = mosaic().args(["xr", "--pointer", "0,1.6:0,0,-1"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("x,y,z:dx,dy,dz"), "{stderr}");
}

#[derive(Deserialize, Debug)]
struct Report {
    runtime: Option<Runtime>,
    states: Vec<String>,
    frames_submitted: u64,
    frames_rendered: u64,
    frame_budget: Budget,
    selected: Option<String>,
    panel_pointer: Option<[f32; 2]>,
    panel_egui_pointer: Option<[f32; 2]>,
    panel_clicks: u32,
    landscape: Option<(String, [f32; 3])>,
    rig: RigReport,
    vignette_max: f32,
    error: Option<String>,
}

#[derive(Deserialize, Debug)]
struct RigReport {
    translation: [f32; 3],
    yaw: f32,
}

#[derive(Deserialize, Debug)]
struct Runtime {
    runtime: String,
    system: String,
}

#[derive(Deserialize, Debug)]
struct Budget {
    frames: usize,
    median_ms: f64,
}

/// The first ball of `radius` a ray enters (index into `points`): a
/// reference for the app's pick, written separately from it.
fn first_hit(origin: [f32; 3], dir: [f32; 3], points: &[[f32; 3]], radius: f32) -> Option<usize> {
    let norm = dir.iter().map(|d| d * d).sum::<f32>().sqrt();
    let d = dir.map(|c| c / norm);
    let mut best: Option<(f32, usize)> = None;
    for (i, p) in points.iter().enumerate() {
        let v = [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]];
        let along = v[0] * d[0] + v[1] * d[1] + v[2] * d[2];
        let closest = [v[0] - along * d[0], v[1] - along * d[1], v[2] - along * d[2]];
        let off = closest.iter().map(|c| c * c).sum::<f32>().sqrt();
        if off <= radius && along > 0.0 {
            let entry = along - (radius * radius - off * off).sqrt();
            if best.is_none_or(|(b, _)| entry < b) {
                best = Some((entry, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

#[test]
#[ignore = "needs root, the Monado chroot and a build with --features xr: scripts/test-xr.sh runs it"]
fn a_simulated_headset_reaches_focus_shows_the_sphere_and_selects_by_ray() {
    let dir = scratch_dir("xr-monado");
    let population = ["--n", "200", "--seed", "0"];
    // Where the networks are: the same sampled design, seen from the front.
    let (png, json) = (dir.join("front.png"), dir.join("front.json"));
    run_ok(snapshot(&png, &json).args(["--no-panel", "--width", "320", "--height", "240"]).args(population));
    let manifest = read_manifest(&json);
    let worlds: Vec<[f32; 3]> = manifest.points.iter().map(|p| p.world).collect();
    // Aim from the standing eye, which the default rig puts at world (0, 0, 2.6)
    // (tracked (0, 1.6, 0)), at the network nearest the viewer, slightly off-centre.
    let eye = [0.0, 0.0, 2.6];
    let target = manifest.points.iter().filter(|p| p.world[0].abs() > 0.1).max_by(|a, b| a.world[2].total_cmp(&b.world[2])).unwrap();
    let dir_world = [target.world[0] - eye[0], target.world[1] - eye[1], target.world[2] - eye[2]];
    // The app's pick slack: balls 1.5 times the drawn radius.
    let expected = first_hit(eye, dir_world, &worlds, 1.5 * manifest.point_radius).map(|i| manifest.points[i].label.clone());
    assert_eq!(expected.as_deref(), Some(target.label.as_str()), "the test's ray should meet its target first");

    let pointer = format!("0,1.6,0:{},{},{}", dir_world[0], dir_world[1], dir_world[2]);
    let eye_png = dir.join("left-eye.png");
    let eye = eye_png.to_str().unwrap();
    let report = session(
        &dir.join("select.json"),
        &["--no-train", "--n", "200", "--frames", "120", "--select-at", "30", "--pointer", &pointer, "--eye-png", eye],
    );
    let runtime = report.runtime.as_ref().unwrap();
    assert!(runtime.runtime.contains("Monado") && !runtime.system.is_empty(), "{runtime:?}");
    for state in ["READY", "SYNCHRONIZED", "VISIBLE", "FOCUSED"] {
        assert!(report.states.iter().any(|s| s == state), "never {state}: {:?}", report.states);
    }
    assert!(report.frames_submitted >= 120, "{} frames submitted", report.frames_submitted);
    assert!(report.frames_rendered > 0 && report.frame_budget.frames > 0 && report.frame_budget.median_ms > 0.0, "{report:?}");
    assert_eq!(report.selected, expected, "the scripted ray selected the wrong network");
    assert!(report.error.is_none(), "{report:?}");
    // What the left eye saw: the world's background, the sphere's coloured
    // points right of centre, and the panel's board (egui's dark fill) on the left.
    let image = common::load(&eye_png);
    let (w, h) = image.dimensions();
    let count = |x0: u32, x1: u32, test: &dyn Fn([u8; 3]) -> bool| {
        (x0..x1).flat_map(|x| (0..h).map(move |y| (x, y))).filter(|&(x, y)| test(image.get_pixel(x, y).0)).count()
    };
    let near = |a: [u8; 3], b: [u8; 3], tol: u8| common::color_distance(a, b) <= tol;
    let background = count(0, w, &|c| near(c, mosaic_core::theme::BACKGROUND, 3));
    assert!(background * 10 > (w * h) as usize * 3, "the background covers only {background} of {} pixels", w * h);
    let coloured = count(w / 2, w, &|c| c.iter().max().unwrap() - c.iter().min().unwrap() > 40);
    assert!(coloured > 100, "only {coloured} coloured pixels (the sphere's points) in the right half");
    let board = count(0, w / 2, &|c| near(c, [27, 27, 27], 2));
    assert!(board * 20 > (w * h / 2) as usize, "the panel's board covers only {board} pixels of the left half");
    // The hovered network's tooltip (its own fill colour) stands above it.
    let tooltip = count(0, w, &|c| near(c, TOOLTIP_FILL, 3));
    assert!(tooltip > 30, "the tooltip covers only {tooltip} pixels");

    // Standing still: the rig never moved, no vignette.
    assert_eq!((report.rig.translation, report.rig.yaw, report.vignette_max), ([0.0, -1.6 / 1.5, 2.6], 0.0, 0.0), "{report:?}");
}

#[test]
#[ignore = "needs root, the Monado chroot and a build with --features xr: scripts/test-xr.sh runs it"]
fn scripted_sticks_fly_and_snap_turn_the_user() {
    let dir = scratch_dir("xr-monado-fly");
    // Flying on a held left stick, one snap turn on the right: the user moved
    // and faces 30 degrees to the right, and the vignette showed.
    let report = session(&dir.join("fly.json"), &["--no-train", "--n", "200", "--frames", "60", "--fly", "0,1", "--turn-at", "20"]);
    let moved = report.rig.translation.iter().zip([0.0, -1.6 / 1.5, 2.6]).map(|(a, b)| (a - b).powi(2)).sum::<f32>().sqrt();
    assert!(moved > 0.2, "flew only {moved} world units: {report:?}");
    // Forward is towards the sphere (-z), before the turn and after it (30 degrees off).
    assert!(report.rig.translation[2] < 2.6 - 0.15, "flew away from the sphere: {report:?}");
    assert!((report.rig.yaw + std::f32::consts::PI / 6.0).abs() < 1e-5, "one snap turn to the right: {report:?}");
    assert!(report.vignette_max > 0.2, "{report:?}");
}

#[test]
#[ignore = "needs root, the Monado chroot and a build with --features xr: scripts/test-xr.sh runs it"]
fn the_ray_on_the_panel_is_its_pointer_and_the_trigger_clicks() {
    let dir = scratch_dir("xr-monado-panel");
    // The ray on the panel's board (0.55 m ahead and left, at 1.25 m) is
    // egui's pointer, at the board's centre pixel, and its trigger a click
    // there (egui says so); it selects no network.
    let eye_png = dir.join("left-eye-panel.png");
    let eye = eye_png.to_str().unwrap();
    let report = session(
        &dir.join("panel.json"),
        &["--no-train", "--n", "200", "--frames", "60", "--select-at", "30", "--pointer", "0,1.6,0:-0.55,-0.35,-0.55", "--eye-png", eye],
    );
    let at = report.panel_pointer.expect("the ray never met the panel");
    assert!((at[0] - 140.0).abs() < 1.0 && (at[1] - 360.0).abs() < 1.0, "{at:?}");
    let egui_at = report.panel_egui_pointer.expect("egui never saw the pointer");
    assert!((egui_at[0] - at[0]).abs() < 0.5 && (egui_at[1] - at[1]).abs() < 0.5, "{report:?}");
    assert_eq!(report.panel_clicks, 1, "{report:?}");
    assert!(report.selected.is_none(), "{report:?}");
    // No network hovered, no tooltip.
    let image = common::load(&eye_png);
    let tooltip = image.pixels().filter(|p| common::color_distance(p.0, TOOLTIP_FILL) <= 3).count();
    assert_eq!(tooltip, 0, "a tooltip with nothing hovered");
}

#[test]
#[ignore = "needs root, the Monado chroot and a build with --features xr: scripts/test-xr.sh runs it"]
fn a_selected_network_opens_its_landscape_in_the_headset_world() {
    let dir = scratch_dir("xr-monado-landscape");
    let (store, done) = common::trained_run(&dir, "300", "final");
    let sweep = mosaic_store::open(&store).unwrap().sweeps().unwrap().remove(0).name;
    let (store, id) = (store.to_str().unwrap(), done.id.to_string());
    // The store's finished sweep (nothing left to train); its network selected at start.
    // The sweep's own plan (its size, data and space), so the explorer takes it up.
    let space = dir.join("space.ron");
    let space = space.to_str().unwrap();
    let plan = ["--n", "3", "--examples", "300", "--space", space];
    let args = [&plan[..], &["--store", store, "--sweep", &sweep, "--layout", "design", "--select", &id, "--frames", "300"]].concat();
    let report = session(&dir.join("landscape.json"), &args);
    let (label, at) = report.landscape.clone().expect("no landscape stood in the world");
    assert!(label.starts_with(&format!("run {id} ")), "the landscape of {label}, not run {id}");
    // To the right of the sphere (radius 1) as the standing user sees it, clear of it.
    assert!(at[0] > 1.5 && at[2].abs() < 0.5, "the landscape stands at {at:?}");
}

/// Runs `mosaic xr` with `args` beside Monado's simulated headset; returns its report.
fn session(report_path: &Path, args: &[&str]) -> Report {
    // One simulated headset at a time: the sessions share the runtime's socket.
    static HEADSET: Mutex<()> = Mutex::new(());
    let _turn = HEADSET.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/xr-runtime.sh");
    let out = Command::new(runtime)
        .arg("run")
        .arg(env!("CARGO_BIN_EXE_mosaic"))
        .args(["xr", "--start-timeout", "120"])
        .args(args)
        .arg("--report")
        .arg(report_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the VR session failed ({}):\n{stderr}", out.status);
    let report: Report = serde_json::from_str(&std::fs::read_to_string(report_path).unwrap()).unwrap();
    eprintln!("{report:?}");
    report
}
