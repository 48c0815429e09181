//! Fidelity against PyTorch: the fixture holds a PyTorch MLP, its data,
//! two directions and the surface PyTorch computed by loading each grid
//! point's weights (benches/landscape_vs_pytorch.py fixture); a second
//! holds a small CNN in a NeuroMosaic checkpoint's names (`conv-fixture`).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use burn::backend::Flex;
use burn::backend::flex::FlexDevice;
use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer};
use mosaic_landscape::{Axis, Net, directions, surface, surface_cpu};
use mosaic_train::checkpoint::read_safetensors;
use mosaic_train::data::{Dataset, load_csv};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch_mlp").join(name)
}

#[test]
fn surface_equals_pytorch_within_1e_4_relative_at_every_grid_point() {
    let net = Net::from_torch_sequential(read_safetensors(&fixture("model.safetensors")).unwrap(), Activation::Tanh).unwrap();
    assert_eq!((net.input_dim(), net.blocks.len(), net.classes()), (3, 2, 3));
    let (d1, d2) = directions::from_file(read_safetensors(&fixture("dirs.safetensors")).unwrap(), &net).unwrap();
    let data = load_csv(&fixture("data.csv"), Some("label")).unwrap();
    let (x, y) = (Axis::parse("-1:1:9").unwrap(), Axis::parse("-0.5:1.5:9").unwrap());
    let never = AtomicBool::new(false);
    let burn = surface::<Flex>(&net, &d1, d2.as_ref(), x, Some(y), &data, &FlexDevice, &|_, _| {}, &never).unwrap();
    let cpu = surface_cpu(&net, &d1, d2.as_ref(), x, Some(y), &data, &|_, _| {}, &never).unwrap();
    let torch_loss = mosaic_manifold::npy::read(&fixture("loss.npy")).unwrap();
    let torch_accuracy = mosaic_manifold::npy::read(&fixture("accuracy.npy")).unwrap();
    for ours in [burn, cpu] {
        assert_eq!((torch_loss.rows, torch_loss.cols), (9, 9));
        let ours_accuracy = ours.accuracy.clone();
        let mut worst: f64 = 0.0;
        for (k, (ours, reference)) in ours.loss.iter().zip(&torch_loss.data).enumerate() {
            let rel = (ours - reference).abs() / reference.abs();
            worst = worst.max(rel);
            assert!(rel <= 1e-4, "grid point {k}: ours {ours}, PyTorch {reference}");
            assert!((ours_accuracy[k] - torch_accuracy.data[k]).abs() < 1e-6, "accuracy at grid point {k}");
        }
        eprintln!("worst relative difference to PyTorch: {worst:.2e}");
    }
    // The surface has relief: a constant would not test much.
    let (lo, hi) = torch_loss.data.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!(hi > 5.0 * lo, "{lo}..{hi}");
}

#[test]
fn a_cnn_surface_equals_pytorch_within_1e_4_relative_at_every_grid_point() {
    // benches/landscape_vs_pytorch.py conv-fixture: 1 -> 6 -> 6 channels, ReLU, 8x8 images, four classes.
    let cnn = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch_cnn").join(name);
    let spec = ArchSpec {
        family: Family::Cnn,
        depth: 2,
        width: 6,
        taper: 1.0,
        activation: Activation::Relu,
        norm: Norm::None,
        dropout: 0.0,
        skip: false,
        optimizer: Optimizer::Adam,
        learning_rate: 0.01,
        batch_size: 32,
        weight_decay: 0.0,
        epochs: 1,
    };
    let net = Net::from_checkpoint(&spec, read_safetensors(&cnn("model.safetensors")).unwrap()).unwrap();
    let (d1, d2) = directions::from_file(read_safetensors(&cnn("dirs.safetensors")).unwrap(), &net).unwrap();
    let images = mosaic_manifold::npy::read(&cnn("images.npy")).unwrap();
    let labels = mosaic_manifold::npy::read(&cnn("labels.npy")).unwrap();
    let data = Dataset {
        name: "torch_cnn".into(),
        features: images.data.iter().map(|&v| v as f32).collect(),
        labels: labels.data.iter().map(|&l| l as u32).collect(),
        dim: 64,
        classes: 4,
        image: Some((1, 8, 8)),
        held_out: 0,
    };
    let axis = Axis::parse("-1:1:7").unwrap();
    let never = AtomicBool::new(false);
    let burn = surface::<Flex>(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &FlexDevice, &|_, _| {}, &never).unwrap();
    let cpu = surface_cpu(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &|_, _| {}, &never).unwrap();
    let torch_loss = mosaic_manifold::npy::read(&cnn("loss.npy")).unwrap();
    let torch_accuracy = mosaic_manifold::npy::read(&cnn("accuracy.npy")).unwrap();
    assert_eq!((torch_loss.rows, torch_loss.cols), (7, 7));
    for (engine, ours) in [("burn", burn), ("cpu", cpu)] {
        let mut worst: f64 = 0.0;
        for (k, (l, reference)) in ours.loss.iter().zip(&torch_loss.data).enumerate() {
            let rel = (l - reference).abs() / reference.abs();
            worst = worst.max(rel);
            assert!(rel <= 1e-4, "{engine}, grid point {k}: ours {l}, PyTorch {reference}");
            assert!((ours.accuracy[k] - torch_accuracy.data[k]).abs() < 1e-6, "{engine}: accuracy at grid point {k}");
        }
        eprintln!("{engine}: worst relative difference to PyTorch {worst:.2e}");
    }
    let (lo, hi) = torch_loss.data.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!(hi > 5.0 * lo, "{lo}..{hi}");
}
