//! Properties of encodings, samplers and search-space files.

use mosaic_core::sample::{latin_hypercube, latin_hypercube_unit, random};
use mosaic_core::{ArchSpec, Choice, Encoder, Family, Knob, SearchSpace, TaskShape};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn encoder() -> Encoder {
    Encoder::new(SearchSpace::default_space())
}

/// Specs drawn from the whole default space via its design cube.
fn any_spec() -> impl Strategy<Value = ArchSpec> {
    let dims = encoder().design_dims();
    proptest::collection::vec(0.0f64..1.0, dims).prop_map(|u| encoder().from_design(&u))
}

fn assert_same_spec(a: &ArchSpec, b: &ArchSpec) {
    let e = encoder();
    for k in Knob::ALL {
        let (x, y) = (k.get(a), k.get(b));
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{}: {x} != {y}", k.name());
    }
    for c in Choice::ALL {
        assert_eq!(c.index(e.space(), a), c.index(e.space(), b), "{}", c.name());
    }
}

proptest! {
    #[test]
    fn encode_then_decode_round_trips(spec in any_spec()) {
        let e = encoder();
        let v = e.encode(&spec);
        prop_assert_eq!(v.len(), e.len());
        assert_same_spec(&e.decode(&v), &spec);
    }

    #[test]
    fn encodings_are_in_unit_range_with_one_hot_blocks(spec in any_spec()) {
        let e = encoder();
        let v = e.encode(&spec);
        prop_assert!(v.iter().all(|x| (0.0..=1.0).contains(x)));
        let ones = v[Knob::ALL.len()..].iter().filter(|x| **x == 1.0).count();
        prop_assert_eq!(ones, Choice::ALL.len());
    }

    #[test]
    fn decode_of_any_vector_is_a_valid_spec(
        v in proptest::collection::vec(prop_oneof![any::<f64>(), -2.0f64..3.0], 0..40)
    ) {
        let e = encoder();
        let spec = e.decode(&v);
        prop_assert!(e.space().contains(&spec), "{:?} from {:?}", spec, v);
        // A decoded spec is a fixed point of encode/decode.
        assert_same_spec(&e.decode(&e.encode(&spec)), &spec);
    }

    #[test]
    fn interpolations_decode_to_valid_specs(a in any_spec(), b in any_spec(), t in 0.0f64..1.0) {
        let e = encoder();
        let (ea, eb) = (e.encode(&a), e.encode(&b));
        let mid: Vec<f64> = ea.iter().zip(&eb).map(|(x, y)| x + t * (y - x)).collect();
        prop_assert!(e.space().contains(&e.decode(&mid)));
    }

    #[test]
    fn distance_is_a_metric(a in any_spec(), b in any_spec(), c in any_spec()) {
        let e = encoder();
        let (ab, bc, ac) = (e.distance(&a, &b), e.distance(&b, &c), e.distance(&a, &c));
        prop_assert!(e.distance(&a, &a) == 0.0);
        prop_assert!((ab - e.distance(&b, &a)).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&ab));
        prop_assert!(ac <= ab + bc + 1e-12);
    }

    #[test]
    fn mutation_and_crossover_stay_in_the_space(a in any_spec(), b in any_spec(), seed in any::<u64>()) {
        let e = encoder();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let child = e.crossover(&a, &b, &mut rng);
        prop_assert!(e.space().contains(&child));
        for k in Knob::ALL {
            let v = k.get(&child);
            prop_assert!(v == k.get(&a) || v == k.get(&b), "{} came from neither parent", k.name());
        }
        let mutant = e.mutate(&a, 0.5, &mut rng);
        prop_assert!(e.space().contains(&mutant));
    }
}

#[test]
fn mutation_rate_zero_changes_nothing_and_one_changes_every_choice() {
    let e = encoder();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let spec = random(&e, 1, 1).remove(0);
    assert_eq!(e.mutate(&spec, 0.0, &mut rng), spec);
    let all = e.mutate(&spec, 1.0, &mut rng);
    for c in Choice::ALL {
        assert_ne!(c.index(e.space(), &all), c.index(e.space(), &spec), "{} unchanged", c.name());
    }
}

