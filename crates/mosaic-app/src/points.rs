//! The point cloud: all architectures in one mesh, drawn by one material.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, MeshVertexAttribute, MeshVertexBufferLayoutRef, PrimitiveTopology, VertexFormat};
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError};
use bevy::shader::ShaderRef;

use crate::selection::LINK;

pub const POINTS_SHADER: Handle<Shader> = uuid_handle!("5d0c7f3e-9b1a-4c2e-8f61-2a7d3b9e4c10");

const ATTR_CENTER: MeshVertexAttribute = MeshVertexAttribute::new("Point_Center", 0x6d6f_7361_0001, VertexFormat::Float32x3);
const ATTR_CORNER: MeshVertexAttribute = MeshVertexAttribute::new("Point_Corner", 0x6d6f_7361_0002, VertexFormat::Float32x2);
const ATTR_COLOR: MeshVertexAttribute = MeshVertexAttribute::new("Point_Color", 0x6d6f_7361_0003, VertexFormat::Float32x4);
const ATTR_RADIUS: MeshVertexAttribute = MeshVertexAttribute::new("Point_Radius", 0x6d6f_7361_0004, VertexFormat::Float32);

pub use mosaic_core::theme::{DIVERGED, RING};

/// Shading of the sphere impostors (see `shaders/points.wgsl`).
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct PointsMaterial {
    #[uniform(0)]
    pub outline_color: LinearRgba,
    /// Ring of the selected point.
    #[uniform(0)]
    pub ring_color: LinearRgba,
    /// Ring of the selection's neighbours.
    #[uniform(0)]
    pub neighbour_color: LinearRgba,
    /// Ring of runs that diverged.
    #[uniform(0)]
    pub diverged_color: LinearRgba,
    /// x: outline width as a fraction of the radius; y: ambient light share;
    /// z: ring width as a fraction of the radius.
    #[uniform(0)]
    pub params: Vec4,
}

impl Default for PointsMaterial {
    fn default() -> Self {
        PointsMaterial {
            outline_color: LinearRgba::rgb(0.004, 0.005, 0.01),
            ring_color: Color::srgb_u8(RING[0], RING[1], RING[2]).to_linear(),
            neighbour_color: Color::srgb_u8(LINK[0], LINK[1], LINK[2]).to_linear(),
            diverged_color: Color::srgb_u8(DIVERGED[0], DIVERGED[1], DIVERGED[2]).to_linear(),
            params: Vec4::new(0.14, 0.35, 0.3, 0.0),
        }
    }
}

impl Material for PointsMaterial {
    fn vertex_shader() -> ShaderRef {
        ShaderRef::Handle(POINTS_SHADER)
    }
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(POINTS_SHADER)
    }
    // The prepass and shadow pipelines would use Bevy's default vertex shader,
    // which expects the standard position attribute this mesh does not have.
    fn enable_prepass() -> bool {
        false
    }
    fn enable_shadows() -> bool {
        false
    }
    fn specialize(
        _pipeline: &MaterialPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        layout: &MeshVertexBufferLayoutRef,
        _key: MaterialPipelineKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        descriptor.vertex.buffers = vec![layout.0.get_layout(&[
            ATTR_CENTER.at_shader_location(0),
            ATTR_CORNER.at_shader_location(1),
            ATTR_COLOR.at_shader_location(2),
            ATTR_RADIUS.at_shader_location(3),
        ])?];
        // Quads face the camera by construction; never cull them.
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

/// One point to draw: where, what colour (linear RGB), how big, and
/// which ring it wears.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointInstance {
    pub center: Vec3,
    pub color: LinearRgba,
    pub radius: f32,
    pub ring: Ring,
}

/// A ring around a point, in place of its dark outline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ring {
    #[default]
    None,
    /// The selected network (or a marker that must stand out): [`RING`].
    Selected,
    /// A neighbour of the selection: [`crate::selection::LINK`].
    Neighbour,
    /// A run whose training diverged: [`DIVERGED`].
    Diverged,
}

