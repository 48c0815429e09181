//! What a person sees, checked on the pixels: the sphere rendered offscreen
//! (no display) and in a real window under Xvfb, on Mesa's software Vulkan.
//!
//! Every render test runs the real `mosaic` binary. Each PNG is kept under
//! the target directory (`target/tmp/<test>/`) for a person to look at.

mod common;

use common::{Manifest, color_distance, color_near, count_color, load, mosaic, read_manifest, run_ok, scratch_dir, snapshot};
use mosaic_core::Colormap;
use mosaic_core::theme::{BACKGROUND, PANEL_WIDTH};
use std::process::Command;

/// The nearer half of the points: the ones facing the camera, which nothing
/// but a nearer point can hide.
fn front_half(manifest: &Manifest) -> Vec<&common::ProjectedPoint> {
    let mut points: Vec<_> = manifest.points.iter().collect();
    points.sort_by(|a, b| a.depth.total_cmp(&b.depth));
    points.truncate(points.len() / 2);
    points
}

/// Each front point shows its own colour inside its disc. The impostor
/// shading reaches the point's exact colour where its surface faces the
/// light, so a small tolerance suffices.
fn assert_points_drawn_in_their_colours(img: &image::RgbImage, manifest: &Manifest, min_x: f32) {
    let front: Vec<_> = front_half(manifest).into_iter().filter(|p| p.x > min_x + p.radius_px).collect();
    assert!(front.len() > 50, "too few points in view: {}", front.len());
    let found = front.iter().filter(|p| color_near(img, p.x, p.y, 0.9 * p.radius_px, p.color, 12)).count();
    let share = found as f64 / front.len() as f64;
    assert!(share >= 0.9, "only {found} of {} front points show their colour", front.len());
}

/// The points whose colours show in the pixels cover the value range: some
/// from its lowest quarter, some from its highest.
fn assert_visible_points_span_the_range(img: &image::RgbImage, manifest: &Manifest) {
    let mut values: Vec<f64> = manifest.points.iter().map(|p| p.value).collect();
    values.sort_by(f64::total_cmp);
    let (q1, q3) = (values[values.len() / 4], values[values.len() * 3 / 4]);
    let shown: Vec<f64> =
        front_half(manifest).into_iter().filter(|p| color_near(img, p.x, p.y, 0.9 * p.radius_px, p.color, 12)).map(|p| p.value).collect();
    assert!(shown.iter().filter(|v| **v <= q1).count() >= 10, "few low-value points visible");
    assert!(shown.iter().filter(|v| **v >= q3).count() >= 10, "few high-value points visible");
}

/// Where no point lies (farther than 1.5 radii from every projected centre),
/// the background shows: points are drawn where the engine projects them and nowhere else.
fn assert_background_between_points(img: &image::RgbImage, manifest: &Manifest, min_x: u32) {
    let max_r = manifest.points.iter().map(|p| p.radius_px).fold(0.0, f32::max);
    let (mut empty, mut wrong) = (0, Vec::new());
    for y in (4..img.height() - 4).step_by(9) {
        for x in (min_x + 4..img.width() - 4).step_by(9) {
            let clear = manifest.points.iter().all(|p| (p.x - x as f32).hypot(p.y - y as f32) > 1.5 * max_r + 2.0);
            if clear {
                empty += 1;
                let px = img.get_pixel(x, y).0;
                if color_distance(px, BACKGROUND) > 3 {
                    wrong.push((x, y, px));
                }
            }
        }
    }
    assert!(empty > 1000, "too few empty samples ({empty})");
    assert!(wrong.is_empty(), "{} empty places are not background, e.g. {:?}", wrong.len(), &wrong[..wrong.len().min(5)]);
}

/// The panel covers the left strip, carries text, and its legend shows the map's ends.
fn assert_panel_with_legend(img: &image::RgbImage, map: Colormap) {
    let (w, h) = (PANEL_WIDTH as u32, img.height());
    let area = (w * h) as usize;
    let background = count_color(img, 0, 0, w, h, BACKGROUND, 2);
    assert!(background < area / 20, "the panel area is mostly background ({background} of {area} px)");
    let text = count_color(img, 0, 0, w, h / 3, [220, 220, 220], 35);
    assert!(text > 150, "no text in the panel ({text} light pixels)");
    let stops = map.stops();
    for end in [stops[0], stops[9]] {
        let n = count_color(img, 0, 0, w, h, end, 3);
        assert!(n >= 20, "legend lacks {} colour {end:?} ({n} px)", map.name());
    }
}

fn distinct_colors(img: &image::RgbImage) -> usize {
    let mut seen = std::collections::HashSet::new();
    for p in img.pixels() {
        seen.insert(p.0);
    }
    seen.len()
}

