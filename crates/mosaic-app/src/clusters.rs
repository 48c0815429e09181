//! Clusters on the sphere: DBSCAN over the points' places (computed by the
//! compute side whenever the layout changes), each drawn as a halo, a ring
//! lying on the sphere around its members, and labelled in the panel's
//! layer with its size and the mean of the mapped column.

use bevy::prelude::*;
use bevy_egui::EguiContexts;
use bevy_egui::egui::{self, Color32, LayerId, Ui};

use crate::bridge::{BridgeSystems, ComputeRequests, Computed, Pending, SceneUpdate, ViewRequest};
use crate::inspector::format_value;
use crate::lines::{LinesMaterial, Segment, lines_bundle, lines_mesh};
use crate::panels::rgb;
use crate::scene::{ColorMapping, ShownScene, SphereScene};
use crate::sphere_view::point_radius;
use crate::ui::{AddPanelSection, PanelSection};

pub use mosaic_core::theme::HALO;
use mosaic_core::theme::TOOLTIP_FILL;

/// The clusters of the current layout.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Clusters {
    /// Draw halos and labels.
    pub show: bool,
    /// Cluster of each point (`None`: noise), for the positions they were asked for.
    pub labels: Vec<Option<usize>>,
    /// Why there are none, when the compute side could not cluster.
    pub note: String,
}

impl Default for Clusters {
    fn default() -> Self {
        Clusters { show: true, labels: Vec::new(), note: String::new() }
    }
}

/// One cluster as drawn: where, how big, what its members average.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSummary {
    pub id: usize,
    pub size: usize,
    /// Mean of the members' places (inside the sphere).
    pub centroid: Vec3,
    /// Distance from the centroid to its farthest member.
    pub radius: f32,
    /// Mean of the mapped column over the members with a value.
    pub mean: f64,
}

/// Each cluster's summary, by id. A single cluster says nothing (the whole
/// population hangs together): no summaries then.
pub fn summaries(scene: &SphereScene, labels: &[Option<usize>], mapping: &ColorMapping) -> Vec<ClusterSummary> {
    let count = labels.iter().flatten().max().map_or(0, |m| m + 1);
    if count < 2 {
        return Vec::new();
    }
    let values = scene.columns.get(mapping.column).map(|c| c.values.as_slice()).unwrap_or(&[]);
    (0..count)
        .filter_map(|id| {
            let members: Vec<usize> = (0..labels.len().min(scene.len())).filter(|&i| labels[i] == Some(id)).collect();
            if members.is_empty() {
                return None;
            }
            let at = |i: usize| Vec3::from_array(scene.positions[i]);
            let centroid = members.iter().map(|&i| at(i)).sum::<Vec3>() / members.len() as f32;
            let radius = members.iter().map(|&i| at(i).distance(centroid)).fold(0.0, f32::max);
            let known: Vec<f64> = members.iter().filter_map(|&i| values.get(i).copied()).filter(|v| v.is_finite()).collect();
            let mean = if known.is_empty() { f64::NAN } else { known.iter().sum::<f64>() / known.len() as f64 };
            Some(ClusterSummary { id, size: members.len(), centroid, radius, mean })
        })
        .collect()
}

/// A ring around a cluster, lying on the sphere: centred where the
/// centroid's direction meets it, in the tangent plane there.
pub fn halo(summary: &ClusterSummary, margin: f32) -> Vec<Segment> {
    const SIDES: usize = 48;
    let normal = summary.centroid.normalize_or(Vec3::Y);
    let center = normal * summary.centroid.length().max(0.5);
    let u = normal.any_orthonormal_vector();
    let v = normal.cross(u);
    let r = summary.radius + margin;
    let color = Color::srgb_u8(HALO[0], HALO[1], HALO[2]).to_linear();
    let at = |k: usize| {
        let a = std::f32::consts::TAU * k as f32 / SIDES as f32;
        center + (u * a.cos() + v * a.sin()) * r
    };
    (0..SIDES).map(|k| Segment { start: at(k), end: at(k + 1), color }).collect()
}

#[derive(Component)]
struct Halos;

pub struct ClustersPlugin;

impl Plugin for ClustersPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Clusters>()
            .add_systems(Startup, spawn_halos)
            .add_systems(PreUpdate, apply_clusters.in_set(BridgeSystems::Apply))
            .add_systems(Update, (ask_clusters, draw_halos).chain())
            .add_panel_section(PanelSection::Clusters, clusters_section);
    }
}

