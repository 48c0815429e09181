//! The trainer's promises: it learns, it is reproducible, it survives
//! divergence, and what it records matches what it built.

use std::sync::atomic::AtomicBool;

use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer, RunStatus};
use mosaic_train::checkpoint::read_safetensors;
use mosaic_train::data::{BuiltIn, split};
use mosaic_train::model::Network;
use mosaic_train::train::{Checkpoints, TrainConfig, train, trainable_parameters};
use mosaic_train::{CpuBackend, cpu_device};
use rand::SeedableRng;

fn mlp(width: u32, depth: u32, optimizer: Optimizer, learning_rate: f64, epochs: u32) -> ArchSpec {
    ArchSpec {
        family: Family::Mlp,
        depth,
        width,
        taper: 1.0,
        activation: Activation::Relu,
        norm: Norm::None,
        dropout: 0.0,
        skip: false,
        optimizer,
        learning_rate,
        batch_size: 32,
        weight_decay: 1e-6,
        epochs,
    }
}

fn config(seed: u64) -> TrainConfig {
    TrainConfig { seed, checkpoints: Checkpoints::None, out_dir: None }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-train-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn an_mlp_learns_two_spirals() {
    let splits = split(&BuiltIn::Spirals.generate(2000, 1), 1, 500);
    let spec = mlp(64, 2, Optimizer::Adam, 0.01, 60);
    let mut seen = Vec::new();
    let run = train::<CpuBackend>(&spec, &splits, &config(7), &AtomicBool::new(false), &cpu_device(), &mut |e| seen.push(e.epoch)).unwrap();
    let o = &run.outcome;
    assert_eq!(o.status, RunStatus::Done);
    assert_eq!(seen, (1..=60).collect::<Vec<_>>(), "every epoch reported in order");
    let test = o.test_accuracy.unwrap();
    assert!(test > 0.95, "test accuracy {test}");
    let (first, last) = (&o.epochs[0], o.last().unwrap());
    assert!(last.train_loss < first.train_loss / 5.0, "{} -> {}", first.train_loss, last.train_loss);
    assert!(o.epochs.iter().all(|e| e.grad_norm > 0.0 && e.weight_norm > 0.0 && e.seconds > 0.0 && e.learning_rate == 0.01));
}

#[test]
fn a_cnn_learns_the_shapes_task() {
    let data = BuiltIn::Shapes.generate(800, 2);
    assert_eq!((data.dim, data.classes, data.image), (256, 4, Some((1, 16, 16))));
    let splits = split(&data, 2, 100);
    let spec = ArchSpec { family: Family::Cnn, depth: 2, width: 12, norm: Norm::Batch, ..mlp(12, 2, Optimizer::Adam, 0.01, 12) };
    let run = train::<CpuBackend>(&spec, &splits, &config(3), &AtomicBool::new(false), &cpu_device(), &mut |_| {}).unwrap();
    let acc = run.outcome.test_accuracy.unwrap();
    assert!(acc > 0.8, "shapes test accuracy {acc} (chance is 0.25)");
    // Conv activations are averaged over space: [probe, channels].
    assert_eq!(run.activations["layer1"].0, vec![100, 12]);
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let splits = split(&BuiltIn::Moons.generate(600, 4), 4, 100);
    let spec = ArchSpec { dropout: 0.2, ..mlp(16, 2, Optimizer::SgdMomentum, 0.05, 4) };
    let go = |seed| train::<CpuBackend>(&spec, &splits, &config(seed), &AtomicBool::new(false), &cpu_device(), &mut |_| {}).unwrap();
    let (a, b, c) = (go(11), go(11), go(12));
    let strip = |t: &mosaic_train::train::Trained| {
        t.outcome.epochs.iter().map(|e| (e.train_loss, e.val_loss, e.grad_norm, e.weight_norm)).collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_eq!(a.activations, b.activations);
    assert_ne!(strip(&a), strip(&c));
}

#[test]
fn a_huge_learning_rate_diverges_without_crashing() {
    let splits = split(&BuiltIn::Blobs(3).generate(300, 5), 5, 50);
    let spec = mlp(64, 3, Optimizer::SgdMomentum, 9.0, 20);
    let run = train::<CpuBackend>(&spec, &splits, &config(1), &AtomicBool::new(false), &cpu_device(), &mut |_| {}).unwrap();
    assert_eq!(run.outcome.status, RunStatus::Diverged);
    let note = run.outcome.note.unwrap();
    assert!(note.contains("loss") && note.contains("epoch"), "{note}");
    assert!(run.outcome.epochs.len() < 20, "training stopped early");
}

#[test]
fn trainable_parameters_match_the_spec_count() {
    let device = cpu_device();
    let planar = BuiltIn::Moons.generate(10, 0);
    let images = BuiltIn::Shapes.generate(10, 0);
    for family in [Family::Mlp, Family::ResidualMlp, Family::Cnn] {
        for norm in [Norm::None, Norm::Layer, Norm::Batch] {
            for skip in [false, true] {
                let spec = ArchSpec { family, norm, skip, taper: 0.7, ..mlp(20, 3, Optimizer::Adam, 0.01, 1) };
                for data in [&planar, &images] {
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
                    let net = Network::<CpuBackend>::new(&spec, data.shape(), data.image, &mut rng, &device);
                    assert_eq!(
                        trainable_parameters(&net),
                        spec.parameter_count(data.shape()),
                        "{family:?} {norm:?} skip={skip} on {}",
                        data.name
                    );
                }
            }
        }
    }
}

#[test]
fn checkpoints_and_activations_are_written_as_safetensors() {
    let dir = scratch("files");
    let splits = split(&BuiltIn::Circles.generate(400, 6), 6, 50);
    let spec = mlp(8, 2, Optimizer::AdamW, 0.01, 3);
    let config = TrainConfig { seed: 2, checkpoints: Checkpoints::EveryEpoch, out_dir: Some(dir.clone()) };
    let run = train::<CpuBackend>(&spec, &splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |_| {}).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        ["activations.safetensors", "checkpoint-0001.safetensors", "checkpoint-0002.safetensors", "checkpoint-0003.safetensors"]
    );
    let last = read_safetensors(&dir.join("checkpoint-0003.safetensors")).unwrap();
    assert_eq!(last["blocks.0.layer.weight"].0, vec![2, 8]);
    assert_eq!(last["head.weight"].0, vec![8, 2]);
    let first = read_safetensors(&dir.join("checkpoint-0001.safetensors")).unwrap();
    assert_ne!(first["head.weight"].1, last["head.weight"].1, "weights moved between epochs");
    let acts = read_safetensors(&dir.join("activations.safetensors")).unwrap();
    assert_eq!(acts, run.activations);
    assert_eq!(acts["layer0"].0, vec![50, 8]);
    assert!(read_safetensors(&dir.join("missing.safetensors")).unwrap_err().to_string().contains("missing.safetensors"));
}

#[test]
fn cancelling_mid_run_stops_at_the_next_step() {
    let splits = split(&BuiltIn::Spirals.generate(300, 1), 1, 10);
    let spec = mlp(16, 1, Optimizer::Adam, 0.01, 50);
    let cancel = AtomicBool::new(false);
    let mut epochs = 0;
    let result = train::<CpuBackend>(&spec, &splits, &config(0), &cancel, &cpu_device(), &mut |e| {
        epochs = e.epoch;
        if e.epoch == 2 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(matches!(result, Err(mosaic_train::train::TrainError::Cancelled)));
    assert_eq!(epochs, 2, "no epoch ran after the cancel");
}

/// The same run on the GPU backend (here: whatever wgpu finds, lavapipe on
/// a machine without a GPU) matches the CPU run: same initial weights, same
/// batches, so the losses agree up to float reordering.
#[cfg(feature = "wgpu")]
#[test]
fn gpu_training_matches_cpu_training() {
    use mosaic_train::{GpuBackend, gpu_device};
    let splits = split(&BuiltIn::Moons.generate(400, 3), 3, 50);
    let spec = mlp(16, 2, Optimizer::Adam, 0.01, 3);
    let cpu = train::<CpuBackend>(&spec, &splits, &config(5), &AtomicBool::new(false), &cpu_device(), &mut |_| {}).unwrap();
    let gpu = train::<GpuBackend>(&spec, &splits, &config(5), &AtomicBool::new(false), &gpu_device(), &mut |_| {}).unwrap();
    assert_eq!((cpu.outcome.epochs.len(), gpu.outcome.epochs.len()), (3, 3));
    for (c, g) in cpu.outcome.epochs.iter().zip(&gpu.outcome.epochs) {
        assert!(
            (c.train_loss - g.train_loss).abs() < 1e-3 * c.train_loss.abs().max(1.0),
            "epoch {}: {} vs {}",
            c.epoch,
            c.train_loss,
            g.train_loss
        );
        assert!((c.val_accuracy - g.val_accuracy).abs() <= 0.02, "epoch {}", c.epoch);
    }
}
