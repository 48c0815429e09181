//! Embedding a stored sweep: PHATE of its networks' hidden representations
//! (or their architecture encodings), placed out of sample beside an
//! existing embedding when one exists, and the representation features of
//! every network (class separation, spectral entropy, persistence, hierarchy).

use std::path::Path;

use anyhow::{Result, bail};
use faer::Mat;
use mosaic_core::{ArchSpec, Encoder, RunStatus};
use mosaic_manifold::cluster::{auto_eps, average_linkage, clusters_at_largest_gap, dbscan};
use mosaic_manifold::distance::{euclidean, median_nonzero, operator_distances, representation_operator, squared_distances};
use mosaic_manifold::features::{class_separation, diffusion_spectral_entropy};
use mosaic_manifold::phate::{PhateConfig, extend, phate_from_distances};
use mosaic_manifold::topology::rips_barcode;
use mosaic_manifold::xyz;
use mosaic_store::{EmbeddingKind, RunFiles, RunRecord, Store, SweepInfo, SweepSpace};

/// What to embed a stored sweep by, and how.
#[derive(Clone, Debug)]
pub struct SweepEmbedding {
    pub mode: EmbeddingKind,
    pub config: PhateConfig,
    /// Probe points used for representation distances and features.
    pub probe_points: usize,
    /// Re-embed every network, even when an embedding exists.
    pub refit: bool,
}

pub struct EmbedReport {
    pub t: usize,
    /// Every embedded network's coordinates, by run id.
    pub coords: Vec<(i64, [f64; 3])>,
    /// Networks placed out of sample beside an existing embedding (0: embedded afresh).
    pub placed: usize,
    /// Trained networks without usable activations.
    pub skipped: usize,
    /// The DBSCAN clusters of the embedding with their mean features, as text.
    pub cluster_table: String,
}

/// Embeds a sweep's trained networks, computes their representation
/// features, and stores both. When the store already holds an embedding
/// of this mode and new networks have finished since, those are placed out
/// of sample ([`mosaic_manifold::phate::extend`]) and nothing embedded moves.
pub fn embed_sweep(store: &mut dyn Store, sweep: &SweepInfo, request: &SweepEmbedding) -> Result<EmbedReport> {
    let runs: Vec<_> = store.runs(sweep.id)?.into_iter().filter(|r| r.status == RunStatus::Done).collect();
    let layers = last_layers(&runs, store.root());
    let features = network_features(&layers, request.probe_points);
    for (name, values) in &features {
        store.save_feature(sweep.id, name, values)?;
    }
    let (ids, distances, skipped) = match request.mode {
        EmbeddingKind::Representation => representation_distances(&layers, runs.len(), request.probe_points)?,
        EmbeddingKind::Architecture => {
            let d = match &sweep.space {
                SweepSpace::Architectures(space) => {
                    let encoder = Encoder::new(space.clone());
                    let specs: Vec<&ArchSpec> = runs.iter().map(|r| r.spec("an architecture embedding")).collect::<Result<_, _>>()?;
                    Mat::from_fn(runs.len(), runs.len(), |i, j| encoder.distance(specs[i], specs[j]))
                }
                // The user's own parameters: Euclidean between their encodings
                // (numbers scaled to [0, 1], one-hot choices).
                SweepSpace::Parameters(_) => Mat::from_fn(runs.len(), runs.len(), |i, j| euclidean(&runs[i].encoding, &runs[j].encoding)),
            };
            (runs.iter().map(|r| r.id).collect(), d, 0)
        }
    };
    if ids.len() < 4 {
        bail!("sweep `{}` has {} trained networks to embed; PHATE needs at least 4", sweep.name, ids.len());
    }
    let existing = if request.refit { None } else { store.embedding(sweep.id, request.mode)? };
    let config = &request.config;
    let (t, coords, placed) = match existing.filter(|(_, old)| extends(old, &ids)) {
        Some((t, old)) => {
            // Where each embedded network sits among `ids` (all do: checked by `extends`).
            let old_index: Vec<usize> = old.iter().filter_map(|(run, _)| ids.iter().position(|id| id == run)).collect();
            let embedded: Vec<Vec<f64>> = old.iter().map(|(_, c)| c.to_vec()).collect();
            let mut coords = old.clone();
            for (i, &id) in ids.iter().enumerate().filter(|(i, _)| !old_index.contains(i)) {
                let to_embedded: Vec<f64> = old_index.iter().map(|&j| distances[(i, j)]).collect();
                let y = extend(&to_embedded, &embedded, config.knn, config.decay)?;
                coords.push((id, xyz(&y)));
            }
            let placed = coords.len() - old.len();
            (t, coords, placed)
        }
        None => {
            let result = phate_from_distances(&distances, config)?;
            let coords = ids.iter().zip(&result.embedding).map(|(id, y)| (*id, xyz(y))).collect();
            (result.t, coords, 0)
        }
    };
    store.save_embedding(sweep.id, request.mode, t, &coords)?;
    let cluster_table = cluster_table(&features, &runs, &coords);
    Ok(EmbedReport { t, coords, placed, skipped, cluster_table })
}

