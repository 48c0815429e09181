//! The egui side panel: what is shown, how it is coloured, and the legend.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, RenderTarget, Viewport};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy_egui::egui::{self, Color32, LayerId, RichText, Ui, UiBuilder};
use bevy_egui::input::EguiWantsInput;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, PrimaryEguiContext};
use bevy_panorbit_camera::PanOrbitCamera;
use mosaic_core::Colormap;

use crate::analysis::{Analysis, window_body};
use crate::bridge::{ComputeRequests, Pending, TrainingState, ViewRequest};
use crate::camera::{AddBookmark, CameraMode, FlySpeed, FlyToSelection, GoToBookmark};
use crate::clusters::{Clusters, summaries};
use crate::export::Export;
use crate::inspect::Inspection;
use crate::inspector::{InspectorAction, format_value, inspector};
use crate::landscape_view::{LandscapeSettings, Playback};
use crate::panels::{self, PanelAction};
use crate::path_view::{ArchPath, STEPS};
use crate::scene::{ColorMapping, ShownScene, SphereScene, VAL_ACCURACY};
use crate::scene::{Filters, Notices, SizeMapping};
use crate::selection::{Hovered, Neighbours, Selection};
use crate::session::{Bookmarks, SaveSession, SessionFile};
use crate::suggestions::{self, Suggestions};
use crate::tour_editor::{Preview, TourDraft, timeline};
use crate::training::Training;

pub use mosaic_core::theme::PANEL_WIDTH;

pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, (side_panel, analysis_window, cluster_labels).chain())
            .add_systems(Update, fit_view_beside_panel);
    }
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

/// What the panel shows and edits.
#[derive(bevy::ecs::system::SystemParam)]
struct PanelState<'w> {
    scene: Res<'w, ShownScene>,
    mapping: ResMut<'w, ColorMapping>,
    selection: ResMut<'w, Selection>,
    hovered: Res<'w, Hovered>,
    inspection: Res<'w, Inspection>,
    neighbours: Res<'w, Neighbours>,
    settings: ResMut<'w, LandscapeSettings>,
    playback: ResMut<'w, Playback>,
    size: ResMut<'w, SizeMapping>,
    filters: ResMut<'w, Filters>,
    notices: ResMut<'w, Notices>,
    bookmarks: ResMut<'w, Bookmarks>,
    mode: ResMut<'w, CameraMode>,
    speed: ResMut<'w, FlySpeed>,
    session: Res<'w, SessionFile>,
    analysis: ResMut<'w, Analysis>,
    path: Res<'w, ArchPath>,
    clusters: ResMut<'w, Clusters>,
    training: Res<'w, Training>,
    suggestions: ResMut<'w, Suggestions>,
    requests: Option<Res<'w, ComputeRequests>>,
    pending: ResMut<'w, Pending>,
    draft: ResMut<'w, TourDraft>,
    messages: PanelMessages<'w>,
}

/// What the panel's buttons ask of other systems.
#[derive(bevy::ecs::system::SystemParam)]
struct PanelMessages<'w> {
    fly: MessageWriter<'w, FlyToSelection>,
    add_bookmark: MessageWriter<'w, AddBookmark>,
    go_to: MessageWriter<'w, GoToBookmark>,
    save: MessageWriter<'w, SaveSession>,
    export: MessageWriter<'w, Export>,
    preview: MessageWriter<'w, Preview>,
}

