//! Training one network: minibatch loop, per-epoch metrics, divergence
//! detection, checkpoints and probe activations.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, Optimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use mosaic_core::{ArchSpec, EpochMetrics, RunOutcome, RunStatus};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use mosaic_store::RunFiles;

use crate::checkpoint::{Arrays, module_arrays, to_safetensors};
use crate::data::{Dataset, Splits};
use crate::model::Network;

/// Which checkpoints a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoints {
    None,
    /// The trained weights only.
    Final,
    /// After every epoch (for trajectories over the loss landscape).
    EveryEpoch,
}

#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Seeds weights, dropout and batch order: same seed, same run.
    pub seed: u64,
    pub checkpoints: Checkpoints,
    /// Folder for checkpoints and activations; nothing is written without one.
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("cancelled")]
    Cancelled,
    #[error("cannot write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the training set is empty")]
    NoData,
    #[error("training failed: {0}")]
    Panicked(String),
    #[error("{0}")]
    Unavailable(String),
}

/// A finished run: its record and its hidden representations of the probe set.
#[derive(Debug)]
pub struct Trained {
    pub outcome: RunOutcome,
    /// `layer0`, `layer1`, …: `[probe examples, width]` each.
    pub activations: Arrays,
}

/// Mean cross-entropy above this (in nats per example) counts as exploded.
pub const EXPLODED_LOSS: f64 = 100.0;