/// Whether an old embedding can grow to `ids`: at least 4 of its networks,
/// all still there, and some new ones to place.
fn extends(old: &[(i64, [f64; 3])], ids: &[i64]) -> bool {
    old.len() >= 4 && old.len() < ids.len() && old.iter().all(|(run, _)| ids.contains(run))
}

/// Features of every network's last hidden layer on the first `probe`
/// probe points, by the names the store and the explorer know them by.
fn network_features(layers: &[LastLayer], probe: usize) -> Vec<(&'static str, Vec<(i64, f64)>)> {
    use rayon::prelude::*;
    let names = [CLASS_SEPARATION, SPECTRAL_ENTROPY, H0_PERSISTENCE, H1_PERSISTENCE, HIERARCHY_CLUSTERS];
    // One network's features, in the order of `names` (None where not computable).
    let per_network: Vec<[Option<f64>; 5]> = layers
        .par_iter()
        .map(|l| {
            let points = l.points.min(probe);
            let data = &l.data[..points * l.width];
            let labels = l.labels.as_ref().and_then(|l| l.get(..points));
            let separation = labels.and_then(|labels| class_separation(data, labels, l.width).ok());
            let entropy = diffusion_spectral_entropy(data, points, l.width, 1).ok();
            // Topology and hierarchy on a subsample, at the representation's own scale.
            let few = l.points.min(TOPOLOGY_POINTS);
            let persistence = scaled_distances(&l.data, few, l.width).map(|d| rips_barcode(&d, few).total_persistence());
            let some = l.points.min(HIERARCHY_POINTS);
            let hierarchy = scaled_distances(&l.data, some, l.width).map(|d| clusters_at_largest_gap(&average_linkage(&d, some)) as f64);
            [separation, entropy, persistence.map(|p| p.0), persistence.map(|p| p.1), hierarchy]
        })
        .collect();
    names
        .iter()
        .enumerate()
        .map(|(k, name)| (*name, layers.iter().zip(&per_network).filter_map(|(l, f)| Some((l.run, f[k]?))).collect()))
        .collect()
}

/// Probe points for persistent homology (cubic in this) and for the hierarchy.
const TOPOLOGY_POINTS: usize = 48;
const HIERARCHY_POINTS: usize = 150;

/// Distances between the first `points` rows divided by their median
/// non-zero distance; `None` for bad data or a dead layer.
fn scaled_distances(data: &[f32], points: usize, width: usize) -> Option<Vec<f64>> {
    let d2 = squared_distances(&data[..points * width], points, width).ok()?;
    let d: Vec<f64> = d2.iter().map(|v| v.sqrt()).collect();
    let scale = median_nonzero(&d, points);
    (scale > 0.0).then(|| d.iter().map(|v| v / scale).collect())
}

