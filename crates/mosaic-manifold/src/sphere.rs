//! Placing an embedding on the architecture sphere.

/// The first three coordinates of an embedded point; an embedding of fewer
/// dimensions (fewer points or landmarks than that) is padded with zeros.
pub fn xyz(y: &[f64]) -> [f64; 3] {
    std::array::from_fn(|k| y.get(k).copied().unwrap_or(0.0))
}

/// Projects 3-D coordinates onto a sphere of radius `radius(i)` around their
/// centroid. Only the distance from the centre is discarded; the direction is
/// kept, so angular neighbourhoods of the embedding stay neighbourhoods on the
/// sphere and well-separated groups land on different sides of it.
pub fn project_to_sphere(coords: &[[f64; 3]], radius: impl Fn(usize) -> f64) -> Vec<[f64; 3]> {
    let n = coords.len().max(1) as f64;
    let mean: [f64; 3] = std::array::from_fn(|a| coords.iter().map(|c| c[a]).sum::<f64>() / n);
    coords
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let u: [f64; 3] = std::array::from_fn(|a| c[a] - mean[a]);
            let len = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
            // A point at the exact centre has no direction: put it on the
            // first axis rather than dividing by zero.
            let dir = if len > 1e-12 { u.map(|x| x / len) } else { [1.0, 0.0, 0.0] };
            dir.map(|x| x * radius(i))
        })
        .collect()
}
