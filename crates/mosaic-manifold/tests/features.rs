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
    let seps: Vec<f64> = [0.0, 1.0, 4.0].iter().map(|&g| {
        let (a, l) = two_classes(g, 400, 3, 1);
        class_separation(&a, &l, 3).unwrap()
    }).collect();
    assert!(seps[0] < 0.02, "{seps:?}");
    assert!(seps[0] < seps[1] && seps[1] < seps[2], "{seps:?}");
    // Gap 4 along one of three unit axes: between/within = 4 / 3 (4 = (4/2)^2 per point, 3 = variance).
    assert!((seps[2] - 4.0 / 3.0).abs() < 0.15, "{}", seps[2]);
    assert!(class_separation(&[1.0; 5], &[0, 1], 2).is_err());
}
