//! The explorer's live population: a sweep trained on a background thread
//! while the sphere shows it, each point taking its colour as its run finishes.
//! The sweep lives in a store, so closing the window loses at most the runs
//! in flight and the next launch picks up where this one stopped.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use crossbeam_channel::{Receiver, unbounded};
use mosaic_app::bridge::SceneUpdate;
use mosaic_app::scene::{MetricColumn, SphereScene};
use mosaic_core::{ArchSpec, Encoder, SearchSpace};
use mosaic_store::Store;
use mosaic_train::data::split;
use mosaic_train::sweep::{SweepEvent, SweepOptions, run_sweep};
use mosaic_train::Device;
use mosaic_train::train::Checkpoints;

use crate::design::scene_from_specs;
use crate::sweep_cmd::{
    PROBE_SIZE, load_dataset, open_existing_store, open_or_create_sweep, pick_sweep, worker_count,
};

/// The colour column that trained runs fill in.
pub const VAL_ACCURACY: &str = "val accuracy";

/// Where the explorer keeps its demo sweep unless told otherwise.
pub fn default_store() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")));
    data.map_or_else(|| PathBuf::from("mosaic-demo-store"), |d| d.join("neuromosaic").join("demo"))
}

pub struct Population {
    pub store: PathBuf,
    /// The space to sample; default: the one for the data (see `default_space_for`).
    pub space: Option<SearchSpace>,
    /// Which stored sweep; default: the one named after the plan (training),
    /// or the store's only sweep (viewing).
    pub sweep: Option<String>,
    pub dataset: String,
    pub examples: usize,
    pub n: usize,
    pub seed: u64,
}

/// Positions from a representation embedding. Networks it lacks (diverged,
/// not trained yet) are placed from their three nearest embedded networks
/// by architecture distance, weighted by inverse distance, so two of them
/// with the same neighbours still land apart.
fn place_by_representation(ids: &[i64], specs: &[ArchSpec], coords: &[(i64, [f64; 3])], encoder: &Encoder) -> Vec<[f64; 3]> {
    let embedded: Vec<(usize, [f64; 3])> =
        coords.iter().filter_map(|(run, c)| Some((ids.iter().position(|id| id == run)?, *c))).collect();
    (0..ids.len())
        .map(|i| {
            if let Some((_, c)) = embedded.iter().find(|(j, _)| *j == i) {
                return *c;
            }
            let mut near: Vec<(f64, [f64; 3])> = embedded.iter().map(|(j, c)| (encoder.distance(&specs[i], &specs[*j]), *c)).collect();
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            near.truncate(3);
            let weights: Vec<f64> = near.iter().map(|(d, _)| 1.0 / (d + 1e-6)).collect();
            let total: f64 = weights.iter().sum();
            std::array::from_fn(|a| near.iter().zip(&weights).map(|((_, c), w)| c[a] * w).sum::<f64>() / total.max(f64::MIN_POSITIVE))
        })
        .collect()
}

/// Opens the sweep and returns its scene, with the accuracies of finished
/// runs filled in. With `train`, the sweep is planned if new, and a thread
/// trains the rest and feeds the returned channel; without, the store must
/// hold the sweep already and nothing is written.
pub fn open(p: Population, train: bool) -> Result<(SphereScene, Option<Receiver<SceneUpdate>>)> {
    let (mut store, sweep, data) = if train {
        let data = load_dataset(&p.dataset, p.examples, p.seed)?;
        let mut store = Store::open(&p.store)?;
        let sweep = open_or_create_sweep(&mut store, p.sweep.as_deref(), p.space.clone(), &p.dataset, &data, p.n, p.seed)?;
        (store, sweep, Some(data))
    } else {
        let store = open_existing_store(&p.store)?;
        let sweep = pick_sweep(&store, p.sweep.as_deref())?;
        (store, sweep, None)
    };
    let runs = store.runs(sweep.id)?;
    let specs: Vec<ArchSpec> = runs.iter().map(|r| r.spec.clone()).collect();
    let title = format!("{} networks on {} · space `{}`", sweep.runs, sweep.dataset, sweep.space.name);
    let encoder = Encoder::new(sweep.space.clone());
    let mut scene = scene_from_specs(&encoder, &specs, title)?;
    if let Some((t, coords)) = store.embedding(sweep.id, "representation")? {
        let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        let placed = place_by_representation(&ids, &specs, &coords, &encoder);
        let on_sphere = mosaic_manifold::project_to_sphere(&placed, |_| 1.0);
        scene.positions = on_sphere.iter().map(|p| p.map(|x| x as f32)).collect();
        scene.title.push_str(&format!(" · placed by PHATE of hidden representations (t = {t})"));
    }
    // Runs not trained yet have no accuracy: they show grey until they do.
    let accuracy = runs.iter().map(|r| r.outcome.as_ref().and_then(|o| o.val_accuracy()).unwrap_or(f64::NAN)).collect();
    scene.columns.insert(0, MetricColumn { name: VAL_ACCURACY.into(), values: accuracy });
    // Features of the networks' representations (from `mosaic embed --store`).
    for (name, values) in store.features(sweep.id)? {
        let by_run: std::collections::HashMap<i64, f64> = values.into_iter().collect();
        let values = runs.iter().map(|r| by_run.get(&r.id).copied().unwrap_or(f64::NAN)).collect();
        scene.columns.push(MetricColumn { name, values });
    }
    let done = runs.iter().filter(|r| r.status.is_finished()).count();
    let Some(data) = data.filter(|_| done < runs.len()) else {
        scene.status = format!("{done} of {} trained · store {}", runs.len(), p.store.display());
        return Ok((scene, None));
    };
    let lock = match store.lock_for_training() {
        Ok(lock) => lock,
        Err(e) => {
            scene.status = format!("{done} of {} trained; not training here: {e}", runs.len());
            return Ok((scene, None));
        }
    };
    let (tx, rx) = unbounded();
    let total = runs.len();
    std::thread::Builder::new().name("demo-sweep".into()).spawn(move || {
        let _training = lock;
        let splits = split(&data, p.seed, PROBE_SIZE);
        let workers = worker_count(None);
        let options = SweepOptions { workers, checkpoints: Checkpoints::Final, device: Device::Cpu };
        let (mut finished, mut best) = (done, f64::NAN);
        let result = run_sweep(&mut store, &sweep, &splits, &options, &AtomicBool::new(false), &mut |event| {
            let status = match event {
                SweepEvent::Plan { pending, .. } => format!("training {pending} networks on {workers} cores…"),
                SweepEvent::Finished { run, .. } => {
                    finished += 1;
                    if let Some(acc) = run.outcome.as_ref().and_then(|o| o.val_accuracy()) {
                        best = if best.is_nan() { acc } else { best.max(acc) };
                        let _ = tx.send(SceneUpdate::SetValue { column: VAL_ACCURACY.into(), index: run.index, value: acc });
                    }
                    format!("trained {finished} of {total} · best {:.1}%", 100.0 * best)
                }
            };
            let _ = tx.send(SceneUpdate::Status(status));
        });
        let last = match result {
            Ok(summary) if summary.stopped.is_some() => format!("training stopped: {}", summary.stopped.unwrap_or_default()),
            Ok(_) => format!("{total} networks trained · best {:.1}%", 100.0 * best),
            Err(e) => format!("training stopped: {e}"),
        };
        let _ = tx.send(SceneUpdate::Status(last));
    })?;
    Ok((scene, Some(rx)))
}
