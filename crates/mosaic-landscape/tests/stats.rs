//! Correlations and derivatives against SciPy and NumPy, on the fixture
//! written by `benches/stats_reference.py` (random, trending, tied and small
//! samples).

use mosaic_landscape::dynamics::gradient;
use mosaic_landscape::stats::{Method, correlation};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    pearson: [f64; 2],
    spearman: [f64; 2],
    kendall: [f64; 2],
    gradient_x: Vec<f64>,
}

fn close(ours: f64, theirs: f64, rel: f64) -> bool {
    (ours - theirs).abs() <= rel * theirs.abs().max(1e-300) || (ours - theirs).abs() < 1e-15
}

#[test]
fn coefficients_and_p_values_match_scipy() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stats.json")).unwrap();
    let fixture: Fixture = serde_json::from_str(&text).unwrap();
    assert!(fixture.cases.len() >= 6);
    for case in &fixture.cases {
        for (method, [r, p]) in [(Method::Pearson, case.pearson), (Method::Spearman, case.spearman), (Method::Kendall, case.kendall)] {
            let c = correlation(method, &case.x, &case.y);
            assert!(close(c.r, r, 1e-12), "{} {method:?}: r {} vs SciPy {r}", case.name, c.r);
            // p-values span many orders of magnitude: compare relatively.
            assert!(close(c.p, p, 1e-9), "{} {method:?}: p {:e} vs SciPy {p:e}", case.name, c.p);
            assert_eq!(c.n, case.x.len());
        }
        let g = gradient(&case.x);
        assert!(g.iter().zip(&case.gradient_x).all(|(a, b)| (a - b).abs() < 1e-12), "{}: gradient differs from NumPy", case.name);
    }
}
