//! `mosaic bench claims`: many workers claiming runs of one sweep at once,
//! on dummy runs (claimed and finished at once, nothing trained): claims per
//! second, duplicates (must be none) and claim latency, for a shared
//! PostgreSQL store or a folder's SQLite.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Args;
use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, RunOutcome, RunStatus, SearchSpace};
use mosaic_store::{SqlStore, Store, SweepPlan, redact};

#[derive(Args, Debug)]
pub struct BenchClaimsArgs {
    /// The store to claim in (a new sweep is made there): postgres://… or a folder.
    #[arg(long, value_name = "DIR|URL")]
    pub store: PathBuf,
    /// Concurrent claimers (threads, each with its own database session).
    #[arg(long, default_value_t = 64)]
    pub claimers: usize,
    /// Dummy runs in the sweep.
    #[arg(long, default_value_t = 6400)]
    pub runs: usize,
}

pub fn bench_claims(args: BenchClaimsArgs) -> Result<()> {
    let mut store = SqlStore::open(&args.store)?;
    let space = SearchSpace::demo_space();
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, args.runs, 7);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    let name = format!("claims-{}", std::process::id());
    let plan = SweepPlan { name, dataset: "none".into(), data: String::new(), examples: 0, seed: 0, space, specs, encodings };
    let sweep = store.create_sweep(&plan)?;
    let outcome = RunOutcome {
        status: RunStatus::Done,
        epochs: vec![],
        test_loss: None,
        test_accuracy: None,
        parameters: 0,
        seconds: 0.0,
        note: None,
    };
    let started = Instant::now();
    // Each claimer: (claimed run ids, claim latencies).
    let results: Vec<Result<(Vec<i64>, Vec<Duration>)>> = std::thread::scope(|scope| {
        let claimers: Vec<_> = (0..args.claimers)
            .map(|c| {
                let (location, outcome) = (&args.store, &outcome);
                scope.spawn(move || -> Result<(Vec<i64>, Vec<Duration>)> {
                    let mut store = SqlStore::open_existing(location)?;
                    let worker = format!("bench-{c}");
                    let (mut ids, mut latencies) = (Vec::new(), Vec::new());
                    loop {
                        let t = Instant::now();
                        let Some(run) = store.claim_run(sweep.id, &worker, 600.0)? else { break };
                        latencies.push(t.elapsed());
                        if !store.finish_leased_run(run.id, &worker, outcome)? {
                            bail!("run {} lost its lease within the benchmark", run.id);
                        }
                        ids.push(run.id);
                    }
                    Ok((ids, latencies))
                })
            })
            .collect();
        claimers.into_iter().map(|c| c.join().expect("a claimer does not panic")).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let (mut ids, mut latencies) = (Vec::new(), Vec::new());
    for r in results {
        let (i, l) = r?;
        ids.extend(i);
        latencies.extend(l);
    }
    let claimed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    latencies.sort_unstable();
    let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{}: {} claimers, {claimed} of {} runs claimed and finished in {wall:.2} s: {:.0} claims/s, {} duplicates, claim latency p50 {:.2} ms, p99 {:.2} ms",
        redact(&args.store),
        args.claimers,
        args.runs,
        claimed as f64 / wall,
        claimed - ids.len(),
        quantile(0.5),
        quantile(0.99)
    );
    if claimed != args.runs || ids.len() != claimed {
        bail!("every run must be claimed exactly once: {claimed} claims of {} distinct runs, {} planned", ids.len(), args.runs);
    }
    Ok(())
}
