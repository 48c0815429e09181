//! Authoring tours in the app: K drops a keyframe at the current camera, the
//! panel's timeline edits, reorders and deletes keyframes, a scrubber
//! previews the camera at any time, and tours save to and load from RON.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use bevy_egui::egui::{self, Ui};
use bevy_panorbit_camera::PanOrbitCamera;

use crate::files::FileError;
use crate::scene::Notices;
use crate::session::{SessionFile, current_pose};
use crate::tour::{Ease, Keyframe, Output, Tour};
use crate::ui::{AddPanelSection, PanelSection, UiInput};

/// The tour being written.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct TourDraft {
    pub tour: Tour,
    /// Where it is saved and loaded.
    pub path: String,
    /// The scrubber's time, in seconds.
    pub scrub: f32,
}

impl Default for TourDraft {
    fn default() -> Self {
        TourDraft {
            tour: Tour {
                output: Output { width: 1920, height: 1080, fps: 30 },
                duration: 10.0,
                keyframes: Vec::new(),
                actions: Vec::new(),
            },
            path: "tour.ron".into(),
            scrub: 0.0,
        }
    }
}

/// Seconds between a new keyframe and the one before it.
const KEYFRAME_GAP: f32 = 2.0;

impl TourDraft {
    /// Adds a keyframe with this camera after the last one, stretching the tour to hold it.
    pub fn add_keyframe(&mut self, pose: crate::CameraPose, fov: f32) {
        let time = self.tour.keyframes.last().map_or(0.0, |k| k.time + KEYFRAME_GAP);
        self.tour.keyframes.push(Keyframe { time, camera: pose.into(), fov, ease: Ease::default() });
        self.tour.duration = self.tour.duration.max(time);
    }

    /// Swaps keyframe `i` with the next one, times included: the order of
    /// views changes, the rhythm stays.
    pub fn move_down(&mut self, i: usize) {
        if i + 1 < self.tour.keyframes.len() {
            let (a, b) = (self.tour.keyframes[i].time, self.tour.keyframes[i + 1].time);
            self.tour.keyframes.swap(i, i + 1);
            self.tour.keyframes[i].time = a;
            self.tour.keyframes[i + 1].time = b;
        }
    }

    pub fn save(&self) -> Result<String, FileError> {
        let text = ron::ser::to_string_pretty(&self.tour, ron::ser::PrettyConfig::default())
            .map_err(|e| FileError::Encode { path: self.path.clone(), message: e.to_string() })?;
        // Checked as `mosaic record` will check it, so a saved tour always renders.
        Tour::from_ron(&text, &self.path)?;
        std::fs::write(&self.path, text).map_err(FileError::write(Path::new(&self.path)))?;
        Ok(format!("tour saved to {} ({} keyframes): render it with `mosaic record {}`", self.path, self.tour.keyframes.len(), self.path))
    }

    pub fn load(&mut self) -> Result<String, FileError> {
        self.tour = Tour::load(&PathBuf::from(&self.path))?;
        Ok(format!("tour loaded from {}", self.path))
    }
}

/// Asks the camera to show the tour at the scrubber's time.
#[derive(Message, Clone, Copy, Debug)]
pub struct Preview;

pub struct TourEditorPlugin;

impl Plugin for TourEditorPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<TourDraft>()
            .add_message::<Preview>()
            .add_systems(Update, (keyframe_key, preview).chain())
            .add_panel_section(PanelSection::Tour, tour_section);
    }
}

/// The panel's tour section: the timeline, its scrubber and the tour file.
fn tour_section(
    InMut(ui): InMut<Ui>,
    session: Res<SessionFile>,
    mut draft: ResMut<TourDraft>,
    mut notices: ResMut<Notices>,
    mut preview: MessageWriter<Preview>,
) {
    // Edit copies so resources are only marked changed on a real change.
    let (mut edited_draft, mut edited_notices) = (draft.clone(), notices.clone());
    let mut show = false;
    egui::CollapsingHeader::new("Tour (video)").id_salt("tour").default_open(session.panel_open("tour")).show(ui, |ui| {
        show = timeline(ui, &mut edited_draft, &mut edited_notices);
    });
    draft.set_if_neq(edited_draft);
    notices.set_if_neq(edited_notices);
    if show {
        preview.write(Preview);
    }
}

fn keyframe_key(
    keys: Res<ButtonInput<KeyCode>>,
    ui: Res<UiInput>,
    cameras: Query<(&Transform, Option<&PanOrbitCamera>, &Projection), With<Camera3d>>,
    mut draft: ResMut<TourDraft>,
) {
    let typing = ui.typing;
    if typing || !keys.just_pressed(KeyCode::KeyK) {
        return;
    }
    let Ok((transform, orbit, projection)) = cameras.single() else { return };
    let fov = match projection {
        Projection::Perspective(p) => p.fov.to_degrees(),
        _ => 40.0,
    };
    draft.add_keyframe(current_pose(transform, orbit, Vec3::ZERO), fov);
}