fn side_panel(mut contexts: EguiContexts, mut state: PanelState) -> Result {
    let ctx = contexts.ctx_mut()?;
    hover_tooltip(ctx, &state.scene, &state.mapping, &state.hovered);
    let scene = &**state.scene;
    // Edit copies so resources are only marked changed on a real change.
    let mut mapping = state.mapping.clone();
    let (mut settings, mut playback) = (state.settings.clone(), state.playback.clone());
    let (mut size, mut filters, mut notices) = (state.size.clone(), state.filters.clone(), state.notices.clone());
    let (mut bookmarks, mut mode, mut speed) = (state.bookmarks.clone(), *state.mode, *state.speed);
    let mut panel_action = None;
    let mut train_request = None;
    let mut draft = state.draft.clone();
    let mut preview = false;
    let open = |name: &str| state.session.base.panels.iter().any(|p| p == name);
    let mut analysis_open = state.analysis.open;
    let mut suggestions = state.suggestions.clone();
    let mut suggest_request = None;
    // Suggestions learn from a store's accuracies (a sampled design has none).
    let has_store = state.requests.is_some() && scene.column_index(VAL_ACCURACY).is_some();
    let clusters = &*state.clusters;
    let mut show_clusters = clusters.show;
    let mut root =
        Ui::new(ctx.clone(), "mosaic_root".into(), UiBuilder::new().layer_id(LayerId::background()).max_rect(ctx.viewport_rect()));
    let mut action = None;
    egui::Panel::left("mosaic_side_panel").exact_size(PANEL_WIDTH).resizable(false).show(&mut root, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.add_space(6.0);
            ui.heading("NeuroMosaic");
            panels::notices(ui, &mut notices);
            ui.label(&scene.title);
            if !scene.status.is_empty() {
                ui.label(egui::RichText::new(&scene.status).color(Color32::from_rgb(150, 200, 255)));
            }
            train_request = training_controls(ui, state.training.0);
            ui.separator();

            let edited = &mut mapping;
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
            legend(ui, scene, &mapping);
            ui.separator();
            let missing = mapping.missing(scene);
            let diverged = scene.diverged.iter().filter(|d| **d).count();
            let mut counts = format!("{} points", scene.len());
            if missing > 0 {
                counts.push_str(&format!(" · {missing} grey: no value (not trained yet, or diverged)"));
            }
            if diverged > 0 {
                counts.push_str(&format!(" · {diverged} diverged (red ring)"));
            }
            ui.label(counts);
            let cluster_count = clusters.labels.iter().flatten().max().map_or(0, |m| m + 1);
            ui.horizontal(|ui| {
                let plural = if cluster_count == 1 { "" } else { "s" };
                ui.checkbox(&mut show_clusters, format!("{cluster_count} cluster{plural} (DBSCAN)"));
                if !clusters.note.is_empty() {
                    ui.weak(&clusters.note);
                }
            });
            if ui.selectable_label(analysis_open, "Analysis: correlations, dynamics, complexity").clicked() {
                analysis_open = !analysis_open;
            }
            egui::CollapsingHeader::new("Suggest next networks")
                .id_salt("suggest")
                .default_open(open("suggest") || suggestions.waiting || suggestions.result.is_some()).show(ui, |ui| {
                suggest_request = suggestions::section(ui, scene, &mut suggestions, has_store);
            });
            egui::CollapsingHeader::new("Size, filters, search").id_salt("filters").default_open(open("filters")).show(ui, |ui| {
                panels::filters(ui, scene, &mut size, &mut filters);
            });
            if state.selection.selected.is_some() {
                ui.separator();
                action = inspector(ui, scene, &state.selection, &state.inspection, &state.neighbours, &mut settings, &mut playback);
            path_section(ui, scene, &state.selection, &state.path);
            }
            ui.separator();
            egui::CollapsingHeader::new("Camera and views").id_salt("views").default_open(open("views")).show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.radio_value(&mut mode, CameraMode::Orbit, "orbit");
                    ui.radio_value(&mut mode, CameraMode::Fly, "fly").on_hover_text("Tab switches; WASD move, Q/E down/up, drag to look");
                });
                if mode == CameraMode::Fly {
                    ui.add(egui::Slider::new(&mut speed.0, 0.1..=10.0).logarithmic(true).text("speed"));
                }
                panel_action = panel_action.take().or(panels::views(ui, &mut bookmarks));
            });
            egui::CollapsingHeader::new("Tour (video)").id_salt("tour").default_open(open("tour")).show(ui, |ui| {
                preview = timeline(ui, &mut draft, &mut notices);
            });
            egui::CollapsingHeader::new("Export and session").id_salt("export").default_open(open("export")).show(ui, |ui| {
                panel_action = panel_action.take().or(panels::export(ui));
            });
            ui.add_space(8.0);
            ui.weak("Click: select · drag: orbit · right-drag: pan · wheel: zoom · F: fly to selection · Esc: clear · Tab: free flight · B: save view · K: tour keyframe · P: PNG · Ctrl+S: save session");
        });
    });
    if draft != *state.draft {
        *state.draft = draft;
    }
    if let Some(request) = suggest_request {
        suggestions::send(request, state.requests.as_deref(), &mut state.pending, &mut suggestions);
    }
    if suggestions != *state.suggestions {
        *state.suggestions = suggestions;
    }
    if preview {
        state.messages.preview.write(Preview);
    }
    if show_clusters != state.clusters.show {
        state.clusters.show = show_clusters;
    }
    if analysis_open != state.analysis.open {
        state.analysis.open = analysis_open;
    }
    if mapping != *state.mapping {
        *state.mapping = mapping;
    }
    if settings != *state.settings {
        *state.settings = settings;
    }
    if playback != *state.playback {
        *state.playback = playback;
    }
    if size != *state.size {
        *state.size = size;
    }
    if filters != *state.filters {
        *state.filters = filters;
    }
    if notices != *state.notices {
        *state.notices = notices;
    }
    if bookmarks != *state.bookmarks {
        *state.bookmarks = bookmarks;
    }
    if mode != *state.mode {
        *state.mode = mode;
    }
    if speed != *state.speed {
        *state.speed = speed;
    }
    if let (Some(run), Some(requests)) = (train_request, &state.requests) {
        requests.send(ViewRequest::Train { run }, &mut state.pending);
    }
    let m = &mut state.messages;
    match panel_action {
        Some(PanelAction::AddBookmark) => {
            m.add_bookmark.write(AddBookmark);
        }
        Some(PanelAction::GoToBookmark(i)) => {
            m.go_to.write(GoToBookmark(i));
        }
        Some(PanelAction::SaveSession) => {
            m.save.write(SaveSession);
        }
        Some(PanelAction::ExportPng) => {
            m.export.write(Export::ViewPng);
        }
        Some(PanelAction::ExportEmbedding) => {
            m.export.write(Export::Embedding);
        }
        None => {}
    }
    match action {
        Some(InspectorAction::Select(i)) => *state.selection = Selection { selected: Some(i), path_to: None },
        Some(InspectorAction::Clear) => *state.selection = Selection::default(),
        Some(InspectorAction::FlyTo) => {
            state.messages.fly.write(FlyToSelection);
        }
        None => {}
    }
    Ok(())
}

