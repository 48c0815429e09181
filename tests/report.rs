//! Real data end to end, as a new user runs it: a Fashion-MNIST sweep from
//! Debian's `dataset-fashion-mnist` files, `mosaic report` on it, and clear
//! errors for data that cannot be used.

mod common;

use std::io::Write;
use std::path::Path;

use common::{load, mosaic, scratch_dir};

const FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// Whether Debian's package is installed; the test command installs it, so CI must have it.
fn fashion_mnist_installed() -> bool {
    let installed = Path::new(FASHION_MNIST).join("train-images-idx3-ubyte.gz").is_file();
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "{FASHION_MNIST} is missing: scripts/install-deps.sh test installs dataset-fashion-mnist"
        );
        eprintln!("skipped: {FASHION_MNIST} is missing (sudo apt install dataset-fashion-mnist)");
    }
    installed
}

fn stderr_of(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "{cmd:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Table rows of the section that starts with `heading` (header and rule left out).
fn rows<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    let section = markdown.split(heading).nth(1).unwrap_or_else(|| panic!("no section {heading}"));
    let section = section.split("\n## ").next().unwrap();
    section.lines().filter(|l| l.starts_with('|')).skip(2).collect()
}

/// Pixels clearly unlike the top-left corner (the background).
fn drawn_pixels(path: &Path) -> usize {
    let img = load(path);
    let background = *img.get_pixel(0, 0);
    img.pixels().filter(|p| common::color_distance(p.0, background.0) > 40).count()
}

#[test]
fn a_fashion_mnist_sweep_gets_a_report_with_its_tables_charts_and_renders() {
    if !fashion_mnist_installed() {
        return;
    }
    let dir = scratch_dir("report_fashion");
    let store = dir.join("store");
    let out = mosaic()
        .args(["sweep", "--dataset", "fashion-mnist", "--examples", "2000", "--n", "20", "--workers", "2", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The image space is the default for 28x28 images; the official test split is kept.
    let opened = mosaic_store::open_existing(&store).unwrap();
    let sweep = opened.sweep(None).unwrap();
    assert_eq!(sweep.name, "fashion-mnist-images-n20-s0");
    assert!(sweep.data.contains("2000 examples x 784 features, 10 classes (286 held out for testing)"), "{}", sweep.data);
    let runs = opened.runs(sweep.id).unwrap();
    assert_eq!(runs.iter().filter(|r| r.status.is_finished()).count(), 20);
    drop(opened);

    let report = dir.join("report");
    let out = mosaic()
        .args(["report", "--resamples", "100", "--seeds", "3", "--budget", "20", "--store"])
        .arg(&store)
        .arg("-o")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let markdown = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(markdown.contains("Data set `fashion-mnist`"), "{markdown}");

    let clustering = rows(&markdown, "## Finding 1");
    assert_eq!(clustering.len(), 3, "{markdown}");
    for (row, layout) in clustering.iter().zip(["representation", "architecture", "shuffled"]) {
        assert!(row.starts_with(&format!("| {layout}")), "{row}");
        // Three statistics, each a value with its interval.
        assert_eq!(row.matches(" [").count(), 3, "{row}");
    }
    let features = rows(&markdown, "## Finding 2");
    let names: Vec<&str> = features.iter().map(|r| r.split('|').nth(1).unwrap().trim()).collect();
    assert_eq!(names, ["class separation", "spectral entropy", "H0 persistence", "H1 persistence", "hierarchy clusters"]);
    let search = rows(&markdown, "## Finding 3");
    let methods: Vec<&str> = search.iter().map(|r| r.split('|').nth(1).unwrap().trim()).collect();
    assert_eq!(methods, ["random", "gp-ei", "tpe (ours)", "manifold-guided"]);
    assert!(search.iter().all(|r| r.contains("/3 |")), "{search:?}");

    // Charts: one dot per network with the feature, and the search curves.
    for name in ["class-separation", "spectral-entropy", "h0-persistence", "h1-persistence", "hierarchy-clusters"] {
        let svg = std::fs::read_to_string(report.join(format!("figures/{name}.svg"))).unwrap();
        assert!(svg.matches("<circle").count() >= 15, "{name}: {svg}");
    }
    let curves = std::fs::read_to_string(report.join("figures/search.svg")).unwrap();
    assert_eq!(curves.matches("<polyline").count(), 4);
    let table: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report.join("search_table.json")).unwrap()).unwrap();
    assert_eq!(table["specs"].as_array().unwrap().len(), table["positions"].as_array().unwrap().len());

    // Renders from the app: the sphere by accuracy and by each feature, two landscapes; none blank.
    for png in [
        "sphere-accuracy",
        "sphere-class-separation",
        "sphere-spectral-entropy",
        "sphere-h0-persistence",
        "sphere-h1-persistence",
        "sphere-hierarchy-clusters",
        "landscape-best",
        "landscape-poorest",
    ] {
        let path = report.join(format!("figures/{png}.png"));
        assert!(drawn_pixels(&path) > 500, "{png} is blank");
        assert!(markdown.contains(&format!("(figures/{png}.png)")), "{png} is not in the report");
    }
    // A landscape shows far more than the sphere's points: a coloured surface.
    assert!(drawn_pixels(&report.join("figures/landscape-best.png")) > 3 * drawn_pixels(&report.join("figures/sphere-accuracy.png")));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn idx(magic: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, magic];
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(body);
    b
}

