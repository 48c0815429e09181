//! Directions and trajectories: the properties the pictures rely on.

use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer};
use mosaic_landscape::directions::{DirectionOptions, Normalization, check_direction, random_direction, surface_directions};
use mosaic_landscape::{LandscapeError, Net, Trajectory};
use mosaic_train::checkpoint::Arrays;

fn spec() -> ArchSpec {
    ArchSpec {
        family: Family::ResidualMlp,
        depth: 3,
        width: 12,
        taper: 0.75,
        activation: Activation::Relu,
        norm: Norm::Layer,
        dropout: 0.0,
        skip: true,
        optimizer: Optimizer::Adam,
        learning_rate: 0.01,
        batch_size: 32,
        weight_decay: 0.0,
        epochs: 1,
    }
}

/// Weights whose columns have very different norms.
fn weights(spec: &ArchSpec) -> Arrays {
    let mut rng = 1u64;
    let mut next = move || {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((rng >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let mut arrays = Arrays::new();
    let mut prev = 2;
    for (i, w) in spec.hidden_widths().into_iter().enumerate() {
        let w = w as usize;
        let matrix = |rows: usize, cols: usize, next: &mut dyn FnMut() -> f32| {
            (vec![rows, cols], (0..rows * cols).map(|k| next() * (1 + k % cols) as f32).collect::<Vec<f32>>())
        };
        arrays.insert(format!("blocks.{i}.layer.weight"), matrix(prev, w, &mut next));
        arrays.insert(format!("blocks.{i}.layer.bias"), (vec![w], (0..w).map(|_| next()).collect()));
        arrays.insert(format!("blocks.{i}.norm.gamma"), (vec![w], vec![1.0; w]));
        arrays.insert(format!("blocks.{i}.norm.beta"), (vec![w], vec![0.0; w]));
        if i > 0 && prev != w {
            arrays.insert(format!("blocks.{i}.projection"), matrix(prev, w, &mut next));
        }
        prev = w;
    }
    arrays.insert("head.weight".into(), (vec![prev, 2], (0..prev * 2).map(|_| next()).collect()));
    arrays.insert("head.bias".into(), (vec![2], vec![0.1, -0.1]));
    arrays
}

fn column_norm(values: &[f32], cols: usize, c: usize) -> f64 {
    values.iter().skip(c).step_by(cols).map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt()
}

#[test]
fn filter_normalised_directions_match_each_filter_norm_and_skip_biases() {
    let s = spec();
    let net = Net::from_checkpoint(&s, weights(&s)).unwrap();
    let d = random_direction(&net, &DirectionOptions::default(), 1);
    assert_eq!(d.keys().cloned().collect::<Vec<_>>().len(), net.parameters().len());
    for (name, (shape, values)) in &d {
        let w = &net.weights[name].1;
        if shape.len() == 1 {
            assert!(values.iter().all(|v| *v == 0.0), "{name} should be zeroed");
            continue;
        }
        for c in 0..shape[1] {
            let (dn, wn) = (column_norm(values, shape[1], c), column_norm(w, shape[1], c));
            assert!((dn - wn).abs() <= 1e-5 * wn, "{name} filter {c}: {dn} vs {wn}");
        }
    }
}

#[test]
fn conv_kernel_filters_are_its_output_channels() {
    let mut s = spec();
    (s.family, s.norm) = (Family::Cnn, Norm::None);
    // Kernels [out, in, 3, 3] (projections [out, in, 1, 1]) whose output channels differ in size.
    let mut arrays = Arrays::new();
    let mut prev = 1;
    for (i, w) in s.hidden_widths().into_iter().enumerate() {
        let w = w as usize;
        let kernel = |k: usize| {
            let per = prev * k * k;
            let values = (0..w * per).map(|i| ((i % 7) as f32 - 3.0) * (1 + i / per) as f32).collect::<Vec<f32>>();
            (vec![w, prev, k, k], values)
        };
        arrays.insert(format!("blocks.{i}.layer.weight"), kernel(3));
        arrays.insert(format!("blocks.{i}.layer.bias"), (vec![w], vec![0.1; w]));
        if i > 0 && prev != w {
            arrays.insert(format!("blocks.{i}.projection"), kernel(1));
        }
        prev = w;
    }
    arrays.insert("head.weight".into(), (vec![prev, 2], vec![0.5; prev * 2]));
    arrays.insert("head.bias".into(), (vec![2], vec![0.0; 2]));
    let net = Net::from_checkpoint(&s, arrays.clone()).unwrap();
    // A dense matrix where a kernel belongs, and a projection in the dense layout, are named.
    let mut wrong = arrays.clone();
    wrong.insert("blocks.0.layer.weight".into(), (vec![1, 12], vec![0.5; 12]));
    let err = Net::from_checkpoint(&s, wrong).unwrap_err().to_string();
    assert!(err.contains("blocks.0.layer.weight") && err.contains("3x3 kernel"), "{err}");
    let mut wrong = arrays;
    wrong.insert("blocks.1.projection".into(), (vec![12, 9], vec![0.5; 108]));
    let err = Net::from_checkpoint(&s, wrong).unwrap_err().to_string();
    assert!(err.contains("blocks.1.projection") && err.contains("[9, 12, 1, 1]"), "{err}");

    let d = random_direction(&net, &DirectionOptions::default(), 1);
    let mut kernels = 0;
    for (name, (shape, values)) in d.iter().filter(|(_, (shape, _))| shape.len() == 4) {
        let w = &net.weights[name].1;
        let per = values.len() / shape[0];
        let norm = |v: &[f32], o: usize| v[o * per..(o + 1) * per].iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        for o in 0..shape[0] {
            assert!((norm(values, o) - norm(w, o)).abs() <= 1e-5 * norm(w, o), "{name} channel {o}");
        }
        kernels += 1;
    }
    // Three kernels of 12, 9 and 7 channels, and the projections where the width shrinks.
    assert_eq!(kernels, 5);
}

#[test]
fn layer_normalisation_matches_whole_arrays_and_keeps_biases_on_request() {
    let s = spec();
    let net = Net::from_checkpoint(&s, weights(&s)).unwrap();
    let options = DirectionOptions { normalization: Normalization::Layer, ignore_bias_and_norm: false, ..Default::default() };
    let d = random_direction(&net, &options, 1);
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    for (name, (shape, values)) in &d {
        let w = &net.weights[name].1;
        if shape.len() == 1 {
            assert_eq!(values, w, "{name}: a 1-D direction follows the weights");
        } else {
            assert!((norm(values) - norm(w)).abs() <= 1e-5 * norm(w), "{name}");
            // Not filter-wise: the columns were scaled differently in the weights.
            let ratio = |c| column_norm(values, shape[1], c) / column_norm(w, shape[1], c);
            assert!((ratio(0) - ratio(shape[1] - 1)).abs() > 1e-3, "{name}");
        }
    }
}

#[test]
fn directions_are_seeded_and_orthogonalised_on_request() {
    let s = spec();
    let net = Net::from_checkpoint(&s, weights(&s)).unwrap();
    let options = DirectionOptions { orthogonalize: true, ..Default::default() };
    let (a1, a2) = surface_directions(&net, &options, true);
    let (b1, b2) = surface_directions(&net, &options, true);
    assert_eq!((&a1, &a2), (&b1, &b2));
    let (c1, _) = surface_directions(&net, &DirectionOptions { seed: 9, ..options }, true);
    assert_ne!(a1, c1);
    let a2 = a2.unwrap();
    let flat = |d: &Arrays| d.values().flat_map(|(_, v)| v.iter().map(|x| *x as f64)).collect::<Vec<_>>();
    let (x, y) = (flat(&a1), flat(&a2));
    let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let nx: f64 = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    let ny: f64 = y.iter().map(|a| a * a).sum::<f64>().sqrt();
    assert!(dot.abs() < 1e-5 * nx * ny, "cosine {}", dot / (nx * ny));
    let (_, plain) = surface_directions(&net, &DirectionOptions::default(), true);
    let plain = flat(&plain.unwrap());
    let dot: f64 = x.iter().zip(&plain).map(|(a, b)| a * b).sum();
    assert!(dot.abs() > 1e-3 * nx * ny, "random directions are not orthogonal by chance");
}

#[test]
fn given_directions_are_checked_against_the_network() {
    let s = spec();
    let net = Net::from_checkpoint(&s, weights(&s)).unwrap();
    let mut d = random_direction(&net, &DirectionOptions::default(), 1);
    assert!(check_direction(&d, &net, "d1").is_ok());
    d.get_mut("head.bias").unwrap().1[0] = f32::INFINITY;
    let err = check_direction(&d, &net, "d1").unwrap_err().to_string();
    assert!(err.contains("d1.head.bias") && err.contains("non-finite"), "{err}");
    d.get_mut("head.weight").unwrap().0 = vec![2, 9];
    let err = check_direction(&d, &net, "d1").unwrap_err().to_string();
    assert!(err.contains("d1.head.weight") && err.contains("[2, 9]"), "{err}");
    d.remove("blocks.0.layer.weight");
    let err = check_direction(&d, &net, "d1").unwrap_err();
    assert!(matches!(err, LandscapeError::Missing(ref m) if m.contains("d1.blocks.0.layer.weight")), "{err}");
}

#[test]
fn torch_sequential_reads_sizes_from_shapes_and_names_bad_tensors() {
    let linear = |out: usize, inp: usize| (vec![out, inp], (0..out * inp).map(|k| k as f32).collect::<Vec<f32>>());
    let mut state = Arrays::new();
    state.insert("0.weight".into(), linear(16, 3));
    state.insert("0.bias".into(), (vec![16], vec![0.0; 16]));
    state.insert("2.weight".into(), linear(8, 16));
    state.insert("2.bias".into(), (vec![8], vec![0.0; 8]));
    state.insert("4.weight".into(), linear(5, 8));
    let net = Net::from_torch_sequential(state.clone(), Activation::Tanh).unwrap();
    assert_eq!((net.input_dim(), net.classes(), net.blocks.len()), (3, 5, 2));
    // [out, in] became [in, out]: element (o, i) moved to (i, o).
    assert_eq!(net.weights["2.weight"].0, vec![16, 8]);
    assert_eq!(net.weights["2.weight"].1[8 + 1], state["2.weight"].1[16 + 1]);
    assert_eq!(net.head.bias, None);

    let mut wrong = state.clone();
    wrong.insert("2.weight".into(), linear(8, 15));
    let err = Net::from_torch_sequential(wrong, Activation::Relu).unwrap_err().to_string();
    assert!(err.contains("2.weight") && err.contains("15 inputs") && err.contains("16"), "{err}");
    let mut wrong = state.clone();
    wrong.insert("2.bias".into(), (vec![7], vec![0.0; 7]));
    let err = Net::from_torch_sequential(wrong, Activation::Relu).unwrap_err().to_string();
    assert!(err.contains("2.bias") && err.contains("[8]"), "{err}");
    let mut wrong = state.clone();
    wrong.insert("1.running_mean".into(), (vec![16], vec![0.0; 16]));
    let err = Net::from_torch_sequential(wrong, Activation::Relu).unwrap_err().to_string();
    assert!(err.contains("1.running_mean"), "{err}");
    let mut wrong = state;
    wrong.get_mut("0.weight").unwrap().1[4] = f32::NAN;
    let err = Net::from_torch_sequential(wrong, Activation::Relu).unwrap_err().to_string();
    assert!(err.contains("0.weight") && err.contains("non-finite"), "{err}");
}

#[test]
fn trajectory_recovers_the_plane_and_the_path() {
    let s = spec();
    let w = weights(&s);
    let net = Net::from_checkpoint(&s, w.clone()).unwrap();
    // Two orthonormal directions over the weight matrices.
    let mut u = random_direction(&net, &DirectionOptions { normalization: Normalization::None, ..Default::default() }, 1);
    let mut v = random_direction(&net, &DirectionOptions { normalization: Normalization::None, ..Default::default() }, 2);
    mosaic_landscape::directions::orthogonalize(&mut v, &u);
    let unit = |d: &mut Arrays| {
        let n: f64 = d.values().flat_map(|(_, x)| x.iter()).map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        d.values_mut().for_each(|(_, x)| x.iter_mut().for_each(|x| *x /= n as f32));
    };
    unit(&mut u);
    unit(&mut v);
    // A path with zero-mean, uncorrelated coordinates, wider along u.
    let path: Vec<[f64; 2]> = vec![[3.0, 1.0], [-3.0, 1.0], [2.0, -1.0], [-2.0, -1.0], [0.0, 0.0]];
    let checkpoints: Vec<Arrays> = path
        .iter()
        .map(|[s, t]| {
            let mut c = w.clone();
            for (name, (_, x)) in c.iter_mut() {
                if let (Some((_, a)), Some((_, b))) = (u.get(name), v.get(name)) {
                    x.iter_mut().zip(a).zip(b).for_each(|((x, a), b)| *x += *s as f32 * a + *t as f32 * b);
                }
            }
            c
        })
        .collect();
    let traj = Trajectory::fit(&net, &checkpoints, true).unwrap();
    for (got, want) in traj.coords.iter().zip(&path) {
        assert!((got[0].abs() - want[0].abs()).abs() < 1e-3, "{got:?} vs {want:?}");
        assert!((got[1].abs() - want[1].abs()).abs() < 1e-3, "{got:?} vs {want:?}");
    }
    // Variances 26/4 and 4/4 of the centred coordinates.
    assert!((traj.explained[0] - 26.0 / 30.0).abs() < 1e-4 && (traj.explained[1] - 4.0 / 30.0).abs() < 1e-4, "{:?}", traj.explained);
    let (x, y) = traj.axes(0.25, 11);
    assert!(x.min < -3.0 && x.max > 3.0 && y.min < -1.0 && y.max > 1.0, "{x:?} {y:?}");

    let err = Trajectory::fit(&net, &checkpoints[..2], true).unwrap_err().to_string();
    assert!(err.contains("at least 3 checkpoints"), "{err}");
    let line: Vec<Arrays> = checkpoints.iter().take(1).cycle().take(4).cloned().collect();
    assert!(Trajectory::fit(&net, &line, true).is_err());
}
