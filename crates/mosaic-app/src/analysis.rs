//! The analysis window: correlations between every column across the
//! population (heatmap), parallel coordinates, the selected network's
//! training dynamics and its complexity radar. Correlations and dynamics are
//! computed by the compute side on request; the window only draws.

use bevy::prelude::*;
use bevy_egui::EguiContexts;
use bevy_egui::egui::{self, Color32, Pos2, Rect, Sense, Stroke, Ui, pos2, vec2};
use egui_plot::{Line, Plot, PlotPoints};
use mosaic_core::theme::{TRAIN_CURVE, VALIDATION_CURVE};

use crate::bridge::{Answer, BridgeSystems, ComputeRequests, Computed, Pending, SceneUpdate, ViewRequest};
use crate::export::Export;
use crate::inspect::Inspection;
use crate::panels::rgb;
use crate::scene::{ColorMapping, Filters, ShownScene, SphereScene};
use crate::selection::Selection;
use crate::ui::{AddPanelSection, PanelSection};

pub use mosaic_protocol::{CorrelationMethod, CorrelationTable, DynamicsSeries, HyperView};

/// Which hyper-parameter surface to compute and whether to show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HyperChoice {
    pub x: Option<String>,
    pub y: Option<String>,
    pub target: Option<String>,
    /// Draw it in the world, beside the sphere.
    pub show: bool,
}

/// What the analysis window shows and has been told.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Analysis {
    pub open: bool,
    pub method: CorrelationMethod,
    /// Momentum window, in epochs.
    pub window: usize,
    pub correlations: Option<CorrelationTable>,
    /// The dynamics of network `.0`.
    pub dynamics: Option<(usize, Vec<DynamicsSeries>)>,
    pub hyper: HyperChoice,
    /// The last surface computed for `hyper`, or why there is none.
    pub hyper_view: Option<Result<HyperView, String>>,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis {
            open: false,
            method: CorrelationMethod::default(),
            window: 3,
            correlations: None,
            dynamics: None,
            hyper: HyperChoice::default(),
            hyper_view: None,
        }
    }
}

/// Seconds between two correlation requests while the population changes
/// (a sweep finishing runs): fresh enough, without flooding compute.
const CORRELATE_EVERY: f32 = 1.0;

pub struct AnalysisPlugin;

impl Plugin for AnalysisPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Analysis>()
            .add_systems(PreUpdate, apply_analysis_answers.in_set(BridgeSystems::Apply))
            .add_systems(Update, (ask_correlations, ask_dynamics, ask_hyper_surface))
            .add_panel_section(PanelSection::Analysis, analysis_section);
    }
}

/// Keeps the correlations, dynamics and hyper-parameter surface the compute
/// side sent; an empty table or series leaves the last one shown.
fn apply_analysis_answers(mut computed: MessageReader<Computed>, mut analysis: ResMut<Analysis>) {
    for Computed(update) in computed.read() {
        match update {
            SceneUpdate::Correlations(Answer::Ready(table)) if !table.names.is_empty() => analysis.correlations = Some(table.clone()),
            SceneUpdate::Dynamics { index, answer: Answer::Ready(series) } if !series.is_empty() => {
                analysis.dynamics = Some((*index, series.clone()))
            }
            SceneUpdate::HyperSurface(answer) => {
                if let Some(result) = answer.clone().into_result() {
                    analysis.hyper_view = Some(result);
                }
            }
            _ => {}
        }
    }
}

/// The panel's switch for the analysis window.
fn analysis_section(InMut(ui): InMut<Ui>, mut analysis: ResMut<Analysis>) {
    let mut open = analysis.open;
    if ui.selectable_label(open, "Analysis: correlations, dynamics, complexity").clicked() {
        open = !open;
    }
    if open != analysis.open {
        analysis.open = open;
    }
}

