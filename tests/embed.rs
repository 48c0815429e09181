//! `mosaic embed` as a Python user drives it: .npy in, .npy out, clear errors.

mod common;

use common::{mosaic, scratch_dir};
use mosaic_manifold::npy::{self, Array2};
use mosaic_store::EmbeddingKind;

fn fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mosaic-manifold/tests/fixtures/phate_tree/X.npy")
}

#[test]
fn features_in_embedding_out_with_the_chosen_t() {
    let dir = scratch_dir("embed_features");
    let out_path = dir.join("Y.npy");
    let out = mosaic().args(["embed", "--features"]).arg(fixture()).arg("--out").arg(&out_path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let want_t = std::fs::read_to_string(fixture().with_file_name("t.txt")).unwrap();
    assert!(text.starts_with(&format!("t = {} (auto)", want_t.trim())), "{text}");
    let y = npy::read(&out_path).unwrap();
    assert_eq!((y.rows, y.cols), (240, 3));

    // `exact` takes the knee from every singular value at any size: here, the same t.
    let out = mosaic().args(["embed", "--t", "exact", "--features"]).arg(fixture()).arg("--out").arg(&out_path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("t = {} (exact)", want_t.trim())));

    let two = dir.join("Y2.npy");
    let out = mosaic().args(["embed", "--dims", "2", "--t", "7", "--features"]).arg(fixture()).arg("-o").arg(&two).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("t = 7 ·"));
    assert_eq!(npy::read(&two).unwrap().cols, 2);
}

