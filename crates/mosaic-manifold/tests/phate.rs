//! PHATE against the reference Python package, on the fixture written by
//! `benches/phate_reference.py`, and the building blocks on their own.

mod common;

use std::path::{Path, PathBuf};

use common::procrustes_disparity;
use faer::Mat;
use mosaic_manifold::ManifoldError;
use mosaic_manifold::npy;
use mosaic_manifold::phate::{PhateConfig, find_knee, phate, phate_from_distances, von_neumann_entropy};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/phate_tree").join(name)
}

#[test]
fn matches_the_reference_phate_package() {
    let x = npy::read(&fixture("X.npy")).unwrap();
    let want_t: usize = std::fs::read_to_string(fixture("t.txt")).unwrap().trim().parse().unwrap();
    let want_h = npy::read(&fixture("entropy.npy")).unwrap().data;
    let want_d = npy::read(&fixture("potential_dist.npy")).unwrap();
    let want_y = npy::read(&fixture("embedding.npy")).unwrap().to_rows();

    let got = phate(&x.to_rows(), &PhateConfig::default()).unwrap();
    assert_eq!(got.t, want_t, "automatic t");
    assert_eq!(got.entropy.len(), want_h.len());
    for (k, (g, w)) in got.entropy.iter().zip(&want_h).enumerate() {
        assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "entropy at t={}: {g} vs {w}", k + 1);
    }
    let n = x.rows;
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            let (g, w) = (got.potential_distances[(i, j)], want_d.data[i * n + j]);
            if i != j {
                worst = worst.max((g - w).abs() / w.abs());
            }
        }
    }
    assert!(worst <= 1e-4, "potential distances differ by up to {worst:e} (relative)");
    let disparity = procrustes_disparity(&got.embedding, &want_y);
    // Both are aligned onto classical MDS as the reference does: the
    // coordinates themselves agree, not only the shapes.
    let coords = got.embedding.iter().flatten().zip(want_y.iter().flatten()).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
    eprintln!(
        "t = {}, potential distances within {worst:.2e} (relative), coordinates within {coords:.2e}, Procrustes disparity {disparity:.2e}, {} SMACOF iterations",
        got.t, got.mds_iterations
    );
    assert!(disparity <= 0.05, "Procrustes disparity {disparity}");
    assert!(coords <= 1e-5, "coordinates differ by up to {coords}");
}

#[test]
fn knee_of_two_lines_is_where_they_meet() {
    // Steep, then flat, meeting at x = 12.
    let y: Vec<f64> = (0..60).map(|x| if x < 12 { 40.0 - 3.0 * x as f64 } else { 4.0 - 0.01 * (x - 12) as f64 }).collect();
    assert_eq!(find_knee(&y), 12);
}

#[test]
fn entropy_falls_as_diffusion_forgets_detail() {
    let h = von_neumann_entropy(&[1.0, 0.9, 0.5, 0.1], 30);
    assert_eq!(h.len(), 30);
    assert!(h.windows(2).all(|w| w[1] <= w[0] + 1e-12));
    // Uniform singular values: entropy ln(4) at every power.
    let flat = von_neumann_entropy(&[1.0; 4], 5);
    assert!(flat.iter().all(|v| (v - 4f64.ln()).abs() < 1e-9));
}

#[test]
fn bad_distance_matrices_are_refused_with_the_place() {
    let square = Mat::from_fn(5, 5, |i, j| (i as f64 - j as f64).abs());
    let mut neg = square.clone();
    neg[(1, 3)] = -1.0;
    assert_eq!(
        phate_from_distances(&neg, &PhateConfig::default()).unwrap_err(),
        ManifoldError::BadDistance { row: 1, col: 3, value: -1.0 }
    );
    let mut nan = square.clone();
    nan[(2, 2)] = f64::NAN;
    assert!(matches!(phate_from_distances(&nan, &PhateConfig::default()), Err(ManifoldError::BadDistance { row: 2, col: 2, .. })));
    let wide = Mat::<f64>::zeros(3, 4);
    assert_eq!(phate_from_distances(&wide, &PhateConfig::default()).unwrap_err(), ManifoldError::NotSquare { rows: 3, cols: 4 });
    let tiny = Mat::from_fn(3, 3, |i, j| (i as f64 - j as f64).abs());
    assert_eq!(phate_from_distances(&tiny, &PhateConfig::default()).unwrap_err(), ManifoldError::TooFewPoints { needed: 4, got: 3 });
    // Issue 28, problem 5: an asymmetric matrix was embedded as if it were one.
    let mut skew = square.clone();
    skew[(3, 1)] = 2.5;
    let err = phate_from_distances(&skew, &PhateConfig::default()).unwrap_err();
    assert_eq!(err, ManifoldError::Asymmetric { row: 1, col: 3, upper: 2.0, lower: 2.5 });
    assert!(err.to_string().contains("(D + D.T) / 2"), "{err}");
    let mut rounded = square.clone();
    rounded[(3, 1)] = 2.0 * (1.0 + 1e-15);
    assert!(phate_from_distances(&rounded, &PhateConfig::default()).is_ok(), "rounding in the last bits is not asymmetry");
    let zero = Mat::<f64>::zeros(6, 6);
    assert!(matches!(phate_from_distances(&zero, &PhateConfig::default()), Err(ManifoldError::Degenerate(_))));
}

#[test]
fn rows_with_nothing_to_embed_are_refused() {
    // Issue 28, problem 5: identical rows or no columns gave an all-zero embedding without a word.
    let same = vec![vec![1.0, 2.0]; 10];
    let err = phate(&same, &PhateConfig::default()).unwrap_err().to_string();
    assert!(err.contains("all 10 rows are the same point") && err.contains("nothing to embed"), "{err}");
    let empty = vec![Vec::<f64>::new(); 10];
    let err = phate(&empty, &PhateConfig::default()).unwrap_err().to_string();
    assert!(err.contains("no columns"), "{err}");
}

#[test]
fn settings_are_checked() {
    let x = npy::read(&fixture("X.npy")).unwrap().to_rows();
    for (config, what) in [
        (PhateConfig { decay: 0.0, ..PhateConfig::default() }, "decay"),
        (PhateConfig { decay: f64::NAN, ..PhateConfig::default() }, "decay"),
        (PhateConfig { knn: 0, ..PhateConfig::default() }, "knn"),
        (PhateConfig { t: Some(0), ..PhateConfig::default() }, "t must"),
        (PhateConfig { t: Some(1_000_000), ..PhateConfig::default() }, "t must"),
        (PhateConfig { landmarks: 2, ..PhateConfig::default() }, "landmarks must"),
        (PhateConfig { gamma: 1.5, ..PhateConfig::default() }, "gamma must"),
    ] {
        let err = phate(&x, &config).unwrap_err().to_string();
        assert!(err.contains(what), "{err}");
    }
}

#[test]
fn a_fixed_t_is_used_as_given() {
    let x = npy::read(&fixture("X.npy")).unwrap().to_rows();
    let got = phate(&x, &PhateConfig { t: Some(3), mds_iterations: 50, ..PhateConfig::default() }).unwrap();
    assert_eq!(got.t, 3);
    assert!(got.entropy.is_empty(), "no entropy curve is computed for a given t");
    assert_eq!(got.embedding.len(), 240);
    assert!(got.embedding.iter().flatten().all(|v| v.is_finite()));
}
