//! The batched surface against the plain way: load each grid point's
//! weights into the trainer's own network and evaluate it.

use std::sync::atomic::AtomicBool;

use burn::backend::Flex;
use burn::backend::flex::FlexDevice;
use burn::nn::loss::CrossEntropyLossConfig;
use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer, TaskShape};
use mosaic_landscape::directions::{DirectionOptions, Normalization, surface_directions};
use mosaic_landscape::{Axis, LandscapeError, Net, Surface, surface, surface_cpu};
use mosaic_train::checkpoint::{Arrays, load_arrays, module_arrays};
use mosaic_train::data::{BuiltIn, Dataset};
use mosaic_train::model::Network;
use mosaic_train::train::evaluate;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn spec(family: Family, depth: u32, width: u32, taper: f64, activation: Activation, norm: Norm) -> ArchSpec {
    ArchSpec {
        family,
        depth,
        width,
        taper,
        activation,
        norm,
        dropout: 0.1,
        skip: false,
        optimizer: Optimizer::Adam,
        learning_rate: 0.01,
        batch_size: 32,
        weight_decay: 0.0,
        epochs: 1,
    }
}

/// A network with every array (norm scales, running statistics included)
/// set to random values, so no part of the forward pass is trivially 0 or 1.
fn random_network(spec: &ArchSpec, seed: u64) -> (Network<Flex>, Arrays) {
    random_network_for(spec, TaskShape::PLANAR_BINARY, None, seed)
}

fn random_network_for(spec: &ArchSpec, task: TaskShape, image: Option<(usize, usize, usize)>, seed: u64) -> (Network<Flex>, Arrays) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let net = Network::<Flex>::new(spec, task, image, &mut rng, &FlexDevice);
    let mut arrays = module_arrays(&net);
    for (name, (_, values)) in arrays.iter_mut() {
        if name.ends_with("running_var") || name.ends_with("gamma") {
            values.iter_mut().for_each(|v| *v = rng.random_range(0.5..1.5));
        } else if name.ends_with("running_mean") || name.ends_with("beta") {
            values.iter_mut().for_each(|v| *v = rng.random_range(-0.5..0.5));
        }
    }
    (load_arrays(net, &arrays).unwrap(), arrays)
}

fn combine(w: &Arrays, d1: &Arrays, d2: &Arrays, a: f32, b: f32) -> Arrays {
    let mut out = w.clone();
    for (name, (_, values)) in out.iter_mut() {
        if let (Some((_, x)), Some((_, y))) = (d1.get(name), d2.get(name)) {
            values.iter_mut().zip(x).zip(y).for_each(|((v, x), y)| *v += a * x + b * y);
        }
    }
    out
}

/// The surface from both engines, checked equal to each other.
fn both(net: &Net, d1: &Arrays, d2: Option<&Arrays>, x: Axis, y: Option<Axis>, data: &Dataset) -> Surface {
    let never = AtomicBool::new(false);
    let burn = surface::<Flex>(net, d1, d2, x, y, data, &FlexDevice, &|_, _| {}, &never).unwrap();
    let cpu = surface_cpu(net, d1, d2, x, y, data, &|_, _| {}, &never).unwrap();
    assert_eq!((&burn.x, &burn.y), (&cpu.x, &cpu.y));
    for (k, (b, c)) in burn.loss.iter().zip(&cpu.loss).enumerate() {
        assert!((b - c).abs() <= 1e-5 * b.abs().max(1.0), "grid point {k}: burn {b}, cpu {c}");
    }
    assert_eq!(burn.accuracy, cpu.accuracy);
    cpu
}

fn check_against_network(spec: ArchSpec) {
    check_against_network_on(spec, &BuiltIn::Spirals.generate(300, 3), &[]);
}