/// Keeps the clusters the compute side found, or why it found none.
pub(crate) fn apply_clusters(mut computed: MessageReader<Computed>, mut clusters: ResMut<Clusters>) {
    for Computed(update) in computed.read() {
        if let SceneUpdate::Clusters(answer) = update {
            match answer.clone().into_result() {
                Some(Ok(labels)) => (clusters.labels, clusters.note) = (labels, String::new()),
                Some(Err(e)) => (clusters.labels, clusters.note) = (Vec::new(), e),
                None => {}
            }
        }
    }
}

/// The panel's line: how many clusters, shown or not, and why there are none.
fn clusters_section(InMut(ui): InMut<Ui>, mut clusters: ResMut<Clusters>) {
    let mut show = clusters.show;
    let count = clusters.labels.iter().flatten().max().map_or(0, |m| m + 1);
    ui.horizontal(|ui| {
        let plural = if count == 1 { "" } else { "s" };
        ui.checkbox(&mut show, format!("{count} cluster{plural} (DBSCAN)"));
        if !clusters.note.is_empty() {
            ui.weak(&clusters.note);
        }
    });
    if show != clusters.show {
        clusters.show = show;
    }
}

/// Each cluster's label beside its halo: id, size, and the mapped column's
/// mean (drawn with the panel, in its layer).
pub(crate) fn cluster_labels(
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
        // A chip: light text on the tooltip's fill, framed in the halo's
        // colour, so it reads over points and empty space alike.
        let galley = painter.layout_no_wrap(text, egui::FontId::proportional(13.0), Color32::from_rgb(235, 238, 245));
        let chip =
            egui::Rect::from_center_size(egui::pos2(at.x, at.y - galley.size().y / 2.0 - 3.0), galley.size() + egui::vec2(10.0, 4.0));
        painter.rect(chip, 4.0, rgb(TOOLTIP_FILL), egui::Stroke::new(1.0, rgb(HALO)), egui::StrokeKind::Outside);
        painter.galley(chip.center() - galley.size() / 2.0, galley, Color32::WHITE);
    }
    Ok(())
}

fn spawn_halos(mut commands: Commands, mut meshes: ResMut<Assets<Mesh>>, mut materials: ResMut<Assets<LinesMaterial>>) {
    commands.spawn((Halos, lines_bundle(meshes.add(lines_mesh(&[])), materials.add(LinesMaterial::new(1.5, 0.0)))));
}

/// Asks for clusters of every new layout (the first one included).
fn ask_clusters(
    scene: Res<ShownScene>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut asked: Local<Option<Vec<[f32; 3]>>>,
) {
    let Some(requests) = requests else { return };
    if asked.as_ref() == Some(&scene.positions) {
        return;
    }
    if requests.send(ViewRequest::Clusters { positions: scene.positions.clone() }, &mut pending) {
        *asked = Some(scene.positions.clone());
    }
}

fn draw_halos(
    clusters: Res<Clusters>,
    scene: Res<ShownScene>,
    mapping: Res<ColorMapping>,
    halos: Query<&Mesh3d, With<Halos>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    if !clusters.is_changed() && !scene.is_changed() {
        return;
    }
    let segments: Vec<Segment> = if clusters.show && clusters.labels.len() == scene.len() {
        let margin = 1.5 * point_radius(scene.len());
        summaries(&scene, &clusters.labels, &mapping).iter().flat_map(|s| halo(s, margin)).collect()
    } else {
        Vec::new()
    };
    for mesh in &halos {
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            *m = lines_mesh(&segments);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::MetricColumn;

    #[test]
    fn summaries_and_halos_follow_the_members() {
        let scene = SphereScene {
            labels: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            positions: vec![[1.0, 0.0, 0.0], [0.98, 0.2, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
            columns: vec![MetricColumn { name: "acc".into(), values: vec![0.5, 0.7, 0.9, f64::NAN] }],
            ..SphereScene::default()
        };
        assert!(summaries(&scene, &[Some(0), Some(0), Some(0), None], &ColorMapping::default()).is_empty(), "one cluster: no halo");
        let labels = [Some(0), Some(0), Some(1), None];
        let s = summaries(&scene, &labels, &ColorMapping::default());
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].size, s[0].mean), (2, 0.6));
        assert_eq!((s[1].size, s[1].mean, s[1].radius), (1, 0.9, 0.0));
        let ring = halo(&s[0], 0.05);
        assert_eq!(ring.len(), 48);
        // The ring lies in the plane tangent to the sphere at the cluster's direction.
        let normal = s[0].centroid.normalize();
        for seg in &ring {
            assert!((seg.start.dot(normal) - s[0].centroid.length()).abs() < 1e-4);
            assert!(((seg.start - normal * s[0].centroid.length()).length() - (s[0].radius + 0.05)).abs() < 1e-4);
        }
    }
}
