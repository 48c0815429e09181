//! VR, the parts every build has: finding an OpenXR runtime and headset (so
//! a missing one is a message naming the fix, never a panic), the controller
//! ray's pick, the rig that moves the user through the world (fly, turn,
//! grab), the comfort vignette and the frame budget. The session itself
//! (bevy_mod_openxr) is in `xr_session`, behind the `xr` feature.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use serde::Serialize;

/// What was found when an OpenXR runtime answered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuntimeInfo {
    /// e.g. "Monado(XRT) by Collabora et al".
    pub runtime: String,
    pub version: String,
    /// The head-mounted display, e.g. "Simulated HMD".
    pub system: String,
}

/// Why no headset can be used, each with what to do about it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum XrUnavailable {
    #[error(
        "no OpenXR loader found ({tried}): install it (Debian 13 / Ubuntu: apt-get install libopenxr-loader1 libopenxr-dev) \
         and an OpenXR runtime (Monado or SteamVR)"
    )]
    NoLoader { tried: String },
    #[error("found {found} but not the libopenxr_loader.so that OpenXR apps open: install libopenxr-dev (or link the one to the other)")]
    UnversionedLoaderMissing { found: String },
    #[error("no OpenXR runtime found: install Monado or SteamVR and set XR_RUNTIME_JSON to its manifest{hint}; the loader said: {detail}")]
    NoRuntime { detail: String, hint: String },
    #[error(
        "the OpenXR runtime {runtime} is running but no headset is connected ({detail}): connect and wake the headset \
         (for Monado, start monado-service first), then retry"
    )]
    NoHeadset { runtime: String, detail: String },
    #[error("the OpenXR runtime failed: {0}")]
    Failed(String),
}

/// The name every OpenXR app opens the loader by (bevy_mod_openxr too).
const LOADER: &str = "libopenxr_loader.so";

/// The loader library the probe opens: [`LOADER`], or `MOSAIC_OPENXR_LOADER`
/// (for tests of a missing loader: the session itself always opens [`LOADER`]).
pub fn loader_path() -> PathBuf {
    std::env::var_os("MOSAIC_OPENXR_LOADER").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(LOADER))
}

/// Asks the OpenXR runtime for a head-mounted display, as a session would,
/// without opening one. Safe with nothing installed: every failure is an
/// [`XrUnavailable`].
pub fn probe() -> Result<RuntimeInfo, XrUnavailable> {
    let path = loader_path();
    let entry = load_loader(&path)?;
    let info = openxr::ApplicationInfo {
        application_name: "NeuroMosaic",
        application_version: 1,
        engine_name: "Bevy",
        engine_version: 19,
        // 1.0: what every runtime and loader accepts.
        api_version: openxr::Version::new(1, 0, 0),
    };
    let instance = entry.create_instance(&info, &openxr::ExtensionSet::default(), &[]).map_err(no_runtime)?;
    let properties = instance.properties().map_err(|e| XrUnavailable::Failed(e.to_string()))?;
    let system = instance.system(openxr::FormFactor::HEAD_MOUNTED_DISPLAY).map_err(|e| match e {
        openxr::sys::Result::ERROR_FORM_FACTOR_UNAVAILABLE | openxr::sys::Result::ERROR_RUNTIME_FAILURE => {
            XrUnavailable::NoHeadset { runtime: properties.runtime_name.clone(), detail: e.to_string() }
        }
        other => XrUnavailable::Failed(format!("{} could not find a headset: {other}", properties.runtime_name)),
    })?;
    let system = instance.system_properties(system).map_err(|e| XrUnavailable::Failed(e.to_string()))?;
    Ok(RuntimeInfo {
        runtime: properties.runtime_name,
        version: properties.runtime_version.to_string(),
        system: if system.system_name.is_empty() { "unnamed headset".into() } else { system.system_name },
    })
}