#[test]
fn distance_separates_a_categorical_change_from_identity() {
    let e = encoder();
    let a = random(&e, 1, 3).remove(0);
    let mut b = a.clone();
    b.family = if a.family == Family::Mlp { Family::Cnn } else { Family::Mlp };
    let d = e.distance(&a, &b);
    // One of five categorical knobs differs: Hamming 1/5, weighted 5/13.
    assert!((d - 5.0 / 13.0 * 0.2).abs() < 1e-12, "d = {d}");
}

#[test]
fn samplers_are_seeded_and_cover_the_space() {
    let e = encoder();
    assert_eq!(random(&e, 50, 9), random(&e, 50, 9));
    assert_ne!(random(&e, 50, 9), random(&e, 50, 10));
    let lhs = latin_hypercube(&e, 240, 4);
    assert_eq!(lhs, latin_hypercube(&e, 240, 4));
    assert!(lhs.iter().all(|s| e.space().contains(s)));
    // Categorical options get equal shares: 240 / 3 families = 80 each.
    for f in [Family::Mlp, Family::ResidualMlp, Family::Cnn] {
        assert_eq!(lhs.iter().filter(|s| s.family == f).count(), 80, "{f:?}");
    }
    // Integer knobs too, end values included: depth 1..=6 gets 240 / 6 = 40 each.
    for d in 1..=6 {
        assert_eq!(lhs.iter().filter(|s| s.depth == d).count(), 40, "depth {d}");
    }
    // Every numeric knob reaches both ends of its range (within one stratum).
    let space = e.space();
    for k in Knob::ALL {
        let b = k.bounds(space);
        let units: Vec<f64> = lhs.iter().map(|s| b.to_unit(k.get(s))).collect();
        let (lo, hi) = units.iter().fold((1.0f64, 0.0f64), |(lo, hi), u| (lo.min(*u), hi.max(*u)));
        let slack = if k.is_integer() { 1.0 / (b.max - b.min).max(1.0) } else { 1.0 / 240.0 };
        assert!(lo <= slack + 1e-9 && hi >= 1.0 - slack - 1e-9, "{}: [{lo}, {hi}]", k.name());
    }
}

#[test]
fn log_scale_integers_spread_evenly_in_log_space() {
    let e = encoder();
    let lhs = latin_hypercube(&e, 1000, 8);
    // width 8..=256 on a log scale: as many below 45 (the geometric middle) as above.
    let below = lhs.iter().filter(|s| s.width < 45).count();
    assert!((430..=570).contains(&below), "{below} of 1000 below the log-middle");
}

#[test]
fn latin_hypercube_puts_one_point_in_every_stratum() {
    let (n, dims) = (37, 5);
    let pts = latin_hypercube_unit(n, dims, 11);
    for d in 0..dims {
        let mut strata: Vec<usize> = pts.iter().map(|p| (p[d] * n as f64) as usize).collect();
        strata.sort();
        assert_eq!(strata, (0..n).collect::<Vec<_>>(), "axis {d}");
    }
}

#[test]
fn default_space_file_parses_and_round_trips_through_ron() {
    let space = SearchSpace::default_space();
    assert_eq!(space.families.len(), 3);
    assert!(space.learning_rate.log);
    let again = SearchSpace::from_ron(&space.to_ron(), "round-trip").unwrap();
    assert_eq!(again, space);
    // The demo space is the default one without CNNs.
    let demo = SearchSpace::demo_space();
    assert_eq!(demo.families, vec![Family::Mlp, Family::ResidualMlp]);
    assert_eq!(SearchSpace { name: space.name.clone(), families: space.families.clone(), ..demo }, space);
    // The image space keeps every family, with CNNs no deeper than 28x28 pools allow.
    let images = SearchSpace::images_space();
    assert_eq!(images.families, space.families);
    assert!(images.depth.max <= 4.0 && images.width.max <= 256.0, "{images:?}");
    assert_eq!(SearchSpace::from_ron(&images.to_ron(), "round-trip").unwrap(), images);
}

