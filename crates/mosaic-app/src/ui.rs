//! The egui side panel: what is shown, how it is coloured, and the legend.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, RenderTarget, Viewport};
use bevy::core_pipeline::tonemapping::{DebandDither, Tonemapping};
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy_egui::egui::{self, Color32, LayerId, Ui, UiBuilder};
use bevy_egui::input::EguiWantsInput;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, PrimaryEguiContext};
use bevy_panorbit_camera::PanOrbitCamera;
use mosaic_core::Colormap;

use crate::scene::{ColorMapping, SphereScene};

pub use mosaic_core::theme::PANEL_WIDTH;

pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, side_panel).add_systems(Update, fit_view_beside_panel);
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
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
        Tonemapping::None,
        DebandDither::Disabled,
    )
}

/// Keeps the 3-D view in the area right of the panel, so the sphere is
/// centred in what the user can see, at any window size.
fn fit_view_beside_panel(mut cameras: Query<&mut Camera, With<Camera3d>>) {
    for mut camera in &mut cameras {
        let (Some(size), Some(scale)) = (camera.physical_target_size(), camera.target_scaling_factor()) else {
            continue;
        };
        if size.x == 0 || size.y == 0 {
            continue; // a minimised window
        }
        let panel = ((PANEL_WIDTH * scale).round() as u32).min(size.x.saturating_sub(1));
        let wanted = Viewport {
            physical_position: UVec2::new(panel, 0),
            physical_size: UVec2::new(size.x - panel, size.y),
            ..default()
        };
        let current = camera.viewport.as_ref().map(|v| (v.physical_position, v.physical_size));
        if current != Some((wanted.physical_position, wanted.physical_size)) {
            camera.viewport = Some(wanted);
        }
    }
}

fn side_panel(mut contexts: EguiContexts, scene: Res<SphereScene>, mut mapping: ResMut<ColorMapping>) -> Result {
    let ctx = contexts.ctx_mut()?;
    let mut root = Ui::new(
        ctx.clone(),
        "mosaic_root".into(),
        UiBuilder::new().layer_id(LayerId::background()).max_rect(ctx.viewport_rect()),
    );
    egui::Panel::left("mosaic_side_panel").exact_size(PANEL_WIDTH).resizable(false).show(&mut root, |ui| {
        ui.add_space(6.0);
        ui.heading("NeuroMosaic");
        ui.label(&scene.title);
        if !scene.status.is_empty() {
            ui.label(egui::RichText::new(&scene.status).color(Color32::from_rgb(150, 200, 255)));
        }
        ui.separator();

        // Edit a copy so the resource is only marked changed on a real change.
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
        if edited != *mapping {
            *mapping = edited;
        }

        ui.add_space(8.0);
        legend(ui, &scene, &mapping);
        ui.separator();
        let missing = mapping.missing(&scene);
        if missing > 0 {
            ui.label(format!("{} points · {missing} grey: no value (not trained yet, or diverged)", scene.len()));
        } else {
            ui.label(format!("{} points", scene.len()));
        }
        ui.add_space(8.0);
        ui.weak("Drag: orbit · right-drag: pan · wheel: zoom");
    });
    Ok(())
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

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 { format!("{v:.0}") } else { format!("{v:.3}") }
}

/// Stops the orbit camera while egui uses the pointer over the 3-D view (an
/// open drop-down list, a drag that began on a widget). The panel itself lies
/// outside the 3-D viewport, which the orbit camera already ignores.
pub fn block_orbit_over_panel(wants: Res<EguiWantsInput>, mut cameras: Query<&mut PanOrbitCamera>) {
    let over_panel = wants.wants_any_pointer_input();
    for mut camera in &mut cameras {
        if camera.enabled == over_panel {
            camera.enabled = !over_panel;
        }
    }
}
