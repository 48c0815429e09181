//! Session files as a user meets them: a saved view restored (mapping,
//! filters, selection, camera), and broken sessions or stores reported in
//! the app, which keeps running. Rendered offscreen; PNGs stay under
//! `target/tmp/<test>/`.

mod common;

use common::{color_near, count_color, load, mosaic, read_manifest, run_ok, scratch_dir, snapshot};
use mosaic_core::Colormap;
use mosaic_core::theme::{ERROR_TEXT, PANEL_WIDTH};

fn extent(m: &common::Manifest) -> f32 {
    let (lo, hi) = m.points.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p.x), hi.max(p.x)));
    hi - lo
}

#[test]
fn a_session_restores_mapping_filters_selection_and_camera() {
    let dir = scratch_dir("session_restore");
    let (png, json) = (dir.join("plain.png"), dir.join("plain.json"));
    run_ok(snapshot(&png, &json).args(["--width", "960", "--height", "540"]));
    let plain = read_manifest(&json);
    let label = plain.point(17).label.clone();

    let session = dir.join("view.ron");
    std::fs::write(
        &session,
        format!(
            "(\n  color_by: Some(\"depth\"),\n  colormap: Plasma,\n  filters: [(column: \"depth\", min: 1.0, max: 2.0)],\n  \
             selected: Some(\"{label}\"),\n  camera: Some((focus: (0.0, 0.0, 0.0), yaw: 0.5, pitch: 0.35, radius: 5.0)),\n)\n"
        ),
    )
    .unwrap();
    let (png, json) = (dir.join("restored.png"), dir.join("restored.json"));
    run_ok(snapshot(&png, &json).args(["--width", "960", "--height", "540", "--session"]).arg(&session));
    let img = load(&png);
    let m = read_manifest(&json);
    assert_eq!(m.selected, Some(17), "the session's selection, found by name");
    // Coloured by depth through plasma: whole depths 1..=6 give plasma colours.
    let depth_colors: Vec<[u8; 3]> = (0..6).map(|k| Colormap::Plasma.srgb(k as f64 / 5.0)).collect();
    assert!(m.points.iter().all(|p| depth_colors.contains(&p.color)), "points are not coloured by depth through plasma");
    // The camera stands farther back: the sphere looks smaller.
    let ratio = extent(&m) / extent(&plain);
    assert!(ratio < 0.8, "the session's camera distance was not applied (extent ratio {ratio:.2})");
    // The filter keeps depths 1-2 lit; deeper networks fade (not drawn in their colour).
    let front = m.points.iter().filter(|p| p.x > PANEL_WIDTH + p.radius_px && Some(p.index) != m.selected);
    let lit = |p: &&common::ProjectedPoint| color_near(&img, p.x, p.y, 0.5 * p.radius_px, p.color, 10);
    let (kept, faded): (Vec<&common::ProjectedPoint>, Vec<_>) = front.partition(|p| p.value <= 2.0);
    let kept_lit = kept.iter().filter(|p| lit(p)).count();
    let faded_lit = faded.iter().filter(|p| lit(p)).count();
    assert!(kept_lit * 10 >= kept.len() * 6, "only {kept_lit} of {} kept points are lit", kept.len());
    assert!(faded_lit * 10 <= faded.len(), "{faded_lit} of {} filtered-out points still show their colour", faded.len());
}

#[test]
fn a_broken_session_or_store_is_reported_in_the_app_which_keeps_running() {
    let dir = scratch_dir("session_broken");
    let session = dir.join("broken.ron");
    let text = "(\n  colour_by: Some(\"depth\"),\n)\n";
    std::fs::write(&session, text).unwrap();
    let png = dir.join("malformed.png");
    let out = mosaic()
        .args(["snapshot", "--width", "960", "--height", "540", "--session"])
        .arg(&session)
        .arg("--out")
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = load(&png);
    let errors = count_color(&img, 0, 0, PANEL_WIDTH as u32, img.height(), ERROR_TEXT, 30);
    assert!(errors > 60, "no error shown in the panel ({errors} px)");
    assert_eq!(std::fs::read_to_string(&session).unwrap(), text, "the malformed session is left as it was");

    // A session whose store is not a store: the design space, and the problem, are shown.
    let bad_store = dir.join("not-a-store");
    std::fs::create_dir_all(&bad_store).unwrap();
    std::fs::write(bad_store.join("mosaic.sqlite"), b"this is not SQLite").unwrap();
    std::fs::write(&session, format!("(store: Some({:?}))", bad_store.display().to_string())).unwrap();
    let (png, json) = (dir.join("bad-store.png"), dir.join("bad-store.json"));
    let out = snapshot(&png, &json).args(["--width", "960", "--height", "540", "--session"]).arg(&session).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = load(&png);
    let errors = count_color(&img, 0, 0, PANEL_WIDTH as u32, img.height(), ERROR_TEXT, 30);
    assert!(errors > 60, "no error shown for the store ({errors} px)");
    assert_eq!(read_manifest(&json).points.len(), 200, "the sampled design is shown instead");
    assert_eq!(std::fs::read(bad_store.join("mosaic.sqlite")).unwrap(), b"this is not SQLite", "the store is untouched");

    // On the command line, the same store is an error: scripts need to know.
    let out = mosaic().args(["snapshot", "--store"]).arg(&bad_store).arg("--out").arg(dir.join("cli.png")).output().unwrap();
    assert!(!out.status.success());
}

/// Light (text-like) pixels in the panel.
fn panel_text(img: &image::RgbImage) -> usize {
    count_color(img, 0, 0, PANEL_WIDTH as u32, img.height(), [210, 210, 210], 45)
}

#[test]
fn every_panel_section_opens_with_its_controls() {
    let dir = scratch_dir("session_panels");
    let session = dir.join("panels.ron");
    std::fs::write(
        &session,
        "(\n  panels: [\"filters\", \"views\", \"export\"],\n  filters: [(column: \"depth\", min: 1.0, max: 3.0)],\n  \
         search: \"Mlp\",\n  size_by: Some(\"width\"),\n  \
         bookmarks: [(name: \"overview\", pose: (focus: (0.0, 0.0, 0.0), yaw: 0.5, pitch: 0.35, radius: 3.4))],\n)\n",
    )
    .unwrap();
    let (open, closed) = (dir.join("open.png"), dir.join("closed.png"));
    run_ok(mosaic().args(["snapshot", "--width", "1280", "--height", "1000", "--session"]).arg(&session).arg("--out").arg(&open));
    run_ok(mosaic().args(["snapshot", "--width", "1280", "--height", "1000", "--out"]).arg(&closed));
    let (open, closed) = (load(&open), load(&closed));
    let (a, b) = (panel_text(&open), panel_text(&closed));
    assert!(a > b * 3 / 2, "the open sections add little to the panel: {a} light pixels against {b} closed");
    // The filters fade most points: the sphere shows fewer lit colours.
    let lit = |img: &image::RgbImage| count_color(img, PANEL_WIDTH as u32, 0, img.width(), img.height(), Colormap::Viridis.srgb(1.0), 40);
    assert!(lit(&open) < lit(&closed), "the session's filters and search faded nothing");
}
