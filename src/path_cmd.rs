//! `mosaic path`: the architectures between two trained networks, each a
//! valid spec decoded from the straight line between their encodings, placed
//! on the sphere beside the embedded networks (without moving them).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use mosaic_core::{ArchSpec, Encoder};
use mosaic_store::{Store, SweepInfo};

use crate::live::{Layout, place_beside};

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
    #[arg(long, value_enum, default_value_t = Layout::Representation)]
    pub layout: Layout,
    /// Also write the path as CSV (step, spec, x, y, z on the unit sphere).
    #[arg(long, value_name = "CSV")]
    pub out: Option<PathBuf>,
}

/// A short description of a spec: family, shape, activation, learning rate.
pub fn spec_label(s: &ArchSpec) -> String {
    format!("{:?} {}x{} {:?} lr {:.2e}", s.family, s.depth, s.width, s.activation, s.learning_rate)
}

/// The architectures from run `from` to run `to` (`steps` + 1 of them),
/// each with its place on the unit sphere by the store's `kind` embedding
/// ("representation" or "architecture").
pub fn path_between(store: &Store, sweep: &SweepInfo, from: i64, to: i64, steps: usize, kind: &str) -> Result<Vec<(ArchSpec, [f32; 3])>> {
    let (_, coords) = store.embedding(sweep.id, kind)?.filter(|(_, c)| !c.is_empty()).with_context(|| {
        format!("the store has no {kind} embedding of sweep `{}`: run `mosaic embed --store DIR --mode {kind}` first", sweep.name)
    })?;
    let runs = store.runs(sweep.id)?;
    let spec_of = |id: i64| {
        runs.iter().find(|r| r.id == id).map(|r| r.spec.clone()).with_context(|| {
            format!(
                "sweep `{}` has no run {id} (its runs are {}..={})",
                sweep.name,
                runs.first().map_or(0, |r| r.id),
                runs.last().map_or(0, |r| r.id)
            )
        })
    };
    let (a, b) = (spec_of(from)?, spec_of(to)?);
    let encoder = Encoder::new(sweep.space.clone());
    let specs = encoder.interpolate(&a, &b, steps);
    // The path's steps join the embedded networks as new points.
    let known = runs.iter().filter(|r| coords.iter().any(|(id, _)| *id == r.id)).map(|r| (r.id, r.spec.clone())).collect();
    let positions = place_beside(known, &coords, &encoder, &specs);
    Ok(specs.into_iter().zip(positions).collect())
}

pub fn path(args: PathArgs) -> Result<()> {
    let store = crate::sweep_cmd::open_existing_store(&args.store)?;
    let sweep = crate::sweep_cmd::pick_sweep(&store, args.sweep.as_deref())?;
    let kind = match args.layout {
        Layout::Representation => "representation",
        Layout::Architecture => "architecture",
        Layout::Design => bail!("--layout design has no embedding to place a path in; use representation or architecture"),
    };
    let steps = path_between(&store, &sweep, args.from, args.to, args.steps as usize, kind)?;
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