/// DBSCAN clusters of the embedding on the unit sphere, each with its size
/// and the mean accuracy and features of its networks, as a text table.
fn cluster_table(features: &[(&str, Vec<(i64, f64)>)], runs: &[RunRecord], coords: &[(i64, [f64; 3])]) -> String {
    let on_sphere = mosaic_manifold::project_to_sphere(&coords.iter().map(|c| c.1).collect::<Vec<_>>(), |_| 1.0);
    let labels = dbscan(&on_sphere, auto_eps(&on_sphere, 4), 4);
    let clusters = labels.iter().flatten().max().map_or(0, |m| m + 1);
    let accuracy: std::collections::HashMap<i64, f64> =
        runs.iter().filter_map(|r| Some((r.id, r.outcome.as_ref()?.val_accuracy()?))).collect();
    let mut columns: Vec<(String, std::collections::HashMap<i64, f64>)> = vec![("val acc".into(), accuracy)];
    // Feature columns in name order, as the store lists them (a feature no network has is not stored).
    let mut by_name: Vec<_> = features.iter().filter(|(_, values)| !values.is_empty()).collect();
    by_name.sort_by_key(|(name, _)| *name);
    columns.extend(by_name.into_iter().map(|(name, values)| (name.to_string(), values.iter().copied().collect())));
    let mut out =
        format!("{clusters} clusters on the sphere (DBSCAN), {} networks in none\n", labels.iter().filter(|l| l.is_none()).count());
    out += &format!("{:>8}{:>6}", "cluster", "size");
    for (name, _) in &columns {
        out += &format!("{:>20}", name);
    }
    out += "\n";
    for c in 0..clusters {
        let members: Vec<i64> = coords.iter().zip(&labels).filter(|(_, l)| **l == Some(c)).map(|(x, _)| x.0).collect();
        out += &format!("{c:>8}{:>6}", members.len());
        for (_, values) in &columns {
            let v: Vec<f64> = members.iter().filter_map(|id| values.get(id).copied()).filter(|v| v.is_finite()).collect();
            let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
            out += &format!("{mean:>20.3}");
        }
        out += "\n";
    }
    out
}

/// Names of the representation features in the store (and the explorer).
pub const CLASS_SEPARATION: &str = "class separation";
pub const SPECTRAL_ENTROPY: &str = "spectral entropy";
pub const H0_PERSISTENCE: &str = "H0 persistence";
pub const H1_PERSISTENCE: &str = "H1 persistence";
pub const HIERARCHY_CLUSTERS: &str = "hierarchy clusters";

/// One run's last hidden layer on the probe set.
struct LastLayer {
    run: i64,
    points: usize,
    width: usize,
    data: Vec<f32>,
    labels: Option<Vec<u32>>,
}

/// The last hidden layer (the highest `layerN`) of every run whose
/// activations file is readable.
fn last_layers(runs: &[RunRecord], store: &Path) -> Vec<LastLayer> {
    runs.iter()
        .filter_map(|run| {
            let path = RunFiles::new(store, run.id).activations();
            let mut arrays = mosaic_train::checkpoint::read_safetensors(&path).ok()?;
            let labels = arrays.remove(mosaic_train::train::PROBE_LABELS).map(|(_, v)| v.iter().map(|&l| l as u32).collect());
            let last = arrays.keys().filter_map(|k| k.strip_prefix("layer")?.parse::<usize>().ok()).max()?;
            let (shape, data) = arrays.remove(&format!("layer{last}"))?;
            let [points, width] = shape[..] else { return None };
            Some(LastLayer { run: run.id, points, width, data, labels })
        })
        .collect()
}

/// Network distances from each run's last hidden layer on the first
/// `probe` points of the shared probe set; runs without usable activations
/// are skipped and counted.
fn representation_distances(layers: &[LastLayer], runs: usize, probe: usize) -> Result<(Vec<i64>, Mat<f64>, usize)> {
    let mut ids = Vec::new();
    let mut operators = Vec::new();
    for l in layers {
        let points = l.points.min(probe);
        if let Ok(op) = representation_operator(&l.data[..points * l.width], points, l.width) {
            ids.push(l.run);
            operators.push(op);
        }
    }
    // Runs trained on the same probe set have operators of one size.
    let size = operators.first().map_or(0, Vec::len);
    if operators.iter().any(|o| o.len() != size) {
        bail!("the sweep's runs have probe sets of different sizes; retrain them with one data set");
    }
    let skipped = runs - ids.len();
    Ok((ids, operator_distances(&operators)?, skipped))
}
