//! The store client's native half: a NeuroMosaic store opened from Python,
//! written through the same `mosaic-store` code as every `mosaic` command
//! (one transaction per change, files renamed into place), so the commands
//! and the explorer read what a training loop logs, while it runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use mosaic_core::params::{ParamSpace, Params};
use mosaic_core::{EpochMetrics, RunOutcome, RunStatus};
use mosaic_store::{RunFiles, Store, StoreError, SweepInfo, SweepSpace};
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

fn store_error(e: StoreError) -> PyErr {
    match e {
        StoreError::Io { .. } | StoreError::Sql { .. } | StoreError::Postgres { .. } => PyRuntimeError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// Where a sweep of parameters keeps its shared probe inputs: `probes/<sweep id>.safetensors`.
fn probe_path(root: &std::path::Path, sweep: i64) -> PathBuf {
    root.join("probes").join(format!("{sweep}.safetensors"))
}

/// Why a leased run may no longer be recorded by this process.
fn lease_lost(run: i64) -> String {
    format!("run {run}'s lease ran out (this process stalled longer than the lease?) and another worker has it: stop training it")
}

fn parse_params(json: &str) -> PyResult<Params> {
    serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("parameters must map names to numbers, strings or booleans: {e}")))
}

fn sweep_json(sweep: &SweepInfo) -> String {
    let space = match &sweep.space {
        SweepSpace::Parameters(space) => serde_json::to_value(space).expect("a space serialises"),
        SweepSpace::Architectures(space) => serde_json::Value::String(space.name.clone()),
    };
    serde_json::json!({ "id": sweep.id, "name": sweep.name, "dataset": sweep.dataset, "space": space }).to_string()
}

/// Float32 arrays as one safetensors file, written atomically.
fn write_arrays(path: &std::path::Path, arrays: &BTreeMap<String, (Vec<usize>, Vec<u8>)>) -> PyResult<()> {
    let views: Vec<(&String, TensorView<'_>)> = arrays
        .iter()
        .map(|(name, (shape, bytes))| TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name, v)))
        .collect::<Result<_, _>>()
        .map_err(|e| PyValueError::new_err(format!("cannot write {}: {e}", path.display())))?;
    let bytes = safetensors::serialize(views, None).map_err(|e| PyValueError::new_err(format!("cannot write {}: {e}", path.display())))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| PyRuntimeError::new_err(format!("cannot create {}: {e}", dir.display())))?;
    }
    mosaic_core::fs::write_atomic(path, &bytes).map_err(|e| PyRuntimeError::new_err(format!("cannot write {}: {e}", path.display())))
}

/// numpy arrays (any shape, any real dtype) as float32 bytes by name.
fn as_f32(arrays: BTreeMap<String, PyReadonlyArrayDyn<'_, f32>>) -> BTreeMap<String, (Vec<usize>, Vec<u8>)> {
    arrays
        .into_iter()
        .map(|(name, a)| {
            let view = a.as_array();
            let shape = view.shape().to_vec();
            (name, (shape, view.iter().flat_map(|x| x.to_le_bytes()).collect()))
        })
        .collect()
}

/// A store opened from Python (see `neuromosaic.Store`).
#[pyclass(name = "NativeStore", module = "neuromosaic._core")]
pub struct NativeStore {
    /// The folder of the run files (a shared store's files folder).
    root: PathBuf,
    /// How messages name the store (a URL without its password).
    location: String,
    store: Mutex<Option<Box<dyn Store>>>,
}

impl NativeStore {
    fn with<T>(&self, f: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>) -> PyResult<T> {
        let mut guard =
            self.store.lock().map_err(|_| PyRuntimeError::new_err("the store was left inconsistent by a crash in another thread"))?;
        let store = guard.as_mut().ok_or_else(|| PyValueError::new_err(format!("the store {} is closed: open it again", self.location)))?;
        f(&mut **store).map_err(store_error)
    }
}

#[pymethods]
impl NativeStore {
    #[new]
    fn open(path: PathBuf) -> PyResult<Self> {
        let store = mosaic_store::open(&path).map_err(store_error)?;
        let (root, location) = (store.root().to_path_buf(), store.location());
        Ok(NativeStore { root, location, store: Mutex::new(Some(store)) })
    }

