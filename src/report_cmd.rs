//! `mosaic report`: Abel et al.'s findings measured on a stored sweep,
//! written as Markdown with SVG charts and PNG renders from the explorer
//! (each render its own `mosaic snapshot` process, as a user would run it).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Args;
use mosaic_app::charts::{Series, curves_svg, scatter_svg};
use mosaic_compute::report::{Findings, Interval, ReportSettings, findings};
use mosaic_search::table::{curves_csv, median_at};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The store holding the trained sweep.
    #[arg(long, value_name = "DIR|URL")]
    pub store: PathBuf,
    /// Which sweep; default: the store's only one.
    #[arg(long, value_name = "NAME")]
    pub sweep: Option<String>,
    /// Folder for report.md and its figures (created; an existing report in it is replaced).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Bootstrap resamples (and shuffles of the baseline).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub resamples: u32,
    /// Seeds of each search strategy replayed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
    /// Evaluations per replayed search (at most the number of networks).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub budget: u32,
    /// Leave out the PNG renders (they need a GPU or lavapipe).
    #[arg(long)]
    pub no_renders: bool,
    /// Width and height of the renders.
    #[arg(long, default_value_t = 800)]
    pub render_width: u32,
    #[arg(long, default_value_t = 600)]
    pub render_height: u32,
}

