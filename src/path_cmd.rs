//! `mosaic path`: the architectures between two trained networks, each a
//! valid spec decoded from the straight line between their encodings, placed
//! on the sphere beside the embedded networks (without moving them).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use mosaic_compute::path::{path_between, spec_label};

use crate::cli::LayoutArg;

#[derive(Args, Debug)]
pub struct PathArgs {
    /// The store holding the sweep and its embedding (`mosaic embed --store`).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Which sweep (default: the only one).
    #[arg(long)]
    pub sweep: Option<String>,
    /// Run id of the first network.
    #[arg(long)]
    pub from: i64,
    /// Run id of the last network.
    #[arg(long)]
    pub to: i64,
    /// Steps from one to the other (the path has steps + 1 architectures).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub steps: u32,
    /// Which embedding places the path.
    #[arg(long, value_enum, default_value_t = LayoutArg::Representation)]
    pub layout: LayoutArg,
    /// Also write the path as CSV (step, spec, x, y, z on the unit sphere).
    #[arg(long, short, value_name = "CSV")]
    pub out: Option<PathBuf>,
}

pub fn path(args: PathArgs) -> Result<()> {
    let store = mosaic_store::open_existing(&args.store)?;
    let sweep = store.sweep(args.sweep.as_deref())?;
    let Some(kind) = mosaic_compute::live::Layout::from(args.layout).embedding() else {
        bail!("--layout design has no embedding to place a path in; use representation or architecture");
    };
    let steps = path_between(&*store, &sweep, args.from, args.to, args.steps as usize, kind)?;
    let kind = kind.as_str();
    let mut csv = String::from("step,spec,x,y,z\n");
    println!("{} architectures from run {} to run {} of `{}`, placed by {kind}:", steps.len(), args.from, args.to, sweep.name);
    for (step, (spec, p)) in steps.iter().enumerate() {
        let label = spec_label(spec);
        println!("{step:>4}  {label:<44} ({:+.3}, {:+.3}, {:+.3})", p[0], p[1], p[2]);
        csv += &format!("{step},\"{label}\",{},{},{}\n", p[0], p[1], p[2]);
    }
    if let Some(out) = &args.out {
        std::fs::write(out, csv).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}