fn load_loader(path: &Path) -> Result<openxr::Entry, XrUnavailable> {
    // SAFETY: the library is the OpenXR loader (the standard name, or the one
    // the user named); it only resolves the core entry points here.
    let loaded = |p: &Path| unsafe { openxr::Entry::load_from(p) };
    loaded(path).map_err(|e| {
        // Debian's runtime package ships only the versioned name.
        let versioned = Path::new("libopenxr_loader.so.1");
        if path == Path::new(LOADER) && loaded(versioned).is_ok() {
            XrUnavailable::UnversionedLoaderMissing { found: versioned.display().to_string() }
        } else {
            XrUnavailable::NoLoader { tried: format!("{}: {e}", path.display()) }
        }
    })
}

/// Instance creation fails this way when no runtime is installed or active.
fn no_runtime(e: openxr::sys::Result) -> XrUnavailable {
    let hint = match std::env::var_os("XR_RUNTIME_JSON") {
        Some(p) if !Path::new(&p).is_file() => format!(" (XR_RUNTIME_JSON is {}, which is not a file)", Path::new(&p).display()),
        Some(p) => format!(" (XR_RUNTIME_JSON is {})", Path::new(&p).display()),
        None => " (XR_RUNTIME_JSON is not set, and no active runtime is registered)".into(),
    };
    match e {
        openxr::sys::Result::ERROR_RUNTIME_UNAVAILABLE
        | openxr::sys::Result::ERROR_RUNTIME_FAILURE
        | openxr::sys::Result::ERROR_INSTANCE_LOST
        | openxr::sys::Result::ERROR_INITIALIZATION_FAILED => XrUnavailable::NoRuntime { detail: e.to_string(), hint },
        other => XrUnavailable::Failed(format!("creating an OpenXR instance: {other}")),
    }
}

/// A ray from a controller, in world space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AimRay {
    pub origin: Vec3,
    pub direction: Dir3,
}

impl AimRay {
    /// The ray a pose points along: its forward (-Z) axis.
    pub fn from_transform(t: &GlobalTransform) -> Self {
        AimRay { origin: t.translation(), direction: t.forward() }
    }
}

/// The point a ray hits first: of the balls of `radius` around the points
/// that it passes through in front of its origin, the nearest along it.
/// Returns the index and the distance along the ray.
pub fn point_on_ray(ray: AimRay, positions: &[[f32; 3]], radius: f32) -> Option<(usize, f32)> {
    let d = ray.direction.as_vec3();
    let mut best: Option<(usize, f32)> = None;
    for (i, p) in positions.iter().enumerate() {
        let to = Vec3::from_array(*p) - ray.origin;
        let along = to.dot(d);
        let off2 = to.length_squared() - along * along;
        if off2 > radius * radius {
            continue;
        }
        // Where the ray enters and leaves the ball; it counts from the origin on.
        let half_chord = (radius * radius - off2).sqrt();
        if along + half_chord < 0.0 {
            continue; // the ball lies behind the origin
        }
        let t = (along - half_chord).max(0.0);
        if best.is_none_or(|(_, b)| t < b) {
            best = Some((i, t));
        }
    }
    best
}

/// Where a ray meets a flat board (a rectangle of `size` in its local XY
/// plane, centred, facing +Z, placed by `board`): the distance along the ray
/// and the point in the board's picture of `pixels` (origin top-left, y down).
pub fn point_on_board(ray: AimRay, board: &GlobalTransform, size: Vec2, pixels: Vec2) -> Option<(f32, Vec2)> {
    let to_local = board.affine().inverse();
    let (origin, direction) = (to_local.transform_point3(ray.origin), to_local.transform_vector3(ray.direction.as_vec3()));
    if direction.z.abs() < 1e-9 {
        return None; // along the board
    }
    let t = -origin.z / direction.z;
    let hit = origin + t * direction;
    if t <= 0.0 || hit.x.abs() > size.x / 2.0 || hit.y.abs() > size.y / 2.0 {
        return None;
    }
    let distance = board.transform_point(hit).distance(ray.origin);
    Some((distance, Vec2::new((hit.x / size.x + 0.5) * pixels.x, (0.5 - hit.y / size.y) * pixels.y)))
}

/// How much easier than a mouse pick a controller pick is: hands shake, so
/// the ball a ray must pass through is this much larger than the drawn dot.
pub const RAY_PICK_SLACK: f32 = 1.5;

