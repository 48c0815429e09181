//! The sparse graph, landmarks for large n, and out-of-sample placement.

mod common;

use common::{branches, normal, procrustes_disparity as disparity};
use faer::Mat;
use mosaic_manifold::graph::{Sparse, kernel_from_distances, kernel_from_features};
use mosaic_manifold::kdtree::KdTree;
use mosaic_manifold::landmark::{from_clusters, kmeans, spectral_coordinates};
use mosaic_manifold::npy;
use mosaic_manifold::phate::{PhateConfig, extend, phate};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn distances(x: &[Vec<f64>]) -> Mat<f64> {
    Mat::from_fn(x.len(), x.len(), |i, j| x[i].iter().zip(&x[j]).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt())
}

#[test]
fn the_kernel_of_features_equals_the_kernel_of_all_distances() {
    // 6 dimensions go through the k-d tree, 20 through blocks of rows (more
    // points than one block, so block edges are crossed).
    for dims in [6, 20] {
        let (x, _, _) = branches(1100, dims, 1);
        let from_features = kernel_from_features(&Mat::from_fn(x.len(), dims, |i, k| x[i][k]), 5, 40.0);
        let from_distances = kernel_from_distances(&distances(&x), 5, 40.0);
        assert_eq!(from_features.rows, 1100);
        assert!(from_features.nnz() < 1100 * 40, "the kernel is sparse: {} entries", from_features.nnz());
        let (a, b) = (from_features.to_dense(), from_distances.to_dense());
        let worst = (0..1100).flat_map(|i| (0..1100).map(move |j| (i, j))).map(|(i, j)| (a[(i, j)] - b[(i, j)]).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-12, "{dims} dimensions: kernels differ by {worst}");
        // Symmetric, with each point's own affinity 1/2 + 1/2.
        assert!((0..1100).all(|i| (a[(i, i)] - 1.0).abs() < 1e-15));
        assert!((0..1100).all(|i| (0..1100).all(|j| a[(i, j)] == a[(j, i)])));
    }
}

#[test]
fn the_tree_finds_what_a_scan_finds() {
    let (x, _, _) = branches(700, 4, 9);
    let tree = KdTree::new(x.len(), 4, |i, c| x[i][c]);
    let d2 = |i: usize, j: usize| x[i].iter().zip(&x[j]).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    for i in (0..700).step_by(37) {
        let mut all: Vec<f64> = (0..700).map(|j| d2(i, j)).collect();
        all.sort_by(f64::total_cmp);
        for k in [1, 2, 6, 40] {
            assert_eq!(tree.kth_distance2(&x[i], k), all[k - 1], "point {i}, k = {k}");
        }
        let r2 = all[25];
        let mut found: Vec<usize> = tree
            .within(&x[i], r2)
            .into_iter()
            .map(|(j, d)| {
                assert_eq!(d, d2(i, j));
                j
            })
            .collect();
        found.sort_unstable();
        assert_eq!(found, (0..700).filter(|&j| d2(i, j) <= r2).collect::<Vec<_>>());
    }
}

#[test]
fn sparse_rows_sum_repeats_and_transpose() {
    let m = Sparse::from_rows(3, vec![vec![(2, 1.0), (0, 2.0), (2, 0.5)], vec![], vec![(1, 4.0)]]);
    assert_eq!(m.nnz(), 3);
    assert_eq!(m.get(0, 2), 1.5);
    assert_eq!(m.row_sums(), vec![3.5, 0.0, 4.0]);
    let t = m.transpose();
    assert_eq!((t.get(2, 0), t.get(1, 2), t.get(0, 1)), (1.5, 4.0, 0.0));
    assert_eq!(m.row_normalised().row_sums(), vec![1.0, 0.0, 1.0]);
    let dense = Mat::from_fn(3, 2, |i, j| (i + 2 * j) as f64);
    let product = m.mul_dense(&dense);
    let expected = m.to_dense() * &dense;
    assert!((0..3).all(|i| (0..2).all(|j| product[(i, j)] == expected[(i, j)])));
    let square = m.mul_sparse(&m).to_dense();
    let expected = m.to_dense() * m.to_dense();
    assert!((0..3).all(|i| (0..3).all(|j| square[(i, j)] == expected[(i, j)])));
    let both = m.plus_transpose().to_dense();
    assert!((0..3).all(|i| (0..3).all(|j| both[(i, j)] == m.get(i, j) + m.get(j, i))));
}

