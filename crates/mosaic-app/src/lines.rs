//! Line segments of constant on-screen width (neighbour links, trajectories,
//! frames): each set of segments is one mesh drawn by one material.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::camera::visibility::NoFrustumCulling;
use bevy::mesh::{Indices, MeshVertexAttribute, MeshVertexBufferLayoutRef, PrimitiveTopology, VertexFormat};
use bevy::pbr::{MaterialPipeline, MaterialPipelineKey};
use bevy::prelude::*;
use bevy::render::render_resource::{AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError};
use bevy::shader::ShaderRef;

pub const LINES_SHADER: Handle<Shader> = uuid_handle!("8b3e1d52-4f0a-4a7c-9e2d-6c1f0b7a5e33");

const ATTR_START: MeshVertexAttribute = MeshVertexAttribute::new("Line_Start", 0x6d6f_7361_0101, VertexFormat::Float32x3);
const ATTR_END: MeshVertexAttribute = MeshVertexAttribute::new("Line_End", 0x6d6f_7361_0102, VertexFormat::Float32x3);
const ATTR_CORNER: MeshVertexAttribute = MeshVertexAttribute::new("Line_Corner", 0x6d6f_7361_0103, VertexFormat::Float32x2);
const ATTR_COLOR: MeshVertexAttribute = MeshVertexAttribute::new("Line_Color", 0x6d6f_7361_0104, VertexFormat::Float32x4);

/// How a set of lines is drawn (see `shaders/lines.wgsl`).
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct LinesMaterial {
    /// x: width in physical pixels; y: depth bias toward the camera, so a
    /// line lying on a surface is not hidden by it.
    #[uniform(0)]
    pub params: Vec4,
}

impl LinesMaterial {
    pub fn new(width_px: f32, depth_bias: f32) -> Self {
        LinesMaterial { params: Vec4::new(width_px, depth_bias, 0.0, 0.0) }
    }
}

impl Material for LinesMaterial {
    fn vertex_shader() -> ShaderRef {
        ShaderRef::Handle(LINES_SHADER)
    }
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(LINES_SHADER)
    }
    // As for points: no standard position attribute for prepass or shadows.
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
            ATTR_START.at_shader_location(0),
            ATTR_END.at_shader_location(1),
            ATTR_CORNER.at_shader_location(2),
            ATTR_COLOR.at_shader_location(3),
        ])?];
        descriptor.primitive.cull_mode = None;
        Ok(())
    }
}

/// One segment: from, to, linear RGB colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub start: Vec3,
    pub end: Vec3,
    pub color: LinearRgba,
}

/// The segments joining consecutive points of a path.
pub fn polyline(points: &[Vec3], color: LinearRgba) -> Vec<Segment> {
    points.windows(2).map(|w| Segment { start: w[0], end: w[1], color }).collect()
}

/// One mesh holding every segment as a quad. No segments still make one
/// quad, of zero length and so zero area (it draws nothing): the renderer
/// cannot allocate an empty mesh, and logs a use-after-free error for each
/// empty upload.
pub fn lines_mesh(segments: &[Segment]) -> Mesh {
    const CORNERS: [[f32; 2]; 4] = [[0.0, -1.0], [1.0, -1.0], [1.0, 1.0], [0.0, 1.0]];
    const NOTHING: [Segment; 1] = [Segment { start: Vec3::ZERO, end: Vec3::ZERO, color: LinearRgba::NONE }];
    let segments = if segments.is_empty() { &NOTHING[..] } else { segments };
    let n = segments.len();
    let (mut starts, mut ends, mut corners, mut colors) =
        (Vec::with_capacity(4 * n), Vec::with_capacity(4 * n), Vec::with_capacity(4 * n), Vec::with_capacity(4 * n));
    let mut indices = Vec::with_capacity(6 * n);
    for (i, s) in segments.iter().enumerate() {
        for corner in CORNERS {
            starts.push(s.start.to_array());
            ends.push(s.end.to_array());
            corners.push(corner);
            colors.push(s.color.to_f32_array());
        }
        let b = 4 * i as u32;
        indices.extend_from_slice(&[b, b + 1, b + 2, b, b + 2, b + 3]);
    }
    Mesh::new(PrimitiveTopology::TriangleList, RenderAssetUsages::default())
        .with_inserted_attribute(ATTR_START, starts)
        .with_inserted_attribute(ATTR_END, ends)
        .with_inserted_attribute(ATTR_CORNER, corners)
        .with_inserted_attribute(ATTR_COLOR, colors)
        .with_inserted_indices(Indices::U32(indices))
}

/// Bundle parts for a set of lines (never frustum-culled: the mesh has no
/// standard position attribute to bound).
pub fn lines_bundle(mesh: Handle<Mesh>, material: Handle<LinesMaterial>) -> impl Bundle {
    (Mesh3d(mesh), MeshMaterial3d(material), Transform::IDENTITY, NoFrustumCulling)
}

pub struct LinesPlugin;

impl Plugin for LinesPlugin {
    fn build(&self, app: &mut App) {
        crate::points::embed_shader(app, &LINES_SHADER, include_str!("../../../shaders/lines.wgsl"), "shaders/lines.wgsl");
        app.add_plugins(MaterialPlugin::<LinesMaterial>::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_segments_still_make_a_mesh_the_renderer_can_allocate() {
        let empty = lines_mesh(&[]);
        assert_eq!(empty.count_vertices(), 4);
        assert!(empty.get_vertex_buffer_size() > 0 && empty.get_index_buffer_bytes().is_some_and(|b| !b.is_empty()));
        // Its one segment has no length: its quad has no area.
        let Some(bevy::mesh::VertexAttributeValues::Float32x3(starts)) = empty.attribute(ATTR_START) else { panic!("no starts") };
        let Some(bevy::mesh::VertexAttributeValues::Float32x3(ends)) = empty.attribute(ATTR_END) else { panic!("no ends") };
        assert_eq!(starts, ends);
        let one = Segment { start: Vec3::ZERO, end: Vec3::X, color: LinearRgba::WHITE };
        assert_eq!(lines_mesh(&[one, one]).count_vertices(), 8);
    }
}
