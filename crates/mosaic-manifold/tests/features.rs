use mosaic_manifold::features::class_separation;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let (u1, u2) = (rng.random::<f32>().max(1e-7), rng.random::<f32>());
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Two classes, means `gap` apart along the first axis, unit spread.
fn two_classes(gap: f32, n: usize, width: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
    let acts = labels.iter().flat_map(|&l| {
        let mut row: Vec<f32> = (0..width).map(|_| gaussian(&mut rng)).collect();
        row[0] += gap * l as f32;
        row
    });
    (acts.collect(), labels)
}

#[test]
fn class_separation_grows_with_the_gap_between_classes() {
    let seps: Vec<f64> = [0.0, 1.0, 4.0]
        .iter()
        .map(|&g| {
            let (a, l) = two_classes(g, 400, 3, 1);
            class_separation(&a, &l, 3).unwrap()
        })
        .collect();
    assert!(seps[0] < 0.02, "{seps:?}");
    assert!(seps[0] < seps[1] && seps[1] < seps[2], "{seps:?}");
    // Gap 4 along one of three unit axes: between/within = 4 / 3 (4 = (4/2)^2 per point, 3 = variance).
    assert!((seps[2] - 4.0 / 3.0).abs() < 0.15, "{}", seps[2]);
    assert!(class_separation(&[1.0; 5], &[0, 1], 2).is_err());
}

/// `n` points in `dims` dimensions, embedded in `width` columns (the rest zero).
fn cloud(n: usize, dims: usize, width: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).flat_map(|_| (0..width).map(|k| if k < dims { gaussian(&mut rng) } else { 0.0 }).collect::<Vec<_>>()).collect()
}

#[test]
fn diffusion_spectral_entropy_grows_with_intrinsic_dimension() {
    use mosaic_manifold::features::diffusion_spectral_entropy;
    let dse: Vec<f64> = [1, 2, 6].iter().map(|&d| diffusion_spectral_entropy(&cloud(200, d, 8, 3), 200, 8, 1).unwrap()).collect();
    assert!(dse[0] < dse[1] && dse[1] < dse[2], "{dse:?}");
    assert!(dse[2] <= (200f64).ln());
    // A dead layer: one eigenvalue, no entropy.
    assert!(diffusion_spectral_entropy(&[0.5; 40 * 3], 40, 3, 1).unwrap().abs() < 1e-9);
    // Diffusing longer forgets the small eigenvalues.
    let c = cloud(200, 6, 8, 3);
    assert!(diffusion_spectral_entropy(&c, 200, 8, 4).unwrap() < diffusion_spectral_entropy(&c, 200, 8, 1).unwrap());
    assert!(diffusion_spectral_entropy(&[f32::NAN; 12], 4, 3, 1).is_err());
}

#[test]
fn average_linkage_finds_the_levels_of_nested_groups() {
    use mosaic_manifold::cluster::{average_linkage, clusters_at_largest_gap};
    // Two groups 100 apart, each of two subgroups 10 apart, each of five points within 1.
    let mut pts = Vec::new();
    for g in [0.0, 100.0] {
        for s in [0.0, 10.0] {
            for p in 0..5 {
                pts.push(g + s + 0.2 * p as f64);
            }
        }
    }
    let n = pts.len();
    let d: Vec<f64> = (0..n * n).map(|k| (pts[k / n] - pts[k % n]).abs()).collect();
    let merges = average_linkage(&d, n);
    assert_eq!(merges.len(), n - 1);
    assert!(merges.windows(2).all(|w| w[0].height <= w[1].height), "heights never fall");
    assert_eq!(merges.last().unwrap().size, n);
    assert_eq!(clusters_at_largest_gap(&merges), 2);
    // The last merge joins the groups at their mean distance: 100 (subgroup offsets cancel).
    assert!((merges.last().unwrap().height - 100.0).abs() < 1e-9, "{}", merges.last().unwrap().height);
    // The subgroups merge at about 10, after every within-subgroup merge.
    assert!(merges[..16].iter().all(|m| m.height < 1.0) && (merges[16].height - 10.0).abs() < 1e-9);
    assert_eq!(clusters_at_largest_gap(&average_linkage(&[0.0, 1.0, 1.0, 0.0], 2)), 1);
}
