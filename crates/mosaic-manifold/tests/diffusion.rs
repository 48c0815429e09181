//! The diffusion operator: P^t through its symmetric conjugate, and the
//! entropy curve (exact, and estimated above `EXACT_LIMIT` points).

mod common;

use common::branches;
use faer::Mat;
use mosaic_manifold::diffusion::{
    Diffusion, EXACT_FALLBACK_LIMIT, EXACT_LIMIT, EntropySource, KNEE_CONFIDENCE, PowerChain, knee_margin, singular_values,
};
use mosaic_manifold::graph::kernel_from_features;
use mosaic_manifold::landmark::landmarks;
use mosaic_manifold::phate::{find_knee, knee_errors, von_neumann_entropy};

fn kernel_of(n: usize, seed: u64) -> mosaic_manifold::graph::Sparse {
    let (x, _, _) = branches(n, 6, seed);
    kernel_from_features(&Mat::from_fn(n, 6, |i, k| x[i][k]), 5, 40.0)
}

/// P^t by plain double-precision products.
fn slow_power(p: &Mat<f64>, t: usize) -> Mat<f64> {
    (1..t).fold(p.clone(), |acc, _| &acc * p)
}

/// The largest error, relative to each entry plus 1e-9: all entries are
/// non-negative, so single precision keeps each one to about 1e-6 of
/// itself; entries too small to matter (under ~1e-15) may read as 0, which
/// moves the potential -ln(P^t + 1e-7) by less than 1e-8.
fn worst_relative(fast: &Mat<f64>, exact: &Mat<f64>) -> f64 {
    let mut worst = 0.0f64;
    for j in 0..exact.ncols() {
        for i in 0..exact.nrows() {
            let (f, e) = (fast[(i, j)], exact[(i, j)]);
            worst = worst.max((f - e).abs() / (e + 1e-9));
        }
    }
    worst
}

#[test]
fn the_power_of_a_sparse_operator_is_repeated_multiplication() {
    // Large and sparse: products by P run through the sparse matrix.
    let kernel = kernel_of(1200, 4);
    let operator = Diffusion::new(kernel.row_normalised(), kernel.row_sums());
    let p = operator.to_dense();
    for t in [1, 2, 7, 13, 24] {
        let worst = worst_relative(&operator.power(t), &slow_power(&p, t));
        assert!(worst < 2e-5, "t = {t}: entries off by up to {worst:e} (relative)");
    }
}

#[test]
fn the_power_of_a_landmark_operator_is_repeated_multiplication() {
    // Few landmarks, so the operator between them is dense.
    let kernel = kernel_of(900, 5);
    let p = kernel.row_normalised();
    let operator = landmarks(&kernel, &p, 60, 1, &mut |_| {}).unwrap().operator;
    let dense = operator.to_dense();
    assert!((0..dense.nrows()).all(|i| ((0..dense.ncols()).map(|j| dense[(i, j)]).sum::<f64>() - 1.0).abs() < 1e-12), "rows sum to 1");
    for t in [1, 5, 8, 15] {
        let worst = worst_relative(&operator.power(t), &slow_power(&dense, t));
        assert!(worst < 2e-5, "t = {t}: entries off by up to {worst:e} (relative)");
    }
}

/// Replays a chain: every factor is a sparse low power or a power met on
/// the way, and the powers ascend to t. Returns the number of dense products.
fn replay(chain: &PowerChain, t: usize, low: usize) -> usize {
    assert!((1..=low).contains(&chain.start), "starts from a sparse power: {chain:?}");
    let mut seen = vec![chain.start];
    for &(factor, through_sparse) in &chain.steps {
        assert!(factor <= low || seen.contains(&factor), "factor {factor} was never formed: {chain:?}");
        assert!(!through_sparse || factor <= low, "only low powers are sparse: {chain:?}");
        seen.push(seen[seen.len() - 1] + factor);
    }
    assert_eq!(seen[seen.len() - 1], t, "{chain:?}");
    chain.steps.iter().filter(|s| !s.1).count()
}

#[test]
fn power_chains_reach_t_with_the_fewest_products() {
    // Dense products only: the shortest addition chains (OEIS A003313).
    for (t, shortest) in [(13, 5), (15, 5), (24, 5), (31, 7), (71, 9), (100, 8)] {
        let chain = PowerChain::cheapest(t, &[1.0], 1.0);
        assert_eq!(replay(&chain, t, 1), shortest, "t = {t}: {chain:?}");
    }
    for t in 1..=100 {
        replay(&PowerChain::cheapest(t, &[1.0], 1.0), t, 1);
        // Cheap sparse products by A, A^2, A^3 replace dense ones where they can.
        let chain = PowerChain::cheapest(t, &[0.1, 0.3, 0.6], 1.0);
        let dense = replay(&chain, t, 3);
        assert!(dense <= replay(&PowerChain::cheapest(t, &[1.0], 1.0), t, 1), "t = {t}");
    }
    // A product by sparse A at half a dense one: t = 24 is cheapest as
    // A^3 by two sparse products, then three squarings (4 units; each dense
    // step at most doubles, so 3 = 24 / 2^3 must be reached first).
    let expected = PowerChain { start: 1, steps: vec![(1, true), (1, true), (3, false), (6, false), (12, false)] };
    assert_eq!(PowerChain::cheapest(24, &[0.5], 1.0), expected);
}

