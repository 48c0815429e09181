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

/// A fresh folder under the target directory for one test's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[derive(Deserialize, Debug)]
pub struct ProjectedPoint {
    pub label: String,
    pub x: f32,
    pub y: f32,
    pub depth: f32,
    pub radius_px: f32,
    pub color: [u8; 3],
    pub value: f64,
}

#[derive(Deserialize, Debug)]
pub struct Manifest {
    pub width: u32,
    pub height: u32,
    pub point_radius: f32,
    pub points: Vec<ProjectedPoint>,
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
