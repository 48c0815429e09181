//! One network trained from a spec on a built-in task, epoch by epoch.
//!
//! `cargo run --release -p mosaic-train --example train_one`

use std::sync::atomic::AtomicBool;

use mosaic_core::ArchSpec;
use mosaic_train::data::{BuiltIn, split};
use mosaic_train::train::{Checkpoints, TrainConfig, train};
use mosaic_train::{CpuBackend, cpu_device};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = BuiltIn::parse("moons").expect("a built-in task").generate(600, 1);
    // 70 / 15 / 15, and the first 100 test examples as the probe set every network of a sweep shares.
    let splits = split(&data, 1, 100);
    // The benchmarks' reference MLP, narrower and shorter.
    let spec = ArchSpec { width: 32, batch_size: 32, epochs: 8, ..mosaic_train::reference_spec(8) };
    let config = TrainConfig { seed: 1, checkpoints: Checkpoints::None, out_dir: None };
    let trained = train::<CpuBackend>(&spec, &splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |e| {
        println!("epoch {:>2}: train loss {:.3}, val accuracy {:.1}%", e.epoch, e.train_loss, 100.0 * e.val_accuracy);
    })?;
    let accuracy = trained.outcome.val_accuracy().unwrap_or(f64::NAN);
    println!("{} parameters · {:?} · val accuracy {:.1}%", trained.outcome.parameters, trained.outcome.status, 100.0 * accuracy);
    // The hidden representations of the probe set, as PHATE's network distances read them.
    for (layer, (shape, _)) in &trained.activations {
        println!("{layer}: {shape:?}");
    }
    assert!(accuracy > 0.6, "two moons are learnable");
    Ok(())
}
