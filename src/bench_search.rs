//! `mosaic bench table` and `mosaic bench search`: the tabular benchmark of
//! search strategies. `table` turns sweeps of the same specs on several
//! tasks into a fixture; `search` replays strategies on it over many seeds
//! (no training), the way `benches/search_optuna.py` replays Optuna's TPE.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_search::table::{Method, Table, curves_csv, evaluations_to_reach, median_at, median_evaluations, random_search_goal};

use mosaic_compute::benchmark::search_table;

#[derive(Args, Debug)]
pub struct BenchTableArgs {
    /// A store whose sweeps trained the same specs on different tasks (`mosaic sweep --seed S --n N --dataset ...`).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The fixture to write (JSON).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn bench_table(args: BenchTableArgs) -> Result<()> {
    let store = mosaic_store::open_existing(&args.store)?;
    let table = search_table(&*store)?;
    let json = table.to_json();
    std::fs::write(&args.out, json).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("{} specs x {} tasks written to {}", table.specs.len(), table.tasks.len(), args.out.display());
    Ok(())
}

#[derive(Args, Debug)]
pub struct BenchSearchArgs {
    /// The fixture made by `mosaic bench table`.
    #[arg(long, value_name = "FILE", default_value = "benches/fixtures/search_table.json")]
    pub table: PathBuf,
    /// The task searched.
    #[arg(long, default_value = "spirals")]
    pub target: String,
    /// The related task the transfer prior learns from.
    #[arg(long, default_value = "checkerboard")]
    pub transfer_from: String,
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// Evaluations per search.
    #[arg(long, default_value_t = 100)]
    pub budget: usize,
    /// Every curve as CSV (method, seed, evaluation, best so far).
    #[arg(long, short, value_name = "CSV")]
    pub out: Option<PathBuf>,
}

pub fn bench_search(args: BenchSearchArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.table).with_context(|| format!("cannot read {}", args.table.display()))?;
    let table = Table::from_json(&text)?;
    let target = table.task(&args.target)?;
    let from = table.task(&args.transfer_from)?;
    let methods = [Method::Random, Method::GpEi, Method::GpEiTransfer { from }, Method::Tpe];
    let bar = ProgressBar::new(methods.len() as u64 * args.seeds);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} searches · ETA {eta} · {msg}")
            .expect("valid template"),
    );
    let mut curves: Vec<(Method, Vec<Vec<f64>>, f64)> = Vec::new();
    for method in methods {
        bar.set_message(method.name(&table));
        let started = std::time::Instant::now();
        let mut per_seed = Vec::new();
        for seed in 0..args.seeds {
            per_seed.push(table.run(target, method, args.budget, seed)?);
            bar.inc(1);
        }
        curves.push((method, per_seed, started.elapsed().as_secs_f64() / args.seeds as f64));
    }
    bar.finish_and_clear();
    // The goal: the best value random search finds in 100 trials (median over seeds).
    let at = args.budget.min(100) - 1;
    let goal = random_search_goal(&curves[0].1, args.budget);
    println!(
        "task `{}` ({} specs): goal = random search's best after {} trials, median over {} seeds = {:.4}",
        args.target,
        table.specs.len(),
        at + 1,
        args.seeds,
        goal
    );
    println!("{:<34} {:>26} {:>14} {:>12}", "method", "evaluations to reach goal", "best at 20/40", "s / search");
    for (method, per_seed, seconds) in &curves {
        let counts: Vec<Option<usize>> = per_seed.iter().map(|c| evaluations_to_reach(c, goal)).collect();
        let reached = counts.iter().filter(|c| c.is_some()).count();
        println!(
            "{:<34} {:>14} ({:>2}/{} hit) {:>6.4}/{:.4} {:>12.2}",
            method.name(&table),
            median_evaluations(&counts).map_or("never".into(), |m| format!("median {m}")),
            reached,
            per_seed.len(),
            median_at(per_seed, 19),
            median_at(per_seed, 39),
            seconds
        );
    }
    if let Some(out) = &args.out {
        let names: Vec<String> = curves.iter().map(|(method, _, _)| method.name(&table)).collect();
        let csv = curves_csv(names.iter().zip(&curves).map(|(name, (_, per_seed, _))| (name.as_str(), &per_seed[..])));
        std::fs::write(out, csv).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}