/// The estimated knee is the exact one, or its neighbour where the two fit
/// the entropy curve equally well (the knee's fit error is flat near its
/// minimum: on branching data two diffusion times often differ by under
/// 0.1 % in it, below what any estimate of the spectrum resolves).
fn assert_knee_agrees(estimated: &[f64], exact: &[f64]) {
    let (got, want) = (find_knee(estimated), find_knee(exact));
    if got != want {
        let errors = knee_errors(exact);
        let (e_got, e_want) = (errors[got - 1], errors[want - 1]);
        assert!(got.abs_diff(want) == 1 && e_got - e_want <= 1e-3 * e_want, "knee {got}, exact {want}: fit errors {e_got} vs {e_want}");
    }
}

#[test]
fn the_estimated_entropy_has_the_knee_of_the_exact_one() {
    for seed in [6, 8, 9] {
        let n = EXACT_LIMIT + 500;
        let kernel = kernel_of(n, seed);
        let operator = Diffusion::new(kernel.row_normalised(), kernel.row_sums());
        let exact = von_neumann_entropy(&singular_values(&operator.to_dense()).unwrap(), 100);
        assert_eq!(operator.entropy(100, true, 0).unwrap(), exact, "exact when asked");
        let estimated = operator.entropy(100, false, 0).unwrap();
        assert_eq!(estimated, operator.entropy(100, false, 0).unwrap(), "repeatable with its seed");
        let worst = exact.iter().zip(&estimated).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 0.05, "data {seed}: entropy off by up to {worst}");
        assert_knee_agrees(&estimated, &exact);
        assert_knee_agrees(&operator.entropy(100, false, 7).unwrap(), &exact);
    }
}

#[test]
fn the_automatic_t_is_the_exact_knee() {
    for seed in [6, 8, 9] {
        let n = EXACT_LIMIT + 500;
        let kernel = kernel_of(n, seed);
        let operator = Diffusion::new(kernel.row_normalised(), kernel.row_sums());
        let exact_curve = von_neumann_entropy(&singular_values(&operator.to_dense()).unwrap(), 100);
        let exact = find_knee(&exact_curve);
        // As PHATE asks: the estimate where its knee is clear, else the exact curve.
        let choice = operator.choose_t(100, false, 0, EXACT_FALLBACK_LIMIT).unwrap();
        eprintln!("data {seed}: exact knee {exact}, chosen {} ({:?}, margin {:.1})", choice.t, choice.source, choice.margin);
        assert_eq!(choice.t, exact, "data {seed}: {:?}", choice.source);
        match choice.source {
            EntropySource::Estimated { probes } => {
                assert_eq!(probes, 40);
                assert!(choice.margin >= KNEE_CONFIDENCE);
            }
            EntropySource::ExactFallback { margin, .. } => {
                assert!(margin < KNEE_CONFIDENCE);
                assert_eq!(choice.entropy, exact_curve);
            }
            EntropySource::Exact => panic!("{n} points are estimated first"),
        }
        // Without the exact fallback, more probes until the knee is clear.
        let probed = operator.choose_t(100, false, 0, 0).unwrap();
        eprintln!("  without the fallback: {} ({:?}, margin {:.1})", probed.t, probed.source, probed.margin);
        assert!(matches!(probed.source, EntropySource::Estimated { .. }));
        assert_knee_agrees(&probed.entropy, &exact_curve);
        if probed.margin >= KNEE_CONFIDENCE {
            assert_eq!(probed.t, exact, "a clear estimated knee is the exact one");
        }
        // Exact when asked, or small.
        let asked = operator.choose_t(100, true, 0, 0).unwrap();
        assert_eq!((asked.t, asked.source, asked.entropy), (exact, EntropySource::Exact, exact_curve));
    }
}

#[test]
fn a_knee_is_clear_only_beyond_the_noise_of_its_replicates() {
    // Two lines meeting at x = 10, and replicates that move it a little or a lot.
    let curve: Vec<f64> = (0..40).map(|x| if x <= 10 { 10.0 - x as f64 } else { 0.05 * (10 - x) as f64 }).collect();
    let shaken = |size: f64| -> Vec<Vec<f64>> {
        (0..20).map(|r| curve.iter().enumerate().map(|(x, y)| y + size * (((r * 31 + x * 17) % 13) as f64 / 6.0 - 1.0)).collect()).collect()
    };
    let (knee, margin) = knee_margin(&curve, &vec![curve.clone(); 20]);
    assert_eq!(knee, find_knee(&curve));
    assert!(margin > 1e6, "replicates that agree leave no doubt: margin {margin}");
    assert_eq!(knee, 10);
    let (_, small) = knee_margin(&curve, &shaken(1e-4));
    let (_, large) = knee_margin(&curve, &shaken(0.5));
    assert!(small >= KNEE_CONFIDENCE, "tiny noise: margin {small}");
    assert!(large < KNEE_CONFIDENCE, "noise as large as the bend: margin {large}");
    assert_eq!(knee_margin(&curve, &[]).1, f64::INFINITY, "no replicates, no doubt to measure");
}

#[test]
fn small_operators_get_the_exact_entropy() {
    let kernel = kernel_of(300, 7);
    let operator = Diffusion::new(kernel.row_normalised(), kernel.row_sums());
    let exact = von_neumann_entropy(&singular_values(&operator.to_dense()).unwrap(), 50);
    assert_eq!(operator.entropy(50, false, 3).unwrap(), exact);
}
