//! Exports for papers and other tools: the view as PNG, the embedding as
//! CSV and .npy. Files go to the export folder (the working directory
//! unless told otherwise) with names that never overwrite an earlier export.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy_egui::egui::{self, Ui};

use crate::analysis::Analysis;
use crate::capture::save_png;
use crate::charts::{curves_svg, heatmap_svg, importance_svg};
use crate::files::FileError;
use crate::inspect::Inspection;
use crate::panels::{self, PanelAction};
use crate::scene::{Notices, ShownScene, SphereScene};
use crate::session::{SaveSession, SessionFile};
use crate::ui::{AddPanelSection, PanelSection, UiInput};

/// What to export.
#[derive(Message, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// The window as it looks, as PNG.
    ViewPng,
    /// Names, sphere coordinates and every column (CSV), and the coordinates (.npy, n x 3).
    Embedding,
    /// The analysis charts shown (correlations, the selection's curves, importance) as SVG.
    Charts,
}

/// Where exports are written.
#[derive(Resource, Clone, Debug)]
pub struct ExportDir(pub PathBuf);

pub struct ExportPlugin;

impl Plugin for ExportPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<Export>()
            .insert_resource(ExportDir(PathBuf::from(".")))
            .add_systems(Update, (export_key, export).chain())
            .add_panel_section(PanelSection::Export, export_section);
    }
}

/// The panel's exports and the session's Save.
fn export_section(
    InMut(ui): InMut<Ui>,
    session: Res<SessionFile>,
    mut export: MessageWriter<Export>,
    mut save: MessageWriter<SaveSession>,
) {
    let mut action = None;
    egui::CollapsingHeader::new("Export and session").id_salt("export").default_open(session.panel_open("export")).show(ui, |ui| {
        action = panels::export(ui);
    });
    match action {
        Some(PanelAction::ExportPng) => {
            export.write(Export::ViewPng);
        }
        Some(PanelAction::ExportEmbedding) => {
            export.write(Export::Embedding);
        }
        Some(PanelAction::SaveSession) => {
            save.write(SaveSession);
        }
        _ => {}
    }
}

fn export_key(keys: Res<ButtonInput<KeyCode>>, ui: Res<UiInput>, mut out: MessageWriter<Export>) {
    let typing = ui.typing;
    if !typing && keys.just_pressed(KeyCode::KeyP) {
        out.write(Export::ViewPng);
    }
}

/// The first `stem-N.ext` (N = 1, 2, …) that does not exist in `dir`.
pub fn fresh_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    (1..).map(|n| dir.join(format!("{stem}-{n}.{ext}"))).find(|p| !p.exists()).expect("some number is free")
}

/// The scene as CSV: `name,x,y,z,<column>…`, one row per point.
pub fn embedding_csv(scene: &SphereScene) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("name,x,y,z");
    for c in &scene.columns {
        out.push(',');
        out.push_str(&quote(&c.name));
    }
    out.push('\n');
    for (i, p) in scene.positions.iter().enumerate() {
        out.push_str(&quote(scene.labels.get(i).map_or("", String::as_str)));
        for v in p {
            out.push_str(&format!(",{v}"));
        }
        for c in &scene.columns {
            // Missing values are empty cells, as pandas and R read them.
            match c.values.get(i).filter(|v| v.is_finite()) {
                Some(v) => out.push_str(&format!(",{v}")),
                None => out.push(','),
            }
        }
        out.push('\n');
    }
    out
}

fn write_embedding(scene: &SphereScene, dir: &Path) -> Result<String, FileError> {
    let csv = fresh_path(dir, "neuromosaic-embedding", "csv");
    let npy = csv.with_extension("npy");
    std::fs::write(&csv, embedding_csv(scene)).map_err(FileError::write(&csv))?;
    let coords: Vec<f64> = scene.positions.iter().flat_map(|p| p.map(f64::from)).collect();
    std::fs::write(&npy, mosaic_manifold::npy::shaped_bytes(&[scene.len(), 3], &coords)).map_err(FileError::write(&npy))?;
    Ok(format!("wrote {} and {}", csv.display(), npy.display()))
}

/// Writes every chart there is data for; says which.
fn write_charts(analysis: &Analysis, inspection: &Inspection, dir: &Path) -> Result<String, FileError> {
    let mut charts: Vec<(&str, String)> = Vec::new();
    if let Some(table) = &analysis.correlations {
        charts.push(("neuromosaic-correlations", heatmap_svg(table)));
    }
    if let Some(details) = inspection.details.as_ref().filter(|d| !d.epochs.is_empty()) {
        let series = |name: &str, color: [u8; 3], f: fn(&mosaic_core::EpochMetrics) -> f64| {
            (name.to_string(), color, details.epochs.iter().map(|e| [e.epoch as f64, f(e)]).collect::<Vec<_>>())
        };
        let (train, val) = (mosaic_core::theme::TRAIN_CURVE, mosaic_core::theme::VALIDATION_CURVE);
        let loss = [series("train", train, |e| e.train_loss), series("validation", val, |e| e.val_loss)];
        let accuracy = [series("train", train, |e| e.train_accuracy), series("validation", val, |e| e.val_accuracy)];
        charts.push(("neuromosaic-loss", curves_svg(&format!("{}: loss by epoch", details.title), &loss)));
        charts.push(("neuromosaic-accuracy", curves_svg(&format!("{}: accuracy by epoch", details.title), &accuracy)));
    }
    if let Some(Ok(view)) = &analysis.hyper_view
        && !view.importance.is_empty()
    {
        charts.push(("neuromosaic-importance", importance_svg(view)));
    }
    if charts.is_empty() {
        return Err(FileError::NothingToSave(
            "no chart to save yet: open the analysis window (and select a trained network for its curves)",
        ));
    }
    let mut written = Vec::new();
    for (stem, svg) in charts {
        let path = fresh_path(dir, stem, "svg");
        std::fs::write(&path, svg).map_err(FileError::write(&path))?;
        written.push(path.display().to_string());
    }
    Ok(format!("wrote {}", written.join(", ")))
}

