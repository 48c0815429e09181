//! `mosaic landscape` as a user runs it: on a PyTorch MLP with its own data
//! and directions, and on a run of a store, with and without the training
//! trajectory; bad input named with its fix.

mod common;

use std::path::{Path, PathBuf};

use common::{mosaic, scratch_dir, trained_run, trained_sweep};
use mosaic_landscape::file;
use mosaic_train::checkpoint::{read_safetensors, to_safetensors};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mosaic-landscape/tests/fixtures/torch_mlp").join(name)
}

fn torch_args(out: &Path) -> Vec<String> {
    let f = |n: &str| fixture(n).display().to_string();
    [
        "landscape",
        "--weights",
        &f("model.safetensors"),
        "--activation",
        "tanh",
        "--data",
        &f("data.csv"),
        "--label-column",
        "label",
        "--directions",
        &f("dirs.safetensors"),
        "--x",
        "-1:1:9",
        "--y",
        "-0.5:1.5:9",
        "--out",
        &out.display().to_string(),
    ]
    .map(str::to_string)
    .to_vec()
}

#[test]
fn a_pytorch_mlp_surface_matches_pytorch_and_carries_its_sidecar() {
    let dir = scratch_dir("landscape_torch");
    let out = dir.join("surface.npy");
    let run = mosaic().args(torch_args(&out)).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (surface, info) = file::read(&out).unwrap();
    let torch = mosaic_manifold::npy::read(&fixture("loss.npy")).unwrap();
    for (ours, theirs) in surface.loss.iter().zip(&torch.data) {
        assert!((ours - theirs).abs() <= 1e-4 * theirs, "{ours} vs {theirs}");
    }
    assert_eq!((info.x.num, info.y.unwrap().num, info.examples), (9, 9, 240));
    assert_eq!(info.directions, file::DirectionSource::File(fixture("dirs.safetensors").display().to_string()));
    // The trained weights sit at the grid's (0, 0) and are its lowest point.
    let [x, y, loss] = info.minimum.unwrap();
    assert_eq!((x, y), (0.0, 0.0));
    assert!((loss - surface.loss[2 * 9 + 4]).abs() < 1e-12);

    // A 1-D scan along d1 is a vector.
    let line = dir.join("line.npy");
    let mut args = torch_args(&line);
    let y = args.iter().position(|a| a == "--y").unwrap();
    args[y + 1] = "none".into();
    let run = mosaic().args(&args).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let bytes = std::fs::read(&line).unwrap();
    assert_eq!(npyz::NpyFile::new(&bytes[..]).unwrap().shape(), [9], "a 1-D array of 9 losses");
    let (scan, _) = file::read(&line).unwrap();
    // The scan is the 2-D surface's row at y = 0 (the third row of -0.5:1.5:9).
    for (a, b) in scan.loss.iter().zip(&surface.loss[2 * 9..3 * 9]) {
        assert!((a - b).abs() <= 1e-6 * b, "{a} vs {b}");
    }
}

#[test]
fn given_directions_are_applied_as_written_biases_included() {
    // The loss-landscape repository's directions may move the biases; zeroing
    // them (as drawn directions are) would move this surface by up to 73 %.
    let dir = scratch_dir("landscape_torch_biased");
    let out = dir.join("surface.npy");
    let mut args = torch_args(&out);
    let d = args.iter().position(|a| a == "--directions").unwrap();
    args[d + 1] = fixture("dirs_biased.safetensors").display().to_string();
    let run = mosaic().args(&args).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (surface, _) = file::read(&out).unwrap();
    let torch = mosaic_manifold::npy::read(&fixture("loss_biased.npy")).unwrap();
    assert_eq!(surface.loss.len(), torch.data.len());
    for (ours, theirs) in surface.loss.iter().zip(&torch.data) {
        assert!((ours - theirs).abs() <= 1e-4 * theirs, "{ours} vs PyTorch's {theirs}");
    }
}

