//! Widgets of the side panel: notices (the panel's frame), size mapping,
//! filters and search (`sphere_view`'s section), saved views (`camera`'s),
//! export and the session (`export`'s).

use bevy_egui::egui::{self, Color32, RichText, Ui};

use mosaic_core::theme::ERROR_TEXT;

use crate::scene::{Filters, Notices, RangeFilter, SizeMapping, SphereScene};
use crate::session::Bookmarks;

/// An egui colour from one of the theme's sRGB triples.
pub fn rgb([r, g, b]: [u8; 3]) -> Color32 {
    Color32::from_rgb(r, g, b)
}

/// A horizontal colour bar filling `rect`: `colour_at(t)` for t from 0 at
/// its left to 1 at its right, sampled at the middle of each slice.
pub fn colour_bar(painter: &egui::Painter, rect: egui::Rect, colour_at: impl Fn(f32) -> Color32) {
    const SLICES: usize = 96;
    for i in 0..SLICES {
        let (t0, t1) = (i as f32 / SLICES as f32, (i + 1) as f32 / SLICES as f32);
        let slice = egui::Rect::from_min_max(
            egui::pos2(egui::lerp(rect.left()..=rect.right(), t0), rect.top()),
            egui::pos2(egui::lerp(rect.left()..=rect.right(), t1), rect.bottom()),
        );
        painter.rect_filled(slice, 0.0, colour_at((t0 + t1) / 2.0));
    }
}

/// What a panel section asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum PanelAction {
    AddBookmark,
    GoToBookmark(usize),
    SaveSession,
    ExportPng,
    ExportEmbedding,
}

/// Problems worked around, and the last thing done; each can be dismissed.
pub fn notices(ui: &mut Ui, notices: &mut Notices) {
    let mut dismissed = None;
    for (i, e) in notices.errors.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(rgb(ERROR_TEXT), RichText::new(format!("⚠ {e}")));
            if ui.small_button("dismiss").clicked() {
                dismissed = Some(i);
            }
        });
    }
    if let Some(i) = dismissed {
        notices.errors.remove(i);
    }
    if let Some(info) = &notices.info {
        ui.colored_label(rgb(mosaic_core::theme::INFO_TEXT), info);
    }
}

/// Size by a column; range filters; text search.
pub fn filters(ui: &mut Ui, scene: &SphereScene, size: &mut SizeMapping, filters: &mut Filters) {
    egui::Grid::new("size_and_search").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        ui.label("Size by");
        let current = size.column.and_then(|c| scene.columns.get(c)).map_or("—", |c| c.name.as_str());
        egui::ComboBox::from_id_salt("size_by").selected_text(current).width(150.0).show_ui(ui, |ui| {
            ui.selectable_value(&mut size.column, None, "—");
            for (i, column) in scene.columns.iter().enumerate() {
                ui.selectable_value(&mut size.column, Some(i), &column.name);
            }
        });
        ui.end_row();
        ui.label("Search");
        ui.add(egui::TextEdit::singleline(&mut filters.search).hint_text("name contains…").desired_width(150.0));
        ui.end_row();
    });
    let mut removed = None;
    for (k, f) in filters.ranges.iter_mut().enumerate() {
        let Some(values) = scene.column_index(&f.column).map(|c| &scene.columns[c].values) else { continue };
        let Some(range) = mosaic_core::ValueRange::of(values.iter().copied()) else { continue };
        ui.horizontal(|ui| {
            ui.label(&f.column);
            if ui.small_button("🗙").on_hover_text("remove this filter").clicked() {
                removed = Some(k);
            }
        });
        let span = range.min..=range.max;
        ui.add(egui::Slider::new(&mut f.min, span.clone()).text("min"));
        ui.add(egui::Slider::new(&mut f.max, span).text("max"));
        if f.min > f.max {
            f.max = f.min;
        }
    }
    if let Some(k) = removed {
        filters.ranges.remove(k);
    }
    egui::ComboBox::from_id_salt("add_filter").selected_text("+ filter by…").width(150.0).show_ui(ui, |ui| {
        for column in &scene.columns {
            let Some(range) = mosaic_core::ValueRange::of(column.values.iter().copied()) else { continue };
            if ui.selectable_label(false, &column.name).clicked() {
                filters.ranges.push(RangeFilter { column: column.name.clone(), min: range.min, max: range.max });
            }
        }
    });
    if filters.is_active() {
        ui.label(format!("{} of {} points pass", filters.count(scene), scene.len()));
    }
}

/// Saved viewpoints: go to one, add the current one, remove one.
pub fn views(ui: &mut Ui, bookmarks: &mut Bookmarks) -> Option<PanelAction> {
    let mut action = None;
    let mut removed = None;
    for (i, b) in bookmarks.0.iter().enumerate() {
        ui.horizontal(|ui| {
            if ui.link(&b.name).on_hover_text("fly there").clicked() {
                action = Some(PanelAction::GoToBookmark(i));
            }
            if ui.small_button("🗙").clicked() {
                removed = Some(i);
            }
        });
    }
    if let Some(i) = removed {
        bookmarks.0.remove(i);
    }
    if ui.button("Save this view").on_hover_text("B").clicked() {
        action = Some(PanelAction::AddBookmark);
    }
    action
}

/// Exports and the session.
pub fn export(ui: &mut Ui) -> Option<PanelAction> {
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        if ui.button("View as PNG").on_hover_text("P · any size: `mosaic snapshot --session FILE --width W --height H`").clicked() {
            action = Some(PanelAction::ExportPng);
        }
        if ui.button("Embedding as CSV + .npy").clicked() {
            action = Some(PanelAction::ExportEmbedding);
        }
        if ui.button("Save session").on_hover_text("Ctrl+S").clicked() {
            action = Some(PanelAction::SaveSession);
        }
    });
    action
}
