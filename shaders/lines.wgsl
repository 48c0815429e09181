// Line segments of constant on-screen width: every segment is a quad (4
// vertices) whose corners are pushed apart in screen space, so a line is as
// wide at the far side of the sphere as at the near side. All segments of a
// set are one mesh, one draw.

#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::mesh_functions::get_world_from_local

struct LinesMaterial {
    // x: width in physical pixels; y: depth bias toward the camera (clip units).
    params: vec4<f32>,
};
@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> material: LinesMaterial;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) start: vec3<f32>,
    @location(1) end: vec3<f32>,
    // x: 0 at the start, 1 at the end; y: -1 or +1, the side of the line.
    @location(2) corner: vec2<f32>,
    @location(3) color: vec4<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vertex(v: Vertex) -> VertexOut {
    let world_from_local = get_world_from_local(v.instance_index);
    let a = view.clip_from_world * world_from_local * vec4(v.start, 1.0);
    let b = view.clip_from_world * world_from_local * vec4(v.end, 1.0);
    let size = view.viewport.zw;
    // The segment's direction in pixels (aspect-correct), and its normal.
    var along = b.xy / b.w * size - a.xy / a.w * size;
    if dot(along, along) < 1e-12 {
        along = vec2(1.0, 0.0);
    }
    let dir = normalize(along);
    let normal = vec2(-dir.y, dir.x);
    var clip = mix(a, b, v.corner.x);
    // Half the width on each side: one pixel is 2 / size in NDC.
    clip = vec4(clip.xy + normal * v.corner.y * material.params.x / size * clip.w, clip.z + material.params.y * clip.w, clip.w);
    var out: VertexOut;
    out.clip = clip;
    out.color = v.color;
    return out;
}

@fragment
fn fragment(in: VertexOut) -> @location(0) vec4<f32> {
    return vec4(in.color.rgb, 1.0);
}