#[test]
fn bad_weights_directions_and_data_are_named_with_the_problem() {
    let dir = scratch_dir("landscape_errors");
    let out = dir.join("s.npy");
    let run_with = |replace: &str, with: &Path| {
        let mut args = torch_args(&out);
        let i = args.iter().position(|a| a == replace).unwrap();
        args[i + 1] = with.display().to_string();
        let run = mosaic().args(&args).output().unwrap();
        assert!(!run.status.success(), "{replace} {}", with.display());
        String::from_utf8_lossy(&run.stderr).into_owned()
    };
    let weights = read_safetensors(&fixture("model.safetensors")).unwrap();

    let mut wrong = weights.clone();
    wrong.insert("2.weight".into(), (vec![16, 15], vec![0.0; 240]));
    std::fs::write(dir.join("shape.safetensors"), to_safetensors(&wrong)).unwrap();
    let err = run_with("--weights", &dir.join("shape.safetensors"));
    assert!(err.contains("2.weight") && err.contains("15 inputs"), "{err}");

    let mut wrong = weights.clone();
    wrong.remove("4.weight");
    std::fs::write(dir.join("missing.safetensors"), to_safetensors(&wrong)).unwrap();
    let err = run_with("--weights", &dir.join("missing.safetensors"));
    assert!(err.contains("4.weight"), "{err}");

    let mut wrong = weights;
    wrong.get_mut("0.bias").unwrap().1[3] = f32::NAN;
    std::fs::write(dir.join("nan.safetensors"), to_safetensors(&wrong)).unwrap();
    let err = run_with("--weights", &dir.join("nan.safetensors"));
    assert!(err.contains("non-finite") && err.contains("0.bias"), "{err}");

    let mut dirs = read_safetensors(&fixture("dirs.safetensors")).unwrap();
    dirs.retain(|k, _| k.starts_with("d1."));
    std::fs::write(dir.join("d1only.safetensors"), to_safetensors(&dirs)).unwrap();
    let err = run_with("--directions", &dir.join("d1only.safetensors"));
    assert!(err.contains("only d1") && err.contains("--y none"), "{err}");

    std::fs::write(dir.join("two.csv"), "a,b,label\n0.1,0.2,0\n0.3,0.4,1\n").unwrap();
    let err = run_with("--data", &dir.join("two.csv"));
    assert!(err.contains("2 features") && err.contains("takes 3"), "{err}");

    std::fs::write(dir.join("junk.safetensors"), b"not a tensor file").unwrap();
    let err = run_with("--weights", &dir.join("junk.safetensors"));
    assert!(err.contains("junk.safetensors") && err.contains("not a valid safetensors"), "{err}");
    assert!(!out.exists(), "a failed run writes nothing");
}