/// Trains `spec` on `data`. Returns `Diverged` (not an error) when the loss
/// becomes NaN or explodes; `Cancelled` when `cancel` is set between steps.
pub fn train<B: AutodiffBackend>(
    spec: &ArchSpec,
    data: &Splits,
    config: &TrainConfig,
    cancel: &AtomicBool,
    device: &B::Device,
    on_epoch: &mut dyn FnMut(&EpochMetrics),
) -> Result<Trained, TrainError> {
    if data.train.is_empty() {
        return Err(TrainError::NoData);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let model = Network::<B>::new(spec, data.train.shape(), data.train.image, &mut rng, device);
    let wd = spec.weight_decay as f32;
    match spec.optimizer {
        mosaic_core::Optimizer::SgdMomentum => {
            let momentum = MomentumConfig { momentum: 0.9, dampening: 0.0, nesterov: false };
            let optim = SgdConfig::new().with_momentum(Some(momentum)).with_weight_decay(Some(WeightDecayConfig::new(wd))).init();
            fit(model, optim, rng, spec, data, config, cancel, device, on_epoch)
        }
        mosaic_core::Optimizer::Adam => {
            let optim = AdamConfig::new().with_epsilon(1e-8).with_weight_decay(Some(WeightDecayConfig::new(wd))).init();
            fit(model, optim, rng, spec, data, config, cancel, device, on_epoch)
        }
        mosaic_core::Optimizer::AdamW => {
            let optim = AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(wd).init();
            fit(model, optim, rng, spec, data, config, cancel, device, on_epoch)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fit<B: AutodiffBackend, O: Optimizer<Network<B>, B>>(
    mut model: Network<B>,
    mut optim: O,
    mut rng: ChaCha8Rng,
    spec: &ArchSpec,
    data: &Splits,
    config: &TrainConfig,
    cancel: &AtomicBool,
    device: &B::Device,
    on_epoch: &mut dyn FnMut(&EpochMetrics),
) -> Result<Trained, TrainError> {
    let started = Instant::now();
    let parameters = trainable_parameters(&model);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let eval_loss = CrossEntropyLossConfig::new().init(device);
    let train = &data.train;
    let batch = (spec.batch_size as usize).clamp(1, train.len());
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut epochs = Vec::new();
    let mut diverged: Option<String> = None;

    'epochs: for epoch in 1..=spec.epochs {
        let t0 = Instant::now();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct, mut seen, mut grad_sum, mut steps) = (0.0, 0i64, 0usize, 0.0, 0usize);
        for chunk in order.chunks(batch) {
            if cancel.load(Ordering::Relaxed) {
                return Err(TrainError::Cancelled);
            }
            let (x, y) = batch_tensors::<B>(train, chunk, device);
            let logits = model.forward(x, Some(&mut rng), None);
            let loss = loss_fn.forward(logits.clone(), y.clone());
            let value: f64 = loss.clone().into_scalar().elem();
            if !value.is_finite() || value > EXPLODED_LOSS {
                let what = if value.is_finite() { format!("exploded to {value:.3e}") } else { "became NaN".into() };
                diverged = Some(format!("loss {what} at epoch {epoch}, step {}", steps + 1));
                break 'epochs;
            }
            correct += accuracy_count(logits, y);
            loss_sum += value * chunk.len() as f64;
            seen += chunk.len();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            grad_sum += norms(&model, Some(&grads)).0;
            steps += 1;
            model = optim.step(spec.learning_rate, model, grads);
        }
        let (val_loss, val_accuracy) = evaluate(&model.valid(), &eval_loss, &data.validation, device);
        let metrics = EpochMetrics {
            epoch,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            val_loss,
            val_accuracy,
            grad_norm: grad_sum / steps.max(1) as f64,
            weight_norm: norms(&model, None).1,
            learning_rate: spec.learning_rate,
            seconds: t0.elapsed().as_secs_f64(),
        };
        on_epoch(&metrics);
        epochs.push(metrics);
        if config.checkpoints == Checkpoints::EveryEpoch {
            save(config, &RunFiles::epoch_name(epoch), &module_arrays(&model.valid()))?;
        }
    }

    let eval = model.valid();
    let (test_loss, test_accuracy) = evaluate(&eval, &eval_loss, &data.test, device);
    // A last step can break the weights after the last training loss was read.
    let broken_test = !data.test.is_empty() && !test_loss.is_finite();
    let broken_val = !data.validation.is_empty() && epochs.last().is_some_and(|e: &EpochMetrics| !e.val_loss.is_finite());
    if diverged.is_none() && (broken_test || broken_val) {
        diverged = Some("weights became NaN or infinite in the last epoch".into());
    }
    let activations = probe_activations(&eval, &data.probe, device);
    save(config, RunFiles::ACTIVATIONS, &activations)?;
    if config.checkpoints == Checkpoints::Final {
        save(config, RunFiles::FINAL_WEIGHTS, &module_arrays(&eval))?;
    }
    let status = if diverged.is_some() { RunStatus::Diverged } else { RunStatus::Done };
    Ok(Trained {
        outcome: RunOutcome {
            status,
            epochs,
            test_loss: Some(test_loss),
            test_accuracy: Some(test_accuracy),
            parameters,
            seconds: started.elapsed().as_secs_f64(),
            note: diverged,
        },
        activations,
    })
}

fn save(config: &TrainConfig, name: &str, arrays: &Arrays) -> Result<(), TrainError> {
    let Some(dir) = &config.out_dir else { return Ok(()) };
    let path = dir.join(name);
    let io = |source| TrainError::Io { path: path.display().to_string(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    mosaic_core::fs::write_atomic(&path, &to_safetensors(arrays)).map_err(io)
}

fn batch_tensors<B: Backend>(data: &Dataset, rows: &[usize], device: &B::Device) -> (Tensor<B, 2>, Tensor<B, 1, Int>) {
    let x: Vec<f32> = rows.iter().flat_map(|&i| data.row(i).iter().copied()).collect();
    let y: Vec<i64> = rows.iter().map(|&i| data.labels[i] as i64).collect();
    (Tensor::from_data(TensorData::new(x, [rows.len(), data.dim]), device), Tensor::from_data(TensorData::new(y, [rows.len()]), device))
}

fn accuracy_count<B: Backend>(logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> i64 {
    logits.argmax(1).squeeze_dim::<1>(1).equal(targets).int().sum().into_scalar().elem()
}

/// Mean loss and accuracy over a data set, in evaluation mode, 1,024 at a time.
pub fn evaluate<B: Backend>(model: &Network<B>, loss_fn: &CrossEntropyLoss<B>, data: &Dataset, device: &B::Device) -> (f64, f64) {
    if data.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let all: Vec<usize> = (0..data.len()).collect();
    let (mut loss, mut correct) = (0.0, 0i64);
    for chunk in all.chunks(1024) {
        let (x, y) = batch_tensors::<B>(data, chunk, device);
        let logits = model.forward(x, None, None);
        let l: f64 = loss_fn.forward(logits.clone(), y.clone()).into_scalar().elem();
        loss += l * chunk.len() as f64;
        correct += accuracy_count(logits, y);
    }
    (loss / data.len() as f64, correct as f64 / data.len() as f64)
}

/// Each hidden block's output on the probe set, named `layer0`, `layer1`, …,
/// and the probe's labels.
pub fn probe_activations<B: Backend>(model: &Network<B>, probe: &Dataset, device: &B::Device) -> Arrays {
    let mut out = Arrays::new();
    if probe.is_empty() {
        return out;
    }
    let rows: Vec<usize> = (0..probe.len()).collect();
    let (x, _) = batch_tensors::<B>(probe, &rows, device);
    let mut hidden = Vec::new();
    model.forward(x, None, Some(&mut hidden));
    for (i, h) in hidden.into_iter().enumerate() {
        let shape = h.dims().to_vec();
        let data = h.into_data().convert::<f32>().to_vec::<f32>().expect("converted to f32");
        out.insert(mosaic_store::RunFiles::layer_name(i), (shape, data));
    }
    // The probe's classes travel with the representations, so features such
    // as class separation need nothing else.
    out.insert(PROBE_LABELS.into(), (vec![probe.len()], probe.labels.iter().map(|&l| l as f32).collect()));
    out
}

/// Name of the probe labels in an activations file.
pub const PROBE_LABELS: &str = mosaic_store::RunFiles::PROBE_LABELS;

/// Global L2 norms over trainable parameters: of the gradients (if given)
/// and of the weights.
struct Norms<'a> {
    grads: Option<&'a GradientsParams>,
    grad_sq: f64,
    weight_sq: f64,
    count: u64,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Norms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // Norm layers' running statistics are parameters too, but not trained.
        if !param.is_require_grad() {
            return;
        }
        let value = param.val().inner();
        self.count += value.shape().num_elements() as u64;
        let sq: f64 = value.square().sum().into_scalar().elem();
        self.weight_sq += sq;
        if let Some(g) = self.grads.and_then(|g| g.get::<B::InnerBackend, D>(param.id)) {
            let gsq: f64 = g.square().sum().into_scalar().elem();
            self.grad_sq += gsq;
        }
    }
}

fn norms<B: AutodiffBackend>(model: &Network<B>, grads: Option<&GradientsParams>) -> (f64, f64) {
    let mut v = Norms { grads, grad_sq: 0.0, weight_sq: 0.0, count: 0 };
    burn::module::Module::visit(model, &mut v);
    (v.grad_sq.sqrt(), v.weight_sq.sqrt())
}

/// Number of trainable scalars (what `ArchSpec::parameter_count` predicts).
pub fn trainable_parameters<B: AutodiffBackend>(model: &Network<B>) -> u64 {
    let mut v = Norms { grads: None, grad_sq: 0.0, weight_sq: 0.0, count: 0 };
    burn::module::Module::visit(model, &mut v);
    v.count
}