/// Every parameter moves (1-D arrays too, layer-normalised), except the
/// `frozen` ones, whose directions are zero.
fn check_against_network_on(spec: ArchSpec, data: &Dataset, frozen: &[&str]) {
    let (network, arrays) = random_network_for(&spec, data.shape(), data.image, 11);
    let net = Net::from_checkpoint(&spec, arrays.clone()).unwrap();
    let options = DirectionOptions { normalization: Normalization::Layer, ignore_bias_and_norm: false, orthogonalize: true, seed: 5 };
    let (mut d1, d2) = surface_directions(&net, &options, true);
    let mut d2 = d2.unwrap();
    for name in frozen {
        for d in [&mut d1, &mut d2] {
            d.get_mut(*name).unwrap_or_else(|| panic!("no parameter {name}")).1.iter_mut().for_each(|v| *v = 0.0);
        }
    }
    let axis = Axis::parse("-0.6:0.6:3").unwrap();
    let result = both(&net, &d1, Some(&d2), axis, Some(axis), data);
    assert_eq!(result.loss.len(), 9);
    let loss_fn = CrossEntropyLossConfig::new().init(&FlexDevice);
    let mut distinct = Vec::new();
    for (i, &b) in result.y.as_ref().unwrap().iter().enumerate() {
        for (j, &a) in result.x.iter().enumerate() {
            let moved = load_arrays(network.clone(), &combine(&arrays, &d1, &d2, a as f32, b as f32)).unwrap();
            let (loss, accuracy) = evaluate(&moved, &loss_fn, data, &FlexDevice);
            let got = result.loss[i * 3 + j];
            assert!((got - loss).abs() <= 1e-5 * loss.abs().max(1.0), "{spec:?} at ({a}, {b}): batched {got}, network {loss}");
            assert!(
                (result.accuracy[i * 3 + j] - accuracy).abs() < 1e-9,
                "accuracy at ({a}, {b}): batched {} network {accuracy}",
                result.accuracy[i * 3 + j]
            );
            distinct.push(loss);
        }
    }
    // The grid really moves the weights: the losses differ from point to point.
    distinct.sort_by(f64::total_cmp);
    assert!(distinct.windows(2).all(|w| w[1] - w[0] > 1e-6), "{distinct:?}");
}

#[test]
fn batched_surface_equals_the_network_at_every_grid_point() {
    check_against_network(spec(Family::Mlp, 3, 16, 1.0, Activation::Relu, Norm::None));
    check_against_network(spec(Family::ResidualMlp, 3, 12, 0.7, Activation::Gelu, Norm::Layer));
    check_against_network(spec(Family::ResidualMlp, 2, 10, 1.0, Activation::Tanh, Norm::Batch));
    check_against_network(spec(Family::Mlp, 1, 9, 1.0, Activation::Silu, Norm::Batch));
    // ReLU networks whose first layer has no norm take the row sweep: with
    // identity and projected skips, and with the head as the second layer.
    check_against_network(spec(Family::ResidualMlp, 3, 12, 0.7, Activation::Relu, Norm::None));
    check_against_network(spec(Family::ResidualMlp, 3, 12, 1.0, Activation::Relu, Norm::None));
    check_against_network(spec(Family::Mlp, 1, 9, 1.0, Activation::Relu, Norm::None));
}

#[test]
fn convolutional_surfaces_equal_the_network_at_every_grid_point() {
    // 16 x 16 images, pooled to 8 x 8 and 4 x 4, plain and with identity skips.
    let images = BuiltIn::Shapes.generate(40, 6);
    check_against_network_on(spec(Family::Cnn, 2, 6, 1.0, Activation::Relu, Norm::None), &images, &[]);
    let mut skips = spec(Family::Cnn, 3, 4, 1.0, Activation::Gelu, Norm::Layer);
    skips.skip = true;
    check_against_network_on(skips, &images, &[]);
    // Plain features read as a 1 x 1 x 2 strip (never pooled), with projected skips and batch norm.
    let mut projected = spec(Family::Cnn, 3, 8, 0.6, Activation::Tanh, Norm::Batch);
    projected.skip = true;
    check_against_network(projected.clone());
    // Unmoved arrays: a first block that stays one network for all grid points (its output
    // shared), and a kernel and projection that no direction moves applied to every grid point's input.
    projected.norm = Norm::None;
    check_against_network_on(projected.clone(), &images, &["blocks.0.layer.weight", "blocks.0.layer.bias"]);
    check_against_network_on(projected, &images, &["blocks.1.layer.weight", "blocks.1.projection"]);
}