pub fn report(args: ReportArgs) -> Result<()> {
    let mut store = mosaic_store::open_existing(&args.store)?;
    let sweep = store.sweep(args.sweep.as_deref())?;
    let figures = args.out.join("figures");
    std::fs::create_dir_all(&figures).with_context(|| format!("cannot create {}", figures.display()))?;
    crate::cli::check_writable(&args.out.join("report.md"))?;
    let settings = ReportSettings { resamples: args.resamples as usize, seeds: args.seeds, budget: args.budget as usize, seed: 0 };
    eprintln!("measuring the findings on `{}` (embedding it first if needed)…", sweep.name);
    let found = findings(&mut *store, &sweep, &settings)?;
    drop(store);

    let write = |name: &str, text: &str| -> Result<()> {
        let path = args.out.join(name);
        mosaic_core::fs::write_atomic(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
    };
    for f in &found.features {
        write(
            &format!("figures/{}.svg", slug(&f.name)),
            &scatter_svg(&format!("{} vs test accuracy", f.name), &f.name, "test accuracy", &f.points, [40, 110, 180]),
        )?;
    }
    write("figures/search.svg", &search_chart(&found))?;
    write("search_table.json", &found.search.table.to_json())?;
    write("search_curves.csv", &curves_csv(found.search.results.iter().map(|r| (r.method.as_str(), &r.curves[..]))))?;

    let renders = if args.no_renders { Vec::new() } else { render(&args, &found)? };
    let markdown = markdown(&args, &found, &renders);
    write("report.md", &markdown)?;
    println!("{}", args.out.join("report.md").display());
    Ok(())
}

/// A file name for a feature: "H0 persistence" -> "h0-persistence".
fn slug(name: &str) -> String {
    name.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-")
}

fn search_chart(found: &Findings) -> String {
    const COLOURS: [[u8; 3]; 4] = [[140, 140, 140], [60, 110, 200], [230, 140, 40], [40, 160, 90]];
    let series: Vec<Series> = found
        .search
        .results
        .iter()
        .zip(COLOURS)
        .map(|(r, colour)| {
            let steps = r.curves.iter().map(Vec::len).min().unwrap_or(0);
            (r.method.clone(), colour, (0..steps).map(|i| [(i + 1) as f64, median_at(&r.curves, i)]).collect())
        })
        .collect();
    curves_svg("best validation accuracy so far (median over seeds)", &series)
}

/// One PNG: `mosaic snapshot` (and, for landscapes, `mosaic landscape` first) in its own process.
fn mosaic(args: &[&str]) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find the running mosaic binary")?;
    let output = Command::new(&exe).args(args).output().with_context(|| format!("cannot run {}", exe.display()))?;
    if !output.status.success() {
        bail!("mosaic {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// The renders: the sphere coloured by validation accuracy and by each
/// feature, and the best and the poorest network's loss landscapes.
/// Returns (caption, file name relative to the report).
fn render(args: &ReportArgs, found: &Findings) -> Result<Vec<(String, String)>> {
    let store = args.store.to_string_lossy().into_owned();
    let (w, h) = (args.render_width.to_string(), args.render_height.to_string());
    let sweep = &found.population.sweep;
    let mut renders = Vec::new();
    // One snapshot of the sweep, without the panel, into `file` (relative to the report).
    let snapshot = |file: &str, view: &[&str]| -> Result<()> {
        let out = args.out.join(file);
        std::fs::remove_file(&out).ok();
        let out = out.to_string_lossy().into_owned();
        let common = ["snapshot", "--store", &store, "--sweep", sweep, "--no-panel", "--width", &w, "--height", &h, "--out", &out];
        mosaic(&[&common[..], view].concat())
    };
    let colourings = [
        ("accuracy", "validation accuracy"),
        ("class-separation", "class separation"),
        ("spectral-entropy", "spectral entropy"),
        ("h0-persistence", "H0 persistence"),
        ("h1-persistence", "H1 persistence"),
        ("hierarchy-clusters", "hierarchy clusters"),
    ];
    for (i, (flag, caption)) in colourings.iter().enumerate() {
        eprintln!("render {}/{}: the sphere by {caption}", i + 1, colourings.len() + 2);
        let file = format!("figures/sphere-{flag}.png");
        snapshot(&file, &["--layout", "representation", "--color-by", flag])?;
        renders.push((format!("the sphere (representation layout) coloured by {caption}"), file));
    }
    let p = &found.population;
    let best = (0..p.run_ids.len()).max_by(|&a, &b| p.test_accuracy[a].total_cmp(&p.test_accuracy[b])).expect("networks");
    let worst = (0..p.run_ids.len()).min_by(|&a, &b| p.test_accuracy[a].total_cmp(&p.test_accuracy[b])).expect("networks");
    for (k, (which, i)) in [("best", best), ("poorest", worst)].into_iter().enumerate() {
        let id = p.run_ids[i].to_string();
        eprintln!("render {}/{}: the {which} network's loss landscape (run {id})", colourings.len() + k + 1, colourings.len() + 2);
        mosaic(&["landscape", "--store", &store, "--sweep", sweep, "--run", &id, "--x", "-1:1:25", "--y", "-1:1:25"])?;
        let file = format!("figures/landscape-{which}.png");
        snapshot(&file, &["--select", &id])?;
        renders.push((format!("the {which} network (run {id}, test accuracy {:.3}) and its loss landscape", p.test_accuracy[i]), file));
    }
    Ok(renders)
}

fn ci(i: &Interval) -> String {
    format!("{:.3} [{:.3}, {:.3}]", i.value, i.low, i.high)
}

fn markdown(args: &ReportArgs, found: &Findings, renders: &[(String, String)]) -> String {
    let p = &found.population;
    let mut md = String::new();
    let mut sorted = p.test_accuracy.clone();
    sorted.sort_by(f64::total_cmp);
    let _ = writeln!(md, "# Manifold of `{}`: Abel et al.'s findings, measured\n", p.sweep);
    let _ = writeln!(
        md,
        "Data set `{}`; {} trained networks; test accuracy from {:.3} to {:.3} (median {:.3}). Layouts: PHATE of the \
         networks' hidden representations (t = {}) and of their architecture encodings (t = {}).\n",
        p.dataset,
        p.run_ids.len(),
        sorted[0],
        sorted[sorted.len() - 1],
        sorted[(sorted.len() - 1) / 2],
        p.t[0],
        p.t[1]
    );
    let _ = writeln!(
        md,
        "Regenerate: `mosaic report --store {} --sweep '{}' -o {} --resamples {} --seeds {} --budget {}`\n",
        args.store.display(),
        p.sweep,
        args.out.display(),
        args.resamples,
        args.seeds,
        args.budget
    );

    let _ = writeln!(md, "## Finding 1: networks that perform alike sit together\n");
    let _ = writeln!(
        md,
        "How well a network's place predicts its test accuracy: leave-one-out kNN regression R² (each network predicted \
         by the mean of its k nearest others) and top-decile purity (the share of a top-10 % network's 5 nearest \
         neighbours that are top-10 % too; chance is about 0.1). Brackets: 95 % bootstrap intervals over networks \
         ({} resamples); for the shuffled baseline, the 95 % range over {} shuffles of the accuracies.\n",
        args.resamples, args.resamples
    );
    let _ = writeln!(md, "| layout | R² (k = 5) | R² (k = 10) | top-decile purity |");
    let _ = writeln!(md, "|---|---|---|---|");
    for c in &found.clustering {
        let _ = writeln!(md, "| {} | {} | {} | {} |", c.layout, ci(&c.r2[0]), ci(&c.r2[1]), ci(&c.purity));
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Finding 2: manifold features track performance\n");
    let _ = writeln!(md, "Spearman correlation of each representation feature (last hidden layer on the probe set) with test accuracy.\n");
    let _ = writeln!(md, "| feature | Spearman r | p | networks | chart |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for f in &found.features {
        let _ = writeln!(md, "| {} | {:.3} | {:.2e} | {} | ![{}](figures/{}.svg) |", f.name, f.r, f.p, f.n, f.name, slug(&f.name));
    }
    let _ = writeln!(md);

    let s = &found.search;
    let _ = writeln!(md, "## Finding 3: the manifold guides search\n");
    let _ = writeln!(
        md,
        "The population replayed as a tabular benchmark: each strategy picks untried networks of this sweep and reads \
         their validation accuracy, {} evaluations per search, {} seeds. Goal: random search's best after {} \
         evaluations (median over seeds) = {:.4}. Manifold-guided draws pair good networks that are neighbours on the \
         sphere and take the untried network nearest the draw.\n",
        s.budget,
        args.seeds,
        s.budget.min(100),
        s.goal
    );
    let _ = writeln!(md, "| strategy | evaluations to reach the goal (median) | seeds that reached it | best after 20 (median) |");
    let _ = writeln!(md, "|---|---|---|---|");
    for r in &s.results {
        let median = r.median_evaluations.map_or("never".into(), |m| m.to_string());
        let _ = writeln!(md, "| {} | {median} | {}/{} | {:.4} |", r.method, r.hits, r.curves.len(), r.best_at_20);
    }
    let _ = writeln!(
        md,
        "\n![search curves](figures/search.svg)\n\nOptuna's TPE on the same table: `python3 benches/search_optuna.py --table {0}/search_table.json \
         --curves {0}/search_curves.csv --target '{1}'`.\n",
        args.out.display(),
        p.sweep
    );

    if !renders.is_empty() {
        let _ = writeln!(md, "## Figures\n");
        for (caption, file) in renders {
            let _ = writeln!(md, "![{caption}]({file})\n\n*{caption}*\n");
        }
    }
    md
}