impl PointInstance {
    /// The colour attribute: the alpha channel tells the shader the ring
    /// (points are opaque, so alpha is free).
    fn color_attribute(&self) -> [f32; 4] {
        let [r, g, b, _] = self.color.to_f32_array();
        let ring = match self.ring {
            Ring::None => 1.0,
            Ring::Neighbour => 0.5,
            Ring::Diverged => 0.25,
            Ring::Selected => 0.0,
        };
        [r, g, b, ring]
    }
}

/// Builds the single mesh holding every point as a quad.
pub fn point_cloud_mesh(points: &[PointInstance]) -> Mesh {
    const CORNERS: [[f32; 2]; 4] = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]];
    // No points still make one, of radius zero (it draws nothing): the
    // renderer cannot allocate an empty mesh (see `lines::lines_mesh`).
    const NOTHING: [PointInstance; 1] = [PointInstance { center: Vec3::ZERO, color: LinearRgba::NONE, radius: 0.0, ring: Ring::None }];
    let points = if points.is_empty() { &NOTHING[..] } else { points };
    let n = points.len();
    let mut centers = Vec::with_capacity(4 * n);
    let mut corners = Vec::with_capacity(4 * n);
    let mut colors = Vec::with_capacity(4 * n);
    let mut radii = Vec::with_capacity(4 * n);
    let mut indices = Vec::with_capacity(6 * n);
    for (i, p) in points.iter().enumerate() {
        for corner in CORNERS {
            centers.push(p.center.to_array());
            corners.push(corner);
            colors.push(p.color_attribute());
            radii.push(p.radius);
        }
        let b = 4 * i as u32;
        indices.extend_from_slice(&[b, b + 1, b + 2, b, b + 2, b + 3]);
    }
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
        .with_inserted_attribute(ATTR_CENTER, centers)
        .with_inserted_attribute(ATTR_CORNER, corners)
        .with_inserted_attribute(ATTR_COLOR, colors)
        .with_inserted_attribute(ATTR_RADIUS, radii)
        .with_inserted_indices(Indices::U32(indices))
}

/// Rewrites the colours and radii of a cloud built by [`point_cloud_mesh`]
/// for the same points, leaving positions and indices alone.
pub fn set_point_style(mesh: &mut Mesh, points: &[PointInstance]) {
    let colors: Vec<[f32; 4]> = points.iter().flat_map(|p| [p.color_attribute(); 4]).collect();
    let radii: Vec<f32> = points.iter().flat_map(|p| [p.radius; 4]).collect();
    mesh.insert_attribute(ATTR_COLOR, colors);
    mesh.insert_attribute(ATTR_RADIUS, radii);
}

/// Moves the points of a cloud built by [`point_cloud_mesh`] (same points,
/// same order), leaving the rest alone.
pub fn set_point_centers(mesh: &mut Mesh, centers: &[[f32; 3]]) {
    let corners: Vec<[f32; 3]> = centers.iter().flat_map(|c| [*c; 4]).collect();
    mesh.insert_attribute(ATTR_CENTER, corners);
}

/// Registers the embedded shader and the material.
pub struct PointCloudPlugin;

impl Plugin for PointCloudPlugin {
    fn build(&self, app: &mut App) {
        embed_shader(app, &POINTS_SHADER, include_str!("../../../shaders/points.wgsl"), "shaders/points.wgsl");
        app.add_plugins(MaterialPlugin::<PointsMaterial>::default());
    }
}

/// Registers a WGSL file compiled into the binary under a fixed handle, so
/// the app needs no asset folder at run time.
pub fn embed_shader(app: &mut App, handle: &Handle<Shader>, source: &'static str, path: &'static str) {
    app.world_mut()
        .resource_mut::<Assets<Shader>>()
        .insert(handle, Shader::from_wgsl(source, path))
        .expect("each shader handle is used once");
}

/// Marks the entity that carries the point-cloud mesh.
#[derive(Component)]
pub struct PointCloud;

/// Bundle parts for a point-cloud entity. Points are never frustum-culled as
/// a whole: the mesh has no standard position attribute to bound.
pub fn point_cloud_bundle(mesh: Handle<Mesh>, material: Handle<PointsMaterial>) -> impl Bundle {
    (PointCloud, Mesh3d(mesh), MeshMaterial3d(material), Transform::IDENTITY, NoFrustumCulling)
}
