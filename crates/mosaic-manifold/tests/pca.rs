use mosaic_manifold::pca::symmetric_eigen;
use mosaic_manifold::{ManifoldError, Pca, balance_blocks, project_to_sphere, sphere_layout};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Points stretched along known orthogonal axes, with known variances.
fn anisotropic_cloud(n: usize, sds: &[f64], seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Rotate the axes by 30 degrees in the (0, 1) plane so PCA has work to do.
    let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    (0..n)
        .map(|_| {
            let mut x: Vec<f64> = sds.iter().map(|sd| sd * (rng.random::<f64>() - 0.5) * 12f64.sqrt()).collect();
            let (a, b) = (x[0], x[1]);
            x[0] = c * a - s * b + 5.0;
            x[1] = s * a + c * b - 2.0;
            x
        })
        .collect()
}

#[test]
fn pca_recovers_rotated_axes_and_variances() {
    let data = anisotropic_cloud(20_000, &[3.0, 1.0, 0.2], 1);
    let pca = Pca::fit(&data, 3).unwrap();
    let axis = &pca.components[0];
    let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    assert!((axis[0] - c).abs() < 0.01 && (axis[1] - s).abs() < 0.01, "{axis:?}");
    for (got, sd) in pca.variances.iter().zip([3.0f64, 1.0, 0.2]) {
        assert!((got / (sd * sd) - 1.0).abs() < 0.05, "variance {got} vs {}", sd * sd);
    }
    let ratio: f64 = pca.explained_variance_ratio().iter().sum();
    assert!((ratio - 1.0).abs() < 1e-9);
    assert!((pca.mean[0] - 5.0).abs() < 0.05 && (pca.mean[1] + 2.0).abs() < 0.05);
}

#[test]
fn pca_rejects_bad_input() {
    assert_eq!(Pca::fit(&[vec![1.0]], 1).unwrap_err(), ManifoldError::TooFewPoints { needed: 2, got: 1 });
    let ragged = vec![vec![1.0, 2.0], vec![1.0]];
    assert_eq!(Pca::fit(&ragged, 1).unwrap_err(), ManifoldError::RaggedRows { row: 1, len: 1, expected: 2 });
    let nan = vec![vec![1.0, 2.0], vec![f64::NAN, 0.0]];
    assert_eq!(Pca::fit(&nan, 1).unwrap_err(), ManifoldError::NonFinite { row: 1 });
}

proptest! {
    #[test]
    fn jacobi_reconstructs_symmetric_matrices(entries in proptest::collection::vec(-10.0f64..10.0, 36)) {
        let n = 6;
        let a: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| entries[i.min(j) * n + i.max(j)]).collect()).collect();
        let (values, v) = symmetric_eigen(a.clone());
        for i in 0..n {
            for j in 0..n {
                let rebuilt: f64 = (0..n).map(|k| v[i][k] * values[k] * v[j][k]).sum();
                prop_assert!((rebuilt - a[i][j]).abs() < 1e-9, "({i},{j}): {rebuilt} vs {}", a[i][j]);
                let dot: f64 = (0..n).map(|k| v[k][i] * v[k][j]).sum();
                prop_assert!((dot - f64::from(i == j)).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn sphere_projection_keeps_direction_from_the_centroid_and_radius() {
    // A cloud centred at (10, -5, 3), not at the origin.
    let offsets = [[2.0, 0.0, 0.0], [-2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, -4.0, 0.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]];
    let coords: Vec<[f64; 3]> = offsets.iter().map(|o| [o[0] + 10.0, o[1] - 5.0, o[2] + 3.0]).collect();
    let on = project_to_sphere(&coords, |i| 1.0 + i as f64);
    for (i, (p, o)) in on.iter().zip(&offsets).enumerate() {
        let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        assert!((r - (1.0 + i as f64)).abs() < 1e-12);
        let len = (o[0] * o[0] + o[1] * o[1] + o[2] * o[2]).sqrt();
        for a in 0..3 {
            assert!((p[a] / r - o[a] / len).abs() < 1e-12, "point {i} axis {a}");
        }
    }
    let centre = project_to_sphere(&[[0.0; 3], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]], |_| 2.0);
    assert_eq!(centre[0], [2.0, 0.0, 0.0]);
}

#[test]
fn jacobi_handles_diagonal_repeated_and_tiny_matrices() {
    let (values, _) = symmetric_eigen(vec![vec![3.0]]);
    assert_eq!(values, vec![3.0]);
    let (values, v) = symmetric_eigen(vec![vec![2.0, 0.0], vec![0.0, 5.0]]);
    assert_eq!(values, vec![2.0, 5.0]);
    assert_eq!(v, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    // A repeated eigenvalue: [[2,1,0],[1,2,0],[0,0,3]] has eigenvalues 1, 3, 3.
    let (mut values, _) = symmetric_eigen(vec![vec![2.0, 1.0, 0.0], vec![1.0, 2.0, 0.0], vec![0.0, 0.0, 3.0]]);
    values.sort_by(f64::total_cmp);
    for (got, want) in values.iter().zip([1.0, 3.0, 3.0]) {
        assert!((got - want).abs() < 1e-12, "{values:?}");
    }
}

#[test]
fn pca_orders_components_and_fixes_their_sign() {
    let data = anisotropic_cloud(2_000, &[1.0, 3.0, 0.5], 9);
    let pca = Pca::fit(&data, 3).unwrap();
    assert!(pca.variances.windows(2).all(|w| w[0] >= w[1]), "{:?}", pca.variances);
    for axis in &pca.components {
        let largest = axis.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let pivot = axis.iter().find(|x| x.abs() >= largest * (1.0 - 1e-6)).unwrap();
        assert!(*pivot > 0.0, "{axis:?}");
    }
    // Negating the data flips every eigenvector's natural sign; the rule undoes it.
    let negated: Vec<Vec<f64>> = data.iter().map(|r| r.iter().map(|x| -x).collect()).collect();
    let again = Pca::fit(&negated, 3).unwrap();
    for (a, b) in pca.components.iter().zip(&again.components) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-9);
        }
    }
    // An exact tie (a one-hot pair) is settled by the first entry.
    let pair: Vec<Vec<f64>> = (0..10).map(|i| if i % 2 == 0 { vec![1.0, 0.0] } else { vec![0.0, 1.0] }).collect();
    let tie = Pca::fit(&pair, 1).unwrap();
    assert!(tie.components[0][0] > 0.0 && tie.components[0][1] < 0.0, "{:?}", tie.components);
}