/// Moves the camera to the tour's view at the scrubber's time, at once.
fn preview(
    mut requests: MessageReader<Preview>,
    draft: Res<TourDraft>,
    mut cameras: Query<(&mut Transform, Option<&mut PanOrbitCamera>), With<Camera3d>>,
) {
    if requests.read().count() == 0 || draft.tour.keyframes.is_empty() {
        return;
    }
    let (pose, _) = draft.tour.camera_at(draft.scrub);
    for (mut transform, orbit) in &mut cameras {
        match orbit {
            Some(mut orbit) => {
                orbit.focus = pose.focus;
                orbit.target_focus = pose.focus;
                (orbit.yaw, orbit.pitch, orbit.radius) = (Some(pose.yaw), Some(pose.pitch), Some(pose.radius));
                (orbit.target_yaw, orbit.target_pitch, orbit.target_radius) = (pose.yaw, pose.pitch, pose.radius);
                orbit.force_update = true;
            }
            None => *transform = pose.transform(),
        }
    }
}

/// The timeline: keyframes with their times (editable), order and removal;
/// the scrubber; save and load. Returns whether to preview the scrubber's time.
pub fn timeline(ui: &mut Ui, draft: &mut TourDraft, notices: &mut Notices) -> bool {
    let mut preview = false;
    ui.weak("K: a keyframe at the current view");
    let mut remove = None;
    let mut down = None;
    let count = draft.tour.keyframes.len();
    for (i, k) in draft.tour.keyframes.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.label(format!("{}.", i + 1));
            ui.add(egui::DragValue::new(&mut k.time).speed(0.05).range(0.0..=3600.0).suffix(" s"));
            egui::ComboBox::from_id_salt(("ease", i)).selected_text(format!("{:?}", k.ease)).width(64.0).show_ui(ui, |ui| {
                for e in [Ease::Linear, Ease::In, Ease::Out, Ease::InOut] {
                    ui.selectable_value(&mut k.ease, e, format!("{e:?}"));
                }
            });
            if i + 1 < count && ui.small_button("⏷").on_hover_text("swap with the next").clicked() {
                down = Some(i);
            }
            if ui.small_button("🗙").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = down {
        draft.move_down(i);
    }
    if let Some(i) = remove {
        draft.tour.keyframes.remove(i);
    }
    ui.horizontal(|ui| {
        ui.label("length");
        ui.add(egui::DragValue::new(&mut draft.tour.duration).speed(0.1).range(0.1..=3600.0).suffix(" s"));
    });
    if count > 0 {
        let duration = draft.tour.duration;
        preview |= ui.add(egui::Slider::new(&mut draft.scrub, 0.0..=duration).text("preview").suffix(" s")).changed();
    }
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut draft.path).desired_width(130.0));
        if ui.button("Save").clicked() {
            match draft.save() {
                Ok(done) => notices.info = Some(done),
                Err(e) => notices.errors.push(e.to_string()),
            }
        }
        if ui.button("Load").clicked() {
            match draft.load() {
                Ok(done) => notices.info = Some(done),
                Err(e) => notices.errors.push(e.to_string()),
            }
        }
    });
    preview
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CameraPose;

    #[test]
    fn keyframes_are_added_in_time_reordered_and_saved_as_a_renderable_tour() {
        let mut draft = TourDraft {
            path: std::env::temp_dir().join(format!("tour-{}.ron", std::process::id())).display().to_string(),
            ..TourDraft::default()
        };
        let pose = |yaw: f32| CameraPose { yaw, ..CameraPose::default() };
        for yaw in [0.0, 1.0, 2.0] {
            draft.add_keyframe(pose(yaw), 40.0);
        }
        assert_eq!(draft.tour.keyframes.iter().map(|k| k.time).collect::<Vec<_>>(), [0.0, 2.0, 4.0]);
        draft.move_down(0);
        let yaws: Vec<f32> = draft.tour.keyframes.iter().map(|k| k.camera.yaw).collect();
        assert_eq!((yaws, draft.tour.keyframes[0].time), (vec![1.0, 0.0, 2.0], 0.0), "views swap, times stay");
        draft.save().unwrap();
        let saved = Tour::load(&PathBuf::from(&draft.path)).unwrap();
        assert_eq!(saved, draft.tour);
        // A draft that would not render is not saved.
        draft.tour.keyframes[1].time = 0.0;
        assert!(draft.save().unwrap_err().to_string().contains("field `time`"));
        std::fs::remove_file(&draft.path).unwrap();
    }
}
