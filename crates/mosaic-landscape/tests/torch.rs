//! Fidelity against PyTorch: the fixture holds a PyTorch MLP, its data,
//! two directions and the surface PyTorch computed by loading each grid
//! point's weights (benches/landscape_vs_pytorch.py fixture).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use burn::backend::Flex;
use burn::backend::flex::FlexDevice;
use mosaic_core::Activation;
use mosaic_landscape::{Axis, DenseNet, directions, surface, surface_cpu};
use mosaic_train::checkpoint::read_safetensors;
use mosaic_train::data::load_csv;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch_mlp").join(name)
}

#[test]
fn surface_equals_pytorch_within_1e_4_relative_at_every_grid_point() {
    let net = DenseNet::from_torch_sequential(read_safetensors(&fixture("model.safetensors")).unwrap(), Activation::Tanh).unwrap();
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