    /// The sweep `name` (JSON). With a space (JSON): created if new, and
    /// refused if the stored sweep has another space.
    #[pyo3(signature = (name, space_json=None, dataset=""))]
    fn sweep(&self, name: &str, space_json: Option<&str>, dataset: &str) -> PyResult<String> {
        let space: Option<ParamSpace> =
            space_json.map(serde_json::from_str).transpose().map_err(|e| PyValueError::new_err(format!("malformed space: {e}")))?;
        let info = self.with(|store| match (store.sweep_by_name(name)?, &space) {
            (Some(found), None) => Ok(found),
            (Some(found), Some(space)) => match &found.space {
                SweepSpace::Parameters(stored) if stored == space => Ok(found),
                SweepSpace::Parameters(_) => Err(StoreError::BadParams {
                    sweep: name.to_string(),
                    message: "the store holds this sweep with another space: open it without a space, or name a new sweep".into(),
                }),
                SweepSpace::Architectures(_) => Err(StoreError::Invalid {
                    path: store.root().display().to_string(),
                    message: format!("sweep `{name}` is a sweep of NeuroMosaic architectures: name a new sweep for your own parameters"),
                }),
            },
            (None, Some(space)) => store.create_param_sweep(name, dataset, space),
            (None, None) => store.sweep(Some(name)),
        })?;
        Ok(sweep_json(&info))
    }

    /// Every sweep's name.
    fn sweep_names(&self) -> PyResult<Vec<String>> {
        self.with(|store| Ok(store.sweeps()?.into_iter().map(|s| s.name).collect()))
    }

    /// Starts a run of sweep `name` with parameters (JSON); returns `(run id, index)`.
    fn start_run(&self, name: &str, params_json: &str) -> PyResult<(i64, usize)> {
        let params = parse_params(params_json)?;
        self.with(|store| {
            let sweep = store.sweep(Some(name))?;
            let run = store.add_run(&sweep, &params)?;
            Ok((run.id, run.index))
        })
    }

    /// Queues a run of sweep `name` (parameters as JSON), pending, for a worker to claim; returns its id.
    fn queue_run(&self, name: &str, params_json: &str) -> PyResult<i64> {
        let params = parse_params(params_json)?;
        self.with(|store| {
            let sweep = store.sweep(Some(name))?;
            Ok(store.queue_run(&sweep, &params)?.id)
        })
    }

    /// Claims sweep `name`'s next queued run for `worker`, leased for
    /// `lease` seconds: `(run id, index, parameters as JSON)`, or None.
    fn claim_run(&self, name: &str, worker: &str, lease: f64) -> PyResult<Option<(i64, usize, String)>> {
        self.with(|store| {
            let sweep = store.sweep(Some(name))?;
            Ok(store.claim_run(sweep.id, worker, lease)?.map(|run| {
                let params = match &run.config {
                    mosaic_store::RunConfig::Parameters(p) => serde_json::to_string(p).expect("parameters serialise"),
                    mosaic_store::RunConfig::Architecture(s) => serde_json::to_string(&s.label()).expect("a label serialises"),
                };
                (run.id, run.index, params)
            }))
        })
    }

    /// Extends `worker`'s lease on `run`; False if another worker has it now.
    fn renew_lease(&self, run: i64, worker: &str, lease: f64) -> PyResult<bool> {
        self.with(|store| store.renew_lease(run, worker, lease))
    }

    /// Records one epoch of a running run (missing metrics are NaN).
    #[pyo3(signature = (run, epoch, train_loss, train_accuracy, val_loss, val_accuracy, learning_rate, seconds, grad_norm, weight_norm))]
    #[allow(clippy::too_many_arguments)]
    fn log_epoch(
        &self,
        run: i64,
        epoch: u32,
        train_loss: f64,
        train_accuracy: f64,
        val_loss: f64,
        val_accuracy: f64,
        learning_rate: f64,
        seconds: f64,
        grad_norm: f64,
        weight_norm: f64,
    ) -> PyResult<()> {
        let metrics =
            EpochMetrics { epoch, train_loss, train_accuracy, val_loss, val_accuracy, grad_norm, weight_norm, learning_rate, seconds };
        self.with(|store| store.record_epoch(run, &metrics))
    }

