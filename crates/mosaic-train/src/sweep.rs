//! Sweeps: train every pending run of a stored sweep on worker threads.
//!
//! Workers pull runs from a channel and send results back; the calling
//! thread is the store's only writer. Finished runs are never trained again,
//! so an interrupted sweep resumes where it stopped; cancelling leaves the
//! runs in flight pending.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::unbounded;
use mosaic_core::{ArchSpec, RunOutcome, RunStatus};
use mosaic_store::{RunRecord, Store, StoreError, SweepInfo};

use crate::data::Splits;
use crate::train::{Checkpoints, TrainConfig, TrainError, train};
use crate::{CpuBackend, Device, cpu_device};

#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Worker threads (each trains one run at a time on one core).
    pub workers: usize,
    pub checkpoints: Checkpoints,
    pub device: Device,
}

/// What the sweep reports as it goes.
#[derive(Clone, Debug)]
pub enum SweepEvent {
    /// Before any training: how many runs are already finished, and how many remain.
    Plan { finished: usize, pending: usize },
    /// A run finished (done, diverged or failed) and is stored.
    Finished { run: Box<RunRecord>, seconds: f64 },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSummary {
    pub trained: usize,
    pub diverged: usize,
    pub failed: usize,
    /// Pending runs left untrained (cancelled, or the sweep stopped).
    pub left: usize,
    /// Why the sweep stopped early: a problem of the environment (disk full,
    /// no GPU build, no data) rather than of a run. Its runs stay pending.
    pub stopped: Option<String>,
}

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside a run whose panics the sweep catches and
/// records (a panic hook can stay quiet about those).
pub fn in_guarded_run() -> bool {
    GUARDED.with(|g| g.get())
}

/// The seed of run `index` of a sweep seeded `seed` (SplitMix64 finaliser,
/// so neighbouring runs get unrelated streams).
pub fn run_seed(sweep_seed: u64, index: usize) -> u64 {
    let mut z = sweep_seed ^ (index as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Job {
    spec: ArchSpec,
    run: RunRecord,
    seed: u64,
    dir: PathBuf,
}

/// Trains the sweep's pending runs. Returns when all are finished or, after
/// `cancel` is set, when the runs in flight have stopped.
pub fn run_sweep(
    store: &mut dyn Store,
    sweep: &SweepInfo,
    data: &Splits,
    options: &SweepOptions,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(&SweepEvent),
) -> Result<SweepSummary, StoreError> {
    sweep.architectures("NeuroMosaic trains architectures; runs of parameters are trained where they are logged from")?;
    let runs = store.runs(sweep.id)?;
    let pending: Vec<RunRecord> = runs.iter().filter(|r| r.status == RunStatus::Pending && r.arch().is_some()).cloned().collect();
    on_event(&SweepEvent::Plan { finished: runs.len() - pending.len(), pending: pending.len() });
    let mut summary = SweepSummary::default();
    let (jobs_tx, jobs_rx) = unbounded::<Job>();
    let (done_tx, done_rx) = unbounded::<(RunRecord, Result<RunOutcome, TrainError>, f64)>();
    for run in pending {
        let dir = store.run_files(run.id).dir().to_path_buf();
        let spec = run.arch().expect("filtered to architecture runs").clone();
        jobs_tx.send(Job { spec, seed: run_seed(sweep.seed, run.index), run, dir }).expect("receiver alive");
    }
    drop(jobs_tx);
    // The GPU trains one run at a time: parallel runs would only queue on it.
    let workers = if options.device == Device::Gpu { 1 } else { options.workers.max(1) };
    let halt = AtomicBool::new(false);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        for _ in 0..workers {
            let (jobs, done, halt) = (jobs_rx.clone(), done_tx.clone(), &halt);
            scope.spawn(move || {
                for job in jobs {
                    if cancel.load(Ordering::Relaxed) || halt.load(Ordering::Relaxed) {
                        // Leave it pending, without building its network first.
                        if done.send((job.run, Err(TrainError::Cancelled), 0.0)).is_err() {
                            return;
                        }
                        continue;
                    }
                    let started = Instant::now();
                    let config = TrainConfig { seed: job.seed, checkpoints: options.checkpoints, out_dir: Some(job.dir) };
                    let result = train_guarded(&job.spec, data, &config, cancel, options.device);
                    if done.send((job.run, result, started.elapsed().as_secs_f64())).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        for (mut run, result, seconds) in done_rx {
            let outcome = match result {
                Ok(outcome) => outcome,
                Err(TrainError::Cancelled) => {
                    summary.left += 1;
                    continue;
                }
                // The environment, not the run, is at fault: stop, keep the runs pending.
                Err(e @ (TrainError::Io { .. } | TrainError::NoData | TrainError::Unavailable(_))) => {
                    summary.left += 1;
                    summary.stopped.get_or_insert(e.to_string());
                    halt.store(true, Ordering::Relaxed);
                    continue;
                }
                Err(e) => failed(&run.label(), e.to_string(), seconds),
            };
            store.finish_run(run.id, &outcome)?;
            match outcome.status {
                RunStatus::Diverged => summary.diverged += 1,
                RunStatus::Failed => summary.failed += 1,
                _ => summary.trained += 1,
            }
            run.status = outcome.status;
            run.outcome = Some(outcome);
            on_event(&SweepEvent::Finished { run: Box::new(run), seconds });
        }
        Ok(())
    })?;
    Ok(summary)
}

/// Trains on the chosen backend; a panic inside burn (a shape the spec cannot
/// build, say) becomes an error for this run instead of ending the sweep.
pub(crate) fn train_guarded(
    spec: &ArchSpec,
    data: &Splits,
    config: &TrainConfig,
    cancel: &AtomicBool,
    device: Device,
) -> Result<RunOutcome, TrainError> {
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| match device {
        Device::Cpu => train::<CpuBackend>(spec, data, config, cancel, &cpu_device(), &mut |_| {}),
        #[cfg(feature = "wgpu")]
        Device::Gpu => train::<crate::GpuBackend>(spec, data, config, cancel, &crate::gpu_device(), &mut |_| {}),
        #[cfg(not(feature = "wgpu"))]
        Device::Gpu => Err(TrainError::Unavailable("GPU training needs a build with `--features wgpu`".into())),
    }));
    GUARDED.with(|g| g.set(false));
    match result {
        Ok(r) => r.map(|t| t.outcome),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(TrainError::Panicked(message))
        }
    }
}

pub(crate) fn failed(label: &str, why: String, seconds: f64) -> RunOutcome {
    RunOutcome {
        status: RunStatus::Failed,
        epochs: Vec::new(),
        test_loss: None,
        test_accuracy: None,
        parameters: 0,
        seconds,
        note: Some(format!("{why} ({label})")),
    }
}
