//! Tours: camera paths through the sphere with timed actions, in RON files,
//! rendered offline to video frame by frame (`mosaic record`). Time comes
//! from the frame number, never the clock, so a tour renders the same twice.

use serde::{Deserialize, Serialize};

use crate::CameraPose;
use crate::files::FileError;
use crate::session::SavedPose;

/// How a segment between two keyframes speeds up and slows down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ease {
    Linear,
    In,
    Out,
    #[default]
    InOut,
}

impl Ease {
    /// Maps the segment's linear progress `t` in [0, 1] to eased progress.
    pub fn apply(self, t: f32) -> f32 {
        let t = t.clamp(0.0, 1.0);
        match self {
            Ease::Linear => t,
            Ease::In => t * t,
            Ease::Out => t * (2.0 - t),
            Ease::InOut => t * t * (3.0 - 2.0 * t),
        }
    }
}

/// A camera pose at a moment of the tour; the segment to the next keyframe
/// uses this keyframe's `ease`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyframe {
    /// Seconds from the start.
    pub time: f32,
    pub camera: SavedPose,
    /// Vertical field of view in degrees.
    #[serde(default = "default_fov")]
    pub fov: f32,
    #[serde(default)]
    pub ease: Ease,
}

fn default_fov() -> f32 {
    40.0
}

/// Something the tour does at a moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Select a network by its name on the sphere (opens its landscape when it has one).
    Select(String),
    /// Select a network and open its loss landscape beside the sphere (the same as `Select`, said plainly).
    OpenLandscape(String),
    /// Clear the selection.
    Deselect,
    /// Colour the points by this column.
    ColorBy(String),
    /// Show this caption at the bottom of the frame until the next caption or `HideCaption`.
    Caption(String),
    HideCaption,
    /// A title card: the text large in the middle, until `HideCaption`.
    Title(String),
    /// Play the selected network's training path over this many seconds.
    PlayPath(f32),
    /// Fade to black over this many seconds (and back in with `FadeIn`).
    FadeOut(f32),
    FadeIn(f32),
}

/// An action and when it happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cue {
    pub time: f32,
    pub action: Action,
}

/// The video's size and frame rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// A tour file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tour {
    pub output: Output,
    /// Seconds; the video has `fps * duration` frames.
    pub duration: f32,
    pub keyframes: Vec<Keyframe>,
    #[serde(default)]
    pub actions: Vec<Cue>,
}

/// What the view shows at one moment: the camera and the overlays.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    pub pose: CameraPose,
    pub fov: f32,
    pub caption: Option<String>,
    pub title: Option<String>,
    /// 0: clear, 1: black.
    pub fade: f32,
    pub select: Option<Option<String>>,
    pub color_by: Option<String>,
    /// Position along the training path in [0, 1], while one plays.
    pub path_progress: Option<f32>,
}

impl Tour {
    /// Parses and checks a tour; errors name the origin, line and field.
    pub fn from_ron(text: &str, origin: &str) -> Result<Tour, FileError> {
        let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let tour: Tour = options.from_str(text).map_err(|e| FileError::syntax("tour", origin, e))?;
        tour.check().map_err(|e| FileError::Invalid {
            what: "tour",
            origin: origin.to_string(),
            line: tour.line_of(text, &e),
            message: e.to_string(),
        })?;
        Ok(tour)
    }