#[test]
fn offscreen_snapshot_shows_the_coloured_sphere_and_panel() {
    let dir = scratch_dir("snapshot_default");
    let (png, json) = (dir.join("view.png"), dir.join("view.json"));
    run_ok(snapshot(&png, &json).args(["--width", "1280", "--height", "720"]));
    let img = load(&png);
    let manifest = read_manifest(&json);
    assert_eq!((img.width(), img.height()), (1280, 720));
    assert_eq!((manifest.width, manifest.height), (1280, 720));
    assert_eq!(manifest.points.len(), 200);

    // The sphere sits in the view, right of the panel.
    for p in &manifest.points {
        assert!(p.x > PANEL_WIDTH && p.x < 1280.0 && p.y > 0.0 && p.y < 720.0, "{p:?} off screen");
    }
    assert_points_drawn_in_their_colours(&img, &manifest, PANEL_WIDTH);
    assert_background_between_points(&img, &manifest, PANEL_WIDTH as u32);
    assert_panel_with_legend(&img, Colormap::Viridis);
    assert_visible_points_span_the_range(&img, &manifest);
    assert!(distinct_colors(&img) > 500, "the image is nearly uniform");
}

#[test]
fn snapshot_follows_colour_options_and_hides_the_panel() {
    let dir = scratch_dir("snapshot_plasma");
    let (png, json) = (dir.join("view.png"), dir.join("view.json"));
    run_ok(
        mosaic()
            .args(["snapshot", "--no-panel", "--width", "640", "--height", "360", "--n", "300"])
            .args(["--colormap", "plasma", "--color-by", "depth", "--out"])
            .arg(&png)
            .arg("--manifest")
            .arg(&json),
    );
    let img = load(&png);
    let manifest = read_manifest(&json);
    assert_eq!((img.width(), img.height()), (640, 360));
    assert_eq!(manifest.points.len(), 300);
    // Depth takes whole values 1..=6: six plasma colours, the ends included.
    let mut colors: Vec<[u8; 3]> = manifest.points.iter().map(|p| p.color).collect();
    colors.sort();
    colors.dedup();
    assert_eq!(colors.len(), 6, "{colors:?}");
    for (k, c) in (0..6).map(|k| (k, Colormap::Plasma.srgb(k as f64 / 5.0))) {
        assert!(colors.contains(&c), "depth step {k}: {c:?} missing from {colors:?}");
    }
    assert_points_drawn_in_their_colours(&img, &manifest, 0.0);
    assert_background_between_points(&img, &manifest, 0);
    // No panel: the left strip is background wherever no point is.
    let left = count_color(&img, 0, 0, 40, 360, BACKGROUND, 2);
    assert!(left > 40 * 360 * 9 / 10, "left strip is not background ({left} px)");
}

/// The explorer in a real X11 window (Xvfb), captured from the window's own
/// swap chain, matches the offscreen harness: same scene, same camera.
#[test]
fn window_under_xvfb_matches_the_offscreen_render() {
    let xvfb = Command::new("xvfb-run").arg("--help").output();
    assert!(xvfb.is_ok(), "xvfb-run is missing: install it (Debian: apt-get install xvfb xauth), or use scripts/test.sh which does");
    let dir = scratch_dir("window_xvfb");
    let (win, off) = (dir.join("window.png"), dir.join("offscreen.png"));
    // xvfb-run keeps its X authority file in a temporary folder: keep it in
    // ours, away from anything that tidies /tmp. A server that could not be
    // reached at all is started once more; any other failure counts.
    let xvfb = || {
        let mut cmd = Command::new("xvfb-run");
        cmd.args(["-a", "-s", "-screen 0 1280x720x24", "-f"])
            .arg(dir.join("Xauthority"))
            .arg(env!("CARGO_BIN_EXE_mosaic"))
            .args(["explore", "--no-train", "--frames", "12", "--out"])
            .arg(&win)
            .env("RUST_LOG", "error")
            .env("TMPDIR", &dir);
        cmd
    };
    let first = xvfb().output().unwrap();
    if !first.status.success() && String::from_utf8_lossy(&first.stderr).contains("XOpenDisplayFailed") {
        eprintln!("the virtual X server could not be reached; starting it once more");
        run_ok(&mut xvfb());
    } else {
        assert!(first.status.success(), "xvfb-run failed ({}):\n{}", first.status, String::from_utf8_lossy(&first.stderr));
    }
    run_ok(mosaic().args(["snapshot", "--width", "1280", "--height", "720", "--out"]).arg(&off));
    let (a, b) = (load(&win), load(&off));
    assert_eq!((a.width(), a.height()), (1280, 720));
    assert_panel_with_legend(&a, Colormap::Viridis);
    let close = a.pixels().zip(b.pixels()).filter(|(p, q)| color_distance(p.0, q.0) <= 8).count();
    let share = close as f64 / (1280.0 * 720.0);
    assert!(share > 0.98, "window and offscreen renders differ: only {:.1}% of pixels agree", 100.0 * share);
    assert!(distinct_colors(&a) > 500);
}
