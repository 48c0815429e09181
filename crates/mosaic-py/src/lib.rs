//! `neuromosaic._core`: the Rust core inside the Python wheel. The Python
//! package (`python/neuromosaic`) gives it its user-facing shape (the
//! `phate.PHATE` interface, space helpers, docstrings); this module does the
//! work, with the GIL released while it computes so other Python threads run.
//!
//! Values cross as numpy arrays (float64) and, for parameters and trials,
//! JSON text: Python's `json` and serde agree on the format, and the space,
//! its points and the trials keep one definition (mosaic-core, mosaic-search).

use faer::Mat;
use mosaic_core::params::{ParamSpace, Params};
use mosaic_manifold::ManifoldError;
use mosaic_manifold::distance::euclidean;
use mosaic_manifold::phate::{PhateConfig, extend, phate, phate_from_distances};
use mosaic_search::{Direction, SearchError, Study, StudyOptions};
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

mod store;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn manifold_error(e: ManifoldError) -> PyErr {
    match e {
        ManifoldError::Numerics(_) => PyRuntimeError::new_err(e.to_string()),
        other => value_error(other),
    }
}

fn search_error(e: SearchError) -> PyErr {
    match e {
        SearchError::Numerics(_) => PyRuntimeError::new_err(e.to_string()),
        other => value_error(other),
    }
}

/// A row-major copy of a 2-D float64 array.
fn rows_of(array: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    array.as_array().rows().into_iter().map(|r| r.to_vec()).collect()
}

fn to_array<'py>(py: Python<'py>, rows: &[Vec<f64>]) -> PyResult<Bound<'py, PyArray2<f64>>> {
    PyArray2::from_vec2(py, rows).map_err(value_error)
}

/// What [`phate_fit`] returns: embedding, t, entropy curve, where t came from.
type Fitted<'py> = (Bound<'py, PyArray2<f64>>, usize, Vec<f64>, String);

/// PHATE of `data`: feature rows, or with `precomputed` a square distance
/// matrix. Returns `(embedding, t, entropy, t_source)`; `entropy` is the von
/// Neumann entropy curve t was picked from (empty when `t` was given).
#[pyfunction]
#[pyo3(signature = (data, *, precomputed, n_components, knn, decay, t, t_max, n_landmark, gamma, seed, mds_iterations))]
#[allow(clippy::too_many_arguments)]
fn phate_fit<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    precomputed: bool,
    n_components: usize,
    knn: usize,
    decay: f64,
    t: Option<usize>,
    t_max: usize,
    n_landmark: usize,
    gamma: f64,
    seed: u64,
    mds_iterations: usize,
) -> PyResult<Fitted<'py>> {
    let config = PhateConfig {
        knn,
        decay,
        gamma,
        t,
        t_max,
        dims: n_components,
        landmarks: n_landmark,
        seed,
        mds_iterations,
        ..PhateConfig::default()
    };
    let result = if precomputed {
        let view = data.as_array();
        let (rows, cols) = view.dim();
        if rows != cols {
            return Err(manifold_error(ManifoldError::NotSquare { rows, cols }));
        }
        let d = Mat::from_fn(rows, cols, |i, j| view[(i, j)]);
        py.detach(|| phate_from_distances(&d, &config))
    } else {
        let rows = rows_of(&data);
        py.detach(|| phate(&rows, &config))
    }
    .map_err(manifold_error)?;
    let source = match result.t_source {
        None => "given".to_string(),
        Some(s) => format!("{s:?}"),
    };
    Ok((to_array(py, &result.embedding)?, result.t, result.entropy, source))
}

/// Euclidean distances from each row of `a` to each row of `b`.
#[pyfunction]
fn cross_distances<'py>(
    py: Python<'py>,
    a: PyReadonlyArray2<'py, f64>,
    b: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (a, b) = (rows_of(&a), rows_of(&b));
    if let (Some(x), Some(y)) = (a.first(), b.first())
        && x.len() != y.len()
    {
        return Err(PyValueError::new_err(format!("new points have {} features, the fitted data {}", x.len(), y.len())));
    }
    let d = py.detach(|| a.par_iter().map(|x| b.iter().map(|y| euclidean(x, y)).collect()).collect::<Vec<Vec<f64>>>());
    to_array(py, &d)
}