    pub fn load(path: &std::path::Path) -> Result<Tour, FileError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| FileError::Read { what: "tour", path: path.display().to_string(), source })?;
        Tour::from_ron(&text, &path.display().to_string())
    }

    /// The line of the `n`-th keyframe or action an error names (1 if none).
    fn line_of(&self, text: &str, error: &TourError) -> usize {
        let (key, n) = match error {
            TourError::Keyframe(n, _) => ("time:", *n + self.keyframes_start(text)),
            TourError::Action(n, _) => ("time:", *n + self.actions_start(text)),
            TourError::Output(_) => return text.lines().position(|l| l.contains("output")).map_or(1, |i| i + 1),
        };
        text.lines().enumerate().filter(|(_, l)| l.contains(key)).nth(n).map_or(1, |(i, _)| i + 1)
    }

    /// How many `time:` lines come before the keyframes (none: they come first).
    fn keyframes_start(&self, text: &str) -> usize {
        text.find("keyframes").map_or(0, |at| text[..at].matches("time:").count())
    }

    /// How many `time:` lines come before the actions.
    fn actions_start(&self, text: &str) -> usize {
        text.find("actions").map_or(0, |at| text[..at].matches("time:").count())
    }

    fn check(&self) -> Result<(), TourError> {
        let o = self.output;
        if !(16..=8192).contains(&o.width) || !(16..=8192).contains(&o.height) {
            return Err(TourError::Output(format!("field `output`: {}x{} is outside 16..=8192 pixels", o.width, o.height)));
        }
        if o.width % 2 == 1 || o.height % 2 == 1 {
            return Err(TourError::Output(format!("field `output`: {}x{} must be even for yuv420p video", o.width, o.height)));
        }
        if !(1..=240).contains(&o.fps) {
            return Err(TourError::Output(format!("field `fps`: {} is outside 1..=240", o.fps)));
        }
        if !(self.duration > 0.0 && self.duration <= 3600.0) {
            return Err(TourError::Output(format!("field `duration`: {} must lie in (0, 3600] seconds", self.duration)));
        }
        if self.keyframes.is_empty() {
            return Err(TourError::Output("field `keyframes`: a tour needs at least one keyframe".into()));
        }
        for (i, k) in self.keyframes.iter().enumerate() {
            if i > 0 && k.time <= self.keyframes[i - 1].time {
                return Err(TourError::Keyframe(
                    i,
                    format!(
                        "field `time`: keyframe {} at {} s does not come after the one at {} s",
                        i + 1,
                        k.time,
                        self.keyframes[i - 1].time
                    ),
                ));
            }
            if !(0.0..=self.duration).contains(&k.time) {
                return Err(TourError::Keyframe(
                    i,
                    format!("field `time`: keyframe {} at {} s is outside the tour's 0..{} s", i + 1, k.time, self.duration),
                ));
            }
            let c = &k.camera;
            if !c.focus.iter().chain([&c.yaw, &c.pitch, &c.radius]).all(|v| v.is_finite()) {
                // A NaN camera rendered blank frames and exited 0 (issue 28, problem 5).
                return Err(TourError::Keyframe(
                    i,
                    format!("field `camera`: keyframe {} has a number that is not finite (NaN or inf) in {c:?}", i + 1),
                ));
            }
            if !(1.0..=170.0).contains(&k.fov) || k.camera.radius <= 0.0 {
                return Err(TourError::Keyframe(
                    i,
                    format!("field `fov` or `radius`: keyframe {} has fov {} and radius {}", i + 1, k.fov, k.camera.radius),
                ));
            }
        }
        for (i, c) in self.actions.iter().enumerate() {
            if !(0.0..=self.duration).contains(&c.time) {
                return Err(TourError::Action(
                    i,
                    format!("field `time`: action {} at {} s is outside the tour's 0..{} s", i + 1, c.time, self.duration),
                ));
            }
            if i > 0 && c.time < self.actions[i - 1].time {
                return Err(TourError::Action(i, format!("field `time`: action {} at {} s comes before the one above it", i + 1, c.time)));
            }
        }
        Ok(())
    }

    /// Frames in the video.
    pub fn frames(&self) -> u32 {
        (self.duration * self.output.fps as f32).round() as u32
    }

    /// Seconds at frame `n`.
    pub fn time_of(&self, n: u32) -> f32 {
        n as f32 / self.output.fps as f32
    }

    /// The camera at `time`: Catmull-Rom through the keyframes (the ends
    /// repeated), the segment's easing applied to its progress.
    pub fn camera_at(&self, time: f32) -> (CameraPose, f32) {
        let k = &self.keyframes;
        let values = |f: &Keyframe| {
            let p = f.camera;
            [p.focus[0], p.focus[1], p.focus[2], p.yaw, p.pitch, p.radius, f.fov]
        };
        let v = if time <= k[0].time || k.len() == 1 {
            values(&k[0])
        } else if time >= k[k.len() - 1].time {
            values(&k[k.len() - 1])
        } else {
            let i = k.partition_point(|f| f.time <= time) - 1;
            let t = k[i].ease.apply((time - k[i].time) / (k[i + 1].time - k[i].time));
            let at = |j: isize| values(&k[j.clamp(0, k.len() as isize - 1) as usize]);
            let (p0, p1, p2, p3) = (at(i as isize - 1), at(i as isize), at(i as isize + 1), at(i as isize + 2));
            std::array::from_fn(|c| catmull_rom(p0[c], p1[c], p2[c], p3[c], t))
        };
        let pose = CameraPose { focus: bevy::math::Vec3::new(v[0], v[1], v[2]), yaw: v[3], pitch: v[4], radius: v[5].max(0.01) };
        (pose, v[6])
    }

    /// Everything the view shows at `time`.
    pub fn moment(&self, time: f32) -> Moment {
        let (pose, fov) = self.camera_at(time);
        let mut m = Moment { pose, fov, caption: None, title: None, fade: 0.0, select: None, color_by: None, path_progress: None };
        for cue in self.actions.iter().filter(|c| c.time <= time) {
            let since = time - cue.time;
            match &cue.action {
                Action::Select(name) | Action::OpenLandscape(name) => m.select = Some(Some(name.clone())),
                Action::Deselect => m.select = Some(None),
                Action::ColorBy(name) => m.color_by = Some(name.clone()),
                Action::Caption(text) => m.caption = Some(text.clone()),
                Action::Title(text) => m.title = Some(text.clone()),
                Action::HideCaption => (m.caption, m.title) = (None, None),
                Action::PlayPath(seconds) => m.path_progress = Some((since / seconds.max(1e-3)).min(1.0)),
                Action::FadeOut(seconds) => m.fade = (since / seconds.max(1e-3)).min(1.0),
                Action::FadeIn(seconds) => m.fade = 1.0 - (since / seconds.max(1e-3)).min(1.0),
            }
        }
        m
    }
}