/// Where the user stands in the world and how large they are: the transform
/// of the tracking space (world from headset metres). It only turns about the
/// vertical and scales uniformly, so the horizon stays level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rig {
    pub translation: Vec3,
    pub yaw: f32,
    /// World units per tracked metre: above 1 the world looks smaller.
    pub scale: f32,
}

/// How small and large the user may grow by grabbing (world units per metre).
pub const RIG_SCALE_RANGE: (f32, f32) = (0.05, 20.0);

impl Default for Rig {
    /// Standing 2.6 sphere radii in front of the sphere, the eyes (1.6 m up)
    /// level with its centre, 1.5 m to a world unit (the unit sphere is 3 m across).
    fn default() -> Self {
        let scale = 1.0 / 1.5;
        Rig { translation: Vec3::new(0.0, -1.6 * scale, 2.6), yaw: 0.0, scale }
    }
}

impl Rig {
    pub fn transform(&self) -> Transform {
        Transform { translation: self.translation, rotation: Quat::from_rotation_y(self.yaw), scale: Vec3::splat(self.scale) }
    }

    /// A point of the tracking space (metres) in the world.
    pub fn to_world(&self, local: Vec3) -> Vec3 {
        self.translation + Quat::from_rotation_y(self.yaw) * (self.scale * local)
    }

    /// Flies along `forward` (world direction, e.g. where the head looks) and
    /// strafes to its right by the thumbstick (x right, y forward), at `speed`
    /// tracked metres per second, so flying feels the same at any scale.
    pub fn fly(&mut self, forward: Vec3, stick: Vec2, speed: f32, dt: f32) {
        let forward = forward.normalize_or_zero();
        let right = forward.cross(Vec3::Y).normalize_or_zero();
        let step = (forward * stick.y + right * stick.x) * speed * self.scale * dt;
        self.translation += step;
    }

    /// Turns the user by `angle` (the world seems to turn the other way)
    /// about the vertical through `pivot` (a world point, e.g. the head), so
    /// the user stays where they are.
    pub fn turn_about(&mut self, pivot: Vec3, angle: f32) {
        let rotation = Quat::from_rotation_y(angle);
        self.translation = pivot + rotation * (self.translation - pivot);
        self.yaw += angle;
    }
}

/// Snap turning from a thumbstick's x: one step per push, re-armed when the
/// stick comes back towards the centre.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SnapTurn {
    armed_off: bool,
}

impl SnapTurn {
    pub const STEP: f32 = std::f32::consts::PI / 6.0;
    const PUSH: f32 = 0.7;
    const RELEASE: f32 = 0.3;

    /// The angle to turn this frame (positive: to the left, as yaw goes).
    pub fn update(&mut self, x: f32) -> f32 {
        if self.armed_off {
            if x.abs() < Self::RELEASE {
                self.armed_off = false;
            }
            return 0.0;
        }
        if x.abs() > Self::PUSH {
            self.armed_off = true;
            return -x.signum() * Self::STEP;
        }
        0.0
    }
}

/// A two-handed grab: the world points under both hands when it began.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grab {
    pub world: [Vec3; 2],
}

impl Grab {
    /// Starts a grab with the hands at these tracked positions (metres).
    pub fn start(rig: &Rig, hands: [Vec3; 2]) -> Self {
        Grab { world: [rig.to_world(hands[0]), rig.to_world(hands[1])] }
    }

    /// The rig that keeps the grabbed points under the hands now: hands
    /// apart zoom in, hands together zoom out, hands circling turn the world.
    /// Heights move the world up and down, turning stays about the vertical.
    pub fn rig(&self, hands: [Vec3; 2], current: &Rig) -> Rig {
        let local = hands[1] - hands[0];
        let world = self.world[1] - self.world[0];
        if local.length() < 1e-3 {
            return *current; // hands together: no defined scale
        }
        let scale = (world.length() / local.length()).clamp(RIG_SCALE_RANGE.0, RIG_SCALE_RANGE.1);
        // A turn by `a` about the vertical adds `a` to this heading, so the yaw
        // that turns the hands' line onto the grabbed line is the difference.
        let heading = |v: Vec3| v.x.atan2(v.z);
        // Hands held one above the other have no heading: keep the yaw.
        let flat = |v: Vec3| Vec2::new(v.x, v.z).length() > 1e-3;
        let yaw =
            if flat(local) && flat(world) { current.yaw + wrap_angle(heading(world) - heading(local) - current.yaw) } else { current.yaw };
        let rotation = Quat::from_rotation_y(yaw);
        let mid_local = (hands[0] + hands[1]) / 2.0;
        let mid_world = (self.world[0] + self.world[1]) / 2.0;
        Rig { translation: mid_world - rotation * (scale * mid_local), yaw, scale }
    }
}

