//! The egui side panel: its frame (title, notices, status), the sections
//! each feature registers in it (see [`PanelSections`]), the colour mapping
//! and legend, the hover tooltip, and the panel's own camera.

use std::collections::BTreeMap;

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, RenderTarget, Viewport};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::ecs::system::{SystemId, SystemState};
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy::window::PrimaryWindow;
use bevy_egui::egui::{self, Color32, LayerId, RichText, Ui, UiBuilder};
use bevy_egui::{EguiContexts, EguiInput, EguiInputSet, EguiPreUpdateSet, EguiPrimaryContextPass, PrimaryEguiContext};
use bevy_panorbit_camera::PanOrbitCamera;
use mosaic_core::Colormap;

use crate::analysis::analysis_window;
use crate::camera::CameraMode;
use crate::clusters::cluster_labels;
use crate::inspector::format_value;
use crate::landscape_view::landscape_axes;
use crate::panels;
use crate::scene::{ColorMapping, Notices, ShownScene, SphereScene};
use crate::selection::Hovered;

pub use mosaic_core::theme::PANEL_WIDTH;

pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_panel_section(PanelSection::Colour, colour_section)
            .add_systems(PreUpdate, drop_unchanged_modifiers.after(EguiInputSet::WriteEguiEvents).before(EguiPreUpdateSet::BeginPass))
            .add_systems(PreUpdate, judge_ui_input.after(EguiPreUpdateSet::BeginPass))
            .add_systems(EguiPrimaryContextPass, (hover_tooltip, side_panel, analysis_window, cluster_labels, landscape_axes).chain())
            .add_systems(Update, fit_view_beside_panel);
    }
}

/// What the panel takes of this frame's input, for the 3-D view and the
/// shortcuts to leave alone. Judged once egui has read this frame's events,
/// at the pointer's place now: bevy_egui's `EguiWantsInput` is last frame's
/// verdict, and egui does not count its side panel as an area, so a click
/// on a label or a quick click on a button reached the 3-D view too.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct UiInput {
    /// The pointer is over the panel or a window, a drop-down is open, or a
    /// drag began on a widget: clicks, drags and the wheel are the panel's.
    pub pointer: bool,
    /// A text field has the keyboard (the search box): shortcuts wait.
    pub typing: bool,
    /// Where the side panel was drawn last (egui points, as logical pixels).
    panel: Option<egui::Rect>,
}

/// bevy_egui reports the modifier keys as a new event every frame, and any
/// event makes egui ask for another frame at once: an idle window would
/// never rest. Only a real change is passed on.
fn drop_unchanged_modifiers(mut inputs: Query<&mut EguiInput>, mut last: Local<Option<egui::Modifiers>>) {
    for mut input in &mut inputs {
        input.0.events.retain(|event| match event {
            egui::Event::ModifiersChanged(now) if *last == Some(*now) => false,
            egui::Event::ModifiersChanged(now) => {
                *last = Some(*now);
                true
            }
            _ => true,
        });
    }
}

fn judge_ui_input(
    mut contexts: EguiContexts,
    windows: Query<&Window, With<PrimaryWindow>>,
    keys: Res<ButtonInput<KeyCode>>,
    mut input: ResMut<UiInput>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    // The window's own cursor, as picking reads it: egui's pointer can lag a
    // warp-and-click that arrives in one batch (seen under xdotool).
    let cursor = windows.single().ok().and_then(Window::cursor_position).map(|c| egui::pos2(c.x, c.y) / ctx.zoom_factor());
    let over_panel =
        [cursor, ctx.input(|i| i.pointer.latest_pos())].into_iter().flatten().any(|pos| input.panel.is_some_and(|rect| rect.contains(pos)));
    let pointer = over_panel || ctx.is_pointer_over_egui() || ctx.egui_is_using_pointer() || ctx.any_popup_open();
    let typing = ctx.text_edit_focused();
    if keys.just_pressed(KeyCode::Tab) && !typing {
        // Tab is the view's (free flight), not egui's move to the next widget:
        // a focused drop-down would otherwise keep the keys from the view.
        ctx.memory_mut(|m| {
            m.move_focus(egui::FocusDirection::None);
            m.stop_text_input();
        });
    }
    let judged = UiInput { pointer, typing, panel: input.panel };
    input.set_if_neq(judged);
    Ok(())
}

