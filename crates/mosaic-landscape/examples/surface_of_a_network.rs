//! The loss surface around a freshly trained network, over two random
//! filter-normalised directions (Li et al. 2018), drawn as text.
//!
//! `cargo run --release -p mosaic-landscape --example surface_of_a_network`

use std::sync::atomic::AtomicBool;

use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer};
use mosaic_landscape::directions::surface_directions;
use mosaic_landscape::{Axis, DirectionOptions, Net, Normalization, surface_cpu};
use mosaic_train::checkpoint::read_safetensors;
use mosaic_train::data::{BuiltIn, split};
use mosaic_train::train::{Checkpoints, TrainConfig, train};
use mosaic_train::{CpuBackend, cpu_device};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let splits = split(&BuiltIn::parse("moons").expect("built in").generate(800, 3), 3, 100);
    let spec = ArchSpec {
        family: Family::Mlp,
        depth: 2,
        width: 24,
        taper: 1.0,
        activation: Activation::Tanh,
        norm: Norm::None,
        dropout: 0.0,
        skip: false,
        optimizer: Optimizer::Adam,
        learning_rate: 1e-2,
        batch_size: 32,
        weight_decay: 0.0,
        epochs: 10,
    };
    // Train, keeping the final weights in a scratch folder.
    let dir = std::env::temp_dir().join(format!("mosaic-surface-example-{}", std::process::id()));
    let config = TrainConfig { seed: 3, checkpoints: Checkpoints::Final, out_dir: Some(dir.clone()) };
    train::<CpuBackend>(&spec, &splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |_| {})?;
    let weights = read_safetensors(&dir.join("final.safetensors"))?;
    std::fs::remove_dir_all(&dir)?;

    let net = Net::from_checkpoint(&spec, weights)?;
    let options = DirectionOptions { normalization: Normalization::Filter, ignore_bias_and_norm: true, orthogonalize: false, seed: 0 };
    let (d1, d2) = surface_directions(&net, &options, true);
    let axis = Axis::parse("-1:1:21")?;
    let surface = surface_cpu(&net, &d1, d2.as_ref(), axis, Some(axis), &splits.validation, &|_, _| {}, &AtomicBool::new(false))?;

    // Darker characters are lower losses; the trained network sits at the centre.
    let (lo, hi) = surface.loss.iter().filter(|l| l.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), &l| (a.min(l), b.max(l)));
    let shades = ['@', '%', '#', '*', '+', '=', '-', ':', '.', ' '];
    for row in surface.loss.chunks(axis.num) {
        let line: String = row.iter().map(|l| shades[(((l - lo) / (hi - lo).max(1e-12)) * 9.0).clamp(0.0, 9.0) as usize]).collect();
        println!("{line}");
    }
    let centre = surface.loss[surface.loss.len() / 2];
    let (_, lowest) = surface.minimum().expect("finite losses");
    println!("loss at the trained weights {centre:.3}; lowest on the grid {lowest:.3}; highest {hi:.3}");
    assert!(centre <= lowest + 0.5 * (hi - lo), "the trained network sits in a valley");
    Ok(())
}