fn wrap_angle(a: f32) -> f32 {
    (a + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI
}

/// The comfort vignette's opacity for how fast the view moves, as the eyes
/// see it: linear speed in tracked metres per second, turning in radians per
/// second. Slow motion and standing still show none; it caps below full
/// black so the user never loses the scene.
pub fn vignette_strength(linear: f32, angular: f32) -> f32 {
    let smooth = |x: f32, lo: f32, hi: f32| {
        let t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
        t * t * (3.0 - 2.0 * t)
    };
    0.75 * smooth(linear, 0.5, 3.0).max(smooth(angular, 0.5, 2.5))
}

/// Frame times against the headset's budget (11.1 ms at 90 Hz).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FrameBudget {
    pub budget_ms: f64,
    pub frames: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Share of frames whose work took longer than the budget.
    pub over_budget: f64,
}

impl FrameBudget {
    /// Summarises per-frame CPU times (milliseconds) against `budget_ms`.
    pub fn of(times_ms: &[f64], budget_ms: f64) -> Self {
        if times_ms.is_empty() {
            return FrameBudget { budget_ms, ..default() };
        }
        let mut sorted = times_ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        FrameBudget {
            budget_ms,
            frames: sorted.len(),
            median_ms: at(0.5),
            p95_ms: at(0.95),
            max_ms: sorted[sorted.len() - 1],
            over_budget: sorted.iter().filter(|&&t| t > budget_ms).count() as f64 / sorted.len() as f64,
        }
    }
}

/// Comma-separated finite numbers (`0.2, 1.4,0`), or `None`.
pub fn finite_list(s: &str) -> Option<Vec<f32>> {
    let v: Vec<f32> = s.split(',').map(|c| c.trim().parse::<f32>()).collect::<Result<_, _>>().ok()?;
    v.iter().all(|c| c.is_finite()).then_some(v)
}

/// A scripted controller for tests and demos: a ray in the tracking space
/// (metres), standing in for the right controller's aim.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScriptedAim {
    pub origin: Vec3,
    pub direction: Dir3,
}

impl std::str::FromStr for ScriptedAim {
    type Err = PoseError;

    /// `x,y,z:dx,dy,dz` (origin, then direction, in tracked metres).
    fn from_str(s: &str) -> Result<Self, PoseError> {
        let bad = || PoseError::Malformed(s.to_string());
        let (o, d) = s.split_once(':').ok_or_else(bad)?;
        let vec = |t: &str| match finite_list(t).as_deref() {
            Some(&[x, y, z]) => Ok(Vec3::new(x, y, z)),
            _ => Err(bad()),
        };
        let direction = Dir3::new(vec(d)?).map_err(|_| PoseError::ZeroDirection(s.to_string()))?;
        Ok(ScriptedAim { origin: vec(o)?, direction })
    }
}

/// A scripted pointer pose that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum PoseError {
    #[error("`{0}` is not a pointer pose: expected origin and direction as `x,y,z:dx,dy,dz`, e.g. `0.2,1.4,0:0,0,-1`")]
    Malformed(String),
    #[error("`{0}`: the pointer's direction must not be zero")]
    ZeroDirection(String),
}