/// A camera that draws only the egui panels, over whatever the 3-D camera
/// drew to the same target. Keeping the UI on its own camera lets the 3-D
/// camera use just the area beside the panel.
pub fn ui_camera(target: RenderTarget) -> impl Bundle {
    (
        PrimaryEguiContext,
        Camera2d,
        target,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write { blend_state: Some(BlendState::ALPHA_BLENDING), clear_color: ClearColorConfig::None },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
        Tonemapping::None,
        DebandDither::Disabled,
    )
}

/// A 3-D camera that keeps its whole target (a headset's eye: the panel
/// is elsewhere in the world).
#[derive(Component)]
pub struct FullView;

/// Keeps the 3-D view in the area right of the panel, so the sphere is
/// centred in what the user can see, at any window size.
fn fit_view_beside_panel(mut cameras: Query<&mut Camera, (With<Camera3d>, Without<FullView>)>) {
    for mut camera in &mut cameras {
        let (Some(size), Some(scale)) = (camera.physical_target_size(), camera.target_scaling_factor()) else {
            continue;
        };
        if size.x == 0 || size.y == 0 {
            continue; // a minimised window
        }
        let panel = ((PANEL_WIDTH * scale).round() as u32).min(size.x.saturating_sub(1));
        let wanted = Viewport { physical_position: UVec2::new(panel, 0), physical_size: UVec2::new(size.x - panel, size.y), ..default() };
        let current = camera.viewport.as_ref().map(|v| (v.physical_position, v.physical_size));
        if current != Some((wanted.physical_position, wanted.physical_size)) {
            camera.viewport = Some(wanted);
        }
    }
}

/// Where a section stands in the side panel, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PanelSection {
    /// Stop / resume the background training, under the status line.
    Training,
    /// Colour mapping, legend and point counts.
    Colour,
    Clusters,
    Analysis,
    Suggestions,
    /// Size mapping, filters and search.
    Filters,
    /// The selected network.
    Inspector,
    /// The path from the selection.
    Path,
    /// Camera mode and saved views.
    Views,
    Tour,
    /// Exports and the session.
    Export,
}

/// A panel section: a one-shot system that draws into the panel's `Ui`
/// with whatever resources and messages its feature owns.
pub type PanelSectionId = SystemId<InMut<'static, Ui>>;

/// The side panel's sections, by place. Each feature's plugin registers its
/// own (with [`AddPanelSection::add_panel_section`]) and keeps its resources
/// to itself; the panel system (`side_panel`) opens the panel, draws its
/// frame (title, notices, status, key help) and runs the sections in order
/// inside it.
///
/// egui has no way for several systems to fill one panel (its content is a
/// closure run once), so the sections are one-shot systems the panel runs
/// with the panel's `Ui` as input: one `Ui`, so the layout and widget ids
/// are those of a single drawing function.
#[derive(Resource, Default)]
pub struct PanelSections(BTreeMap<PanelSection, PanelSectionId>);

impl PanelSections {
    /// The sections' systems, top to bottom.
    pub fn in_order(&self) -> Vec<PanelSectionId> {
        self.0.values().copied().collect()
    }
}

pub trait AddPanelSection {
    /// Registers `system` as the panel's section at `place` (replacing any
    /// there). Registered whether or not a panel is shown; only a shown one runs it.
    fn add_panel_section<M>(&mut self, place: PanelSection, system: impl IntoSystem<InMut<'static, Ui>, (), M> + 'static) -> &mut Self;
}

impl AddPanelSection for App {
    fn add_panel_section<M>(&mut self, place: PanelSection, system: impl IntoSystem<InMut<'static, Ui>, (), M> + 'static) -> &mut Self {
        let id = self.register_system(system);
        self.world_mut().get_resource_or_init::<PanelSections>().0.insert(place, id);
        self
    }
}

