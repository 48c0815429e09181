//! The session file (RON): what was open and how it was shown (store,
//! colour and size mappings, filters, search, selection, camera, bookmarks,
//! landscape settings), saved from the app (Ctrl+S, or the panel) and
//! restored on the next start.

use std::path::{Path, PathBuf};

use bevy::input::keyboard::KeyboardInput;
use bevy::prelude::*;
use bevy_panorbit_camera::PanOrbitCamera;
use mosaic_core::Colormap;
use serde::{Deserialize, Serialize};

use crate::CameraPose;
use crate::analysis::{Analysis, HyperChoice};
use crate::files::FileError;
use crate::landscape_view::LandscapeSettings;
use crate::scene::{ColorMapping, Filters, Notices, ShownScene, SizeMapping};
use crate::selection::Selection;
use crate::tour_editor::TourDraft;
use crate::ui::UiInput;

/// A viewpoint: orbit angles and distance around a focus point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPose {
    pub focus: [f32; 3],
    pub yaw: f32,
    pub pitch: f32,
    pub radius: f32,
}

/// A named viewpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bookmark {
    pub name: String,
    pub pose: SavedPose,
}

/// Points whose value in `column` lies outside `min..=max` fade out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeFilter {
    pub column: String,
    pub min: f64,
    pub max: f64,
}

/// How surfaces are drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SavedLandscape {
    pub log_scale: bool,
    pub colormap: Colormap,
    pub contours: u32,
}

impl Default for SavedLandscape {
    fn default() -> Self {
        SavedLandscape { log_scale: true, colormap: Colormap::Viridis, contours: 12 }
    }
}

/// The hyper-parameter surface: a target over two knobs (column names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedHyper {
    pub x: String,
    pub y: String,
    pub target: String,
    /// Whether it stands in the world beside the sphere.
    #[serde(default)]
    pub show: bool,
}

/// Everything a session file holds. Every field may be left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Session {
    /// The experiment store shown (absent: the sampled design).
    pub store: Option<String>,
    pub sweep: Option<String>,
    /// How the sphere places networks: "representation", "architecture" or "design".
    pub layout: Option<String>,
    /// Name of the column that colours the points.
    pub color_by: Option<String>,
    pub colormap: Option<Colormap>,
    /// Name of the column that sizes the points.
    pub size_by: Option<String>,
    pub filters: Vec<RangeFilter>,
    /// Networks whose name contains this text stay lit; the rest fade.
    pub search: String,
    /// The selected network, by its name on the sphere (e.g. "run 12 · …").
    pub selected: Option<String>,
    pub camera: Option<SavedPose>,
    pub bookmarks: Vec<Bookmark>,
    pub landscape: SavedLandscape,
    /// Panel sections open at start: "filters", "views", "tour", "export", "analysis".
    pub panels: Vec<String>,
    pub hyper: Option<SavedHyper>,
    /// The tour file being written (loaded into the timeline at start).
    pub tour: Option<String>,
}

impl Session {
    /// Parses a session; errors name the line, column and problem.
    /// Optional fields may be written plainly (`colormap: Plasma`) or as
    /// `Some(..)`, as saved files have them.
    pub fn from_ron(text: &str, origin: &str) -> Result<Session, FileError> {
        let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        options.from_str(text).map_err(|e| FileError::syntax("session file", origin, e))
    }

    pub fn load(path: &Path) -> Result<Session, FileError> {
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
            what: "session file",
            path: path.display().to_string(),
            source,
        })?;
        Session::from_ron(&text, &path.display().to_string())
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("a session always serialises")
    }

    /// Writes the session through a temporary file, so a crash mid-write
    /// never leaves half a session where the last good one was.
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(FileError::write(dir))?;
        }
        let tmp = path.with_extension("ron.tmp");
        std::fs::write(&tmp, self.to_ron()).and_then(|()| std::fs::rename(&tmp, path)).map_err(FileError::write(path))
    }
}

impl From<CameraPose> for SavedPose {
    fn from(p: CameraPose) -> Self {
        SavedPose { focus: p.focus.to_array(), yaw: p.yaw, pitch: p.pitch, radius: p.radius }
    }
}

impl From<SavedPose> for CameraPose {
    fn from(p: SavedPose) -> Self {
        CameraPose { focus: Vec3::from_array(p.focus), yaw: p.yaw, pitch: p.pitch, radius: p.radius }
    }
}