/// What an `xr` run did, for tests and for the user's log.
#[derive(Clone, Debug, Default, Serialize)]
pub struct XrReport {
    pub runtime: Option<RuntimeInfo>,
    /// OpenXR session states in the order they were entered (READY, SYNCHRONIZED, VISIBLE, FOCUSED, ...).
    pub states: Vec<String>,
    /// Frames handed to the runtime (xrEndFrame), and those with an image in
    /// them; the budget is over the last minute of frames.
    pub frames_submitted: u64,
    pub frames_rendered: u64,
    pub frame_budget: FrameBudget,
    /// The network the controller ray hovered and the one it selected, by label.
    pub hovered: Option<String>,
    pub selected: Option<String>,
    /// Where the ray last pointed on the world-space panel (logical pixels).
    pub panel_pointer: Option<[f32; 2]>,
    /// Where egui itself last saw its pointer, and the clicks it saw there.
    pub panel_egui_pointer: Option<[f32; 2]>,
    pub panel_clicks: u32,
    /// The network whose loss landscape stands in the world, and where.
    pub landscape: Option<(String, [f32; 3])>,
    /// Where the user stood at the end, and the vignette's darkest moment.
    pub rig: RigReport,
    pub vignette_max: f32,
    /// Why the session stopped early, if it did.
    pub error: Option<String>,
    /// Whether the left eye's picture was saved (`--eye-png`).
    pub eye_saved: bool,
}

/// A [`Rig`] as the report writes it.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct RigReport {
    pub translation: [f32; 3],
    pub yaw: f32,
    pub scale: f32,
}