/// The panel's frame around the sections: title, notices, the scene's
/// name and status; the sections; the keys at the bottom.
fn side_panel(world: &mut World, contexts: &mut SystemState<EguiContexts>) -> Result {
    let ctx = contexts.get_mut(world)?.ctx_mut()?.clone();
    let sections = world.get_resource::<PanelSections>().map(PanelSections::in_order).unwrap_or_default();
    let mut root =
        Ui::new(ctx.clone(), "mosaic_root".into(), UiBuilder::new().layer_id(LayerId::background()).max_rect(ctx.viewport_rect()));
    let panel = egui::Panel::left("mosaic_side_panel").exact_size(PANEL_WIDTH).resizable(false).show(&mut root, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.add_space(6.0);
            ui.heading("NeuroMosaic");
            // Edit a copy so the notices are only marked changed on a real change.
            let mut notices = world.resource::<Notices>().clone();
            panels::notices(ui, &mut notices);
            if notices != *world.resource::<Notices>() {
                *world.resource_mut::<Notices>() = notices;
            }
            let scene = world.resource::<ShownScene>();
            ui.label(&scene.title);
            status_area(ui, &scene.status);
            for section in sections {
                if let Err(e) = world.run_system_with(section, ui) {
                    error!("a panel section failed: {e}");
                }
            }
            ui.add_space(8.0);
            ui.weak("Click: select · drag: orbit · right-drag: pan · wheel: zoom · F: fly to selection · Home: reset view · Esc: clear · Tab: free flight · B: save view · K: tour keyframe · P: PNG · Ctrl+S: save session");
        });
    });
    let rect = Some(panel.response.rect);
    if world.resource::<UiInput>().panel != rect {
        world.resource_mut::<UiInput>().panel = rect;
    }
    Ok(())
}

/// Lines the status may take; more are cut, the whole shown on hover.
const STATUS_LINES: usize = 4;

/// The live status in a block of fixed height from its first line on, so
/// a status that grows or shrinks as training goes never moves the widgets
/// below it out from under the pointer.
fn status_area(ui: &mut Ui, status: &str) {
    let seen = egui::Id::new("status_seen");
    let shown_before = ui.data(|d| d.get_temp::<bool>(seen).unwrap_or(false));
    if status.is_empty() && !shown_before {
        return;
    }
    ui.data_mut(|d| d.insert_temp(seen, true));
    let font = egui::TextStyle::Body.resolve(ui.style());
    // (A little over the rows: a wrapped label is a fraction taller than its row heights.)
    let height = STATUS_LINES as f32 * ui.fonts_mut(|f| f.row_height(&font)) + 2.0;
    let mut job = egui::text::LayoutJob::single_section(
        status.to_string(),
        egui::TextFormat::simple(font, crate::panels::rgb(mosaic_core::theme::STATUS_TEXT)),
    );
    job.wrap = egui::text::TextWrapping { max_width: ui.available_width(), max_rows: STATUS_LINES, ..Default::default() };
    ui.allocate_ui(egui::vec2(ui.available_width(), height), |ui| {
        ui.set_min_height(height);
        ui.label(job).on_hover_text(status);
    });
}

/// Colour by a column through a map, its legend, and how many points show.
fn colour_section(InMut(ui): InMut<Ui>, scene: Res<ShownScene>, mut mapping: ResMut<ColorMapping>) {
    ui.separator();
    // Edit a copy so the mapping is only marked changed (restyling the points) on a real change.
    let mut edited = mapping.clone();
    egui::Grid::new("mapping").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        ui.label("Colour by");
        let current = scene.columns.get(edited.column).map_or("—", |c| c.name.as_str());
        egui::ComboBox::from_id_salt("color_by").selected_text(current).width(150.0).show_ui(ui, |ui| {
            for (i, column) in scene.columns.iter().enumerate() {
                ui.selectable_value(&mut edited.column, i, &column.name);
            }
        });
        ui.end_row();
        ui.label("Colour map");
        egui::ComboBox::from_id_salt("colormap").selected_text(edited.colormap.name()).width(150.0).show_ui(ui, |ui| {
            for map in Colormap::ALL {
                ui.selectable_value(&mut edited.colormap, map, map.name());
            }
        });
        ui.end_row();
    });

    ui.add_space(8.0);
    legend(ui, &scene, &mut edited);
    ui.separator();
    let missing = edited.missing(&scene);
    let diverged = scene.diverged.iter().filter(|d| **d).count();
    let mut counts = format!("{} points", scene.len());
    if missing > 0 {
        counts.push_str(&format!(" · {missing} grey: no value (not trained yet, or diverged)"));
    }
    if diverged > 0 {
        counts.push_str(&format!(" · {diverged} diverged (red ring)"));
    }
    ui.label(counts);
    mapping.set_if_neq(edited);
}