#[test]
fn kmeans_separates_distant_groups_and_repeats_with_its_seed() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]];
    let x = Mat::from_fn(400, 2, |i, k| centres[i % 4][k] + 0.3 * normal(&mut rng));
    let labels = kmeans(&x, 4, 50, 7);
    assert_eq!(labels, kmeans(&x, 4, 50, 7), "repeatable");
    assert_eq!(labels[0], 0, "numbered by first appearance");
    // Every point shares its group with exactly the points of its own centre.
    for i in 0..400 {
        for j in 0..400 {
            assert_eq!(labels[i] == labels[j], i % 4 == j % 4, "points {i} and {j}");
        }
    }
}

/// Relative Frobenius distance between `a a^T` and `b b^T`: equal when the
/// rows of `a` and `b` are the same points up to a rotation (so up to the
/// signs of singular vectors, and any basis of a repeated singular value).
fn gram_gap(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let (ga, gb) = (a * a.transpose(), b * b.transpose());
    (&ga - &gb).norm_l2() / gb.norm_l2()
}

#[test]
fn landmarks_are_built_as_graphtools_builds_them() {
    // Written by benches/landmark_reference.py from graphtools 2.1.0.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/landmark_tree");
    let x = npy::read(&dir.join("X.npy")).unwrap();
    let clusters: Vec<usize> = npy::read(&dir.join("clusters.npy")).unwrap().data.iter().map(|&c| c as usize).collect();
    let want_op = npy::read(&dir.join("landmark_op.npy")).unwrap();
    let want_coords = npy::read(&dir.join("coords.npy")).unwrap();
    let n = x.rows;
    let kernel = kernel_from_features(&Mat::from_fn(n, x.cols, |i, k| x.row(i)[k]), 5, 40.0);
    let p = kernel.row_normalised();

    // From graphtools' clusters, graphtools' landmark operator.
    let built = from_clusters(&kernel, &p, clusters);
    let got = built.operator.to_dense();
    let l = want_op.rows;
    assert_eq!((got.nrows(), got.ncols()), (l, l));
    let worst =
        (0..l).flat_map(|i| (0..l).map(move |j| (i, j))).map(|(i, j)| (got[(i, j)] - want_op.data[i * l + j]).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-12, "landmark operators differ by {worst:e}");

    // The spectral coordinates are P V with V the leading singular vectors of
    // the symmetric affinity D^-1/2 K D^-1/2, not of P: the same points as
    // graphtools' diff_op @ VT.T, and as an exact eigendecomposition's.
    let ours = spectral_coordinates(&kernel, &p, 100, 0).unwrap();
    assert_eq!((ours.nrows(), ours.ncols()), (n, 100));
    let theirs = Mat::from_fn(n, 100, |i, k| want_coords.data[i * 100 + k]);
    let degrees = kernel.row_sums();
    let k_dense = kernel.to_dense();
    let a = Mat::from_fn(n, n, |i, j| k_dense[(i, j)] / (degrees[i] * degrees[j]).sqrt());
    let eig = a.self_adjoint_eigen(faer::Side::Lower).unwrap();
    let (u, s) = (eig.U(), eig.S().column_vector());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| s[y].abs().total_cmp(&s[x].abs()));
    let v = Mat::from_fn(n, 100, |i, k| u[(i, order[k])]);
    let exact = p.to_dense() * &v;
    // The leading 20 directions, where randomized iteration has converged
    // (both ours and graphtools' are approximate near the 100th).
    let lead = |m: &Mat<f64>| m.subcols(0, 20).to_owned();
    let (ours, theirs, exact) = (lead(&ours), lead(&theirs), lead(&exact));
    let (to_exact, to_theirs, theirs_to_exact) = (gram_gap(&ours, &exact), gram_gap(&ours, &theirs), gram_gap(&theirs, &exact));
    eprintln!(
        "spectral coordinates: ours vs exact {to_exact:.2e}, ours vs graphtools {to_theirs:.2e}, graphtools vs exact {theirs_to_exact:.2e}"
    );
    assert!(to_exact < 2e-2, "ours depart from the exact coordinates by {to_exact:e}");
    assert!(to_theirs < 2e-2, "ours depart from graphtools' coordinates by {to_theirs:e}");
    // The singular vectors of P itself (the old mistake) give other points.
    let svd = p.to_dense().svd().unwrap();
    let of_p = p.to_dense() * svd.V().subcols(0, 20);
    let wrong = gram_gap(&of_p, &exact);
    eprintln!("P's own singular vectors vs exact {wrong:.2e}");
    assert!(wrong > 10.0 * to_exact, "P's own singular vectors would pass too: the test cannot tell");
}