#[test]
fn bad_arrays_get_errors_naming_the_file_and_the_problem() {
    let dir = scratch_dir("embed_errors");
    let write = |name: &str, a: &Array2| {
        let p = dir.join(name);
        std::fs::write(&p, npy::to_bytes(a)).unwrap();
        p
    };
    let run = |args: &[&str], input: &std::path::Path| {
        let out = mosaic().arg("embed").args(args).arg(input).arg("--out").arg(dir.join("y.npy")).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let wide = write("wide.npy", &Array2 { rows: 4, cols: 5, data: vec![0.0; 20] });
    let err = run(&["--distances"], &wide);
    assert!(err.contains("wide.npy") && err.contains("must be square") && err.contains("4 x 5"), "{err}");

    let mut data: Vec<f64> = (0..30).map(|v| v as f64).collect();
    data[7] = f64::NAN;
    let nan = write("nan.npy", &Array2 { rows: 10, cols: 3, data });
    let err = run(&["--features"], &nan);
    assert!(err.contains("nan.npy") && err.contains("row 2") && err.contains("NaN"), "{err}");

    let text = dir.join("text.npy");
    std::fs::write(&text, "1,2,3\n").unwrap();
    let err = run(&["--features"], &text);
    assert!(err.contains("text.npy") && err.contains("numpy.save"), "{err}");

    let err = run(&["--t", "0", "--features"], &fixture());
    assert!(err.contains("--t must be `auto`, `exact` or a whole number"), "{err}");

    let out = mosaic().args(["embed", "--out", "y.npy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an input is required");
}

#[test]
fn a_stored_sweep_is_embedded_by_representation_and_by_architecture() {
    let dir = scratch_dir("embed_store");
    let store = dir.join("store");
    let out = mosaic()
        .args(["sweep", "--space", "scenes/spaces/demo.ron", "--dataset", "moons", "--examples", "300", "--n", "10", "--store"])
        .arg(&store)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let snapshot = |name: &str| {
        mosaic()
            .args(["snapshot", "--no-panel", "--width", "320", "--height", "200", "--color-by", "class-separation", "--store"])
            .arg(&store)
            .arg("--out")
            .arg(dir.join(name))
            .output()
            .unwrap()
    };
    let before = snapshot("before.png");
    assert_eq!(before.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before.stderr).contains("run `mosaic embed --store DIR` first"));
    for mode in ["representation", "architecture"] {
        let out = mosaic().args(["embed", "--mode", mode, "--store"]).arg(&store).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("embedded by {mode}")));
    }
    let s = mosaic_store::open(&store).unwrap();
    let sweep = s.sweeps().unwrap()[0].id;
    let done: Vec<i64> = s.runs(sweep).unwrap().iter().filter(|r| r.status == mosaic_core::RunStatus::Done).map(|r| r.id).collect();
    for mode in ["representation", "architecture"] {
        let (t, coords) = s.embedding(sweep, mode.parse::<EmbeddingKind>().unwrap()).unwrap().unwrap();
        assert!(t >= 1);
        assert_eq!(coords.iter().map(|(id, _)| *id).collect::<Vec<_>>(), done, "{mode}: one point per trained network");
        assert!(coords.iter().all(|(_, c)| c.iter().all(|v| v.is_finite())));
    }
    // Features of every trained network's last layer (class separation from
    // the probe labels saved with it), each present and finite.
    let features = s.features(sweep).unwrap();
    let names: Vec<&str> = features.iter().map(|(n, _)| n.as_str()).collect();
    for name in ["class separation", "spectral entropy", "H0 persistence", "H1 persistence", "hierarchy clusters"] {
        let (_, values) = features.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} missing from {names:?}"));
        assert_eq!(values.iter().map(|(id, _)| *id).collect::<Vec<_>>(), done, "{name}");
        assert!(values.iter().all(|(_, v)| v.is_finite() && *v >= 0.0), "{name}: {values:?}");
    }
    // Networks that finish after an embedding join it without moving it:
    // pretend the last three were not embedded yet.
    let (t, full) = s.embedding(sweep, EmbeddingKind::Representation).unwrap().unwrap();
    let mut s = s;
    s.save_embedding(sweep, EmbeddingKind::Representation, t, &full[..full.len() - 3]).unwrap();
    let out = mosaic().args(["embed", "--store"]).arg(&store).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("3 new networks of `{}` placed beside the {} embedded", s.sweeps().unwrap()[0].name, full.len() - 3)),
        "{said}"
    );
    assert!(said.contains("clusters on the sphere (DBSCAN)"), "{said}");
    let (_, grown) = s.embedding(sweep, EmbeddingKind::Representation).unwrap().unwrap();
    assert_eq!(&grown[..full.len() - 3], &full[..full.len() - 3], "the embedded networks keep their places exactly");
    assert_eq!(grown.len(), full.len());
    let out = mosaic().args(["embed", "--refit", "--store"]).arg(&store).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{} networks of", full.len())));
    assert_eq!(s.embedding(sweep, EmbeddingKind::Representation).unwrap().unwrap().1, full, "refitting reproduces the embedding");
    // The path between two trained networks: valid specs, each on the unit sphere.
    let csv = dir.join("path.csv");
    let (a, b) = (done[0].to_string(), done[done.len() - 1].to_string());
    let out =
        mosaic().args(["path", "--steps", "4", "--from", &a, "--to", &b, "--out"]).arg(&csv).arg("--store").arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Vec<String>> =
        std::fs::read_to_string(&csv).unwrap().lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect();
    assert_eq!(rows.len(), 5, "steps + 1 architectures");
    for row in &rows {
        let p: Vec<f64> = row[2..5].iter().map(|v| v.parse().unwrap()).collect();
        assert!((p.iter().map(|v| v * v).sum::<f64>().sqrt() - 1.0).abs() < 1e-4, "{row:?} is not on the unit sphere");
    }
    let out = mosaic().args(["path", "--from", &a, "--to", "99999", "--store"]).arg(&store).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no run 99999"));
    let after = snapshot("after.png");
    assert!(after.status.success(), "{}", String::from_utf8_lossy(&after.stderr));
    let out = mosaic().args(["embed", "--store"]).arg(dir.join("nothing")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a NeuroMosaic store"));
}
