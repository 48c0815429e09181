//! Hover and selection: the point under the pointer, the selected network,
//! its nearest neighbours (drawn as lines) and the request that fetches its
//! details and landscape.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use crate::bridge::{ComputeRequests, Pending, ViewRequest};
use crate::inspect::{Inspection, LandscapeState};
use crate::lines::{LinesMaterial, Segment, lines_bundle, lines_mesh};
use crate::scene::{ShownScene, SphereScene};
use crate::sphere_view::point_radius;
use crate::ui::UiInput;

/// The selected network (by index), and the one a path runs to from it
/// (Shift+click).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub selected: Option<usize>,
    pub path_to: Option<usize>,
}

/// The network under the pointer, kept apart from [`Selection`] so that
/// moving the pointer does not restyle the point cloud.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Hovered(pub Option<usize>);

/// The selected network's nearest neighbours on the sphere.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Neighbours {
    /// How many to show.
    pub k: usize,
    pub list: Vec<usize>,
}

impl Default for Neighbours {
    fn default() -> Self {
        Neighbours { k: 5, list: Vec::new() }
    }
}

pub use mosaic_core::theme::LINK;

/// A click is a press and release this close together (logical pixels);
/// anything longer is a drag of the orbit camera.
const CLICK_SLOP: f32 = 4.0;

pub struct SelectionPlugin {
    /// Selected at start (e.g. `--select`).
    pub initial: Option<usize>,
    /// The path's other end at start (e.g. `--path-to`).
    pub path_to: Option<usize>,
}

impl Plugin for SelectionPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Selection { selected: self.initial, path_to: self.path_to })
            .init_resource::<Hovered>()
            .init_resource::<Neighbours>()
            .init_resource::<PressedAt>()
            .add_systems(Startup, spawn_links)
            .add_systems(Update, (pick_with_pointer, clear_with_escape, follow_selection, draw_links).chain());
    }
}

/// The `k` points nearest to point `of` (Euclidean, in sphere space), nearest first.
pub fn nearest(positions: &[[f32; 3]], of: usize, k: usize) -> Vec<usize> {
    let Some(origin) = positions.get(of).map(|p| Vec3::from_array(*p)) else {
        return Vec::new();
    };
    let mut by_distance: Vec<(f32, usize)> =
        positions.iter().enumerate().filter(|(i, _)| *i != of).map(|(i, p)| (origin.distance_squared(Vec3::from_array(*p)), i)).collect();
    let k = k.min(by_distance.len());
    if k == 0 {
        return Vec::new();
    }
    by_distance.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    by_distance.truncate(k);
    by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    by_distance.into_iter().map(|(_, i)| i).collect()
}

/// The point drawn under `cursor` (logical pixels in the camera's target):
/// of the discs containing it, the nearest to the camera.
pub fn point_under(camera: &Camera, transform: &GlobalTransform, positions: &[[f32; 3]], radius: f32, cursor: Vec2) -> Option<usize> {
    let rect = camera.logical_viewport_rect()?;
    if !rect.contains(cursor) {
        return None;
    }
    let clip_from_world = camera.clip_from_view() * transform.to_matrix().inverse();
    // Pixels per world unit at unit depth, vertically.
    let focal = camera.clip_from_view().y_axis.y * rect.height() / 2.0;
    let mut best: Option<(f32, usize)> = None;
    for (i, p) in positions.iter().enumerate() {
        let clip = clip_from_world * Vec3::from_array(*p).extend(1.0);
        if clip.w <= 0.0 {
            continue; // behind the camera
        }
        let ndc = clip.truncate() / clip.w;
        let screen = Vec2::new((ndc.x + 1.0) / 2.0 * rect.width() + rect.min.x, (1.0 - ndc.y) / 2.0 * rect.height() + rect.min.y);
        let r = radius * focal / clip.w;
        if screen.distance_squared(cursor) <= r * r && best.is_none_or(|(w, _)| clip.w < w) {
            best = Some((clip.w, i));
        }
    }
    best.map(|(_, i)| i)
}

/// Where the left button went down, to tell a click from a drag.
#[derive(Resource, Default)]
struct PressedAt(Option<Vec2>);

#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource it reads
fn pick_with_pointer(
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    ui: Res<UiInput>,
    scene: Res<ShownScene>,
    mut pressed: ResMut<PressedAt>,
    mut hovered_now: ResMut<Hovered>,
    mut selection: ResMut<Selection>,
) {
    let (Ok(window), Ok((camera, transform))) = (windows.single(), cameras.single()) else {
        return;
    };
    let over_ui = ui.pointer;
    let cursor = window.cursor_position().filter(|_| !over_ui);
    let hovered = cursor.and_then(|c| point_under(camera, transform, &scene.positions, point_radius(scene.len()), c));
    if hovered_now.0 != hovered {
        hovered_now.0 = hovered;
    }
    if buttons.just_pressed(MouseButton::Left) {
        pressed.0 = cursor;
    }
    if buttons.just_released(MouseButton::Left) {
        let was_click = matches!((pressed.0.take(), cursor), (Some(a), Some(b)) if a.distance(b) <= CLICK_SLOP);
        let shift = keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
        if was_click && shift && selection.selected.is_some() && hovered != selection.selected {
            // Shift+click: the path from the selection to this network.
            selection.path_to = hovered;
        } else if was_click && selection.selected != hovered {
            *selection = Selection { selected: hovered, path_to: None };
        }
    }
}