/// A checked tour's problem, by what it concerns.
#[derive(Clone, Debug, PartialEq)]
enum TourError {
    Output(String),
    Keyframe(usize, String),
    Action(usize, String),
}

impl std::fmt::Display for TourError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TourError::Output(e) | TourError::Keyframe(_, e) | TourError::Action(_, e) => f.write_str(e),
        }
    }
}

/// The centripetal-free (uniform) Catmull-Rom spline between `p1` and `p2`.
fn catmull_rom(p0: f32, p1: f32, p2: f32, p3: f32, t: f32) -> f32 {
    let (t2, t3) = (t * t, t * t * t);
    0.5 * (2.0 * p1 + (p2 - p0) * t + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * t2 + (3.0 * p1 - p0 - 3.0 * p2 + p3) * t3)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOUR: &str = r#"Tour(
    output: (width: 640, height: 360, fps: 10),
    duration: 3.0,
    keyframes: [
        (time: 0.0, camera: (focus: (0.0, 0.0, 0.0), yaw: 0.0, pitch: 0.3, radius: 3.4)),
        (time: 1.0, camera: (focus: (0.0, 0.0, 0.0), yaw: 1.0, pitch: 0.3, radius: 3.0), ease: Linear),
        (time: 3.0, camera: (focus: (0.0, 0.0, 0.0), yaw: 2.0, pitch: 0.5, radius: 4.0), fov: 50.0),
    ],
    actions: [
        (time: 0.5, action: Caption("Hello")),
        (time: 2.0, action: HideCaption),
        (time: 2.0, action: FadeOut(1.0)),
    ],
)"#;

    #[test]
    fn a_tour_passes_through_its_keyframes_smoothly() {
        let tour = Tour::from_ron(TOUR, "t.ron").unwrap();
        assert_eq!(tour.frames(), 30);
        for k in &tour.keyframes {
            let (pose, fov) = tour.camera_at(k.time);
            assert!((pose.yaw - k.camera.yaw).abs() < 1e-5 && (pose.radius - k.camera.radius).abs() < 1e-5 && (fov - k.fov).abs() < 1e-4);
        }
        // Between keyframes, yaw moves monotonically and the camera never jumps.
        let mut last = tour.camera_at(0.0).0.yaw;
        for n in 1..=tour.frames() {
            let yaw = tour.camera_at(tour.time_of(n)).0.yaw;
            assert!(yaw >= last - 1e-4 && yaw - last < 0.2, "frame {n}: {last} -> {yaw}");
            last = yaw;
        }
    }

    #[test]
    fn actions_take_effect_at_their_time() {
        let tour = Tour::from_ron(TOUR, "t.ron").unwrap();
        assert_eq!(tour.moment(0.4).caption, None);
        assert_eq!(tour.moment(1.0).caption.as_deref(), Some("Hello"));
        let late = tour.moment(2.5);
        assert_eq!((late.caption, late.fade), (None, 0.5));
    }

    #[test]
    fn the_shipped_demo_tour_is_valid() {
        let tour = Tour::from_ron(include_str!("../../../scenes/tour.ron"), "scenes/tour.ron").unwrap();
        assert_eq!((tour.output.width, tour.output.height, tour.frames()), (1920, 1080, 360));
    }

    #[test]
    fn eases_start_and_end_where_they_should() {
        for e in [Ease::Linear, Ease::In, Ease::Out, Ease::InOut] {
            assert_eq!((e.apply(0.0), e.apply(1.0)), (0.0, 1.0));
        }
        assert!(Ease::In.apply(0.25) < 0.25 && Ease::Out.apply(0.25) > 0.25);
    }

    #[test]
    fn malformed_tours_name_the_line_and_the_field() {
        let unordered = TOUR.replace("(time: 1.0, camera", "(time: 0.0, camera");
        let err = Tour::from_ron(&unordered, "t.ron").unwrap_err().to_string();
        assert!(err.contains("line 6") && err.contains("field `time`"), "{err}");
        let unknown = TOUR.replace("HideCaption", "Spin");
        let err = Tour::from_ron(&unknown, "t.ron").unwrap_err().to_string();
        assert!(err.contains("line 11") && err.contains("Spin"), "{err}");
        let missing = TOUR.replace("duration: 3.0,\n", "");
        let err = Tour::from_ron(&missing, "t.ron").unwrap_err().to_string();
        assert!(err.contains("duration"), "{err}");
        let odd = TOUR.replace("width: 640", "width: 641");
        let err = Tour::from_ron(&odd, "t.ron").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("output"), "{err}");
        for bad in ["yaw: NaN", "yaw: inf"] {
            let blank = TOUR.replace("yaw: 1.0", bad);
            let err = Tour::from_ron(&blank, "t.ron").unwrap_err().to_string();
            assert!(err.contains("line 6") && err.contains("not finite"), "{bad}: {err}");
        }
        let nan_radius = TOUR.replace("radius: 4.0", "radius: NaN");
        let err = Tour::from_ron(&nan_radius, "t.ron").unwrap_err().to_string();
        assert!(err.contains("line 7") && err.contains("not finite"), "{err}");
    }
}
