use mosaic_manifold::cluster::{dbscan, k_nearest, within_radius};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Two tight blobs far apart, plus three isolated points.
fn blobs() -> Vec<[f64; 3]> {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut pts = Vec::new();
    for centre in [[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]] {
        for _ in 0..30 {
            pts.push(std::array::from_fn(|k| centre[k] + 0.2 * (rng.random::<f64>() - 0.5)));
        }
    }
    pts.extend([[2.5, 3.0, 0.0], [2.5, -3.0, 0.0], [0.0, 0.0, 9.0]]);
    pts
}

#[test]
fn dbscan_finds_both_blobs_and_leaves_outliers_as_noise() {
    let pts = blobs();
    let labels = dbscan(&pts, 0.5, 4);
    assert!(labels[..30].iter().all(|l| *l == Some(0)), "{:?}", &labels[..30]);
    assert!(labels[30..60].iter().all(|l| *l == Some(1)));
    assert_eq!(&labels[60..], &[None, None, None]);
    assert_eq!(dbscan(&pts, 0.5, 4), labels, "repeatable");
    // With a huge radius everything is one cluster; with min_points above n, all noise.
    assert!(dbscan(&pts, 100.0, 4).iter().all(|l| *l == Some(0)));
    assert!(dbscan(&pts, 0.5, 1000).iter().all(|l| l.is_none()));
}

#[test]
fn a_border_point_joins_but_does_not_extend_a_cluster() {
    // Core points every 0.3 from -1.2 to 0 (each has at least 4 neighbours
    // within 1); a border point at 0.9 (neighbours: itself, 0 and 1.8: only
    // 3); then a point at 1.8 that only the border point reaches.
    let mut pts: Vec<[f64; 3]> = (0..5).map(|i| [-0.3 * i as f64, 0.0, 0.0]).collect();
    pts.push([0.9, 0.0, 0.0]);
    pts.push([1.8, 0.0, 0.0]);
    assert!(dbscan(&pts, 1.0, 4)[..5].iter().all(|l| *l == Some(0)));
    let labels = dbscan(&pts, 1.0, 4);
    assert_eq!(labels[5], Some(0), "border point belongs to the cluster");
    assert_eq!(labels[6], None, "a border point carries the cluster no further");
}

#[test]
fn nearest_and_radius_queries_agree_with_brute_force() {
    let pts = blobs();
    let near = k_nearest(&pts, 0, 5);
    assert_eq!(near.len(), 5);
    assert!(!near.contains(&0));
    let d = |i: usize| (0..3).map(|k| (pts[i][k] - pts[0][k]).powi(2)).sum::<f64>();
    assert!(near.windows(2).all(|w| d(w[0]) <= d(w[1])));
    let farthest_kept = d(*near.last().unwrap());
    assert!((1..pts.len()).filter(|i| !near.contains(i)).all(|i| d(i) >= farthest_kept));
    let inside = within_radius(&pts, [5.0, 0.0, 0.0], 0.3);
    assert_eq!(inside, (30..60).collect::<Vec<_>>());
}
