//! `mosaic bench train`: the trainer's epoch time on the reference task, and
//! the task's data written out so a PyTorch script can time the same model on
//! the same examples (`benches/train_vs_pytorch.py` runs both).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::Args;
use mosaic_core::{Activation, ArchSpec, Family, Norm, Optimizer};
use mosaic_train::data::{BuiltIn, Dataset, Splits};
use mosaic_train::train::{Checkpoints, TrainConfig, train};
use mosaic_train::{CpuBackend, cpu_device};

#[derive(Args, Debug)]
pub struct BenchTrainArgs {
    /// Folder for the data (train.csv, val.csv) and the timings (rust.json).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    #[arg(long, default_value_t = 20)]
    pub epochs: u32,
}

/// The reference task: a 2x64 ReLU MLP on 2,000 two-spiral points, batch 64, Adam.
pub fn reference_spec(epochs: u32) -> ArchSpec {
    ArchSpec {
        family: Family::Mlp,
        depth: 2,
        width: 64,
        taper: 1.0,
        activation: Activation::Relu,
        norm: Norm::None,
        dropout: 0.0,
        skip: false,
        optimizer: Optimizer::Adam,
        learning_rate: 0.003,
        batch_size: 64,
        weight_decay: 0.0,
        epochs,
    }
}

fn write_csv(data: &Dataset, path: &std::path::Path) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?);
    for i in 0..data.len() {
        let row = data.row(i);
        writeln!(f, "{},{},{}", row[0], row[1], data.labels[i])?;
    }
    Ok(())
}

pub fn bench_train(args: BenchTrainArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out_dir).with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    // 2,000 training points, as the benchmark promises, and 500 to validate on each epoch.
    let train_set = BuiltIn::Spirals.generate(2000, 1);
    let validation = BuiltIn::Spirals.generate(500, 2);
    write_csv(&train_set, &args.out_dir.join("train.csv"))?;
    write_csv(&validation, &args.out_dir.join("val.csv"))?;
    let splits = Splits { train: train_set, test: validation.clone(), probe: validation.subset(&[]), validation };
    let spec = reference_spec(args.epochs);
    let config = TrainConfig { seed: 1, checkpoints: Checkpoints::None, out_dir: None };
    let run = train::<CpuBackend>(&spec, &splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |_| {})?;
    let seconds: Vec<f64> = run.outcome.epochs.iter().map(|e| e.seconds).collect();
    // JSON has no NaN: a missing or broken number is null.
    let number = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or("null".to_string(), |x| x.to_string());
    let json = format!(
        "{{\"epoch_seconds\": {:?}, \"final_val_accuracy\": {}, \"final_train_loss\": {}}}",
        seconds,
        number(run.outcome.val_accuracy()),
        number(run.outcome.last().map(|e| e.train_loss))
    );
    std::fs::write(args.out_dir.join("rust.json"), &json)?;
    println!("{json}");
    Ok(())
}
