//! The inspector: the selected network's facts, training curves, nearest
//! neighbours and landscape controls, drawn in the side panel; its plugin
//! keeps [`Inspection`] up to date with the compute side's answers.

use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};
use mosaic_core::Colormap;
use mosaic_core::run::EpochMetrics;
use mosaic_core::theme::{TRAIN_CURVE, VALIDATION_CURVE};

use crate::bridge::{BridgeSystems, Computed};
use crate::camera::FlyToSelection;
use crate::inspect::{Inspection, LandscapeData, LandscapeState};
use crate::landscape_view::{LandscapeSettings, PATH, Playback};
use crate::panels::rgb;
use crate::scene::{ShownScene, SphereScene};
use crate::selection::{Neighbours, Selection};
use crate::ui::{AddPanelSection, PanelSection};

pub struct InspectorPlugin;

impl Plugin for InspectorPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Inspection>()
            .add_systems(PreUpdate, apply_inspection_answers.in_set(BridgeSystems::Apply))
            .add_panel_section(PanelSection::Inspector, inspector_section);
    }
}

/// Keeps the selected network's details and landscape as they arrive,
/// touching [`Inspection`] only for answers about it.
fn apply_inspection_answers(mut computed: MessageReader<Computed>, mut inspection: ResMut<Inspection>) {
    for Computed(update) in computed.read() {
        if inspection.is_answered_by(update) {
            inspection.apply(update);
        }
    }
}

/// The panel's inspector, while a network is selected.
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it shows or edits
fn inspector_section(
    InMut(ui): InMut<Ui>,
    scene: Res<ShownScene>,
    mut selection: ResMut<Selection>,
    inspection: Res<Inspection>,
    neighbours: Res<Neighbours>,
    mut settings: ResMut<LandscapeSettings>,
    mut playback: ResMut<Playback>,
    mut fly: MessageWriter<FlyToSelection>,
) {
    if selection.selected.is_none() {
        return;
    }
    ui.separator();
    // Edit copies so the landscape is only restyled on a real change.
    let (mut edited_settings, mut edited_playback) = (settings.clone(), playback.clone());
    let action = inspector(ui, &scene, &selection, &inspection, &neighbours, &mut edited_settings, &mut edited_playback);
    settings.set_if_neq(edited_settings);
    playback.set_if_neq(edited_playback);
    match action {
        Some(InspectorAction::Select(i)) => *selection = Selection { selected: Some(i), path_to: None },
        Some(InspectorAction::Clear) => *selection = Selection::default(),
        Some(InspectorAction::FlyTo) => {
            fly.write(FlyToSelection);
        }
        None => {}
    }
}

/// What the inspector asks of the app after the user clicked something.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InspectorAction {
    Select(usize),
    Clear,
    FlyTo,
}