/// The floating analysis window, at the top right of the 3-D view (drawn
/// with the panel, after it).
pub(crate) fn analysis_window(
    mut contexts: EguiContexts,
    mut analysis: ResMut<Analysis>,
    scene: Res<ShownScene>,
    mapping: Res<ColorMapping>,
    filters: Res<Filters>,
    selection: Res<Selection>,
    mut export: MessageWriter<Export>,
) -> Result {
    if !analysis.open {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let mut edited = analysis.clone();
    let mut open = true;
    let height = ctx.viewport_rect().height() - 24.0;
    egui::Window::new("Analysis")
        .open(&mut open)
        .anchor(egui::Align2::RIGHT_TOP, [-8.0, 8.0])
        .default_width(520.0)
        .default_height(height)
        .max_height(height)
        .vscroll(true)
        .show(ctx, |ui| {
            if window_body(ui, &mut edited, &scene, &mapping, &filters, &selection) {
                export.write(Export::Charts);
            }
        });
    edited.open &= open;
    if edited != *analysis {
        *analysis = edited;
    }
    Ok(())
}

/// What was last asked, to ask again only when something changed.
#[derive(Default)]
struct Asked {
    method: Option<CorrelationMethod>,
    stale: bool,
    since: f32,
}

fn ask_correlations(
    time: Res<Time>,
    scene: Res<ShownScene>,
    analysis: Res<Analysis>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut asked: Local<Asked>,
) {
    let Some(requests) = requests.filter(|_| analysis.open) else { return };
    asked.since += time.delta_secs();
    asked.stale |= scene.is_changed();
    let due = asked.method != Some(analysis.method) || (asked.stale && asked.since >= CORRELATE_EVERY);
    if !due {
        return;
    }
    let names = scene.columns.iter().map(|c| c.name.clone()).collect();
    let columns = scene.columns.iter().map(|c| c.values.clone()).collect();
    if requests.send(ViewRequest::Correlate { method: analysis.method, names, columns }, &mut pending) {
        *asked = Asked { method: Some(analysis.method), stale: false, since: 0.0 };
    }
}

/// Asks for the hyper-parameter surface when the choice or the population
/// changes (at most once a second while a sweep trains).
fn ask_hyper_surface(
    time: Res<Time>,
    scene: Res<ShownScene>,
    analysis: Res<Analysis>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut asked: Local<(Option<HyperChoice>, bool, f32)>,
) {
    let Some(requests) = requests.filter(|_| analysis.open || analysis.hyper.show) else { return };
    let choice = &analysis.hyper;
    let (Some(x), Some(y), Some(target)) = (&choice.x, &choice.y, &choice.target) else { return };
    asked.2 += time.delta_secs();
    asked.1 |= scene.is_changed();
    let changed = asked.0.as_ref().is_none_or(|c| (&c.x, &c.y, &c.target) != (&choice.x, &choice.y, &choice.target));
    let due = changed || (asked.1 && asked.2 >= CORRELATE_EVERY);
    if !due {
        return;
    }
    let columns = scene.columns.iter().map(|c| (c.name.clone(), c.values.clone())).collect();
    let request = ViewRequest::HyperSurface { x: x.clone(), y: y.clone(), target: target.clone(), columns };
    if requests.send(request, &mut pending) {
        *asked = (Some(choice.clone()), false, 0.0);
    }
}

fn ask_dynamics(
    inspection: Res<Inspection>,
    analysis: Res<Analysis>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut asked: Local<Option<(usize, usize)>>,
) {
    let Some(requests) = requests.filter(|_| analysis.open) else { return };
    let (Some(index), Some(details)) = (inspection.index, &inspection.details) else { return };
    if details.epochs.is_empty() || *asked == Some((index, analysis.window)) {
        return;
    }
    let request = ViewRequest::Dynamics { index, epochs: details.epochs.clone(), window: analysis.window };
    if requests.send(request, &mut pending) {
        *asked = Some((index, analysis.window));
    }
}

/// Diverging colour for a correlation in [-1, 1]: blue, grey, red.
pub fn diverging(r: f64) -> Color32 {
    use mosaic_core::theme::{CORRELATION_NEGATIVE, CORRELATION_POSITIVE, CORRELATION_ZERO};
    let [neg, mid, pos] = [CORRELATION_NEGATIVE, CORRELATION_ZERO, CORRELATION_POSITIVE].map(|c| c.map(f32::from));
    if !r.is_finite() {
        return rgb(mosaic_core::theme::CORRELATION_UNDEFINED);
    }
    let t = r.clamp(-1.0, 1.0) as f32;
    let (end, t) = if t < 0.0 { (neg, -t) } else { (pos, t) };
    let c: [u8; 3] = std::array::from_fn(|k| (mid[k] + (end[k] - mid[k]) * t).round() as u8);
    Color32::from_rgb(c[0], c[1], c[2])
}

/// The correlation heatmap: rows named and numbered, columns numbered
/// alike, a colour scale from −1 to +1 beneath; hovering a cell names the
/// pair, r and p.
pub fn heatmap(ui: &mut Ui, table: &CorrelationTable) {
    let k = table.names.len();
    if k == 0 {
        ui.weak("no columns");
        return;
    }
    let font = egui::FontId::proportional(11.0);
    let text = ui.visuals().text_color();
    let rows: Vec<String> = table.names.iter().enumerate().map(|(i, name)| format!("{} {name}", i + 1)).collect();
    // Row labels as wide as the longest needs, up to half the width (longer ones end in "…").
    let widest = rows.iter().map(|r| ui.fonts_mut(|f| f.layout_no_wrap(r.clone(), font.clone(), text).size().x)).fold(0.0, f32::max);
    let label_width = (widest + 8.0).min(ui.available_width() * 0.5);
    let cell = ((ui.available_width() - label_width) / k as f32).clamp(6.0, 22.0);
    let header = 14.0;
    let (rect, response) = ui.allocate_exact_size(vec2(label_width + cell * k as f32, header + cell * k as f32), Sense::hover());
    let painter = ui.painter_at(rect);
    let origin = rect.min + vec2(label_width, header);
    for (i, row) in rows.iter().enumerate() {
        let mut job = egui::text::LayoutJob::simple_singleline(row.clone(), font.clone(), text);
        job.wrap = egui::text::TextWrapping::truncate_at_width(label_width - 6.0);
        let galley = ui.fonts_mut(|f| f.layout_job(job));
        painter.galley(pos2(rect.min.x, origin.y + (i as f32 + 0.5) * cell - galley.size().y / 2.0), galley, text);
        if cell >= 12.0 || i % 5 == 4 {
            painter.text(
                pos2(origin.x + (i as f32 + 0.5) * cell, rect.min.y + header / 2.0),
                egui::Align2::CENTER_CENTER,
                (i + 1).to_string(),
                egui::FontId::proportional(9.0),
                text,
            );
        }
        for j in 0..k {
            let cell_rect = Rect::from_min_size(origin + vec2(j as f32 * cell, i as f32 * cell), vec2(cell - 1.0, cell - 1.0));
            painter.rect_filled(cell_rect, 0.0, diverging(table.r[i][j]));
        }
    }
    if let Some(at) = response.hover_pos() {
        let (j, i) = (((at.x - origin.x) / cell).floor(), ((at.y - origin.y) / cell).floor());
        if (0.0..k as f32).contains(&i) && (0.0..k as f32).contains(&j) {
            let (i, j) = (i as usize, j as usize);
            response.on_hover_text(format!(
                "{} × {}\n{} r = {:.3}, p = {:.2e}",
                table.names[i],
                table.names[j],
                table.method.name(),
                table.r[i][j],
                table.p[i][j]
            ));
        }
    }
    correlation_scale(ui, label_width, cell * k as f32);
}

/// The heatmap's colour scale: −1 (blue) through 0 (grey) to +1 (red).
fn correlation_scale(ui: &mut Ui, indent: f32, width: f32) {
    let (rect, _) = ui.allocate_exact_size(vec2(indent + width, 24.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let bar = Rect::from_min_size(rect.min + vec2(indent, 2.0), vec2(width, 8.0));
    crate::panels::colour_bar(&painter, bar, |t| diverging((2.0 * t - 1.0) as f64));
    let text = ui.visuals().text_color();
    for (t, label, align) in
        [(0.0, "−1", egui::Align2::LEFT_TOP), (0.5, "0", egui::Align2::CENTER_TOP), (1.0, "+1", egui::Align2::RIGHT_TOP)]
    {
        painter.text(pos2(bar.left() + t * bar.width(), bar.bottom() + 1.0), align, label, egui::FontId::proportional(10.0), text);
    }
    painter.text(pos2(rect.left(), bar.center().y), egui::Align2::LEFT_CENTER, "r", egui::FontId::proportional(10.0), text);
}

/// Parallel coordinates: one vertical axis per column (scaled to its range),
/// one line per network in its mapped colour; filtered-out networks faint,
/// the selection white. Large populations are drawn from an even sample.
pub fn parallel_coordinates(ui: &mut Ui, scene: &SphereScene, mapping: &ColorMapping, filters: &Filters, selected: Option<usize>) {
    let k = scene.columns.len();
    let size = vec2(ui.available_width(), 200.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    if k < 2 || scene.is_empty() {
        return;
    }
    let painter = ui.painter_at(rect);
    let inner = rect.shrink2(vec2(8.0, 12.0));
    let x_of = |c: usize| inner.left() + inner.width() * c as f32 / (k - 1) as f32;
    let ranges: Vec<Option<mosaic_core::ValueRange>> =
        scene.columns.iter().map(|c| mosaic_core::ValueRange::of(c.values.iter().copied())).collect();
    let line = |i: usize| -> Vec<Pos2> {
        (0..k)
            .filter_map(|c| {
                let v = scene.columns[c].values.get(i).copied().filter(|v| v.is_finite())?;
                let t = ranges[c]?.normalise(v) as f32;
                Some(pos2(x_of(c), inner.bottom() - t * inner.height()))
            })
            .collect()
    };
    const MOST: usize = 1500;
    let step = scene.len().div_ceil(MOST).max(1);
    let colors = mapping.colors(scene);
    let filtering = filters.is_active();
    for i in (0..scene.len()).step_by(step) {
        let [r, g, b] = colors[i];
        let kept = !filtering || filters.keeps(scene, i);
        let color = if kept { Color32::from_rgba_unmultiplied(r, g, b, 110) } else { Color32::from_rgba_unmultiplied(r, g, b, 18) };
        painter.add(egui::Shape::line(line(i), Stroke::new(1.0, color)));
    }
    if let Some(i) = selected.filter(|&i| i < scene.len()) {
        painter.add(egui::Shape::line(line(i), Stroke::new(2.5, Color32::WHITE)));
    }
    for c in 0..k {
        painter.line_segment([pos2(x_of(c), inner.top()), pos2(x_of(c), inner.bottom())], Stroke::new(1.0, Color32::from_gray(150)));
    }
}

/// The selected network's derivative and momentum of its validation loss
/// and accuracy, by epoch.
pub fn dynamics_plot(ui: &mut Ui, series: &[DynamicsSeries]) {
    let colors = [rgb(VALIDATION_CURVE), rgb(TRAIN_CURVE)];
    for (s, color) in series.iter().zip(colors) {
        ui.colored_label(color, format!("{}: change per epoch (thin), momentum (thick)", s.name));
    }
    let points = |v: &[f64]| -> Vec<[f64; 2]> { v.iter().enumerate().map(|(e, y)| [e as f64 + 1.0, *y]).collect() };
    Plot::new("dynamics").height(150.0).allow_drag(false).allow_zoom(false).allow_scroll(false).show(ui, |plot| {
        for (s, color) in series.iter().zip(colors) {
            plot.line(Line::new(format!("{} change", s.name), PlotPoints::from(points(&s.derivative))).color(color).width(1.0));
            plot.line(Line::new(format!("{} momentum", s.name), PlotPoints::from(points(&s.momentum))).color(color).width(2.5));
        }
    });
}

/// A radar of the selected network's axes (filled), over the population's
/// median (outline), each axis in [0, 1].
pub fn radar(ui: &mut Ui, axes: &[String], values: &[f64], median: &[f64]) {
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), 190.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let center = rect.center();
    let radius = rect.height().min(rect.width()) * 0.34;
    let k = axes.len();
    let corner = |a: usize, t: f64| {
        let angle = std::f32::consts::TAU * a as f32 / k as f32 - std::f32::consts::FRAC_PI_2;
        center + vec2(angle.cos(), angle.sin()) * radius * t as f32
    };
    for a in 0..k {
        painter.line_segment([center, corner(a, 1.0)], Stroke::new(1.0, Color32::from_gray(90)));
    }
    let polygon = |v: &[f64]| -> Vec<Pos2> { (0..k).map(|a| corner(a, v.get(a).copied().unwrap_or(0.0))).collect() };
    painter.add(egui::Shape::convex_polygon(
        polygon(values),
        Color32::from_rgba_unmultiplied(VALIDATION_CURVE[0], VALIDATION_CURVE[1], VALIDATION_CURVE[2], 90),
        Stroke::new(2.0, rgb(VALIDATION_CURVE)),
    ));
    painter.add(egui::Shape::closed_line(polygon(median), Stroke::new(1.5, Color32::from_gray(200))));
    // Names last, over the shapes.
    for (a, name) in axes.iter().enumerate() {
        painter.text(corner(a, 1.22), egui::Align2::CENTER_CENTER, name, egui::FontId::proportional(10.0), ui.visuals().text_color());
    }
}

/// The hyper-parameter surface's choices (two knobs and a target), whether
/// it stands in the world, and the knobs' importance.
fn hyper_section(ui: &mut Ui, choice: &mut HyperChoice, view: Option<&Result<HyperView, String>>, scene: &SphereScene) {
    ui.label("Hyper-parameter surface and importance");
    egui::Grid::new("hyper_choice").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
        for (label, slot) in [("x", &mut choice.x), ("y", &mut choice.y), ("target", &mut choice.target)] {
            ui.label(label);
            egui::ComboBox::from_id_salt(("hyper", label)).selected_text(slot.as_deref().unwrap_or("—")).width(200.0).show_ui(ui, |ui| {
                for column in &scene.columns {
                    ui.selectable_value(slot, Some(column.name.clone()), &column.name);
                }
            });
            ui.end_row();
        }
    });
    ui.checkbox(&mut choice.show, "show the surface in the world, left of the sphere");
    match view {
        None if choice.x.is_some() && choice.y.is_some() && choice.target.is_some() => {
            ui.spinner();
        }
        None => {
            ui.weak("choose two knobs and a target");
        }
        Some(Err(e)) => {
            ui.colored_label(rgb(mosaic_core::theme::WARNING_TEXT), e);
        }
        Some(Ok(h)) => {
            let how = if h.exact { "cell means of a grid sweep" } else { "a smoothing spline through the runs" };
            ui.weak(format!("{} over {} and {}: {how}, {} runs", h.target, h.x_name, h.y_name, h.runs.len()));
            ui.label(format!("What explains {} (variance shares, main effects):", h.target));
            for (knob, share) in &h.importance {
                ui.horizontal(|ui| {
                    let (rect, _) = ui.allocate_exact_size(vec2(120.0, 12.0), Sense::hover());
                    ui.painter().rect_filled(rect, 0.0, Color32::from_gray(50));
                    let bar = Rect::from_min_size(rect.min, vec2(rect.width() * *share as f32, rect.height()));
                    ui.painter().rect_filled(bar, 0.0, rgb(VALIDATION_CURVE));
                    ui.label(format!("{:.0}% {knob}", 100.0 * share));
                });
            }
        }
    }
}

/// Per-axis median of the population's radar values.
pub fn median_radar(values: &[Vec<f64>]) -> Vec<f64> {
    let k = values.first().map_or(0, Vec::len);
    (0..k)
        .map(|a| {
            let mut column: Vec<f64> = values.iter().map(|v| v[a]).collect();
            column.sort_by(f64::total_cmp);
            column[column.len() / 2]
        })
        .collect()
}

/// The analysis window's body: heatmap and parallel coordinates for the
/// population; dynamics and radar for the selection. Returns whether the
/// user asked to save the charts.
pub fn window_body(
    ui: &mut Ui,
    analysis: &mut Analysis,
    scene: &SphereScene,
    mapping: &ColorMapping,
    filters: &Filters,
    selection: &Selection,
) -> bool {
    let mut save = false;
    ui.horizontal(|ui| {
        ui.label("Correlation");
        for m in CorrelationMethod::ALL {
            ui.selectable_value(&mut analysis.method, m, m.name());
        }
        save = ui.button("Save charts as SVG").on_hover_text("correlations, the selection's curves, importance").clicked();
    });
    match &analysis.correlations {
        Some(table) => {
            heatmap(ui, table);
            if !table.note.is_empty() {
                ui.weak(&table.note);
            }
        }
        None => {
            ui.spinner();
        }
    }
    ui.separator();
    ui.label("Parallel coordinates (every column, scaled to its range)");
    parallel_coordinates(ui, scene, mapping, filters, selection.selected);
    ui.separator();
    hyper_section(ui, &mut analysis.hyper, analysis.hyper_view.as_ref(), scene);
    ui.separator();
    let Some(index) = selection.selected else {
        ui.weak("Select a network for its training dynamics and complexity radar.");
        return save;
    };
    ui.horizontal(|ui| {
        ui.label("Dynamics");
        ui.add(egui::Slider::new(&mut analysis.window, 1..=10).text("momentum window (epochs)"));
    });
    match &analysis.dynamics {
        Some((i, series)) if *i == index => dynamics_plot(ui, series),
        _ => {
            ui.weak("no training record (a sampled design, or not trained yet)");
        }
    }
    radar_section(ui, scene, index);
    save
}

/// The complexity radar of network `index`, if the scene measured it.
fn radar_section(ui: &mut Ui, scene: &SphereScene, index: usize) {
    if let Some(values) = scene.radar.values.get(index) {
        ui.label("Complexity against the population (log scale; grey: median network)");
        radar(ui, &scene.radar.axes, values, &median_radar(&scene.radar.values));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_colours_run_blue_grey_red() {
        use mosaic_core::theme::{CORRELATION_NEGATIVE, CORRELATION_POSITIVE, CORRELATION_ZERO};
        assert_eq!(diverging(0.0), rgb(CORRELATION_ZERO));
        assert_eq!(diverging(1.0), rgb(CORRELATION_POSITIVE));
        assert_eq!(diverging(-1.0), rgb(CORRELATION_NEGATIVE));
        assert_eq!(diverging(0.5), Color32::from_rgb(146, 66, 64), "half-way from grey to red");
        assert_eq!(diverging(f64::NAN), rgb(mosaic_core::theme::CORRELATION_UNDEFINED));
    }

    #[test]
    fn the_median_radar_takes_each_axis_middle() {
        let v = vec![vec![0.0, 1.0], vec![0.5, 0.2], vec![1.0, 0.4]];
        assert_eq!(median_radar(&v), vec![0.5, 0.4]);
    }
}
