// A loss surface: colour from the map at the height (passed in uv.x, 0 at
// the lowest loss, 1 at the highest), contour lines at even steps of height
// drawn with screen-space derivatives so they stay one pixel-ish wide at
// any zoom, and soft light so the shape reads. Grid points whose loss was
// not finite carry uv.y = 0 and are drawn grey.

#import bevy_pbr::forward_io::VertexOutput

struct SurfaceMaterial {
    // The colour map's ten stops, sRGB in [0, 1], evenly spaced over [0, 1].
    stops: array<vec4<f32>, 10>,
    // x: contour levels over the height range (0: none); y: contour darkening;
    // z: ambient light share.
    params: vec4<f32>,
};
@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> material: SurfaceMaterial;

const LIGHT_DIR: vec3<f32> = vec3(-0.4, 0.85, 0.35);
const NOT_FINITE: vec3<f32> = vec3(0.05, 0.05, 0.06);

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    return select(pow((c + 0.055) / 1.055, vec3(2.4)), c / 12.92, c <= vec3(0.04045));
}

// Interpolated in sRGB, as the legend and the points are (mosaic-core's colormap).
fn colormap(t: f32) -> vec3<f32> {
    let x = clamp(t, 0.0, 1.0) * 9.0;
    let i = min(u32(floor(x)), 8u);
    return srgb_to_linear(mix(material.stops[i].rgb, material.stops[i + 1u].rgb, x - f32(i)));
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let height = in.uv.x;
    var rgb = colormap(height);
    if in.uv.y < 0.5 {
        rgb = NOT_FINITE;
    }
    let levels = material.params.x;
    if levels > 0.0 {
        let v = height * levels;
        let f = fract(v);
        // Distance to the nearest contour, in pixels.
        let d = min(f, 1.0 - f) / max(fwidth(v), 1e-5);
        let line = 1.0 - clamp(d - 0.5, 0.0, 1.0);
        rgb = mix(rgb, rgb * material.params.y, line);
    }
    // Both faces are lit: the surface may be seen from below.
    let n = normalize(in.world_normal);
    let diffuse = abs(dot(n, normalize(LIGHT_DIR)));
    let ambient = material.params.z;
    return vec4(rgb * (ambient + (1.0 - ambient) * diffuse), 1.0);
}