/// Draws the inspector for the selection; returns what the user asked for.
pub fn inspector(
    ui: &mut Ui,
    scene: &SphereScene,
    selection: &Selection,
    inspection: &Inspection,
    neighbours: &Neighbours,
    settings: &mut LandscapeSettings,
    playback: &mut Playback,
) -> Option<InspectorAction> {
    let index = selection.selected?;
    let mut action = None;
    let title = inspection.details.as_ref().map_or_else(|| scene.labels.get(index).cloned().unwrap_or_default(), |d| d.title.clone());
    ui.label(RichText::new(title).strong());
    ui.horizontal(|ui| {
        if ui.button("Fly to").on_hover_text("F").clicked() {
            action = Some(InspectorAction::FlyTo);
        }
        if ui.button("Clear").on_hover_text("Esc").clicked() {
            action = Some(InspectorAction::Clear);
        }
    });
    // The curves first: how training went is the first question, and they
    // stay in view of a 720-pixel window.
    if let Some(details) = inspection.details.as_ref().filter(|d| !d.epochs.is_empty()) {
        curves(ui, &details.epochs);
    }
    egui::Grid::new("facts").num_columns(2).spacing([8.0, 2.0]).show(ui, |ui| {
        let facts: Vec<(String, String)> = match &inspection.details {
            Some(d) => d.facts.clone(),
            // Until (or unless) compute answers, the scene's own columns.
            None => {
                scene.columns.iter().map(|c| (c.name.clone(), format_value(c.values.get(index).copied().unwrap_or(f64::NAN)))).collect()
            }
        };
        for (name, value) in facts {
            ui.weak(name);
            ui.label(value);
            ui.end_row();
        }
    });

    ui.add_space(4.0);
    ui.label(RichText::new(format!("{} nearest on the sphere", neighbours.list.len())).strong());
    for &j in &neighbours.list {
        let label = scene.labels.get(j).map_or("?", String::as_str);
        if ui.link(label).clicked() {
            action = Some(InspectorAction::Select(j));
        }
    }

    ui.add_space(4.0);
    ui.label(RichText::new("Loss landscape").strong());
    match &inspection.landscape {
        LandscapeState::None => {
            ui.weak("none: only trained networks in a store have one");
        }
        LandscapeState::Loading(text) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(text);
            });
        }
        LandscapeState::Failed(e) => {
            ui.colored_label(rgb(mosaic_core::theme::WARNING_TEXT), e);
        }
        LandscapeState::Ready(data) => {
            ui.label(&data.caption);
            if let Some((_, _, loss)) = data.minimum() {
                ui.label(format!("lowest loss {loss:.4} (cyan marker)"));
            }
            surface_legend(ui, data, settings);
            if !data.path.is_empty() {
                let [r, g, b] = PATH;
                ui.colored_label(Color32::from_rgb(r, g, b), format!("training path: {} checkpoints", data.path.len()));
                ui.horizontal(|ui| {
                    if ui.button(if playback.playing { "Pause" } else { "Play path" }).clicked() {
                        if !playback.playing && playback.at >= (data.path.len() - 1) as f32 {
                            playback.at = 0.0;
                        }
                        playback.playing = !playback.playing;
                    }
                    let epoch = data.path.get(playback.at.round() as usize).map_or(0, |p| p.epoch);
                    ui.label(format!("epoch {epoch}"));
                });
                ui.add(egui::Slider::new(&mut playback.at, 0.0..=(data.path.len() - 1) as f32).show_value(false));
            }
            ui.horizontal(|ui| {
                ui.checkbox(&mut settings.log_scale, "log loss");
                egui::ComboBox::from_id_salt("surface_map").selected_text(settings.colormap.name()).width(80.0).show_ui(ui, |ui| {
                    for map in Colormap::ALL {
                        ui.selectable_value(&mut settings.colormap, map, map.name());
                    }
                });
            });
            ui.add(egui::Slider::new(&mut settings.contours, 0..=30).text("contours"));
        }
    }
    action
}

/// The surface's colours: its colour map from the lowest to the highest
/// finite loss (on the log scale when it is shown so).
fn surface_legend(ui: &mut Ui, data: &LandscapeData, settings: &LandscapeSettings) {
    let (low, high) =
        data.loss.iter().filter(|l| l.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| (a.min(l), b.max(l)));
    if low > high {
        return;
    }
    let (rect, _) = ui.allocate_exact_size(egui::vec2(ui.available_width() - 8.0, 10.0), egui::Sense::hover());
    crate::panels::colour_bar(ui.painter(), rect, |t| rgb(settings.colormap.srgb(t as f64)));
    ui.horizontal(|ui| {
        ui.weak(format!("{low:.3}"));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.add_space(8.0);
            ui.weak(format!("{high:.3}"));
            ui.weak(if settings.log_scale { "loss, log scale" } else { "loss" });
        });
    });
}

/// Loss and accuracy by epoch, train and validation, side by side so the
/// inspector fits a 720-pixel window.
fn curves(ui: &mut Ui, epochs: &[EpochMetrics]) {
    let series = |f: fn(&EpochMetrics) -> f64| -> Vec<[f64; 2]> {
        epochs.iter().filter(|e| f(e).is_finite()).map(|e| [e.epoch as f64, f(e)]).collect()
    };
    let (train, val) = (rgb(TRAIN_CURVE), rgb(VALIDATION_CURVE));
    ui.horizontal(|ui| {
        ui.colored_label(train, "train");
        ui.colored_label(val, "validation");
    });
    type Metric = fn(&EpochMetrics) -> f64;
    let charts: [(&str, &str, Metric, Metric); 2] = [
        ("loss_curve", "loss", |e| e.train_loss, |e| e.val_loss),
        ("accuracy_curve", "accuracy", |e| e.train_accuracy, |e| e.val_accuracy),
    ];
    ui.columns(2, |columns| {
        for (ui, (id, title, train_of, val_of)) in columns.iter_mut().zip(charts) {
            ui.weak(title);
            let width = ui.available_width() - 4.0;
            Plot::new(id).width(width).height(80.0).allow_drag(false).allow_zoom(false).allow_scroll(false).show(ui, |plot| {
                plot.line(Line::new("train", PlotPoints::from(series(train_of))).color(train));
                plot.line(Line::new("validation", PlotPoints::from(series(val_of))).color(val));
            });
        }
    });
}

pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "—".into()
    } else if v.fract() == 0.0 && v.abs() < 1e6 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}
