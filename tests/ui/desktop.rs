//! A virtual desktop for driving the real `mosaic` window as a person does:
//! an Xvfb server, real X input events from xdotool (relative motion for
//! drags, since absolute jumps make no raw motion; key holds that span
//! frames), screenshots of the screen from ffmpeg, and the window's own UI
//! report (`MOSAIC_UI_REPORT`: where points and controls are) to aim with.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

pub use crate::common::ProjectedPoint as Point;

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;

/// One Xvfb server; stopped when dropped.
pub struct Desktop {
    xvfb: Child,
    pub display: String,
}

impl Desktop {
    pub fn start() -> Desktop {
        // -displayfd: the server picks a free display and writes its number.
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", &format!("{WIDTH}x{HEIGHT}x24"), "-nolisten", "tcp", "-noreset"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is missing: install it (Debian: apt-get install xvfb), or use scripts/test.sh which does");
        let mut line = String::new();
        BufReader::new(xvfb.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb did not say which display it took");
        Desktop { xvfb, display: format!(":{number}") }
    }

    /// Runs xdotool on this display; `args` are its command chain.
    pub fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool is missing: install it (Debian: apt-get install xdotool), or use scripts/test.sh which does");
        assert!(out.status.success(), "xdotool {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A quick click (press and release in one go, as a fast finger makes).
    pub fn click(&self, [x, y]: [f32; 2]) {
        self.xdotool(&["mousemove", &px(x), &px(y), "click", "1"]);
    }

    pub fn move_to(&self, [x, y]: [f32; 2]) {
        self.xdotool(&["mousemove", &px(x), &px(y)]);
    }

    /// Presses `key` (xdotool's names: Tab, Home, ctrl+s), released at once.
    pub fn key(&self, key: &str) {
        self.xdotool(&["key", key]);
    }

    /// Holds `key` down for `time`, over many frames.
    pub fn hold(&self, key: &str, time: Duration) {
        self.xdotool(&["keydown", key]);
        std::thread::sleep(time);
        self.xdotool(&["keyup", key]);
    }

    /// Drags with the left button from `from` by `by` pixels, in small
    /// relative steps.
    pub fn drag(&self, from: [f32; 2], by: [f32; 2]) {
        const STEPS: usize = 12;
        self.move_to(from);
        self.xdotool(&["mousedown", "1"]);
        for _ in 0..STEPS {
            self.xdotool(&["mousemove_relative", "--", &px(by[0] / STEPS as f32), &px(by[1] / STEPS as f32)]);
            std::thread::sleep(Duration::from_millis(30));
        }
        self.xdotool(&["mouseup", "1"]);
    }

    /// The whole screen as the person sees it.
    pub fn screenshot(&self, path: &Path) -> image::RgbImage {
        let out = Command::new("ffmpeg")
            .args([
                "-loglevel",
                "error",
                "-y",
                "-f",
                "x11grab",
                "-draw_mouse",
                "0",
                "-video_size",
                &format!("{WIDTH}x{HEIGHT}"),
                "-i",
                &self.display,
            ])
            .args(["-frames:v", "1"])
            .arg(path)
            .output()
            .expect("ffmpeg is missing: install it (Debian: apt-get install ffmpeg), or use scripts/test.sh which does");
        assert!(out.status.success(), "screen capture failed: {}", String::from_utf8_lossy(&out.stderr));
        image::open(path).unwrap().to_rgb8()
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

fn px(v: f32) -> String {
    format!("{}", v.round() as i64)
}

/// The running explorer; killed when dropped.
pub struct Explorer {
    child: Child,
    pub report: PathBuf,
    pub log: PathBuf,
}

impl Explorer {
    /// `mosaic ARGS` on `desktop`, working in `dir` (exports land there),
    /// with its own data home (the default demo store and session) under
    /// it, logging at the default level to `dir/explorer.log`.
    pub fn launch(desktop: &Desktop, dir: &Path, args: &[&str]) -> Explorer {
        let (report, log) = (dir.join("ui-report.json"), dir.join("explorer.log"));
        let _ = std::fs::remove_file(&report);
        let child = Command::new(env!("CARGO_BIN_EXE_mosaic"))
            .args(args)
            .current_dir(dir)
            .env("DISPLAY", &desktop.display)
            .env("MOSAIC_UI_REPORT", &report)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let explorer = Explorer { child, report, log };
        explorer.wait_for("the first frame", Duration::from_secs(90), |r| !r.controls.is_empty());
        // Keys go to the focused window; with no window manager, give it the focus.
        desktop.xdotool(&["search", "--sync", "--name", "^NeuroMosaic$", "windowfocus", "--sync"]);
        explorer
    }

    /// CPU time the explorer has used so far, in seconds (Linux's /proc).
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("the explorer is running");
        // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat.rsplit_once(')').expect("a stat line").1.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        ticks / 100.0 // USER_HZ, 100 on Linux
    }

    /// The latest report (after a frame has drawn it).
    pub fn report(&self) -> Option<Report> {
        serde_json::from_str(&std::fs::read_to_string(&self.report).ok()?).ok()
    }

    /// Waits until the report satisfies `ready`; fails naming `what`.
    pub fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&Report) -> bool) -> Report {
        let start = Instant::now();
        loop {
            if let Some(r) = self.report().filter(|r| ready(r)) {
                return r;
            }
            assert!(start.elapsed() < timeout, "waited {timeout:?} for {what}; the log says:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The screen once the window's picture is finished (no pipeline still compiling).
    pub fn screenshot(&self, desktop: &Desktop, path: &Path) -> image::RgbImage {
        // Finished, and still so a moment later (the first frames have
        // nothing compiling yet because they have asked for nothing yet);
        // by then the frame that drew it has reached the screen.
        loop {
            self.wait_for("the picture to finish", Duration::from_secs(60), |r| !r.compiling);
            std::thread::sleep(Duration::from_millis(500));
            if self.report().is_some_and(|r| !r.compiling) {
                return desktop.screenshot(path);
            }
        }
    }

    /// Waits until the camera has stopped (two reports 300 ms apart agree).
    pub fn wait_still(&self) -> Report {
        let start = Instant::now();
        loop {
            let before = self.report().expect("a report");
            std::thread::sleep(Duration::from_millis(300));
            let now = self.report().expect("a report");
            if now.camera_position == before.camera_position {
                return now;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the camera never came to rest");
        }
    }

    /// Clicks the control with this role and label, first scrolling the
    /// panel with the wheel (as a person would) until it is in view.
    /// Returns it as it was before the click.
    pub fn click_control(&self, desktop: &Desktop, role: &str, label: &str) -> Control {
        let find = || {
            let r = self.report().expect("a report");
            r.control(role, label).unwrap_or_else(|| panic!("no {role} `{label}` in the panel: {:#?}", r.controls)).clone()
        };
        for _ in 0..40 {
            let control = find();
            let [_, top, _, bottom] = control.rect;
            // egui scrolls smoothly: aim only once the control stands still.
            std::thread::sleep(Duration::from_millis(200));
            if find().rect != control.rect {
                continue;
            }
            if top >= 0.0 && bottom <= HEIGHT as f32 {
                desktop.click(control.center());
                return control;
            }
            // Wheel down (5) to bring a control below into view, up (4) for one above.
            let wheel = if top < 0.0 { "4" } else { "5" };
            desktop.xdotool(&["mousemove", "140", "360", "click", wheel]);
            std::thread::sleep(Duration::from_millis(150));
        }
        panic!("scrolling never brought {role} `{label}` into view");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log's ERROR lines.
    pub fn errors(&self) -> Vec<String> {
        self.log_text().lines().filter(|l| l.contains("ERROR")).map(str::to_string).collect()
    }
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Deserialize, Debug, Clone)]
pub struct Control {
    pub role: String,
    pub label: String,
    pub rect: [f32; 4],
    pub checked: Option<bool>,
}

impl Control {
    pub fn center(&self) -> [f32; 2] {
        [(self.rect[0] + self.rect[2]) / 2.0, (self.rect[1] + self.rect[3]) / 2.0]
    }
}

#[derive(Deserialize, Debug, Clone)]
pub struct Report {
    pub points: Vec<Point>,
    pub selected: Option<usize>,
    pub neighbours: Vec<usize>,
    pub path: Vec<[f32; 2]>,
    /// The meta-learner's suggestions on screen.
    pub ghosts: Vec<serde_json::Value>,
    pub camera_mode: String,
    pub camera_position: [f32; 3],
    pub camera_forward: [f32; 3],
    pub controls: Vec<Control>,
    /// Render pipelines still compiling: the picture is unfinished.
    pub compiling: bool,
}

impl Report {
    /// The control with this role and label, else the first whose label
    /// starts with `label` ("Train these" for "Train these 8").
    pub fn control(&self, role: &str, label: &str) -> Option<&Control> {
        let of_role = || self.controls.iter().filter(move |c| c.role == role);
        of_role().find(|c| c.label == label).or_else(|| of_role().find(|c| c.label.starts_with(label)))
    }

    /// Whether some text on screen contains `text`.
    pub fn shows(&self, text: &str) -> bool {
        self.controls.iter().any(|c| c.label.contains(text))
    }

    pub fn point(&self, index: usize) -> &Point {
        self.points.iter().find(|p| p.index == index).expect("the point is on screen")
    }

    /// The point nearest the camera inside the 3-D view (not hidden by others).
    pub fn front_point(&self, panel_width: f32) -> &Point {
        self.points
            .iter()
            .filter(|p| p.x > panel_width + 20.0 && p.x < WIDTH as f32 - 20.0 && p.y > 20.0 && p.y < HEIGHT as f32 - 20.0)
            .min_by(|a, b| a.depth.total_cmp(&b.depth))
            .expect("a point in view")
    }
}