#[test]
fn sphere_layout_works_for_the_smallest_populations() {
    for n in [2, 3] {
        let data: Vec<Vec<f64>> = (0..n).map(|i| vec![i as f64, (i * i) as f64, 1.0]).collect();
        let pos = sphere_layout(&data, 1.0).unwrap();
        assert_eq!(pos.len(), n);
        assert!(pos.iter().all(|p| ((p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() - 1.0).abs() < 1e-9));
    }
    // Identical rows have no direction; they still land on the sphere, not NaN.
    let same = sphere_layout(&[vec![1.0, 2.0], vec![1.0, 2.0], vec![1.0, 2.0]], 1.0).unwrap();
    assert!(same.iter().flatten().all(|x| x.is_finite()));
}

#[test]
fn sphere_layout_keeps_near_points_near() {
    // Two tight clusters far apart in 10-D end up on separate sides of the sphere.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let data: Vec<Vec<f64>> =
        (0..200).map(|i| (0..10).map(|j| if (i < 100) == (j < 5) { 1.0 } else { 0.0 } + 0.05 * rng.random::<f64>()).collect()).collect();
    let pos = sphere_layout(&data, 3.0).unwrap();
    let dist = |a: &[f64; 3], b: &[f64; 3]| ((0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>()).sqrt();
    let within = dist(&pos[0], &pos[1]).max(dist(&pos[100], &pos[101]));
    let across = dist(&pos[0], &pos[150]);
    assert!(across > 2.0 * within, "across {across}, within {within}");
    assert!(pos.iter().all(|p| (dist(p, &[0.0; 3]) - 3.0).abs() < 1e-9));
}

#[test]
fn balanced_blocks_have_unit_total_variance() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    // Column 0: numeric with variance 4; columns 1..3: a one-hot pair; column 3: constant.
    let rows: Vec<Vec<f64>> = (0..1000)
        .map(|_| {
            let hot = rng.random::<bool>();
            vec![4.0 * (rng.random::<f64>() - 0.5) * 12f64.sqrt() / 2.0, f64::from(hot), f64::from(!hot), 7.0]
        })
        .collect();
    let blocks = [0..1, 1..3, 3..4];
    let balanced = balance_blocks(&rows, &blocks);
    for block in &blocks[..2] {
        let total: f64 = block
            .clone()
            .map(|j| {
                let mean = balanced.iter().map(|r| r[j]).sum::<f64>() / 1000.0;
                balanced.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / 1000.0
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{block:?}: {total}");
    }
    assert!(balanced.iter().all(|r| r[3] == 7.0));
}