impl From<&Rig> for RigReport {
    fn from(rig: &Rig) -> Self {
        RigReport { translation: rig.translation.to_array(), yaw: rig.yaw, scale: rig.scale }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ray(origin: [f32; 3], direction: [f32; 3]) -> AimRay {
        AimRay { origin: Vec3::from_array(origin), direction: Dir3::new(Vec3::from_array(direction)).unwrap() }
    }

    #[test]
    fn a_ray_picks_the_first_ball_it_enters_and_nothing_behind_it() {
        let points = [[0.0, 0.0, -5.0], [0.0, 0.05, -2.0], [0.0, 0.0, 3.0], [1.0, 0.0, -1.0]];
        // Straight ahead: the nearer ball (grazed, 0.05 off the axis) wins over the centred far one.
        let (i, t) = point_on_ray(ray([0.0; 3], [0.0, 0.0, -1.0]), &points, 0.1).unwrap();
        assert_eq!(i, 1);
        assert!((t - (2.0 - (0.01f32 - 0.0025).sqrt())).abs() < 1e-5, "entry distance {t}");
        // The point behind the origin is never hit, even exactly on the line.
        assert_eq!(point_on_ray(ray([0.0; 3], [0.0, 0.0, 1.0]), &points, 0.1).map(|h| h.0), Some(2));
        assert_eq!(point_on_ray(ray([0.0, 0.0, 2.0], [0.0, 0.0, -1.0]), &points[2..3], 0.1), None);
        // A miss by more than the radius.
        assert_eq!(point_on_ray(ray([0.0, 0.5, 0.0], [0.0, 0.0, -1.0]), &points, 0.1), None);
        // Starting inside a ball hits it at distance zero.
        assert_eq!(point_on_ray(ray([1.0, 0.0, -1.05], [0.0, 1.0, 0.0]), &points, 0.1), Some((3, 0.0)));
        // A ball just behind, off the line, that the ray never enters, is not hit
        // (it leaves that ball's sphere behind the origin); the one ahead is.
        let near_behind = [[0.0, 0.09, 0.05], [0.0, 0.0, -1.0]];
        assert_eq!(point_on_ray(ray([0.0; 3], [0.0, 0.0, -1.0]), &near_behind, 0.1).map(|h| h.0), Some(1));
    }

    #[test]
    fn a_ray_on_the_board_lands_on_the_pixel_under_it() {
        // A 0.4 x 0.8 board turned a quarter to the left, 2 m right of the origin, scaled 2x by its parent.
        let board = GlobalTransform::from(Transform {
            translation: Vec3::new(2.0, 1.0, 0.0),
            rotation: Quat::from_rotation_y(-std::f32::consts::FRAC_PI_2),
            scale: Vec3::splat(2.0),
        });
        let (size, pixels) = (Vec2::new(0.4, 0.8), Vec2::new(200.0, 400.0));
        // Its face looks at -X: aim at its centre from the origin's height.
        let (d, at) = point_on_board(ray([0.0, 1.0, 0.0], [1.0, 0.0, 0.0]), &board, size, pixels).unwrap();
        assert!((d - 2.0).abs() < 1e-5 && at.distance(Vec2::new(100.0, 200.0)) < 1e-3, "{d} {at}");
        // 0.2 world units up is 0.1 board units: an eighth of its height above the centre.
        let (_, up) = point_on_board(ray([0.0, 1.2, 0.0], [1.0, 0.0, 0.0]), &board, size, pixels).unwrap();
        assert!(up.distance(Vec2::new(100.0, 150.0)) < 1e-3, "{up}");
        // Looking along +X, the viewer's right is world +Z (the board's local +X once turned).
        let (_, right) = point_on_board(ray([0.0, 1.0, 0.2], [1.0, 0.0, 0.0]), &board, size, pixels).unwrap();
        assert!(right.distance(Vec2::new(150.0, 200.0)) < 1e-3, "{right}");
        // Beside it, above it, behind the ray, or along it: nothing.
        assert_eq!(point_on_board(ray([0.0, 1.0, 0.5], [1.0, 0.0, 0.0]), &board, size, pixels), None);
        assert_eq!(point_on_board(ray([0.0, 1.85, 0.0], [1.0, 0.0, 0.0]), &board, size, pixels), None);
        assert_eq!(point_on_board(ray([0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]), &board, size, pixels), None);
        assert_eq!(point_on_board(ray([0.0, 1.0, 0.0], [0.0, 0.0, -1.0]), &board, size, pixels), None);
    }

    #[test]
    fn the_default_rig_puts_the_standing_eye_in_front_of_the_sphere() {
        let rig = Rig::default();
        let eye = rig.to_world(Vec3::new(0.0, 1.6, 0.0));
        assert!(eye.distance(Vec3::new(0.0, 0.0, 2.6)) < 1e-5, "{eye}");
        // The transform does what to_world does.
        let p = Vec3::new(0.3, 1.2, -0.4);
        assert!(rig.transform().transform_point(p).distance(rig.to_world(p)) < 1e-5);
    }

    #[test]
    fn flying_follows_the_gaze_at_tracked_speed_and_turning_keeps_the_head_in_place() {
        let mut rig = Rig { translation: Vec3::ZERO, yaw: 0.0, scale: 2.0 };
        rig.fly(Vec3::new(0.0, 0.0, -3.0), Vec2::new(0.0, 1.0), 1.5, 0.5);
        // 0.75 tracked metres ahead, at two world units per metre.
        assert!(rig.translation.distance(Vec3::new(0.0, 0.0, -1.5)) < 1e-5, "{}", rig.translation);
        rig.fly(Vec3::NEG_Z, Vec2::new(1.0, 0.0), 1.0, 1.0);
        assert!(rig.translation.distance(Vec3::new(2.0, 0.0, -1.5)) < 1e-5, "strafe goes right: {}", rig.translation);

        let head_local = Vec3::new(0.2, 1.7, 0.1);
        let head = rig.to_world(head_local);
        rig.turn_about(head, 0.8);
        assert!(rig.to_world(head_local).distance(head) < 1e-5);
        assert!((rig.yaw - 0.8).abs() < 1e-6);
    }

    #[test]
    fn snap_turns_once_per_push_and_rearms_near_the_centre() {
        let mut snap = SnapTurn::default();
        let turns: Vec<f32> = [0.0, 0.8, 0.9, 0.5, 0.8, 0.2, 0.9, -0.75].iter().map(|&x| snap.update(x)).collect();
        let step = SnapTurn::STEP;
        // Pushing right turns right (negative yaw); held or half-released, nothing more.
        assert_eq!(turns, vec![0.0, -step, 0.0, 0.0, 0.0, 0.0, -step, 0.0]);
        let mut snap = SnapTurn::default();
        assert_eq!(snap.update(-0.9), step);
    }

    #[test]
    fn a_two_handed_grab_keeps_the_grabbed_points_under_the_hands() {
        let rig = Rig { translation: Vec3::new(0.5, -1.0, 2.0), yaw: 0.3, scale: 0.8 };
        let start = [Vec3::new(-0.2, 1.2, -0.4), Vec3::new(0.25, 1.1, -0.35)];
        let grab = Grab::start(&rig, start);
        // Unmoved hands: the same rig.
        let same = grab.rig(start, &rig);
        assert!(
            same.translation.distance(rig.translation) < 1e-5 && (same.yaw - rig.yaw).abs() < 1e-5 && (same.scale - rig.scale).abs() < 1e-6
        );
        // Hands spread 1.8x, circled by 0.7 rad and raised: the grabbed points stay under them.
        let (turn, spread, lift) = (Quat::from_rotation_y(0.7), 1.8, Vec3::new(0.1, 0.2, -0.05));
        let now = start.map(|h| turn * (spread * h) + lift);
        let moved = grab.rig(now, &rig);
        for (hand, world) in now.iter().zip(grab.world) {
            assert!(moved.to_world(*hand).distance(world) < 1e-4, "{} vs {world}", moved.to_world(*hand));
        }
        assert!((moved.scale - rig.scale / spread).abs() < 1e-5 && (moved.yaw - (rig.yaw - 0.7)).abs() < 1e-4, "{moved:?}");
        // Any other motion (the hands' slope changed) keeps the midpoint and their distance.
        let tilted = [Vec3::new(-0.45, 1.4, -0.2), Vec3::new(0.35, 1.3, -0.6)];
        let r = grab.rig(tilted, &rig);
        let mid = |a: Vec3, b: Vec3| (a + b) / 2.0;
        assert!(mid(r.to_world(tilted[0]), r.to_world(tilted[1])).distance(mid(grab.world[0], grab.world[1])) < 1e-4);
        let span = r.to_world(tilted[1]).distance(r.to_world(tilted[0]));
        assert!((span - grab.world[1].distance(grab.world[0])).abs() < 1e-4);
        // Spreading the hands shrinks the user: the world looks larger.
        assert!(moved.scale < rig.scale);
        // Hands together define no scale: the rig is kept.
        assert_eq!(grab.rig([tilted[0], tilted[0]], &moved), moved);
    }

    #[test]
    fn the_vignette_shows_only_for_fast_motion_and_never_blacks_out() {
        assert_eq!(vignette_strength(0.0, 0.0), 0.0);
        assert_eq!(vignette_strength(0.4, 0.4), 0.0);
        let speeds = [0.6, 1.0, 2.0, 2.9];
        let alphas: Vec<f32> = speeds.iter().map(|&v| vignette_strength(v, 0.0)).collect();
        assert!(alphas.windows(2).all(|w| w[0] < w[1]), "{alphas:?}");
        assert_eq!(vignette_strength(100.0, 100.0), 0.75);
        assert!(vignette_strength(0.0, 2.0) > 0.5);
    }

    #[test]
    fn the_frame_budget_counts_frames_over_it() {
        let times: Vec<f64> = (1..=20).map(|i| i as f64).collect();
        let b = FrameBudget::of(&times, 11.1);
        assert_eq!(b.frames, 20);
        assert_eq!(b.max_ms, 20.0);
        assert_eq!(b.over_budget, 9.0 / 20.0);
        assert!((10.0..=11.0).contains(&b.median_ms) && (19.0..=20.0).contains(&b.p95_ms), "{b:?}");
        assert_eq!(FrameBudget::of(&[], 11.1).frames, 0);
    }

    #[test]
    fn a_scripted_pointer_parses_or_says_what_is_expected() {
        let aim: ScriptedAim = "0.1, 1.5,0:0,0,-2".parse().unwrap();
        assert_eq!(aim.origin, Vec3::new(0.1, 1.5, 0.0));
        assert_eq!(aim.direction, Dir3::NEG_Z);
        for bad in ["0,0,0", "0,0:0,0,-1", "a,b,c:0,0,-1", "0,0,0:0,0,0", "0,0,NaN:0,0,-1"] {
            let e = bad.parse::<ScriptedAim>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn a_missing_loader_is_named_with_the_fix() {
        let e = load_loader(Path::new("/nonexistent/libopenxr_loader.so")).err().unwrap().to_string();
        assert!(e.contains("no OpenXR loader found") && e.contains("/nonexistent/libopenxr_loader.so"), "{e}");
        assert!(e.contains("Monado or SteamVR"), "{e}");
    }
}