/// A tiny MNIST-family folder: 40 training and 10 test images of 4x4, 2 classes.
fn tiny_set(dir: &Path) {
    let labels = |n: usize| (0..n).map(|i| (i % 2) as u8).collect::<Vec<_>>();
    for (stem, n) in [("train", 40u32), ("t10k", 10)] {
        std::fs::write(dir.join(format!("{stem}-images-idx3-ubyte.gz")), gzip(&idx(3, &[n, 4, 4], &vec![7; n as usize * 16]))).unwrap();
        std::fs::write(dir.join(format!("{stem}-labels-idx1-ubyte.gz")), gzip(&idx(1, &[n], &labels(n as usize)))).unwrap();
    }
}

#[test]
fn unusable_image_data_is_refused_with_the_file_and_the_fix() {
    let dir = scratch_dir("report_bad_data");
    let sweep = |data_dir: &Path, examples: &str| {
        let mut cmd = mosaic();
        cmd.args(["sweep", "--dataset", "mnist", "--n", "2", "--examples", examples, "--data-dir"])
            .arg(data_dir)
            .arg("--store")
            .arg(dir.join("store"));
        cmd
    };
    let set = dir.join("set");
    std::fs::create_dir_all(&set).unwrap();

    let err = stderr_of(&mut sweep(&set, "20"));
    assert!(err.contains("no train-images-idx3-ubyte") && err.contains("--data-dir"), "{err}");

    tiny_set(&set);
    let err = stderr_of(&mut sweep(&set, "500"));
    assert!(err.contains("asked for 500 examples") && err.contains("has 50") && err.contains("--examples 50"), "{err}");

    let images = set.join("train-images-idx3-ubyte.gz");
    let whole = std::fs::read(&images).unwrap();
    std::fs::write(&images, &whole[..whole.len() - 12]).unwrap();
    let err = stderr_of(&mut sweep(&set, "20"));
    assert!(err.contains("train-images-idx3-ubyte.gz") && err.contains("damaged or cut off"), "{err}");

    std::fs::write(&images, gzip(&idx(1, &[40], &[0; 40]))).unwrap();
    let err = stderr_of(&mut sweep(&set, "20"));
    assert!(err.contains("train-images-idx3-ubyte.gz") && err.contains("not an IDX image file"), "{err}");

    tiny_set(&set);
    std::fs::write(set.join("t10k-labels-idx1-ubyte.gz"), gzip(&idx(1, &[9], &[0, 1, 0, 1, 0, 1, 0, 1, 0]))).unwrap();
    let err = stderr_of(&mut sweep(&set, "20"));
    assert!(err.contains("t10k-labels-idx1-ubyte.gz") && err.contains("9 labels for 10 images"), "{err}");

    let mut spirals = mosaic();
    spirals.args(["sweep", "--dataset", "spirals", "--n", "2", "--data-dir"]).arg(&set).arg("--store").arg(dir.join("store"));
    let err = stderr_of(&mut spirals);
    assert!(err.contains("--data-dir is for fashion-mnist, mnist and kmnist"), "{err}");
    // Data is checked before the store is touched.
    assert!(!dir.join("store").exists(), "a failed sweep created its store");
}
