//! The design-space sphere: architectures sampled from a search space and
//! placed by their encodings (every knob weighted equally, PCA to 3-D, then
//! onto the sphere). This is the
//! "architecture" mode of the sphere; the representation mode, from trained
//! networks, replaces it as the population and manifold land.

use anyhow::{Context, Result};
use mosaic_core::params::{Kind, ParamSpace, Value};
use mosaic_core::sample::latin_hypercube;
use mosaic_core::{ArchSpec, Encoder, Knob, SearchSpace, TaskShape};
use mosaic_landscape::complexity::{Complexity, complexity};
use mosaic_protocol::{MetricColumn, Radar, SphereScene};
use mosaic_store::{RunConfig, RunRecord};

/// Names of the colourable columns, in panel order; the first is the default.
pub const COLUMNS: [&str; 9] = [
    "log10 parameters",
    "depth",
    "width",
    "log10 learning rate",
    "dropout",
    "epochs",
    "layers",
    "log10 FLOPs per sample",
    "activation KiB per sample",
];

/// The columns that are knobs of the design (the rest measure the network):
/// the inputs of hyper-parameter importance.
pub const KNOB_COLUMNS: [&str; 5] = [COLUMNS[1], COLUMNS[2], COLUMNS[3], COLUMNS[4], COLUMNS[5]];

/// Samples `n` architectures by a Latin hypercube and lays them out on a unit sphere.
pub fn design_sphere(space: SearchSpace, n: usize, seed: u64) -> Result<SphereScene> {
    let encoder = Encoder::new(space);
    let specs = latin_hypercube(&encoder, n, seed);
    let title = format!("{n} sampled architectures · space `{}`", encoder.space().name);
    scene_from_specs(&encoder, &specs, title)
}

/// A scene of runs of the user's own parameters: placed on the sphere by
/// their encodings (each parameter weighing the same, as knobs do for
/// architectures), a column per numeric parameter (log10 where its scale is
/// log). Labels and metrics are the caller's.
pub fn scene_from_params(space: &ParamSpace, runs: &[RunRecord], title: String) -> Result<SphereScene> {
    let encodings: Vec<Vec<f64>> = runs.iter().map(|r| r.encoding.clone()).collect();
    let mut blocks: Vec<std::ops::Range<usize>> = (0..space.numeric_len()).map(|i| i..i + 1).collect();
    blocks.extend(space.blocks());
    let features = mosaic_manifold::balance_blocks(&encodings, &blocks);
    let positions = mosaic_manifold::sphere_layout(&features, 1.0).context("placing the runs on the sphere by their parameters")?;
    let columns = space
        .params
        .iter()
        .filter_map(|param| {
            let log = match param.kind {
                Kind::Float { log, .. } | Kind::Int { log, .. } => log,
                _ => return None,
            };
            let values = runs
                .iter()
                .map(|r| match &r.config {
                    RunConfig::Parameters(p) => {
                        p.get(&param.name).and_then(Value::as_f64).map_or(f64::NAN, |v| if log { v.log10() } else { v })
                    }
                    RunConfig::Architecture(_) => f64::NAN,
                })
                .collect();
            Some(MetricColumn { name: if log { format!("log10 {}", param.name) } else { param.name.clone() }, values })
        })
        .collect();
    Ok(SphereScene {
        title,
        status: String::new(),
        labels: runs.iter().map(RunRecord::label).collect(),
        positions: positions.iter().map(|p| p.map(|x| x as f32)).collect(),
        columns,
        radar: Radar { axes: Vec::new(), values: Vec::new() },
        diverged: Vec::new(),
    })
}

/// The sphere for given specs: positions from their encodings, one colour
/// column per knob-derived quantity (see [`COLUMNS`]).
pub fn scene_from_specs(encoder: &Encoder, specs: &[ArchSpec], title: String) -> Result<SphereScene> {
    let encodings: Vec<Vec<f64>> = specs.iter().map(|s| encoder.encode(s)).collect();
    let features = mosaic_manifold::balance_blocks(&encodings, &encoder.knob_blocks());
    let positions = mosaic_manifold::sphere_layout(&features, 1.0).context("placing the architectures on the sphere")?;
    let task = TaskShape::PLANAR_BINARY;
    let column = |name: &str, f: &dyn Fn(&ArchSpec) -> f64| MetricColumn { name: name.to_string(), values: specs.iter().map(f).collect() };
    let sizes: Vec<Complexity> = specs.iter().map(|s| complexity(s, task, None)).collect();
    let size_column =
        |name: &str, f: &dyn Fn(&Complexity) -> f64| MetricColumn { name: name.to_string(), values: sizes.iter().map(f).collect() };
    let mut columns = vec![
        column(COLUMNS[0], &|s| (s.parameter_count(task) as f64).log10()),
        column(COLUMNS[1], &|s| Knob::Depth.get(s)),
        column(COLUMNS[2], &|s| Knob::Width.get(s)),
        column(COLUMNS[3], &|s| s.learning_rate.log10()),
        column(COLUMNS[4], &|s| s.dropout),
        column(COLUMNS[5], &|s| Knob::Epochs.get(s)),
    ];
    columns.extend([
        size_column(COLUMNS[6], &|c| c.layers as f64),
        size_column(COLUMNS[7], &|c| (c.flops as f64).log10()),
        size_column(COLUMNS[8], &|c| c.activation_bytes as f64 / 1024.0),
    ]);
    let radar = Radar {
        axes: Complexity::AXES.iter().map(|a| a.to_string()).collect(),
        values: mosaic_landscape::complexity::radar(&sizes).into_iter().map(|v| v.to_vec()).collect(),
    };
    let labels = specs.iter().enumerate().map(|(i, s)| format!("#{i} {:?} {}x{} {:?}", s.family, s.depth, s.width, s.activation)).collect();
    Ok(SphereScene {
        title,
        status: String::new(),
        labels,
        positions: positions.iter().map(|p| p.map(|x| x as f32)).collect(),
        columns,
        radar,
        diverged: Vec::new(),
    })
}