/// The hovered network's name and mapped value, beside the pointer.
fn hover_tooltip(mut contexts: EguiContexts, scene: Res<ShownScene>, mapping: Res<ColorMapping>, hovered: Res<Hovered>) -> Result {
    let ctx = contexts.ctx_mut()?;
    let (Some(i), Some(pointer)) = (hovered.0, ctx.pointer_hover_pos()) else { return Ok(()) };
    let Some(label) = scene.labels.get(i) else { return Ok(()) };
    egui::Area::new("hover_tooltip".into()).fixed_pos(pointer + egui::vec2(14.0, 10.0)).interactable(false).show(ctx, |ui| {
        egui::Frame::popup(ui.style()).show(ui, |ui| {
            ui.label(RichText::new(label).strong());
            for column in &scene.columns {
                let value = column.values.get(i).copied().unwrap_or(f64::NAN);
                let text = format!("{}: {}", column.name, format_value(value));
                if scene.columns.get(mapping.column).is_some_and(|c| c.name == column.name) {
                    ui.label(RichText::new(text).color(Color32::WHITE));
                } else {
                    ui.weak(text);
                }
            }
        });
    });
    Ok(())
}

/// A horizontal colour bar with the mapped column's range beneath it and,
/// for accuracies, the switch between the fixed 0–1 scale and the values present.
fn legend(ui: &mut Ui, scene: &SphereScene, mapping: &mut ColorMapping) {
    let name = scene.columns.get(mapping.column).map_or("", |c| c.name.as_str());
    ui.label(egui::RichText::new(name).strong());
    let width = ui.available_width() - 8.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 18.0), egui::Sense::hover());
    panels::colour_bar(ui.painter(), rect, |t| panels::rgb(mapping.colormap.srgb(t as f64)));
    if let Some(range) = mapping.range(scene) {
        let accuracy = scene.columns.get(mapping.column).is_some_and(|c| crate::scene::is_accuracy(&c.name));
        ui.horizontal(|ui| {
            ui.label(format_value(range.min));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.add_space(8.0);
                ui.label(format_value(range.max));
                if accuracy {
                    ui.add_space(24.0);
                    ui.checkbox(&mut mapping.fixed_accuracy_scale, "fixed scale 0–1")
                        .on_hover_text("off: stretch the colours over the accuracies present");
                }
            });
        });
    }
}

/// Stops the orbit camera while egui uses the pointer over the 3-D view (an
/// open drop-down list, a drag that began on a widget). The panel itself lies
/// outside the 3-D viewport, which the orbit camera already ignores.
pub fn block_orbit_over_panel(ui: Res<UiInput>, mode: Res<CameraMode>, mut cameras: Query<&mut PanOrbitCamera>) {
    if *mode != CameraMode::Orbit {
        return; // free flight has switched the orbit camera off
    }
    let over_panel = ui.pointer;
    for mut camera in &mut cameras {
        if camera.enabled == over_panel {
            camera.enabled = !over_panel;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the widgets under the status start, after a frame with `status`.
    fn below_status(ctx: &egui::Context, status: &str) -> f32 {
        let mut below = 0.0;
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            ui.set_max_width(260.0);
            status_area(ui, status);
            below = ui.cursor().top();
        });
        output.textures_delta.clear(); // nothing draws them here
        below
    }

    #[test]
    fn the_status_keeps_one_height_whatever_it_says() {
        let ctx = egui::Context::default();
        let one_line = below_status(&ctx, "training on 2 cores…");
        let long = "trained 41 of 200 · best 99.7% · the newest of 2 sweeps (--sweep NAME for another) · ".repeat(4);
        assert_eq!(below_status(&ctx, &long), one_line, "a long status pushed the widgets down");
        assert_eq!(below_status(&ctx, ""), one_line, "an emptied status pulled them up");
        // A view that never had a status keeps no room for one.
        assert!(below_status(&egui::Context::default(), "") < one_line);
    }
}
