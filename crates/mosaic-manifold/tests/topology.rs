//! Persistent homology of small clouds whose shape is known.

use mosaic_manifold::topology::rips_barcode;

fn distances(pts: &[[f64; 2]]) -> Vec<f64> {
    let n = pts.len();
    (0..n * n).map(|k| ((pts[k / n][0] - pts[k % n][0]).powi(2) + (pts[k / n][1] - pts[k % n][1]).powi(2)).sqrt()).collect()
}

#[test]
fn a_circle_has_one_long_loop() {
    let n = 40;
    let pts: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            [a.cos(), a.sin()]
        })
        .collect();
    let bars = rips_barcode(&distances(&pts), n);
    // The loop is born when neighbours connect (chord 2 sin(pi/n)) and dies
    // with the first triangle that holds the centre: the most nearly
    // equilateral one, whose longest side spans ceil(n/3) steps.
    let long: Vec<_> = bars.h1.iter().filter(|(b, d)| d - b > 0.5).collect();
    assert_eq!(long.len(), 1, "{:?}", bars.h1);
    let (birth, death) = *long[0];
    assert!((birth - 2.0 * (std::f64::consts::PI / n as f64).sin()).abs() < 1e-9, "born at {birth}");
    let steps = n.div_ceil(3) as f64;
    assert!((death - 2.0 * (std::f64::consts::PI * steps / n as f64).sin()).abs() < 1e-9, "dies at {death}");
    // One component: n - 1 bars, each the neighbour spacing.
    assert_eq!(bars.h0.len(), n - 1);
    assert!(bars.h0.iter().all(|(b, d)| *b == 0.0 && (d - birth).abs() < 1e-9));
}

#[test]
fn separate_grids_show_in_h0_and_their_squares_in_h1() {
    // Two 3x3 grids 10 apart: H0 has one bar that lives until 10 - 2 (closest corners).
    let mut pts = Vec::new();
    for x0 in [0.0, 10.0] {
        for i in 0..3 {
            for j in 0..3 {
                pts.push([x0 + i as f64, j as f64]);
            }
        }
    }
    let bars = rips_barcode(&distances(&pts), pts.len());
    let mut deaths: Vec<f64> = bars.h0.iter().map(|b| b.1).collect();
    deaths.sort_by(f64::total_cmp);
    assert_eq!(deaths.len(), 17);
    assert!((deaths[16] - 8.0).abs() < 1e-12 && deaths[15] <= 1.0 + 1e-12, "{deaths:?}");
    // Each grid's four unit squares are loops until their diagonal; the
    // three parallel bridges of length 8 between the grids close two thin
    // loops that die at the bridges' diagonal, sqrt(65).
    let squares = bars.h1.iter().filter(|(b, d)| (b - 1.0).abs() < 1e-12 && (d - 2f64.sqrt()).abs() < 1e-12).count();
    let bridges = bars.h1.iter().filter(|(b, d)| (b - 8.0).abs() < 1e-12 && (d - 65f64.sqrt()).abs() < 1e-12).count();
    assert_eq!((squares, bridges, bars.h1.len()), (8, 2, 10), "{:?}", bars.h1);
    let (h0, h1) = bars.total_persistence();
    assert!((h0 - (16.0 + 8.0)).abs() < 1e-9, "{h0}");
    assert!((h1 - (8.0 * (2f64.sqrt() - 1.0) + 2.0 * (65f64.sqrt() - 8.0))).abs() < 1e-9, "{h1}");
}