    /// Ends a run: `status` done, diverged or failed; its logged epochs are
    /// kept. With `worker`, only while that worker holds the run's lease
    /// (an error says when another worker has it now).
    #[pyo3(signature = (run, status, seconds, parameters=0, test_loss=None, test_accuracy=None, note=None, value=None, worker=None))]
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        run: i64,
        status: &str,
        seconds: f64,
        parameters: u64,
        test_loss: Option<f64>,
        test_accuracy: Option<f64>,
        note: Option<String>,
        value: Option<f64>,
        worker: Option<&str>,
    ) -> PyResult<()> {
        let status = match RunStatus::parse(status) {
            Some(s) if s.is_finished() => s,
            _ => return Err(PyValueError::new_err(format!("a run finishes as done, diverged or failed, not `{status}`"))),
        };
        let kept = self.with(|store| {
            let epochs = store.epochs(run)?;
            let outcome = RunOutcome { status, epochs, test_loss, test_accuracy, parameters, seconds, note };
            let kept = match worker {
                Some(worker) => store.finish_leased_run(run, worker, &outcome)?,
                None => store.finish_run(run, &outcome).map(|()| true)?,
            };
            if kept {
                store.set_run_value(run, value)?;
            }
            Ok(kept)
        })?;
        if !kept {
            return Err(PyRuntimeError::new_err(lease_lost(run)));
        }
        Ok(())
    }

    /// Every run of sweep `name` (JSON: id, index, status, params, epochs).
    fn runs(&self, name: &str) -> PyResult<String> {
        let runs = self.with(|store| {
            let sweep = store.sweep(Some(name))?;
            let runs = store.runs(sweep.id)?;
            runs.into_iter()
                .map(|r| {
                    let epochs = store.epochs(r.id)?;
                    let params = match &r.config {
                        mosaic_store::RunConfig::Parameters(p) => serde_json::to_value(p).expect("parameters serialise"),
                        mosaic_store::RunConfig::Architecture(s) => serde_json::Value::String(s.label()),
                    };
                    Ok(serde_json::json!({
                        "id": r.id, "index": r.index, "status": r.status.as_str(), "params": params, "value": r.value,
                        "epochs": epochs.iter().map(|e| serde_json::json!({
                            "epoch": e.epoch, "train_loss": e.train_loss, "val_loss": e.val_loss,
                            "train_accuracy": e.train_accuracy, "val_accuracy": e.val_accuracy,
                        })).collect::<Vec<_>>(),
                        "note": r.outcome.as_ref().and_then(|o| o.note.clone()),
                    }))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        // NaN is not JSON: serde writes it as null, which Python reads as None.
        Ok(serde_json::Value::Array(runs).to_string())
    }

    /// Writes float32 arrays as a run's file: `final.safetensors` (weights) or
    /// `activations.safetensors` (representations on the probe).
    fn write_run_file(
        &self,
        py: Python<'_>,
        run: i64,
        file: &str,
        arrays: BTreeMap<String, PyReadonlyArrayDyn<'_, f32>>,
    ) -> PyResult<String> {
        let files = RunFiles::new(&self.root, run);
        let path = match file {
            RunFiles::FINAL_WEIGHTS => files.final_weights(),
            RunFiles::ACTIVATIONS => files.activations(),
            other => {
                return Err(PyValueError::new_err(format!(
                    "`{other}` is not a run file the client writes: use {} or {}",
                    RunFiles::FINAL_WEIGHTS,
                    RunFiles::ACTIVATIONS
                )));
            }
        };
        self.with(|store| {
            store
                .run(run)?
                .map(|_| ())
                .ok_or(StoreError::Invalid { path: self.root.display().to_string(), message: format!("no run {run}") })
        })?;
        let arrays = as_f32(arrays);
        py.detach(|| write_arrays(&path, &arrays))?;
        Ok(path.display().to_string())
    }

    /// Stores sweep `name`'s shared probe inputs (and labels), once.
    fn set_probe(&self, name: &str, inputs: PyReadonlyArrayDyn<'_, f32>, labels: PyReadonlyArrayDyn<'_, f32>) -> PyResult<String> {
        let sweep = self.with(|store| store.sweep(Some(name)))?;
        let path = probe_path(&self.root, sweep.id);
        let mut arrays = as_f32(BTreeMap::from([("inputs".to_string(), inputs)]));
        arrays.extend(as_f32(BTreeMap::from([(RunFiles::PROBE_LABELS.to_string(), labels)])));
        write_arrays(&path, &arrays)?;
        Ok(path.display().to_string())
    }

    /// Sweep `name`'s probe, `(inputs, labels)`, or `None` if none was stored.
    #[allow(clippy::type_complexity)]
    fn probe<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<(Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<f32>>)>> {
        let sweep = self.with(|store| store.sweep(Some(name)))?;
        let path = probe_path(&self.root, sweep.id);
        let Ok(bytes) = std::fs::read(&path) else { return Ok(None) };
        let bad = |e: String| PyValueError::new_err(format!("{}: {e} (store the probe again with set_probe)", path.display()));
        let tensors = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let read = |key: &str| -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
            let view = tensors.tensor(key).map_err(|e| bad(e.to_string()))?;
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("`{key}` is {:?}, not F32", view.dtype())));
            }
            let values: Vec<f32> = view.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
            PyArray1::from_vec(py, values).reshape(view.shape().to_vec()).map_err(|e| bad(e.to_string()))
        };
        Ok(Some((read("inputs")?, read(RunFiles::PROBE_LABELS)?)))
    }

    fn root(&self) -> String {
        self.root.display().to_string()
    }

    /// The store as messages name it: a folder, or a URL without its password.
    fn location(&self) -> String {
        self.location.clone()
    }

    /// Closes the store; every later call says so.
    fn close(&self) {
        if let Ok(mut guard) = self.store.lock() {
            guard.take();
        }
    }
}
