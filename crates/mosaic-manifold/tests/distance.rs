//! Representation distances: what should not matter does not, what should does.

use mosaic_manifold::distance::{operator_distances, representation_operator};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cloud(points: usize, width: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..points * width).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn operators_are_row_stochastic() {
    let p = representation_operator(&cloud(30, 4, 1), 30, 4).unwrap();
    for i in 0..30 {
        let sum: f32 = p[i * 30..(i + 1) * 30].iter().sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
}

#[test]
fn scale_rotation_and_width_do_not_change_the_operator() {
    let (n, w) = (40, 3);
    let a = cloud(n, w, 2);
    let base = representation_operator(&a, n, w).unwrap();
    // Scaled: the median bandwidth scales with it.
    let scaled: Vec<f32> = a.iter().map(|x| 7.5 * x).collect();
    assert!(max_diff(&base, &representation_operator(&scaled, n, w).unwrap()) < 1e-5);
    // Rotated in the first two axes: distances are unchanged.
    let (c, s) = (0.6f32, 0.8f32);
    let rotated: Vec<f32> = (0..n)
        .flat_map(|i| {
            let r = &a[i * w..(i + 1) * w];
            [c * r[0] - s * r[1], s * r[0] + c * r[1], r[2]]
        })
        .collect();
    assert!(max_diff(&base, &representation_operator(&rotated, n, w).unwrap()) < 1e-5);
    // A wider layer holding the same representation plus dead units.
    let wide: Vec<f32> = (0..n).flat_map(|i| a[i * w..(i + 1) * w].iter().copied().chain([0.0; 5])).collect();
    let wide_op = representation_operator(&wide, n, w + 5).unwrap();
    let d = operator_distances(&[base.clone(), wide_op]).unwrap();
    assert!(d[(0, 1)] < 1e-4, "same function, different width: {}", d[(0, 1)]);
}

#[test]
fn different_representations_are_apart_and_distances_are_a_metric() {
    let n = 25;
    let ops: Vec<Vec<f32>> = (0..4).map(|s| representation_operator(&cloud(n, 3, 10 + s), n, 3).unwrap()).collect();
    let d = operator_distances(&ops).unwrap();
    for i in 0..4 {
        assert_eq!(d[(i, i)], 0.0);
        for j in 0..4 {
            assert!((d[(i, j)] - d[(j, i)]).abs() < 1e-9);
            if i != j {
                assert!(d[(i, j)] > 1e-3);
                // Matches the plain Frobenius norm.
                let direct: f64 = ops[i].iter().zip(&ops[j]).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>().sqrt();
                assert!((d[(i, j)] - direct).abs() < 1e-6 * direct.max(1.0));
            }
            for k in 0..4 {
                assert!(d[(i, k)] <= d[(i, j)] + d[(j, k)] + 1e-9);
            }
        }
    }
}

#[test]
fn a_dead_layer_gets_the_uniform_operator_and_bad_input_is_refused() {
    let dead = representation_operator(&[0.3; 10 * 4], 10, 4).unwrap();
    assert!(dead.iter().all(|p| (p - 0.1).abs() < 1e-6));
    assert!(representation_operator(&[1.0; 7], 2, 4).is_err());
    let mut nan = cloud(5, 2, 0);
    nan[3] = f32::NAN;
    assert!(representation_operator(&nan, 5, 2).is_err());
    assert!(operator_distances(&[vec![0.0; 4], vec![0.0; 9]]).is_err());
}