#[test]
fn malformed_space_files_name_the_problem() {
    let good = mosaic_core::space::DEFAULT_SPACE_RON;
    let missing = good.replace("    epochs: (min: 5, max: 40),\n", "");
    let err = SearchSpace::from_ron(&missing, "spaces/broken.ron").unwrap_err().to_string();
    assert!(err.contains("spaces/broken.ron") && err.contains("epochs"), "{err}");

    let unknown = good.replace("families: [Mlp,", "families: [Transformer, Mlp,");
    let err = SearchSpace::from_ron(&unknown, "spaces/x.ron").unwrap_err().to_string();
    assert!(err.contains("Transformer") && err.contains("line"), "{err}");

    let inverted = good.replace("depth: (min: 1, max: 6)", "depth: (min: 6, max: 1)");
    let err = SearchSpace::from_ron(&inverted, "spaces/inv.ron").unwrap_err().to_string();
    assert!(err.contains("spaces/inv.ron") && err.contains("`depth`") && err.contains("greater than max"), "{err}");

    let typo = good.replace("learning_rate: (min: 1e-4, max: 1e-1, log: true)", "learning_rate: (min: 1e-4, max: 1e-1, lgo: true)");
    let err = SearchSpace::from_ron(&typo, "x").unwrap_err().to_string();
    assert!(err.contains("lgo"), "{err}");

    let twice = good.replace("activations: [Relu,", "activations: [Relu, Relu,");
    let err = SearchSpace::from_ron(&twice, "x").unwrap_err().to_string();
    assert!(err.contains("`activations`") && err.contains("twice"), "{err}");

    let huge = good.replace("taper: (min: 0.5, max: 1.0)", "taper: (min: 0.5, max: 40.0)");
    let err = SearchSpace::from_ron(&huge, "x").unwrap_err().to_string();
    assert!(err.contains("`taper`") && err.contains("above the supported"), "{err}");

    let log0 = good.replace("weight_decay: (min: 1e-6", "weight_decay: (min: 0.0");
    let err = SearchSpace::from_ron(&log0, "x").unwrap_err().to_string();
    assert!(err.contains("`weight_decay`") && err.contains("log scale"), "{err}");

    let err = SearchSpace::load(std::path::Path::new("/nonexistent/space.ron")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/space.ron"), "{err}");
}

#[test]
fn parameter_count_matches_hand_counts() {
    let e = encoder();
    let mut spec = random(&e, 1, 0).remove(0);
    spec.family = Family::Mlp;
    spec.depth = 2;
    spec.width = 64;
    spec.taper = 1.0;
    spec.norm = mosaic_core::Norm::None;
    spec.skip = false;
    // 2 -> 64 -> 64 -> 2: (2*64+64) + (64*64+64) + (64*2+2)
    assert_eq!(spec.parameter_count(TaskShape::PLANAR_BINARY), 192 + 4160 + 130);

    spec.taper = 0.5; // widths 64, 32; a skip between them needs a 64x32 projection
    spec.skip = true;
    spec.norm = mosaic_core::Norm::Layer;
    assert_eq!(spec.hidden_widths(), vec![64, 32]);
    let expected = (2 * 64 + 64) + 2 * 64 + (64 * 32 + 32) + 2 * 32 + 64 * 32 + (32 * 2 + 2);
    assert_eq!(spec.parameter_count(TaskShape::PLANAR_BINARY), expected);

    spec.family = Family::ResidualMlp; // residual blocks skip even when `skip` is off
    spec.skip = false;
    let expected = (2 * 64 + 64) + 2 * 64 + (64 * 32 + 32) + 2 * 32 + 64 * 32 + (32 * 2 + 2);
    assert_eq!(spec.parameter_count(TaskShape::PLANAR_BINARY), expected);

    // Absurd sizes saturate instead of wrapping.
    let mut giant = spec.clone();
    giant.family = Family::Cnn;
    giant.width = u32::MAX;
    giant.depth = 3;
    giant.taper = 1.0;
    assert_eq!(giant.parameter_count(TaskShape::PLANAR_BINARY), u64::MAX);

    spec.family = Family::Cnn;
    spec.norm = mosaic_core::Norm::None;
    spec.skip = false;
    let image = TaskShape { input_dim: 256, input_channels: 1, classes: 4 };
    assert_eq!(spec.parameter_count(image), (9 * 64 + 64) + (9 * 64 * 32 + 32) + (32 * 4 + 4));
}

proptest! {
    #[test]
    fn interpolation_paths_run_from_a_to_b_through_valid_specs(a in any_spec(), b in any_spec(), steps in 1usize..12) {
        let e = encoder();
        let path = e.interpolate(&a, &b, steps);
        prop_assert_eq!(path.len(), steps + 1);
        assert_same_spec(&path[0], &a);
        assert_same_spec(&path[steps], &b);
        prop_assert!(path.iter().all(|s| e.space().contains(s)));
    }
}
