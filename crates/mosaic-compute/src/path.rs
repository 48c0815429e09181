//! Paths between networks: the architectures on the straight line between
//! two runs' encodings, each a valid spec, placed on the sphere beside the
//! embedded networks (without moving them).

use anyhow::{Context, Result};
use mosaic_core::{ArchSpec, Encoder};
use mosaic_store::{EmbeddingKind, Store, SweepInfo};

use crate::live::place_beside;

/// A spec's label with its learning rate, which tells a path's (or a batch
/// of suggestions') neighbouring steps apart.
pub fn spec_label(s: &ArchSpec) -> String {
    format!("{} lr {:.2e}", s.label(), s.learning_rate)
}

/// The architectures from run `from` to run `to` (`steps` + 1 of them),
/// each with its place on the unit sphere by the store's `kind` embedding.
pub fn path_between(
    store: &dyn Store,
    sweep: &SweepInfo,
    from: i64,
    to: i64,
    steps: usize,
    kind: EmbeddingKind,
) -> Result<Vec<(ArchSpec, [f32; 3])>> {
    let (_, coords) = store.embedding(sweep.id, kind)?.filter(|(_, c)| !c.is_empty()).with_context(|| {
        format!("the store has no {kind} embedding of sweep `{}`: run `mosaic embed --store DIR --mode {kind}` first", sweep.name)
    })?;
    let runs = store.runs(sweep.id)?;
    let spec_of = |id: i64| {
        runs.iter().find(|r| r.id == id).map(|r| r.spec("a path between networks").cloned()).with_context(|| {
            format!(
                "sweep `{}` has no run {id} (its runs are {}..={})",
                sweep.name,
                runs.first().map_or(0, |r| r.id),
                runs.last().map_or(0, |r| r.id)
            )
        })
    };
    let (a, b) = (spec_of(from)??, spec_of(to)??);
    let encoder = Encoder::new(sweep.architectures("a path between networks needs one")?.clone());
    let specs = encoder.interpolate(&a, &b, steps);
    // The path's steps join the embedded networks as new points.
    let known = runs.iter().filter(|r| coords.iter().any(|(id, _)| *id == r.id)).filter_map(|r| Some((r.id, r.arch()?.clone()))).collect();
    let positions = place_beside(known, &coords, &encoder, &specs);
    Ok(specs.into_iter().zip(positions).collect())
}