/// The session the app started from and where saving writes it.
#[derive(Resource, Clone, Debug)]
pub struct SessionFile {
    /// What the app was opened with; saving keeps its store, sweep and layout.
    pub base: Session,
    pub path: Option<PathBuf>,
}

impl SessionFile {
    /// Whether the session opens the panel's section `name` (`suggest`,
    /// `filters`, `views`, `tour`, `export`; `analysis` opens the window).
    pub fn panel_open(&self, name: &str) -> bool {
        self.base.panels.iter().any(|p| p == name)
    }
}

/// Saved viewpoints, in the order they were added.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Bookmarks(pub Vec<Bookmark>);

/// Asks for the session to be saved (Ctrl+S, the panel's button).
#[derive(Message, Clone, Copy, Debug)]
pub struct SaveSession;

pub struct SessionPlugin {
    pub file: SessionFile,
}

impl Plugin for SessionPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.file.clone())
            .insert_resource(Bookmarks(self.file.base.bookmarks.clone()))
            .add_message::<SaveSession>()
            // Before anything is drawn from the mappings, filters and selection.
            .add_systems(PreStartup, restore_view)
            .add_systems(Update, (save_key, save_session).chain());
    }
}

/// Applies the session's mappings, filters, selection and landscape
/// settings; names what it could not apply instead of failing.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it writes
fn restore_view(
    file: Res<SessionFile>,
    scene: Res<ShownScene>,
    mut mapping: ResMut<ColorMapping>,
    mut size: ResMut<SizeMapping>,
    mut filters: ResMut<Filters>,
    mut selection: ResMut<Selection>,
    mut settings: ResMut<LandscapeSettings>,
    mut analysis: ResMut<Analysis>,
    mut draft: ResMut<TourDraft>,
    mut notices: ResMut<Notices>,
) {
    let s = &file.base;
    if let Some(path) = &s.tour {
        draft.path = path.clone();
        if let Err(e) = draft.load() {
            notices.errors.push(e.to_string());
        }
    }
    analysis.open = s.panels.iter().any(|p| p == "analysis");
    let column = |name: &str, what: &str, notices: &mut Notices| {
        let found = scene.column_index(name);
        if found.is_none() {
            notices.errors.push(format!("the session {what} `{name}`, which this view lacks; left as it was"));
        }
        found
    };
    if let Some(name) = &s.color_by
        && let Some(c) = column(name, "colours by", &mut notices)
    {
        mapping.column = c;
    }
    if let Some(map) = s.colormap {
        mapping.colormap = map;
    }
    if let Some(h) = &s.hyper {
        for (name, what) in [(&h.x, "plots against"), (&h.y, "plots against"), (&h.target, "plots")] {
            column(name, what, &mut notices);
        }
        analysis.hyper = HyperChoice { x: Some(h.x.clone()), y: Some(h.y.clone()), target: Some(h.target.clone()), show: h.show };
    }
    if let Some(name) = &s.size_by {
        size.column = column(name, "sizes by", &mut notices);
    }
    *filters = Filters { ranges: s.filters.clone(), search: s.search.clone() };
    if let Some(label) = &s.selected {
        match scene.labels.iter().position(|l| l == label) {
            Some(i) => selection.selected = Some(i),
            None => notices.errors.push(format!("the session selects `{label}`, which this view lacks")),
        }
    }
    *settings = LandscapeSettings { log_scale: s.landscape.log_scale, colormap: s.landscape.colormap, contours: s.landscape.contours };
}

/// Ctrl+S, read from the key events in the order they came: a quick
/// press, whose Ctrl and S go down and up within one frame, counts too.
fn save_key(mut events: MessageReader<KeyboardInput>, ui: Res<UiInput>, mut ctrl_down: Local<bool>, mut save: MessageWriter<SaveSession>) {
    let mut asked = false;
    for event in events.read() {
        match event.key_code {
            KeyCode::ControlLeft | KeyCode::ControlRight => *ctrl_down = event.state.is_pressed(),
            KeyCode::KeyS if event.state.is_pressed() && !event.repeat => asked |= *ctrl_down,
            _ => {}
        }
    }
    if asked && !ui.typing {
        save.write(SaveSession);
    }
}