fn clear_with_escape(keys: Res<ButtonInput<KeyCode>>, ui: Res<UiInput>, mut selection: ResMut<Selection>) {
    let typing = ui.typing;
    if !typing && keys.just_pressed(KeyCode::Escape) && selection.selected.is_some() {
        // First the path, then the selection.
        if selection.path_to.is_some() {
            selection.path_to = None;
        } else {
            selection.selected = None;
        }
    }
}

/// On a new selection: find its neighbours, reset the inspector and ask
/// compute for the network's details and landscape.
fn follow_selection(
    selection: Res<Selection>,
    scene: Res<ShownScene>,
    requests: Option<Res<ComputeRequests>>,
    mut pending: ResMut<Pending>,
    mut neighbours: ResMut<Neighbours>,
    mut inspection: ResMut<Inspection>,
) {
    let selected = selection.selected.filter(|&i| i < scene.len());
    if inspection.index != selected {
        *inspection = Inspection { index: selected, details: None, landscape: LandscapeState::None };
        if let (Some(index), Some(requests)) = (selected, &requests) {
            inspection.landscape = if requests.send(ViewRequest::Inspect { index }, &mut pending) {
                LandscapeState::Loading("asking for the landscape…".into())
            } else {
                LandscapeState::Failed("the compute service has stopped".into())
            };
        }
    }
    let list = selected.map_or_else(Vec::new, |i| nearest(&scene.positions, i, neighbours.k));
    if neighbours.list != list {
        neighbours.list = list;
    }
}

/// Marks the entity drawing the neighbour links.
#[derive(Component)]
pub struct NeighbourLinks;

fn spawn_links(mut commands: Commands, mut meshes: ResMut<Assets<Mesh>>, mut materials: ResMut<Assets<LinesMaterial>>) {
    let mesh = meshes.add(lines_mesh(&[]));
    commands.spawn((NeighbourLinks, lines_bundle(mesh, materials.add(LinesMaterial::new(2.0, 0.0)))));
}

/// The links from the selection to its neighbours, as segments.
pub fn link_segments(scene: &SphereScene, selection: &Selection, neighbours: &Neighbours) -> Vec<Segment> {
    let Some(from) = selection.selected.and_then(|i| scene.positions.get(i)) else {
        return Vec::new();
    };
    let color = Color::srgb_u8(LINK[0], LINK[1], LINK[2]).to_linear();
    neighbours
        .list
        .iter()
        .filter_map(|&j| scene.positions.get(j))
        .map(|to| Segment { start: Vec3::from_array(*from), end: Vec3::from_array(*to), color })
        .collect()
}

fn draw_links(
    scene: Res<ShownScene>,
    selection: Res<Selection>,
    neighbours: Res<Neighbours>,
    links: Query<&Mesh3d, With<NeighbourLinks>>,
    mut meshes: ResMut<Assets<Mesh>>,
) {
    if !(neighbours.is_changed() || scene.is_changed() || selection.is_changed()) {
        return;
    }
    for mesh in &links {
        if let Some(mut m) = meshes.get_mut(&mesh.0) {
            *m = lines_mesh(&link_segments(&scene, &selection, &neighbours));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::camera::CameraProjection;

    #[test]
    fn nearest_neighbours_are_sorted_and_exclude_the_point_itself() {
        let positions = [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [-0.5, 0.0, 0.0]];
        assert_eq!(nearest(&positions, 0, 3), vec![4, 2, 3]);
        assert_eq!(nearest(&positions, 0, 10), vec![4, 2, 3, 1], "k beyond the population gives everyone else");
        assert_eq!(nearest(&positions, 9, 3), Vec::<usize>::new(), "an unknown point has no neighbours");
    }

    #[test]
    fn the_pointer_picks_the_nearest_disc_under_it() {
        // Camera math without a renderer: a camera at z = 5 looking at the origin.
        let mut camera = Camera::default();
        let projection = PerspectiveProjection { fov: 40f32.to_radians(), aspect_ratio: 1.0, ..default() };
        camera.computed.clip_from_view = projection.get_clip_from_view();
        camera.computed.target_info = Some(bevy::camera::RenderTargetInfo { physical_size: UVec2::new(400, 400), scale_factor: 1.0 });
        let transform = GlobalTransform::from(Transform::from_xyz(0.0, 0.0, 5.0).looking_at(Vec3::ZERO, Vec3::Y));
        // Two points on the line of sight through the centre, one nearer; one off to the side.
        let positions = [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
        assert_eq!(point_under(&camera, &transform, &positions, 0.1, Vec2::new(200.0, 200.0)), Some(1), "the nearer disc wins");
        let side = camera.world_to_viewport(&transform, Vec3::X).unwrap();
        assert_eq!(point_under(&camera, &transform, &positions, 0.1, side + Vec2::new(2.0, 0.0)), Some(2));
        assert_eq!(point_under(&camera, &transform, &positions, 0.1, Vec2::new(20.0, 20.0)), None, "empty space picks nothing");
    }
}
