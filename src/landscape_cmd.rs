//! `mosaic landscape`: the loss surface around a trained network, over
//! random filter-normalised directions, given directions, or the plane of
//! its training trajectory. Works on a store's run or on a PyTorch MLP.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_compute::landscape::{Engine, LandscapeRequest, Progress, Split, Subject, compute};
use mosaic_core::Activation;
use mosaic_landscape::directions::Normalization;
use mosaic_landscape::file;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("model").required(true).args(["store", "weights"])))]
pub struct LandscapeArgs {
    /// Store holding the run (written by `mosaic sweep`).
    #[arg(long, value_name = "DIR", requires = "run")]
    pub store: Option<PathBuf>,
    /// With --store: which sweep (default: the only one).
    #[arg(long, requires = "store")]
    pub sweep: Option<String>,
    /// With --store: the run's id (`mosaic export` lists them).
    #[arg(long, requires = "store")]
    pub run: Option<i64>,
    /// With --store: the split the loss is measured on.
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,
    /// With --store: the surface over the plane of the training trajectory
    /// (PCA of the per-epoch checkpoints; the run is replayed, exactly, to
    /// record them if the sweep kept none).
    #[arg(long, requires = "store")]
    pub trajectory: bool,
    /// A PyTorch `nn.Sequential` MLP's state dict (`torch.save` it with
    /// `safetensors.torch.save_file(model.state_dict(), ...)`).
    #[arg(long, value_name = "SAFETENSORS", requires_all = ["data", "activation"])]
    pub weights: Option<PathBuf>,
    /// With --weights: the activation between its Linear layers.
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// With --weights: a CSV of feature columns and an integer class label.
    #[arg(long, value_name = "CSV", requires = "weights")]
    pub data: Option<PathBuf>,
    /// With --data: the label column's name (default: the last column).
    #[arg(long)]
    pub label_column: Option<String>,
    /// Given directions: tensors `d1.<param>` (and `d2.<param>` for 2-D),
    /// in the weights' layout; used as they are unless --normalize is given.
    #[arg(long, value_name = "SAFETENSORS", conflicts_with = "trajectory")]
    pub directions: Option<PathBuf>,
    /// x axis, MIN:MAX:NUM (default -1:1:51; for --trajectory, the path's extent).
    #[arg(long, allow_hyphen_values = true)]
    pub x: Option<String>,
    /// y axis, MIN:MAX:NUM; `none` for a 1-D scan along the first direction.
    #[arg(long, allow_hyphen_values = true)]
    pub y: Option<String>,
    /// How directions are scaled against the weights (default: filter for
    /// random directions; given directions are used as they are).
    #[arg(long, value_enum)]
    pub normalize: Option<NormalizeArg>,
    /// Move biases and norm parameters too in drawn or --normalize'd
    /// directions (by default their direction is zero there); given
    /// directions without --normalize move them as written.
    #[arg(long)]
    pub keep_bias_norm: bool,
    /// Make the second random direction orthogonal to the first.
    #[arg(long)]
    pub orthogonal: bool,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What evaluates the grid: fused CPU kernels on every core, or burn's
    /// tensors (the backend-generic path a GPU build runs).
    #[arg(long, value_enum, default_value_t = EngineArg::Cpu)]
    pub engine: EngineArg,
    /// The loss grid (.npy); a JSON sidecar of the same stem goes beside it.
    /// With --store, the default is the run's folder (landscape.npy, or
    /// trajectory.npy with --trajectory).
    #[arg(long, short, value_name = "NPY", required_unless_present = "store")]
    pub out: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum EngineArg {
    Cpu,
    Burn,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SplitArg {
    Train,
    Validation,
    Test,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ActivationArg {
    Relu,
    Gelu,
    Tanh,
    Silu,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum NormalizeArg {
    Filter,
    Layer,
    None,
}

pub fn landscape(args: LandscapeArgs) -> Result<()> {
    let bar = ProgressBar::new(0);
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // Ctrl-C stops at the next chunk; nothing is written for a partial grid.
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));
    }
    let progress = |step: Progress| match step {
        Progress::Replay { run, epoch, epochs } => {
            if epoch == 0 {
                bar.set_style(
                    ProgressStyle::with_template("{spinner} replaying run {msg} to record its path {bar:30} {pos}/{len} epochs")
                        .expect("valid template"),
                );
                bar.set_message(run.to_string());
                bar.set_length(epochs as u64);
            }
            bar.set_position(epoch as u64);
        }
        Progress::Grid { done, total } => {
            if done == 0 {
                bar.set_style(
                    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} grid points · ETA {eta}")
                        .expect("valid template"),
                );
                bar.set_length(total as u64);
                bar.reset_eta();
            }
            bar.set_position(done as u64);
        }
    };
    let (out, info) = compute(&request(args)?, &progress, &cancel)?;
    bar.finish_and_clear();
    let points = info.x.num * info.y.map_or(1, |a| a.num);
    let min = info.minimum.map_or("none finite".into(), |[x, y, l]| format!("{l:.4} at ({x:.3}, {y:.3})"));
    println!(
        "{points} grid points in {:.2} s on {} examples: lowest loss {min}{}\nwrote {} and {}",
        info.seconds,
        info.examples,
        if info.non_finite > 0 { format!(", {} points overflowed", info.non_finite) } else { String::new() },
        out.display(),
        file::sidecar_path(&out).display()
    );
    Ok(())
}

/// The request the flags describe (clap has checked which go together).
fn request(args: LandscapeArgs) -> Result<LandscapeRequest> {
    if let Some(out) = &args.out {
        // The grid and its JSON sidecar beside it.
        let inputs: Vec<&std::path::Path> = args.weights.iter().chain(&args.data).chain(&args.directions).map(|p| p.as_path()).collect();
        for path in [out.clone(), out.with_extension("json")] {
            crate::cli::refuse_overwriting(&path, args.store.as_deref(), &inputs)?;
        }
    }
    let subject = match (args.store, args.run, args.weights, args.activation, args.data) {
        (Some(store), Some(run), _, _, _) => {
            let split = match args.split {
                SplitArg::Train => Split::Train,
                SplitArg::Validation => Split::Validation,
                SplitArg::Test => Split::Test,
            };
            Subject::StoredRun { store, sweep: args.sweep, run, split, trajectory: args.trajectory }
        }
        (None, _, Some(weights), Some(activation), Some(data)) => {
            let activation = match activation {
                ActivationArg::Relu => Activation::Relu,
                ActivationArg::Gelu => Activation::Gelu,
                ActivationArg::Tanh => Activation::Tanh,
                ActivationArg::Silu => Activation::Silu,
            };
            Subject::TorchMlp { weights, activation, data, label_column: args.label_column }
        }
        _ => bail!("name the network: --store DIR --run ID, or --weights FILE --activation NAME --data CSV"),
    };
    Ok(LandscapeRequest {
        subject,
        directions: args.directions,
        x: args.x,
        y: args.y,
        normalize: args.normalize.map(|n| match n {
            NormalizeArg::Filter => Normalization::Filter,
            NormalizeArg::Layer => Normalization::Layer,
            NormalizeArg::None => Normalization::None,
        }),
        keep_bias_norm: args.keep_bias_norm,
        orthogonal: args.orthogonal,
        seed: args.seed,
        engine: match args.engine {
            EngineArg::Cpu => Engine::Cpu,
            EngineArg::Burn => Engine::Burn,
        },
        out: args.out,
    })
}