#[test]
fn a_stored_run_gets_its_surface_and_its_replayed_trajectory() {
    let dir = scratch_dir("landscape_store");
    let (store, done) = trained_run(&dir, "400", "final");
    let id = done.id.to_string();

    let run = mosaic().args(["landscape", "--store"]).arg(&store).args(["--run", &id, "--x", "-1:1:7", "--y", "-1:1:5"]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (surface, info) = file::read(&store.join("runs").join(&id).join("landscape.npy")).unwrap();
    assert_eq!((surface.x.len(), surface.y.as_ref().unwrap().len(), info.run), (7, 5, Some(done.id)));
    assert_eq!(info.examples, 280, "the sweep's training split");
    assert!(info.data.contains("train split"), "{}", info.data);
    // Centre: the trained weights, whose training-set loss is near the last epoch's.
    let centre = surface.loss[2 * 7 + 3];
    let last = done.outcome.as_ref().unwrap().epochs.last().unwrap().train_loss;
    assert!(centre.is_finite() && (centre - last).abs() < 0.5 * last.max(0.05), "centre {centre} vs last train loss {last}");

    let run = mosaic().args(["landscape", "--store"]).arg(&store).args(["--run", &id, "--trajectory"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("differs"), "the replay reproduced the stored weights: {stderr}");
    let (path_surface, info) = file::read(&store.join("runs").join(&id).join("trajectory.npy")).unwrap();
    let t = info.trajectory.expect("a trajectory");
    assert_eq!(t.epochs, (1..=done.arch().unwrap().epochs).collect::<Vec<_>>());
    assert_eq!(*t.coords.last().unwrap(), [0.0, 0.0], "the final weights are the origin");
    assert!(t.explained[0] >= t.explained[1] && t.explained[0] + t.explained[1] <= 1.0 + 1e-9, "{:?}", t.explained);
    // The axes hold the whole path.
    let (x, y) = (info.x, info.y.unwrap());
    assert!(t.coords.iter().all(|c| (x.min..=x.max).contains(&c[0]) && (y.min..=y.max).contains(&c[1])));
    assert!(t.loss.len() == t.epochs.len() && t.loss.iter().all(|l| l.is_finite()), "{:?}", t.loss);
    // The last checkpoint is the trained network, the surface's centre.
    assert!((t.loss.last().unwrap() - centre).abs() < 1e-9, "{:?} vs {centre}", t.loss);
    assert_eq!(path_surface.loss.len(), 51 * 51);

    let run = mosaic().args(["landscape", "--store"]).arg(&store).args(["--run", "999"]).output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && err.contains("no run 999"), "{err}");
}

#[test]
fn a_sweep_that_kept_every_epoch_needs_no_replay() {
    let dir = scratch_dir("landscape_all_epochs");
    let (store, done) = trained_run(&dir, "300", "all");
    let folder = store.join("runs").join(done.id.to_string());
    assert!(!folder.join("final.safetensors").exists(), "`all` keeps epochs, not a separate final file");
    let id = done.id.to_string();
    let run = mosaic()
        .args(["landscape", "--store"])
        .arg(&store)
        .args(["--run", &id, "--trajectory", "--x", "-1:1:5", "--y", "-1:1:5"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!folder.join("trajectory").exists(), "the kept checkpoints were used, nothing replayed");
    let (_, info) = file::read(&folder.join("trajectory.npy")).unwrap();
    assert_eq!(info.trajectory.unwrap().epochs.len(), done.arch().unwrap().epochs as usize);
}

#[test]
fn a_stored_cnn_on_images_gets_its_surface_and_trajectory() {
    let dir = scratch_dir("landscape_cnn");
    let space = dir.join("cnn.ron");
    let text = mosaic_core::space::DEMO_SPACE_RON
        .replace("families: [Mlp, ResidualMlp]", "families: [Cnn]")
        .replace("depth: (min: 1, max: 6)", "depth: (min: 2, max: 2)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 6, max: 8)")
        .replace("optimizers: [SgdMomentum, Adam, AdamW]", "optimizers: [Adam]")
        .replace("learning_rate: (min: 1e-4, max: 1e-1, log: true)", "learning_rate: (min: 0.01, max: 0.02)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 4, max: 4)");
    std::fs::write(&space, text).unwrap();
    let (store, done) = trained_sweep(&dir, &space, &["--dataset", "shapes", "--examples", "200", "--n", "2", "--checkpoints", "all"]);
    assert_eq!(done.arch().unwrap().family, mosaic_core::Family::Cnn);
    let id = done.id.to_string();

    let run = mosaic()
        .args(["landscape", "--store"])
        .arg(&store)
        .args(["--run", &id, "--trajectory", "--x", "-1:1:5", "--y", "-1:1:5"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (surface, info) = file::read(&store.join("runs").join(&id).join("trajectory.npy")).unwrap();
    assert!(surface.loss.iter().all(|l| l.is_finite()), "{:?}", surface.loss);
    let t = info.trajectory.expect("a trajectory");
    assert_eq!(t.epochs, vec![1, 2, 3, 4]);
    // The last checkpoint is the trained network: its loss is the last epoch's training loss
    // (the trainer's figure is the mean over the epoch's batches, as the weights moved).
    let last = done.outcome.as_ref().unwrap().epochs.last().unwrap().train_loss;
    let trained = *t.loss.last().unwrap();
    assert!(trained.is_finite() && (trained - last).abs() < 0.5 * last.max(0.05), "trained {trained} vs last train loss {last}");
    // The surface has relief around the trained weights.
    let (lo, hi) = surface.loss.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!(hi > lo * 1.05, "{lo}..{hi}");
}