/// The hovered network's name and mapped value, beside the pointer.
fn hover_tooltip(ctx: &egui::Context, scene: &SphereScene, mapping: &ColorMapping, hovered: &Hovered) {
    let (Some(i), Some(pointer)) = (hovered.0, ctx.pointer_hover_pos()) else { return };
    let Some(label) = scene.labels.get(i) else { return };
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
}

/// A horizontal colour bar with the mapped column's range beneath it.
fn legend(ui: &mut Ui, scene: &SphereScene, mapping: &ColorMapping) {
    let name = scene.columns.get(mapping.column).map_or("", |c| c.name.as_str());
    ui.label(egui::RichText::new(name).strong());
    let width = ui.available_width() - 8.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 18.0), egui::Sense::hover());
    let painter = ui.painter();
    const SLICES: usize = 96;
    for i in 0..SLICES {
        let (t0, t1) = (i as f32 / SLICES as f32, (i + 1) as f32 / SLICES as f32);
        let [r, g, b] = mapping.colormap.srgb(((t0 + t1) * 0.5) as f64);
        let slice = egui::Rect::from_min_max(
            egui::pos2(egui::lerp(rect.left()..=rect.right(), t0), rect.top()),
            egui::pos2(egui::lerp(rect.left()..=rect.right(), t1), rect.bottom()),
        );
        painter.rect_filled(slice, 0.0, Color32::from_rgb(r, g, b));
    }
    if let Some(range) = mapping.range(scene) {
        ui.horizontal(|ui| {
            ui.label(format_value(range.min));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.add_space(8.0);
                ui.label(format_value(range.max));
            });
        });
    }
}