/// Places new points into a fitted embedding from their distances to the
/// fitted points (one row per new point), without moving it.
#[pyfunction]
fn phate_extend<'py>(
    py: Python<'py>,
    distances: PyReadonlyArray2<'py, f64>,
    embedding: PyReadonlyArray2<'py, f64>,
    knn: usize,
    decay: f64,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (distances, embedding) = (rows_of(&distances), rows_of(&embedding));
    let placed = py
        .detach(|| distances.par_iter().map(|d| extend(d, &embedding, knn, decay)).collect::<Result<Vec<_>, _>>())
        .map_err(manifold_error)?;
    to_array(py, &placed)
}

/// Checks a space given as JSON and returns it normalised (JSON).
#[pyfunction]
fn check_space(space_json: &str) -> PyResult<String> {
    let space = parse_space(space_json)?;
    serde_json::to_string(&space).map_err(value_error)
}

fn parse_space(json: &str) -> PyResult<ParamSpace> {
    let space: ParamSpace = serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("malformed space: {e}")))?;
    space.validate().map_err(value_error)?;
    Ok(space)
}

fn parse_params(json: &str) -> PyResult<Params> {
    serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("parameters must map names to numbers, strings or booleans: {e}")))
}

/// An ask/tell study over a space (see `neuromosaic.Study`).
#[pyclass(name = "NativeStudy", module = "neuromosaic._core")]
struct NativeStudy {
    inner: Study,
}

#[pymethods]
impl NativeStudy {
    #[new]
    #[pyo3(signature = (space_json, *, minimize, seed, startup_trials, candidates))]
    fn new(space_json: &str, minimize: bool, seed: u64, startup_trials: usize, candidates: usize) -> PyResult<Self> {
        let direction = if minimize { Direction::Minimize } else { Direction::Maximize };
        let options = StudyOptions { direction, seed, startup_trials, candidates };
        let inner = Study::new(parse_space(space_json)?, options).map_err(search_error)?;
        Ok(NativeStudy { inner })
    }

    /// `n` new trials (JSON list), now running.
    fn ask(&mut self, py: Python<'_>, n: usize) -> PyResult<String> {
        let study = &mut self.inner;
        let trials = py.detach(|| study.ask(n)).map_err(search_error)?;
        serde_json::to_string(&trials).map_err(value_error)
    }

    /// Records a trial's value (`None`: failed); returns the trial (JSON).
    fn tell(&mut self, number: usize, value: Option<f64>) -> PyResult<String> {
        let trial = self.inner.tell(number, value).map_err(search_error)?;
        serde_json::to_string(trial).map_err(value_error)
    }

    /// Records a trial evaluated elsewhere; returns it (JSON).
    fn add(&mut self, params_json: &str, value: Option<f64>) -> PyResult<String> {
        let params = parse_params(params_json)?;
        let trial = self.inner.add(params, value).map_err(search_error)?;
        serde_json::to_string(trial).map_err(value_error)
    }

    /// Every trial (JSON list).
    fn trials(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.trials()).map_err(value_error)
    }

    /// The best complete trial (JSON), or `None`.
    fn best(&self) -> PyResult<Option<String>> {
        self.inner.best().map(|t| serde_json::to_string(t).map_err(value_error)).transpose()
    }

    /// The study's space (JSON).
    fn space(&self) -> PyResult<String> {
        serde_json::to_string(self.inner.space()).map_err(value_error)
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(phate_fit, m)?)?;
    m.add_function(wrap_pyfunction!(phate_extend, m)?)?;
    m.add_function(wrap_pyfunction!(cross_distances, m)?)?;
    m.add_function(wrap_pyfunction!(check_space, m)?)?;
    m.add_class::<NativeStudy>()?;
    m.add_class::<store::NativeStore>()?;
    Ok(())
}
