// Architecture points as lit sphere impostors: every point is a camera-facing
// quad (4 vertices) in ONE mesh, so the whole population is one draw call.
// Alpha in the colour picks a ring: the selection's, a neighbour's, or the
// mark of a run that diverged.
// The fragment stage turns the quad into a shaded sphere with an outline and
// writes the sphere's true depth, so overlapping points occlude correctly.

#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::mesh_functions::get_world_from_local

struct PointsMaterial {
    outline_color: vec4<f32>,
    // Ring of the selected point, of its neighbours, of diverged runs.
    ring_color: vec4<f32>,
    neighbour_color: vec4<f32>,
    diverged_color: vec4<f32>,
    // x: outline width as a fraction of the radius; y: ambient light share;
    // z: ring width as a fraction of the radius.
    params: vec4<f32>,
};
@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> material: PointsMaterial;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) center: vec3<f32>,
    @location(1) corner: vec2<f32>,
    @location(2) color: vec4<f32>,
    @location(3) radius: f32,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) corner: vec2<f32>,
    @location(1) color: vec4<f32>,
    @location(2) center_view: vec3<f32>,
    @location(3) radius: f32,
};

@vertex
fn vertex(v: Vertex) -> VertexOut {
    let world = get_world_from_local(v.instance_index) * vec4(v.center, 1.0);
    let center_view = (view.view_from_world * world).xyz;
    // Billboard: offset the corner in view space, so the quad always faces the camera.
    let p = center_view + vec3(v.corner * v.radius, 0.0);
    var out: VertexOut;
    out.clip = view.clip_from_view * vec4(p, 1.0);
    out.corner = v.corner;
    out.color = v.color;
    out.center_view = center_view;
    out.radius = v.radius;
    return out;
}

struct FragmentOut {
    @location(0) color: vec4<f32>,
    @builtin(frag_depth) depth: f32,
};

// Light from above-left of the camera; a point's own colour shows unchanged
// where the surface faces the light (ambient + diffuse = 1 there).
const LIGHT_DIR: vec3<f32> = vec3(-0.35, 0.5, 0.79);

@fragment
fn fragment(in: VertexOut) -> FragmentOut {
    let d2 = dot(in.corner, in.corner);
    if d2 > 1.0 {
        discard;
    }
    let normal = vec3(in.corner, sqrt(1.0 - d2));
    let ambient = material.params.y;
    let diffuse = max(dot(normal, normalize(LIGHT_DIR)), 0.0);
    var rgb = in.color.rgb * (ambient + (1.0 - ambient) * diffuse);
    // Alpha tells the ring: 0 selected, 0.25 diverged, 0.5 neighbour, 1 none (the dark outline).
    let r = sqrt(d2);
    if in.color.a < 0.75 && r > 1.0 - material.params.z {
        if in.color.a < 0.125 {
            rgb = material.ring_color.rgb;
        } else if in.color.a < 0.375 {
            rgb = material.diverged_color.rgb;
        } else {
            rgb = material.neighbour_color.rgb;
        }
    } else if r > 1.0 - material.params.x {
        rgb = material.outline_color.rgb;
    }
    // Depth of the sphere's surface, not of the flat quad (reverse-Z clip space).
    let surface = view.clip_from_view * vec4(in.center_view + normal * in.radius, 1.0);
    var out: FragmentOut;
    out.color = vec4(rgb, 1.0);
    // Clamped: a point cut by the near plane must not write an invalid depth.
    out.depth = clamp(surface.z / surface.w, 0.0, 1.0);
    return out;
}