#[test]
fn a_convolutional_network_refuses_images_of_the_wrong_channels() {
    let s = spec(Family::Cnn, 2, 4, 1.0, Activation::Relu, Norm::None);
    let rgb = (3, 4, 4);
    let task = TaskShape { input_dim: 48, input_channels: 3, classes: 4 };
    let (_, arrays) = random_network_for(&s, task, Some(rgb), 3);
    let net = Net::from_checkpoint(&s, arrays).unwrap();
    let (d1, _) = surface_directions(&net, &DirectionOptions::default(), false);
    let axis = Axis::parse("-1:1:3").unwrap();
    let grey = BuiltIn::Shapes.generate(8, 1);
    let err = surface_cpu(&net, &d1, None, axis, None, &grey, &|_, _| {}, &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(err.contains("1 channel(s)") && err.contains("takes 3"), "{err}");
}

#[test]
fn the_relu_row_sweep_matches_the_burn_engine_on_a_fine_grid() {
    // Many `a` values per row, so neurons switch on and off along it.
    let s = spec(Family::Mlp, 2, 32, 1.0, Activation::Relu, Norm::None);
    let data = BuiltIn::Spirals.generate(700, 4);
    let (_, arrays) = random_network(&s, 9);
    let net = Net::from_checkpoint(&s, arrays).unwrap();
    let options = DirectionOptions { normalization: Normalization::Filter, ignore_bias_and_norm: false, orthogonalize: false, seed: 2 };
    let (d1, d2) = surface_directions(&net, &options, true);
    let axis = Axis::parse("-2:2:17").unwrap();
    let result = both(&net, &d1, d2.as_ref(), axis, Some(axis), &data);
    assert_eq!(result.loss.len(), 17 * 17);
}

#[test]
fn one_dimensional_scan_passes_through_the_trained_weights() {
    let s = spec(Family::Mlp, 2, 16, 1.0, Activation::Relu, Norm::None);
    let data = BuiltIn::Moons.generate(200, 1);
    let (network, arrays) = random_network(&s, 2);
    let net = Net::from_checkpoint(&s, arrays).unwrap();
    let (d1, _) = surface_directions(&net, &DirectionOptions::default(), false);
    let result = both(&net, &d1, None, Axis::parse("-1:1:5").unwrap(), None, &data);
    assert_eq!(result.x, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert!(result.y.is_none());
    let (loss, _) = evaluate(&network, &CrossEntropyLossConfig::new().init(&FlexDevice), &data, &FlexDevice);
    assert!((result.loss[2] - loss).abs() < 1e-6 * loss.max(1.0), "centre {} vs trained {loss}", result.loss[2]);
}

#[test]
fn progress_reaches_the_total_and_cancel_stops() {
    let s = spec(Family::Mlp, 1, 8, 1.0, Activation::Relu, Norm::None);
    let data = BuiltIn::Circles.generate(100, 1);
    let (_, arrays) = random_network(&s, 4);
    let net = Net::from_checkpoint(&s, arrays).unwrap();
    let (d1, d2) = surface_directions(&net, &DirectionOptions::default(), true);
    let axis = Axis::parse("-1:1:7").unwrap();
    let last = std::sync::Mutex::new((0, 0));
    let progress = |done: usize, total: usize| {
        let mut l = last.lock().unwrap();
        *l = (l.0.max(done), total);
    };
    surface::<Flex>(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &FlexDevice, &progress, &AtomicBool::new(false)).unwrap();
    assert_eq!(*last.lock().unwrap(), (49, 49));
    *last.lock().unwrap() = (0, 0);
    surface_cpu(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &progress, &AtomicBool::new(false)).unwrap();
    assert_eq!(*last.lock().unwrap(), (49, 49));
    let cancelled = surface::<Flex>(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &FlexDevice, &|_, _| {}, &AtomicBool::new(true));
    assert!(matches!(cancelled, Err(LandscapeError::Cancelled)));
    let cancelled = surface_cpu(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &|_, _| {}, &AtomicBool::new(true));
    assert!(matches!(cancelled, Err(LandscapeError::Cancelled)));
}

#[test]
fn data_that_does_not_fit_the_network_is_refused() {
    let s = spec(Family::Mlp, 1, 8, 1.0, Activation::Relu, Norm::None);
    let (_, arrays) = random_network(&s, 4);
    let net = Net::from_checkpoint(&s, arrays).unwrap();
    let (d1, _) = surface_directions(&net, &DirectionOptions::default(), false);
    let axis = Axis::parse("-1:1:3").unwrap();
    let run = |data: &Dataset| surface::<Flex>(&net, &d1, None, axis, None, data, &FlexDevice, &|_, _| {}, &AtomicBool::new(false));
    let four_classes = BuiltIn::Blobs(4).generate(40, 1);
    let err = run(&four_classes).unwrap_err().to_string();
    let cpu_err = surface_cpu(&net, &d1, None, axis, None, &four_classes, &|_, _| {}, &AtomicBool::new(false)).unwrap_err().to_string();
    assert_eq!(err, cpu_err);
    assert!(err.contains("label") && err.contains("2 output classes"), "{err}");
    let mut nan = BuiltIn::Moons.generate(40, 1);
    nan.features[7] = f32::NAN;
    let err = run(&nan).unwrap_err().to_string();
    assert!(err.contains("non-finite") && err.contains("example 3"), "{err}");
}

#[test]
fn axes_parse_and_refuse_nonsense() {
    let a = Axis::parse("-1:1:51").unwrap();
    let v = a.values();
    assert_eq!((v.len(), v[0], v[50]), (51, -1.0, 1.0));
    assert!(v[25].abs() < 1e-12);
    for bad in ["-1:1", "1:-1:5", "a:1:5", "-1:1:0", "-1:1:1", "0:1:x"] {
        assert!(Axis::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Axis::parse("0.5:0.5:1").unwrap().values(), vec![0.5]);
}
