//! The command line as a user meets it: help, version, and clear one-line
//! errors for bad input, never a panic.

mod common;

use common::mosaic;

#[test]
fn help_lists_the_subcommands() {
    let out = mosaic().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["explore", "snapshot", "--n <N>", "--color-by", "--colormap"] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
}

#[test]
fn version_names_the_program_and_crate_version() {
    let out = mosaic().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("mosaic {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = mosaic().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: unexpected argument '--frobnicate'"), "{err}");
    assert!(err.contains("--help"), "{err}");
}

#[test]
fn unwritable_output_path_fails_before_rendering() {
    let out = mosaic().args(["snapshot", "--out", "/nonexistent-dir/view.png"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent-dir") && err.contains("does not exist"), "{err}");
}

#[test]
fn missing_display_names_the_fix() {
    let out = mosaic().env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("DISPLAY is not set") && err.contains("xvfb-run"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn dead_display_names_the_fix() {
    let out = mosaic().env("DISPLAY", ":987").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no X server") && err.contains("xvfb-run"), "{err}");
}

#[test]
fn malformed_space_file_names_file_and_line() {
    let dir = common::scratch_dir("bad_space");
    let path = dir.join("space.ron");
    std::fs::write(&path, "SearchSpace(\n  name: \"x\",\n  families: [Mlp, Transformer],\n)").unwrap();
    let out = mosaic().args(["snapshot", "--out"]).arg(dir.join("v.png")).arg("--space").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("space.ron") && err.contains("line 3") && err.contains("Transformer"), "{err}");
}

#[test]
fn invalid_space_values_name_file_and_field() {
    let dir = common::scratch_dir("invalid_space");
    let path = dir.join("inverted.ron");
    let text = mosaic_core::space::DEFAULT_SPACE_RON.replace("depth: (min: 1, max: 6)", "depth: (min: 6, max: 1)");
    std::fs::write(&path, text).unwrap();
    let out = mosaic().args(["snapshot", "--out"]).arg(dir.join("v.png")).arg("--space").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inverted.ron") && err.contains("`depth`") && err.contains("greater than max"), "{err}");
}

#[test]
fn out_of_range_numbers_are_rejected_with_the_range() {
    let out = mosaic().args(["snapshot", "--out", "x.png", "--n", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--n") && err.contains("3..=1000000"), "{err}");
}

#[test]
fn a_snapshot_too_narrow_for_the_panel_says_how_to_fix_it() {
    let dir = common::scratch_dir("narrow");
    let out = mosaic().args(["snapshot", "--width", "300", "--out"]).arg(dir.join("v.png")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--no-panel") && err.contains("--width 380"), "{err}");
}

/// Every subcommand, as `mosaic SUBCOMMAND --help` takes it.
const SUBCOMMANDS: &[&[&str]] = &[
    &["explore"],
    &["snapshot"],
    &["sweep"],
    &["export"],
    &["embed"],
    &["path"],
    &["landscape"],
    &["record"],
    &["suggest"],
    &["search"],
    &["xr"],
    &["bench", "train"],
    &["bench", "explorer"],
    &["bench", "table"],
    &["bench", "search"],
    &["bench", "cnn-landscape"],
];

#[test]
fn every_command_speaks_one_vocabulary() {
    for words in SUBCOMMANDS {
        let out = mosaic().args(*words).arg("--help").output().unwrap();
        assert!(out.status.success(), "{words:?} --help failed");
        let help = String::from_utf8_lossy(&out.stdout);
        // One name per concept: a count of networks is --n, a sweep is --sweep,
        // an output file is -o/--out, a folder of frames is --frames-dir.
        for retired in ["--points", "--name ", "--screenshot", "--out-file"] {
            assert!(!help.contains(retired), "`mosaic {}` still says {retired}:\n{help}", words.join(" "));
        }
        if help.contains("--out <") {
            assert!(help.contains("-o, --out <"), "`mosaic {}` takes --out without -o:\n{help}", words.join(" "));
        }
        if let Some(line) = help.lines().find(|l| l.contains("--frames <")) {
            assert!(!line.contains("<DIR>"), "`mosaic {}`: a folder of frames is --frames-dir:\n{line}", words.join(" "));
        }
    }
}

/// Problem 3 of issue 28: outputs written over the store's database, a run's
/// weights or the command's own input destroyed them. Each is refused now,
/// before any work, and what was there is left as it was.
#[test]
fn outputs_never_overwrite_the_store_or_the_commands_own_input() {
    let dir = common::scratch_dir("cli_outputs");
    let (store, run) = common::trained_run(&dir, "200", "final");
    let db = store.join(mosaic_store::DB_FILE);
    let weights = mosaic_store::RunFiles::new(&store, run.id).final_weights();
    let (db_bytes, weight_bytes) = (std::fs::read(&db).unwrap(), std::fs::read(&weights).unwrap());
    let refused = |args: &[&std::ffi::OsStr], says: &str| {
        let out = mosaic().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{args:?}: {err}");
    };
    let s = store.as_os_str();
    refused(&["export".as_ref(), "--store".as_ref(), s, "-o".as_ref(), db.as_os_str()], "the database of the store");
    refused(&["snapshot".as_ref(), "--store".as_ref(), s, "--out".as_ref(), db.as_os_str()], "the database of the store");
    let id = run.id.to_string();
    let landscape = ["landscape".as_ref(), "--store".as_ref(), s, "--run".as_ref(), id.as_ref(), "--out".as_ref(), weights.as_os_str()];
    refused(&landscape, "weights or activations");
    assert_eq!(std::fs::read(&db).unwrap(), db_bytes, "the database is untouched");
    assert_eq!(std::fs::read(&weights).unwrap(), weight_bytes, "the weights are untouched");
    assert_eq!(mosaic_store::open_existing(&store).unwrap().sweeps().unwrap().len(), 1);

    // A command's input is not its output, even named another way.
    let features = dir.join("features.npy");
    let a = mosaic_manifold::npy::Array2 { rows: 30, cols: 2, data: (0..60).map(|i| (i as f64 * 0.37).sin()).collect() };
    std::fs::write(&features, mosaic_manifold::npy::to_bytes(&a)).unwrap();
    let before = std::fs::read(&features).unwrap();
    let sneaky = dir.join(".").join("features.npy");
    refused(&["embed".as_ref(), "--features".as_ref(), features.as_os_str(), "--out".as_ref(), sneaky.as_os_str()], "this command's input");
    assert_eq!(std::fs::read(&features).unwrap(), before);
    // Outputs elsewhere still work.
    let out = mosaic().args(["export", "--store"]).arg(&store).arg("-o").arg(dir.join("runs.csv")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