#[test]
fn landmarks_approximate_the_exact_embedding() {
    let (x, arm, along) = branches(2400, 5, 2);
    let exact = phate(&x, &PhateConfig { landmarks: 0, ..PhateConfig::default() }).unwrap();
    let config = PhateConfig { landmarks: 300, ..PhateConfig::default() };
    let fast = phate(&x, &config).unwrap();
    let groups = fast.landmark_of.as_ref().expect("landmarks are used above 300 points");
    let count = groups.iter().max().unwrap() + 1;
    assert!((250..=300).contains(&count), "{count} landmarks");
    assert_eq!(fast.potential_distances.nrows(), count);
    assert_eq!(fast.embedding.len(), 2400);
    let d = disparity(&exact.embedding, &fast.embedding);
    eprintln!("t exact {} / landmarks {}, disparity {d:.4}", exact.t, fast.t);
    assert!(d < 0.1, "landmark embedding departs from the exact one: disparity {d}");
    // The arms' outer halves stay apart: each such point's nearest
    // embedded neighbours lie on its own arm.
    let y = &fast.embedding;
    let outer: Vec<usize> = (0..2400).filter(|&i| along[i] > 0.5).collect();
    let mut same = 0;
    for &i in &outer {
        let nearest = (0..2400)
            .filter(|&j| j != i)
            .min_by(|&a, &b| {
                let da: f64 = y[a].iter().zip(&y[i]).map(|(p, q)| (p - q).powi(2)).sum();
                let db: f64 = y[b].iter().zip(&y[i]).map(|(p, q)| (p - q).powi(2)).sum();
                da.total_cmp(&db)
            })
            .unwrap();
        same += usize::from(arm[nearest] == arm[i]);
    }
    assert!(same as f64 >= 0.98 * outer.len() as f64, "{same} of {} outer points next to their own arm", outer.len());
    assert_eq!(phate(&x, &config).unwrap().embedding, fast.embedding, "the seed makes it repeatable");
}

#[test]
fn a_new_point_joins_inside_its_neighbourhood() {
    let (x, _, _) = branches(600, 5, 4);
    let (train, held) = x.split_at(560);
    let fit = phate(train, &PhateConfig::default()).unwrap();
    let spread = {
        let y = &fit.embedding;
        (0..3)
            .map(|k| y.iter().map(|r| r[k]).fold(f64::MIN, f64::max) - y.iter().map(|r| r[k]).fold(f64::MAX, f64::min))
            .fold(0.0, f64::max)
    };
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
    let mut gaps = Vec::new();
    for point in held {
        let d: Vec<f64> = train.iter().map(|t| dist(t, point)).collect();
        let placed = extend(&d, &fit.embedding, 5, 40.0).unwrap();
        let mut order: Vec<usize> = (0..560).collect();
        order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
        // It lands inside the embedded neighbourhood of its 5 nearest points.
        let centre = &fit.embedding[order[0]];
        let reach = order[..5].iter().map(|&j| dist(&fit.embedding[j], centre)).fold(0.0, f64::max);
        let gap = dist(&placed, centre);
        assert!(gap <= reach + 1e-12, "placed {gap} from its nearest neighbour, whose neighbourhood reaches {reach}");
        gaps.push(gap);
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(mean < 0.03 * spread, "mean gap {mean} of spread {spread}");
    // A point at an embedded point's place with no other neighbour near lands on it.
    let mut d = vec![10.0; 560];
    d[17] = 0.0;
    let placed = extend(&d, &fit.embedding, 1, 40.0).unwrap();
    assert!(placed.iter().zip(&fit.embedding[17]).all(|(p, q)| (p - q).abs() < 1e-12));
    assert!(extend(&d[..10], &fit.embedding, 5, 40.0).is_err(), "one distance per embedded point");
    d[3] = f64::NAN;
    assert!(extend(&d, &fit.embedding, 5, 40.0).is_err(), "NaN distance refused");
}