/// Stops the orbit camera while egui uses the pointer over the 3-D view (an
/// open drop-down list, a drag that began on a widget). The panel itself lies
/// outside the 3-D viewport, which the orbit camera already ignores.
pub fn block_orbit_over_panel(wants: Res<EguiWantsInput>, mode: Res<CameraMode>, mut cameras: Query<&mut PanOrbitCamera>) {
    if *mode != CameraMode::Orbit {
        return; // free flight has switched the orbit camera off
    }
    let over_panel = wants.wants_any_pointer_input();
    for mut camera in &mut cameras {
        if camera.enabled == over_panel {
            camera.enabled = !over_panel;
        }
    }
}

/// The floating analysis window, at the top right of the 3-D view.
fn analysis_window(
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

/// The path from the selection to the Shift+clicked network, step by step.
fn path_section(ui: &mut Ui, scene: &SphereScene, selection: &Selection, path: &ArchPath) {
    ui.add_space(4.0);
    let Some(to) = selection.path_to else {
        ui.weak("Shift+click another network for the architectures between them.");
        return;
    };
    let name = scene.labels.get(to).map_or("?", String::as_str);
    let [r, g, b] = STEPS;
    ui.colored_label(Color32::from_rgb(r, g, b), RichText::new(format!("Path to {name}")).strong());
    match &path.result {
        None => {
            ui.spinner();
        }
        Some(Err(e)) => {
            ui.colored_label(Color32::from_rgb(255, 140, 120), e);
        }
        Some(Ok(view)) => {
            for (step, label) in view.labels.iter().enumerate() {
                ui.label(format!("{step}. {label}"));
            }
        }
    }
}

/// Each cluster's label beside its halo: id, size, and the mapped column's mean.
fn cluster_labels(
    mut contexts: EguiContexts,
    clusters: Res<Clusters>,
    scene: Res<ShownScene>,
    mapping: Res<ColorMapping>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
) -> Result {
    if !clusters.show || clusters.labels.len() != scene.len() {
        return Ok(());
    }
    let Ok((camera, transform)) = cameras.single() else { return Ok(()) };
    let ctx = contexts.ctx_mut()?;
    let painter = ctx.layer_painter(LayerId::new(egui::Order::Background, egui::Id::new("cluster_labels")));
    let column = scene.columns.get(mapping.column).map_or("", |c| c.name.as_str());
    for s in summaries(&scene, &clusters.labels, &mapping) {
        let normal = s.centroid.normalize_or(Vec3::Y);
        // Only clusters on the near half of the sphere: the far half's labels would float over the near one.
        if normal.dot(transform.translation()) <= 0.0 {
            continue;
        }
        let anchor = normal * (s.centroid.length().max(0.5) + 0.08);
        let Ok(at) = camera.world_to_viewport(transform, anchor) else { continue };
        let text = if s.mean.is_finite() {
            format!("C{} · {} · {column} {}", s.id, s.size, format_value(s.mean))
        } else {
            format!("C{} · {}", s.id, s.size)
        };
        let [r, g, b] = crate::clusters::HALO;
        painter.text(
            egui::pos2(at.x, at.y),
            egui::Align2::CENTER_BOTTOM,
            text,
            egui::FontId::proportional(12.0),
            Color32::from_rgb(r, g, b),
        );
    }
    Ok(())
}

/// Stop or resume the background training; returns the request, if any.
fn training_controls(ui: &mut Ui, state: Option<TrainingState>) -> Option<bool> {
    let mut request = None;
    match state {
        Some(TrainingState::Running) => {
            if ui.button("Stop training").on_hover_text("the runs in flight stop and stay pending; resume any time").clicked() {
                request = Some(false);
            }
        }
        Some(TrainingState::Stopping) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("stopping…");
            });
        }
        Some(TrainingState::Idle { left }) if left > 0 => {
            if ui.button(format!("Resume training ({left} left)")).clicked() {
                request = Some(true);
            }
        }
        Some(TrainingState::Idle { .. }) | None => {}
    }
    request
}