/// The viewpoint of the 3-D camera: the orbit camera's own numbers where
/// there is one, else read back from its transform around the old focus.
pub fn current_pose(transform: &Transform, orbit: Option<&PanOrbitCamera>, focus: Vec3) -> CameraPose {
    if let Some(o) = orbit {
        return CameraPose { focus: o.focus, yaw: o.yaw.unwrap_or(0.0), pitch: o.pitch.unwrap_or(0.0), radius: o.radius.unwrap_or(3.4) };
    }
    let (yaw, x_angle, _) = transform.rotation.to_euler(EulerRot::YXZ);
    CameraPose { focus, yaw, pitch: -x_angle, radius: transform.translation.distance(focus) }
}

#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn save_session(
    mut requests: MessageReader<SaveSession>,
    file: Res<SessionFile>,
    scene: Res<ShownScene>,
    mapping: Res<ColorMapping>,
    size: Res<SizeMapping>,
    filters: Res<Filters>,
    selection: Res<Selection>,
    settings: Res<LandscapeSettings>,
    bookmarks: Res<Bookmarks>,
    analysis: Res<Analysis>,
    draft: Res<TourDraft>,
    cameras: Query<(&Transform, Option<&PanOrbitCamera>), With<Camera3d>>,
    mut notices: ResMut<Notices>,
) {
    if requests.read().count() == 0 {
        return;
    }
    let Some(path) = &file.path else {
        notices.errors.push("no session file to save to: start with --session FILE".into());
        return;
    };
    let name = |c: Option<usize>| c.and_then(|c| scene.columns.get(c)).map(|c| c.name.clone());
    let focus = file.base.camera.map_or(Vec3::ZERO, |p| Vec3::from_array(p.focus));
    let session = Session {
        color_by: name(Some(mapping.column)),
        colormap: Some(mapping.colormap),
        size_by: name(size.column),
        filters: filters.ranges.clone(),
        search: filters.search.clone(),
        selected: selection.selected.and_then(|i| scene.labels.get(i).cloned()),
        camera: cameras.single().ok().map(|(t, o)| current_pose(t, o, focus).into()),
        bookmarks: bookmarks.0.clone(),
        landscape: SavedLandscape { log_scale: settings.log_scale, colormap: settings.colormap, contours: settings.contours },
        hyper: match &analysis.hyper {
            HyperChoice { x: Some(x), y: Some(y), target: Some(target), show } => {
                Some(SavedHyper { x: x.clone(), y: y.clone(), target: target.clone(), show: *show })
            }
            _ => None,
        },
        tour: Some(draft.path.clone()).filter(|p| std::path::Path::new(p).is_file()),
        ..file.base.clone()
    };
    match session.save(path) {
        Ok(()) => notices.info = Some(format!("session saved to {}", path.display())),
        Err(e) => notices.errors.push(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_survives_a_round_trip_and_an_empty_one_is_all_defaults() {
        let session = Session {
            store: Some("/data/store".into()),
            color_by: Some("val accuracy".into()),
            colormap: Some(Colormap::Plasma),
            filters: vec![RangeFilter { column: "depth".into(), min: 2.0, max: 4.0 }],
            search: "Gelu".into(),
            selected: Some("run 3 · Mlp".into()),
            camera: Some(SavedPose { focus: [0.1, 0.0, 0.0], yaw: 0.5, pitch: 0.3, radius: 3.0 }),
            bookmarks: vec![Bookmark { name: "top".into(), pose: SavedPose { focus: [0.0; 3], yaw: 0.0, pitch: 1.2, radius: 4.0 } }],
            ..Session::default()
        };
        assert_eq!(Session::from_ron(&session.to_ron(), "mem").unwrap(), session);
        assert_eq!(Session::from_ron("()", "mem").unwrap(), Session::default());
        let plain = Session::from_ron("(colormap: Plasma, color_by: \"depth\")", "mem").unwrap();
        assert_eq!((plain.colormap, plain.color_by.as_deref()), (Some(Colormap::Plasma), Some("depth")), "implicit Some");
    }

    #[test]
    fn malformed_sessions_name_the_line_and_the_field() {
        let err = Session::from_ron("(\n  colour_by: Some(\"depth\"),\n)", "s.ron").unwrap_err().to_string();
        assert!(err.contains("s.ron") && err.contains("line 2") && err.contains("colour_by"), "{err}");
        let err = Session::from_ron("(\n  filters: [(column: \"depth\", min: 1.0)],\n)", "s.ron").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("max"), "{err}");
        let err = Session::from_ron("(camera: Some((focus: (0, 0, 0)", "s.ron").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
