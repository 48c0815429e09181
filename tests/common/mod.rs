//! Helpers shared by the integration tests: run the real binary, read what it wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// The `mosaic` binary built for this test run.
pub fn mosaic() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mosaic"));
    // Logs would clutter the assertions on stderr.
    cmd.env("RUST_LOG", "error");
    cmd
}

/// `mosaic snapshot --out PNG --manifest JSON`: add the view's options to it.
pub fn snapshot(png: &Path, json: &Path) -> Command {
    let mut cmd = mosaic();
    cmd.arg("snapshot").arg("--out").arg(png).arg("--manifest").arg(json);
    cmd
}

/// A fresh folder under the target directory for one test's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a command and fails the test with its stderr unless it succeeded.
pub fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// Reads a PNG the binary wrote.
pub fn load(path: &Path) -> image::RgbImage {
    assert!(path.is_file(), "{} was not written", path.display());
    image::open(path).unwrap().to_rgb8()
}

#[derive(Deserialize, Debug, Clone)]
pub struct ProjectedPoint {
    pub index: usize,
    pub label: String,
    pub x: f32,
    pub y: f32,
    pub depth: f32,
    pub world: [f32; 3],
    pub radius_px: f32,
    pub color: [u8; 3],
    /// The mapped value; NaN where missing (JSON writes it as null).
    #[serde(deserialize_with = "nan_for_null")]
    pub value: f64,
    pub diverged: bool,
}

fn nan_for_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[derive(Deserialize, Debug)]
pub struct Manifest {
    pub width: u32,
    pub height: u32,
    pub point_radius: f32,
    pub points: Vec<ProjectedPoint>,
    pub selected: Option<usize>,
    pub neighbours: Vec<usize>,
    pub landscape: Option<LandscapeShot>,
    pub hyper: Option<LandscapeShot>,
    pub path: Vec<[f32; 2]>,
    pub clusters: Vec<ClusterShot>,
    pub ghosts: Vec<GhostShot>,
}

#[derive(Deserialize, Debug)]
pub struct GhostShot {
    pub x: f32,
    pub y: f32,
    pub mean: f64,
}

#[derive(Deserialize, Debug)]
pub struct ClusterShot {
    pub id: usize,
    pub size: usize,
    pub x: f32,
    pub y: f32,
}

impl Manifest {
    /// The projected point with scene index `index`.
    pub fn point(&self, index: usize) -> &ProjectedPoint {
        self.points.iter().find(|p| p.index == index).unwrap_or_else(|| panic!("point {index} is not in view"))
    }
}

#[derive(Deserialize, Debug)]
pub struct LandscapeShot {
    pub path: Vec<[f32; 2]>,
    pub minimum: Option<[f32; 2]>,
    pub grid: Vec<GridSample>,
}

#[derive(Deserialize, Debug)]
pub struct GridSample {
    pub x: f32,
    pub y: f32,
    pub t: f32,
    pub finite: bool,
    pub depth: f32,
}

pub fn read_manifest(path: &Path) -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Largest per-channel difference between two colours.
pub fn color_distance(a: [u8; 3], b: [u8; 3]) -> u8 {
    (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap()
}

/// Whether any pixel within `radius` of (x, y) is within `tolerance` of `color`.
pub fn color_near(img: &image::RgbImage, x: f32, y: f32, radius: f32, color: [u8; 3], tolerance: u8) -> bool {
    let r = radius.ceil() as i64;
    let (cx, cy) = (x.floor() as i64, y.floor() as i64);
    for dy in -r..=r {
        for dx in -r..=r {
            if ((dx * dx + dy * dy) as f32) > radius * radius {
                continue;
            }
            let (px, py) = (cx + dx, cy + dy);
            if px < 0 || py < 0 || px >= img.width() as i64 || py >= img.height() as i64 {
                continue;
            }
            if color_distance(img.get_pixel(px as u32, py as u32).0, color) <= tolerance {
                return true;
            }
        }
    }
    false
}

/// Number of pixels in a rectangle within `tolerance` of `color`.
pub fn count_color(img: &image::RgbImage, x0: u32, y0: u32, x1: u32, y1: u32, color: [u8; 3], tolerance: u8) -> usize {
    let mut n = 0;
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            if color_distance(img.get_pixel(x, y).0, color) <= tolerance {
                n += 1;
            }
        }
    }
    n
}

/// The demo space shrunk to networks that train in a blink (1-2 layers of
/// 8-24, 4-6 epochs), written to `dir/space.ron`.
pub fn tiny_space(dir: &Path) -> PathBuf {
    let space = dir.join("space.ron");
    let text = mosaic_core::space::DEMO_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 2)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 8, max: 24, log: true)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 4, max: 6)");
    std::fs::write(&space, text).unwrap();
    space
}

/// A small dense sweep (3 runs of 1-2 layers, 4-6 epochs) trained into
/// `dir/store` with `--checkpoints checkpoints`, and one of its trained runs.
pub fn trained_run(dir: &Path, examples: &str, checkpoints: &str) -> (PathBuf, mosaic_store::RunRecord) {
    trained_sweep(dir, &tiny_space(dir), &["--examples", examples, "--n", "3", "--checkpoints", checkpoints])
}

/// `mosaic sweep ARGS --space SPACE` trained into `dir/store`, and one of its trained runs.
pub fn trained_sweep(dir: &Path, space: &Path, args: &[&str]) -> (PathBuf, mosaic_store::RunRecord) {
    let store = dir.join("store");
    let run = mosaic().arg("sweep").args(args).arg("--store").arg(&store).arg("--space").arg(space).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let db = mosaic_store::open(&store).unwrap();
    let sweep = db.sweeps().unwrap().remove(0);
    let done = db.runs(sweep.id).unwrap().into_iter().find(|r| r.status == mosaic_core::RunStatus::Done).expect("a trained run");
    (store, done)
}
