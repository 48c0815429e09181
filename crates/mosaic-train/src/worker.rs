//! Pull workers: many processes (on many machines) train one sweep by
//! claiming its runs from a shared store, one at a time, each under a lease
//! renewed while it trains. A worker that dies stops renewing; its run's
//! lease runs out and another worker claims it. Finishing checks the lease,
//! so every run is finished exactly once (see `mosaic_store`'s leases).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mosaic_core::RunStatus;
use mosaic_store::{RunRecord, Store, StoreError, SweepInfo};

use crate::Device;
use crate::data::Splits;
use crate::sweep::{failed, run_seed, train_guarded};
use crate::train::{Checkpoints, TrainConfig, TrainError};

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// How long a claim holds without renewal; renewed every third of it.
    pub lease: Duration,
    /// Stop after this many runs (`None`: until the sweep is done).
    pub max_runs: Option<usize>,
    /// Stop after waiting this long with nothing to claim while other
    /// workers still hold runs (their leases may yet run out).
    pub idle_exit: Duration,
    /// How often to look again for a run to claim while waiting.
    pub poll: Duration,
    pub checkpoints: Checkpoints,
    pub device: Device,
}

/// What a worker reports as it goes.
#[derive(Clone, Debug)]
pub enum WorkerEvent {
    Claimed {
        run: Box<RunRecord>,
    },
    /// Stored: this worker finished the run.
    Finished {
        run: Box<RunRecord>,
        seconds: f64,
    },
    /// The lease ran out while training (this worker stalled): another
    /// worker has the run, and this worker's result was discarded.
    LeaseLost {
        run: i64,
    },
    /// Nothing to claim while other workers hold the rest: waiting.
    Waiting {
        held_elsewhere: usize,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerSummary {
    pub trained: usize,
    pub diverged: usize,
    pub failed: usize,
    pub lost: usize,
    /// Why the worker stopped early (a fault of this machine: disk, data, no GPU build);
    /// its run went back to the sweep.
    pub stopped: Option<String>,
}

/// Opens a new session with the store (the heartbeat renews leases on its own).
pub type OpenStore<'a> = &'a (dyn Fn() -> Result<Box<dyn Store>, StoreError> + Sync);

/// Claims and trains the sweep's runs until none is left to claim (or
/// `max_runs` are done, or `cancel` is set: the run in flight goes back).
pub fn run_worker(
    open: OpenStore<'_>,
    sweep: &SweepInfo,
    data: &Splits,
    worker: &str,
    options: &WorkerOptions,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(&WorkerEvent),
) -> Result<WorkerSummary, StoreError> {
    sweep.architectures("workers train architectures; runs of parameters are trained where they are logged from")?;
    let mut store = open()?;
    let lease = options.lease.as_secs_f64();
    let mut summary = WorkerSummary::default();
    let mut idle_since: Option<Instant> = None;
    while !cancel.load(Ordering::Relaxed) && options.max_runs.is_none_or(|n| summary.trained + summary.diverged + summary.failed < n) {
        let Some(run) = store.claim_run(sweep.id, worker, lease)? else {
            let held_elsewhere = store.run_counts(sweep.id)?.leased;
            let waited = idle_since.get_or_insert_with(Instant::now).elapsed();
            if held_elsewhere == 0 || waited >= options.idle_exit {
                break;
            }
            on_event(&WorkerEvent::Waiting { held_elsewhere });
            std::thread::sleep(options.poll);
            continue;
        };
        idle_since = None;
        on_event(&WorkerEvent::Claimed { run: Box::new(run.clone()) });
        let started = Instant::now();
        let stop = AtomicBool::new(false);
        // Dropped when training ends: the heartbeat stops at once, not at its next look.
        let (trained, ended) = std::sync::mpsc::channel::<()>();
        let result = std::thread::scope(|scope| {
            let beat = scope.spawn(|| heartbeat(open, run.id, worker, options.lease, cancel, &stop, ended));
            let spec = run.spec("workers train architectures").expect("an architecture sweep's runs are architectures");
            let config = TrainConfig {
                seed: run_seed(sweep.seed, run.index),
                checkpoints: options.checkpoints,
                out_dir: Some(store.run_files(run.id).dir().to_path_buf()),
            };
            let result = train_guarded(spec, data, &config, &stop, options.device);
            stop.store(true, Ordering::Relaxed);
            drop(trained);
            let lost = beat.join().expect("the heartbeat does not panic");
            (result, lost)
        });
        let seconds = started.elapsed().as_secs_f64();
        let outcome = match result {
            (_, true) => {
                summary.lost += 1;
                on_event(&WorkerEvent::LeaseLost { run: run.id });
                continue;
            }
            (Ok(outcome), false) => outcome,
            (Err(TrainError::Cancelled), false) => {
                store.release_run(run.id, worker)?;
                break;
            }
            (Err(e @ (TrainError::Io { .. } | TrainError::NoData | TrainError::Unavailable(_))), false) => {
                // This machine, not the run, is at fault: give it back for a worker that can train it.
                store.release_run(run.id, worker)?;
                summary.stopped = Some(e.to_string());
                break;
            }
            (Err(e), false) => failed(&run.label(), e.to_string(), seconds),
        };
        if !store.finish_leased_run(run.id, worker, &outcome)? {
            summary.lost += 1;
            on_event(&WorkerEvent::LeaseLost { run: run.id });
            continue;
        }
        match outcome.status {
            RunStatus::Diverged => summary.diverged += 1,
            RunStatus::Failed => summary.failed += 1,
            _ => summary.trained += 1,
        }
        let mut finished = run;
        finished.status = outcome.status;
        finished.outcome = Some(outcome);
        on_event(&WorkerEvent::Finished { run: Box::new(finished), seconds });
    }
    Ok(summary)
}

/// [`run_worker`] on `threads` threads of this process (`{worker}/1`, `/2`, …),
/// each with its own session: how a machine trains a shared sweep beside the
/// workers of other machines. Their summaries are added up.
#[allow(clippy::too_many_arguments)]
pub fn run_workers(
    open: OpenStore<'_>,
    sweep: &SweepInfo,
    data: &Splits,
    worker: &str,
    threads: usize,
    options: &WorkerOptions,
    cancel: &AtomicBool,
    on_event: &(dyn Fn(&WorkerEvent) + Sync),
) -> Result<WorkerSummary, StoreError> {
    let summaries: Vec<Result<WorkerSummary, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=threads.max(1))
            .map(|i| {
                let name = format!("{worker}/{i}");
                scope.spawn(move || run_worker(open, sweep, data, &name, options, cancel, &mut |e| on_event(e)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a worker thread does not panic")).collect()
    });
    let mut total = WorkerSummary::default();
    for summary in summaries {
        let s = summary?;
        total.trained += s.trained;
        total.diverged += s.diverged;
        total.failed += s.failed;
        total.lost += s.lost;
        total.stopped = total.stopped.or(s.stopped);
    }
    Ok(total)
}

/// Renews the lease on `run` every third of `lease` until training ends
/// (`ended` disconnects); sets `stop` (ending the training) when `cancel` is
/// set or the lease is lost. Returns whether it was lost. A renewal that
/// fails (the database unreachable for a moment) is tried again at the next beat.
fn heartbeat(
    open: OpenStore<'_>,
    run: i64,
    worker: &str,
    lease: Duration,
    cancel: &AtomicBool,
    stop: &AtomicBool,
    ended: std::sync::mpsc::Receiver<()>,
) -> bool {
    let beat = lease / 3;
    let mut store = None;
    let mut next = Instant::now() + beat;
    loop {
        // Looks at `cancel` every 100 ms at most; wakes at once when training ends.
        let wait = next.saturating_duration_since(Instant::now()).min(Duration::from_millis(100));
        match ended.recv_timeout(wait) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            _ => return false,
        }
        if cancel.load(Ordering::Relaxed) {
            stop.store(true, Ordering::Relaxed);
            return false;
        }
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + beat;
        if store.is_none() {
            store = open().ok();
        }
        match store.as_mut().map(|s| s.renew_lease(run, worker, lease.as_secs_f64())) {
            Some(Ok(true)) => {}
            Some(Ok(false)) => {
                stop.store(true, Ordering::Relaxed);
                return true;
            }
            // Reconnect next time.
            Some(Err(_)) | None => store = None,
        }
    }
}
