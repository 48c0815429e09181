//! `mosaic record` as a user runs it: a tour rendered offline to H.264 MP4
//! (checked with ffprobe) or to PNG frames, the same twice, a frame at a
//! keyframe equal to a snapshot of that camera, and malformed tours named.

mod common;

use std::path::Path;
use std::process::Command;

use common::{color_distance, load, mosaic, run_ok, scratch_dir};

const TOUR: &str = r#"Tour(
    output: (width: 320, height: 180, fps: 10),
    duration: 1.5,
    keyframes: [
        (time: 0.0, camera: (focus: (0.0, 0.0, 0.0), yaw: 0.2, pitch: 0.3, radius: 3.4)),
        (time: 1.0, camera: (focus: (0.0, 0.0, 0.0), yaw: 1.0, pitch: 0.4, radius: 3.0)),
        (time: 1.5, camera: (focus: (0.0, 0.0, 0.0), yaw: 1.2, pitch: 0.4, radius: 3.2)),
    ],
    actions: [
        (time: 0.5, action: Caption("Hello")),
        (time: 1.2, action: FadeOut(0.3)),
    ],
)"#;

fn write_tour(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("tour.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn ffprobe(video: &Path, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0"])
        .arg(video)
        .output()
        .expect("ffprobe is missing: install ffmpeg (Debian: apt-get install ffmpeg), or use scripts/test.sh which does");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_tour_becomes_an_h264_video_of_fps_times_duration_frames() {
    let dir = scratch_dir("record_mp4");
    let tour = write_tour(&dir, TOUR);
    let video = dir.join("tour.mp4");
    run_ok(mosaic().arg("record").arg(&tour).arg("-o").arg(&video));
    assert_eq!(ffprobe(&video, "stream=codec_name,pix_fmt,width,height,nb_read_frames"), "h264,320,180,yuv420p,15");
}

#[test]
fn frames_repeat_exactly_and_a_keyframe_matches_a_snapshot_of_its_camera() {
    let dir = scratch_dir("record_frames");
    let tour = write_tour(&dir, TOUR);
    let (a, b) = (dir.join("a"), dir.join("b"));
    run_ok(mosaic().arg("record").arg(&tour).arg("--frames-dir").arg(&a));
    run_ok(mosaic().arg("record").arg(&tour).arg("--frames-dir").arg(&b));
    for n in 0..15 {
        let name = format!("frame-{n:05}.png");
        let (x, y) = (load(&a.join(&name)), load(&b.join(&name)));
        assert!(x == y, "frame {n} differs between two renders of the same tour");
    }
    assert!(!a.join("frame-00015.png").exists(), "fps x duration frames, no more");
    // The fade darkens the last frame; the caption lights pixels at the bottom from 0.5 s.
    let mean = |img: &image::RgbImage| img.pixels().map(|p| p.0.iter().map(|&c| c as u64).sum::<u64>()).sum::<u64>() / (img.len() as u64);
    assert!(mean(&load(&a.join("frame-00014.png"))) * 2 < mean(&load(&a.join("frame-00011.png"))), "no fade at the end");

    // The first keyframe's camera, as a session, gives the same picture offscreen.
    let session = dir.join("view.ron");
    std::fs::write(&session, "(camera: (focus: (0.0, 0.0, 0.0), yaw: 0.2, pitch: 0.3, radius: 3.4))").unwrap();
    let snap = dir.join("snapshot.png");
    run_ok(
        mosaic().args(["snapshot", "--no-panel", "--width", "320", "--height", "180", "--session"]).arg(&session).arg("--out").arg(&snap),
    );
    let (frame, snap) = (load(&a.join("frame-00000.png")), load(&snap));
    let close = frame.pixels().zip(snap.pixels()).filter(|(p, q)| color_distance(p.0, q.0) <= 8).count();
    assert!(
        close as f64 >= 0.99 * frame.len() as f64 / 3.0,
        "frame 0 and the snapshot differ: {close} of {} pixels agree",
        frame.len() / 3
    );
}

#[test]
fn malformed_tours_are_named_with_line_and_field() {
    let dir = scratch_dir("record_bad");
    let cases = [
        (TOUR.replace("(time: 1.0, camera", "(time: 0.0, camera"), "line 6"),
        (TOUR.replace("FadeOut(0.3)", "Spin(0.3)"), "Spin"),
        (TOUR.replace("duration: 1.5,\n", ""), "duration"),
    ];
    for (text, expected) in cases {
        let tour = write_tour(&dir, &text);
        let out = mosaic().arg("record").arg(&tour).arg("-o").arg(dir.join("x.mp4")).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("tour.ron") && err.contains(expected), "{expected}: {err}");
    }
    assert!(!dir.join("x.mp4").exists(), "nothing is written for a bad tour");
}

#[test]
fn the_timeline_shows_a_loaded_tour_and_names_a_broken_one() {
    let dir = scratch_dir("record_timeline");
    let tour = write_tour(&dir, TOUR);
    let text_in_panel = |session: &str, name: &str| {
        let path = dir.join(format!("{name}.ron"));
        std::fs::write(&path, session).unwrap();
        let png = dir.join(format!("{name}.png"));
        run_ok(mosaic().args(["snapshot", "--width", "1280", "--height", "1000", "--session"]).arg(&path).arg("--out").arg(&png));
        let img = load(&png);
        let light = common::count_color(&img, 0, 0, mosaic_core::theme::PANEL_WIDTH as u32, img.height(), [210, 210, 210], 45);
        let errors =
            common::count_color(&img, 0, 0, mosaic_core::theme::PANEL_WIDTH as u32, img.height(), mosaic_core::theme::ERROR_TEXT, 30);
        (light, errors)
    };
    let (closed, _) = text_in_panel("()", "closed");
    let (open, errors) = text_in_panel(&format!("(panels: [\"tour\"], tour: {:?})", tour.display().to_string()), "open");
    assert!(open > closed * 5 / 4, "the timeline adds little: {open} light pixels against {closed}");
    assert!(errors < 20, "a good tour raised an error ({errors} px)");
    let broken = write_tour(&dir, &TOUR.replace("duration: 1.5,\n", ""));
    let (_, errors) = text_in_panel(&format!("(panels: [\"tour\"], tour: {:?})", broken.display().to_string()), "broken");
    assert!(errors > 60, "a broken tour is not reported in the panel ({errors} px)");
}