#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn export(
    mut commands: Commands,
    mut requests: MessageReader<Export>,
    dir: Res<ExportDir>,
    scene: Res<ShownScene>,
    analysis: Res<Analysis>,
    inspection: Res<Inspection>,
    windows: Query<(), With<bevy::window::PrimaryWindow>>,
    mut notices: ResMut<Notices>,
) {
    for request in requests.read() {
        match request {
            Export::Charts => match write_charts(&analysis, &inspection, &dir.0) {
                Ok(done) => notices.info = Some(done),
                Err(e) => notices.errors.push(e.to_string()),
            },
            Export::Embedding => match write_embedding(&scene, &dir.0) {
                Ok(done) => notices.info = Some(done),
                Err(e) => notices.errors.push(e.to_string()),
            },
            Export::ViewPng if windows.is_empty() => {
                notices.errors.push("no window to capture: `mosaic snapshot` renders views offscreen".into())
            }
            Export::ViewPng => {
                let path = fresh_path(&dir.0, "neuromosaic-view", "png");
                commands.spawn(Screenshot::primary_window()).observe(move |shot: On<ScreenshotCaptured>, mut notices: ResMut<Notices>| {
                    match save_png(&shot.image, &path) {
                        Ok(()) => notices.info = Some(format!("wrote {}", path.display())),
                        Err(e) => notices.errors.push(format!("cannot write {}: {e}", path.display())),
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::MetricColumn;

    #[test]
    fn the_embedding_csv_has_a_row_per_point_and_blank_missing_values() {
        let scene = SphereScene {
            labels: vec!["run 1 · Mlp".into(), "say \"hi\"".into()],
            positions: vec![[1.0, 0.0, 0.0], [0.0, 0.5, -0.5]],
            columns: vec![MetricColumn { name: "val accuracy".into(), values: vec![0.75, f64::NAN] }],
            ..SphereScene::default()
        };
        assert_eq!(embedding_csv(&scene), "name,x,y,z,\"val accuracy\"\n\"run 1 · Mlp\",1,0,0,0.75\n\"say \"\"hi\"\"\",0,0.5,-0.5,\n");
    }

    #[test]
    fn charts_are_written_for_what_there_is_data_for() {
        use crate::analysis::{CorrelationMethod, CorrelationTable};
        use crate::inspect::NetworkDetails;
        let dir = std::env::temp_dir().join(format!("mosaic-charts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut analysis = Analysis::default();
        let inspection = Inspection::default();
        let err = write_charts(&analysis, &inspection, &dir).unwrap_err();
        assert!(err.to_string().contains("no chart"), "{err}");
        analysis.correlations = Some(CorrelationTable {
            method: CorrelationMethod::Pearson,
            names: vec!["a".into()],
            r: vec![vec![1.0]],
            p: vec![vec![0.0]],
            note: String::new(),
        });
        let epoch = mosaic_core::EpochMetrics {
            epoch: 1,
            train_loss: 0.7,
            train_accuracy: 0.5,
            val_loss: 0.8,
            val_accuracy: 0.4,
            grad_norm: 1.0,
            weight_norm: 1.0,
            learning_rate: 1e-3,
            seconds: 0.1,
        };
        let details = NetworkDetails { title: "run 1".into(), facts: vec![], epochs: vec![epoch] };
        let inspection = Inspection { index: Some(0), details: Some(details), ..Inspection::default() };
        let done = write_charts(&analysis, &inspection, &dir).unwrap();
        for stem in ["neuromosaic-correlations-1.svg", "neuromosaic-loss-1.svg", "neuromosaic-accuracy-1.svg"] {
            assert!(done.contains(stem), "{done}");
            assert!(std::fs::read_to_string(dir.join(stem)).unwrap().starts_with("<svg"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn exports_never_overwrite_earlier_ones() {
        let dir = std::env::temp_dir().join(format!("mosaic-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = fresh_path(&dir, "view", "png");
        std::fs::write(&first, b"x").unwrap();
        let second = fresh_path(&dir, "view", "png");
        assert_ne!(first, second);
        assert_eq!(second.file_name().unwrap(), "view-2.png");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
