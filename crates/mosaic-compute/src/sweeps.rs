//! Sweeps and their data: loading a data set by name, planning a sweep (or
//! finding the one planned before), and rebuilding the data a stored sweep
//! trained on.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, SearchSpace};
use mosaic_store::{Store, SweepInfo, SweepPlan, SweepSpace};
use mosaic_train::data::{BuiltIn, Dataset, Named, Splits, load_csv, load_idx, load_named, split};

/// Examples generated for a built-in task unless the user says otherwise.
pub const DEFAULT_EXAMPLES: u32 = 2000;

/// Probe inputs shared by every network of a sweep.
pub const PROBE_SIZE: usize = 500;

/// A data set by its name on the command line: a built-in task (`examples`
/// generated from `seed`, default [`DEFAULT_EXAMPLES`]), one of the MNIST
/// family (`fashion-mnist`, `mnist`, `kmnist`, each `[:DIR]`),
/// `csv:PATH[:LABEL_COLUMN]` or `idx:IMAGES,LABELS`. Files are used whole
/// unless `examples` asks for a stratified subset (drawn with `seed`).
pub fn load_dataset(spec: &str, examples: Option<usize>, seed: u64) -> Result<Dataset> {
    let data = if let Some(rest) = spec.strip_prefix("csv:") {
        let (path, label) = match rest.rsplit_once(':') {
            Some((p, l)) if !l.contains('/') && !l.ends_with(".csv") => (p, Some(l)),
            _ => (rest, None),
        };
        load_csv(Path::new(path), label)?
    } else if let Some(rest) = spec.strip_prefix("idx:") {
        let (images, labels) = rest.split_once(',').context("idx data needs `idx:IMAGES,LABELS`")?;
        load_idx(Path::new(images), Path::new(labels))?
    } else if let Some(set) = Named::parse(spec.split_once(':').map_or(spec, |(name, _)| name)) {
        load_named(set, spec.split_once(':').map(|(_, dir)| Path::new(dir)))?
    } else {
        let Some(kind) = BuiltIn::parse(spec) else {
            bail!(
                "unknown data set `{spec}`: use spirals, moons, circles, blobs, blobsK (K classes), checkerboard, shapes, \
                 fashion-mnist, mnist, kmnist (each [:DIR]), csv:PATH[:LABEL] or idx:IMAGES,LABELS"
            );
        };
        return Ok(kind.generate(examples.unwrap_or(DEFAULT_EXAMPLES as usize), seed));
    };
    match examples {
        Some(n) => data.sample(n, seed).map_err(anyhow::Error::msg),
        None => Ok(data),
    }
}

/// The data set name a command stores: `name` itself, or, for the MNIST
/// family with `--data-dir DIR`, `name:DIR` (so the sweep's data can be
/// found again without the flag).
pub fn dataset_spec(name: &str, data_dir: Option<&Path>) -> Result<String> {
    match data_dir {
        None => Ok(name.to_string()),
        Some(dir) if Named::parse(name).is_some() => {
            let dir = std::path::absolute(dir).with_context(|| format!("cannot resolve --data-dir {}", dir.display()))?;
            Ok(format!("{name}:{}", dir.display()))
        }
        Some(_) => bail!("--data-dir is for fashion-mnist, mnist and kmnist; `{name}` names its own files"),
    }
}

/// The data a stored sweep trained on, rebuilt from its record (data set,
/// example count, seed) and checked against the fingerprint stored with it.
pub fn sweep_data(sweep: &SweepInfo) -> Result<Dataset> {
    if sweep.data.is_empty() {
        // Sweeps stored before data was recorded used the default example count.
        tracing::warn!("sweep `{}` does not record its data; assuming {DEFAULT_EXAMPLES} examples of `{}`", sweep.name, sweep.dataset);
        return load_dataset(&sweep.dataset, None, sweep.seed);
    }
    let examples = sweep
        .examples
        .with_context(|| format!("sweep `{}` does not record its data (`{}`): retrain it with this version", sweep.name, sweep.data))?;
    let data = load_dataset(&sweep.dataset, Some(examples), sweep.seed)?;
    if data.fingerprint() != sweep.data {
        bail!("the data of sweep `{}` changed since it was trained: stored `{}`, now `{}`", sweep.name, sweep.data, data.fingerprint());
    }
    Ok(data)
}

/// [`sweep_data`] split as the sweep split it: training, validation and probe inputs.
pub fn sweep_splits(sweep: &SweepInfo) -> Result<Splits> {
    Ok(split(&sweep_data(sweep)?, sweep.seed, PROBE_SIZE))
}

/// The name a sweep gets when none is given: data set, space, size and seed.
pub fn default_sweep_name(dataset: &str, space: &SearchSpace, n: usize, seed: u64) -> String {
    format!("{dataset}-{}-n{n}-s{seed}", space.name)
}

/// What a new sweep trains, unless the store has one of that name already.
pub struct SweepRequest<'a> {
    /// Default: [`default_sweep_name`].
    pub name: Option<&'a str>,
    /// Default: the space that suits the data ([`mosaic_train::default_space_for`]).
    pub space: Option<SearchSpace>,
    /// The data set's name, as [`load_dataset`] reads it.
    pub dataset: &'a str,
    pub data: &'a Dataset,
    pub n: usize,
    pub seed: u64,
}

/// The stored sweep of that name, checked to have this plan (the same data,
/// seed, size and space), or a new one sampled by a Latin hypercube.
pub fn open_or_create_sweep(store: &mut dyn Store, request: SweepRequest) -> Result<SweepInfo> {
    let SweepRequest { name, space, dataset, data, n, seed } = request;
    let space = space.unwrap_or_else(|| mosaic_train::default_space_for(data));
    let name = name.map_or_else(|| default_sweep_name(dataset, &space, n, seed), str::to_string);
    let name = name.as_str();
    let fingerprint = data.fingerprint();
    if let Some(mut existing) = store.sweep_by_name(name)? {
        // Sweeps stored before data was recorded take this data as theirs.
        if existing.data.is_empty() {
            store.set_sweep_data(existing.id, &fingerprint, data.len())?;
            existing.data = fingerprint.clone();
            existing.examples = Some(data.len());
        }
        if existing.data != fingerprint
            || existing.seed != seed
            || existing.runs != n
            || existing.space != SweepSpace::Architectures(space.clone())
        {
            bail!(
                "store {} already has a sweep `{name}` with another plan ({} runs, seed {}, data {}): pass --sweep with a new name to start a new one",
                store.root().display(),
                existing.runs,
                existing.seed,
                existing.data
            );
        }
        return Ok(existing);
    }
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, n, seed);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    let plan = SweepPlan {
        name: name.to_string(),
        dataset: dataset.to_string(),
        data: fingerprint,
        examples: data.len(),
        seed,
        space,
        specs,
        encodings,
    };
    Ok(store.create_sweep(&plan)?)
}

/// Workers for a sweep: the requested number, or one per core.
pub fn worker_count(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}
