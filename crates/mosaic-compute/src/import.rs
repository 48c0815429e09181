//! Studies made elsewhere, brought into a store as sweeps of parameters.
//!
//! [`import_optuna`] reads an Optuna RDB storage in SQLite (the file of
//! `optuna.create_study(storage="sqlite:///FILE")`, schema of Optuna 3 to 5)
//! read-only: every trial becomes a run with its parameters, its value (the
//! run's `value`), its intermediate values (metric `intermediate`, by step)
//! and its state (complete: done; pruned or failed: failed, with a note; running
//! or waiting: running). The space is the union of the trials' distributions;
//! a parameter some trials never asked for (a define-by-run space) is optional.
//!
//! [`import_mlflow`] reads an MLflow file store (`mlruns/`): params (strings,
//! their space inferred), metrics with their steps, tags and statuses.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use mosaic_core::params::{Kind, Param, ParamSpace, Params, Value};
use mosaic_core::{RunOutcome, RunStatus};
use mosaic_store::{Store, SweepInfo};
use rusqlite::{Connection, OpenFlags};

/// What an import brought in.
#[derive(Clone, Debug)]
pub struct Imported {
    pub sweep: SweepInfo,
    /// Optuna's direction: `minimize` or `maximize`.
    pub direction: String,
    pub complete: usize,
    pub pruned: usize,
    pub failed: usize,
    pub running: usize,
}

struct Trial {
    id: i64,
    number: i64,
    state: String,
    seconds: Option<f64>,
}

/// Imports study `study` (or the storage's only study) of the Optuna SQLite
/// storage `db` into `store` as the sweep `sweep` (default: the study's name).
pub fn import_optuna(store: &mut dyn Store, db: &Path, study: Option<&str>, sweep: Option<&str>) -> Result<Imported> {
    if !db.is_file() {
        bail!("{}: no such file (pass the SQLite file of an Optuna storage, sqlite:///FILE)", db.display());
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {} as a SQLite database", db.display()))?;
    let not_optuna =
        || format!("{} is not an Optuna storage: pass the SQLite file of optuna.create_study(storage=\"sqlite:///FILE\")", db.display());
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .with_context(not_optuna)?;
    if let Some(missing) =
        ["studies", "study_directions", "trials", "trial_params", "trial_values"].iter().find(|t| !tables.iter().any(|n| n == *t))
    {
        bail!("{} (it has no `{missing}` table)", not_optuna());
    }
    let studies: Vec<(String, i64)> = conn
        .prepare("SELECT study_name, study_id FROM studies ORDER BY study_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if studies.is_empty() {
        bail!("{} holds no study", db.display());
    }
    let (study_name, study_id) = named_or_only(studies, study, &db.display().to_string(), "study", "studies")?;
    let directions: Vec<String> = conn
        .prepare("SELECT direction FROM study_directions WHERE study_id = ?1 ORDER BY objective")?
        .query_map([study_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if directions.len() != 1 {
        bail!("study `{study_name}` has {} objectives: only single-objective studies can be imported so far", directions.len());
    }
    let trials: Vec<Trial> = conn
        .prepare(
            "SELECT trial_id, number, state, (julianday(datetime_complete) - julianday(datetime_start)) * 86400.0
             FROM trials WHERE study_id = ?1 ORDER BY number",
        )?
        .query_map([study_id], |r| Ok(Trial { id: r.get(0)?, number: r.get(1)?, state: r.get(2)?, seconds: r.get(3)? }))?
        .collect::<Result<_, _>>()?;
    // Each trial's parameters: name, stored value, distribution.
    let mut stmt =
        conn.prepare("SELECT param_name, param_value, distribution_json FROM trial_params WHERE trial_id = ?1 ORDER BY param_id")?;
    let mut raw: Vec<Vec<(String, f64, Kind)>> = Vec::new();
    for t in &trials {
        let rows: Vec<(String, f64, String)> =
            stmt.query_map([t.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
        let parsed = rows
            .into_iter()
            .map(|(name, value, json)| {
                let kind = distribution(&json).with_context(|| format!("trial {}: parameter `{name}`", t.number))?;
                Ok((name, value, kind))
            })
            .collect::<Result<Vec<_>>>()?;
        raw.push(parsed);
    }
    let space = union_space(&raw)?;
    let name = sweep.unwrap_or(&study_name);
    if store.sweep_by_name(name)?.is_some() {
        bail!("{} already holds a sweep `{name}`: pass --sweep with another name", store.root().display());
    }
    let info = store.create_param_sweep(name, &format!("Optuna study `{study_name}` ({})", db.display()), &space)?;
    let mut out = Imported { sweep: info.clone(), direction: directions[0].to_lowercase(), complete: 0, pruned: 0, failed: 0, running: 0 };
    let mut value_of = conn.prepare("SELECT value FROM trial_values WHERE trial_id = ?1 AND objective = 0")?;
    let intermediate = tables.iter().any(|t| t == "trial_intermediate_values");
    for (t, params) in trials.iter().zip(&raw) {
        let point: Params = params.iter().map(|(n, v, kind)| (n.clone(), value_in(kind, *v))).collect();
        let run = store.add_run(&info, &point).with_context(|| format!("trial {}", t.number))?;
        let value: Option<f64> = value_of.query_row([t.id], |r| r.get::<_, Option<f64>>(0)).ok().flatten();
        store.set_run_value(run.id, value)?;
        if intermediate {
            let steps: Vec<(u32, f64)> = conn
                .prepare_cached("SELECT step, intermediate_value FROM trial_intermediate_values WHERE trial_id = ?1 ORDER BY step")?
                .query_map([t.id], |r| Ok((r.get::<_, i64>(0)? as u32, r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN))))?
                .collect::<Result<_, _>>()?;
            store.record_metrics(run.id, "intermediate", &steps)?;
        }
        let (status, note) = match t.state.as_str() {
            "COMPLETE" => {
                out.complete += 1;
                (RunStatus::Done, None)
            }
            "PRUNED" => {
                out.pruned += 1;
                (RunStatus::Failed, Some("pruned by Optuna".to_string()))
            }
            "FAIL" => {
                out.failed += 1;
                (RunStatus::Failed, Some("failed in Optuna".to_string()))
            }
            _ => {
                out.running += 1;
                continue;
            }
        };
        finish_imported(store, run.id, status, t.seconds, note)?;
    }
    Ok(out)
}

/// The item called `name`, or with no name the only one; otherwise an error
/// listing the names and the flag `--{what}` that picks one. `items` is not empty.
fn named_or_only<T>(items: Vec<(String, T)>, name: Option<&str>, place: &str, what: &str, plural: &str) -> Result<(String, T)> {
    let names = items.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
    let count = items.len();
    match name {
        Some(name) => {
            items.into_iter().find(|(n, _)| n == name).with_context(|| format!("{place} has no {what} `{name}`; it has: {names}"))
        }
        None if count == 1 => Ok(items.into_iter().next().expect("one item")),
        None => bail!("{place} holds {count} {plural}: pass --{what} NAME ({names})"),
    }
}

/// Ends an imported run as its source recorded it (no epochs: its metrics are in the `metrics` table).
fn finish_imported(store: &mut dyn Store, run: i64, status: RunStatus, seconds: Option<f64>, note: Option<String>) -> Result<()> {
    let outcome = RunOutcome {
        status,
        epochs: Vec::new(),
        test_loss: None,
        test_accuracy: None,
        parameters: 0,
        seconds: seconds.unwrap_or(0.0),
        note,
    };
    Ok(store.finish_run(run, &outcome)?)
}

/// An Optuna distribution (`{"name": ..., "attributes": {...}}`) as a parameter kind.
fn distribution(json: &str) -> Result<Kind> {
    let v: serde_json::Value = serde_json::from_str(json).context("unreadable distribution")?;
    let name = v["name"].as_str().context("a distribution without a name")?;
    let a = &v["attributes"];
    let num = |k: &str| a[k].as_f64().with_context(|| format!("{name} without `{k}`"));
    let log = a["log"].as_bool().unwrap_or(false);
    Ok(match name {
        "FloatDistribution" | "UniformDistribution" | "DiscreteUniformDistribution" => {
            Kind::Float { low: num("low")?, high: num("high")?, log }
        }
        "LogUniformDistribution" => Kind::Float { low: num("low")?, high: num("high")?, log: true },
        "IntDistribution" | "IntUniformDistribution" | "IntLogUniformDistribution" => Kind::Int {
            low: num("low")? as i64,
            high: num("high")? as i64,
            log: log || name == "IntLogUniformDistribution",
            step: a["step"].as_i64().unwrap_or(1).max(1),
        },
        "CategoricalDistribution" => Kind::Categorical {
            choices: a["choices"].as_array().context("CategoricalDistribution without choices")?.iter().map(choice).collect(),
        },
        other => bail!("unknown Optuna distribution `{other}`"),
    })
}

fn choice(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
        serde_json::Value::String(s) => Value::Str(s.clone()),
        other => Value::Str(other.to_string()),
    }
}

/// A stored parameter value (Optuna keeps a categorical's index) in its own kind.
fn value_in(kind: &Kind, stored: f64) -> Value {
    match kind {
        Kind::Categorical { choices } => choices.get(stored as usize).cloned().unwrap_or(Value::Float(stored)),
        Kind::Int { .. } => Value::Int(stored.round() as i64),
        Kind::Bool => Value::Bool(stored != 0.0),
        Kind::Float { .. } => Value::Float(stored),
    }
}

/// The space every trial lies in: each parameter's distributions merged
/// (widest range; integer steps kept only where every trial agrees; choices
/// united in order), optional where some trial lacks it.
fn union_space(trials: &[Vec<(String, f64, Kind)>]) -> Result<ParamSpace> {
    let mut order: Vec<String> = Vec::new();
    let mut kinds: BTreeMap<String, Kind> = BTreeMap::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for params in trials {
        for (name, _, kind) in params {
            *seen.entry(name.clone()).or_default() += 1;
            match kinds.get_mut(name) {
                None => {
                    order.push(name.clone());
                    kinds.insert(name.clone(), kind.clone());
                }
                Some(have) => *have = merge(name, have, kind)?,
            }
        }
    }
    if order.is_empty() {
        bail!("the study's trials hold no parameters");
    }
    let params = order
        .into_iter()
        .map(|name| Param { kind: kinds[&name].clone(), optional: seen[&name] < trials.len(), when: None, name })
        .collect();
    let space = ParamSpace { params };
    space.validate()?;
    Ok(space)
}

fn merge(name: &str, a: &Kind, b: &Kind) -> Result<Kind> {
    Ok(match (a, b) {
        (Kind::Float { low, high, log }, Kind::Float { low: l2, high: h2, log: g2 }) => {
            let low = low.min(*l2);
            Kind::Float { low, high: high.max(*h2), log: (*log || *g2) && low > 0.0 }
        }
        (Kind::Int { low, high, log, step }, Kind::Int { low: l2, high: h2, log: g2, step: s2 }) => {
            let same_grid = step == s2 && low == l2;
            let low = *low.min(l2);
            let log = (*log || *g2) && low >= 1;
            Kind::Int { low, high: *high.max(h2), log, step: if same_grid && !log { *step } else { 1 } }
        }
        (Kind::Categorical { choices }, Kind::Categorical { choices: more }) => {
            let mut all = choices.clone();
            all.extend(more.iter().filter(|c| !choices.contains(c)).cloned());
            Kind::Categorical { choices: all }
        }
        _ => bail!("parameter `{name}` has different kinds of distribution in different trials"),
    })
}

/// What an MLflow run directory holds that the import needs.
struct MlflowRun {
    name: String,
    status: String,
    seconds: Option<f64>,
    params: BTreeMap<String, String>,
    metrics: BTreeMap<String, Vec<(u32, f64)>>,
    tags: Vec<String>,
    artifacts: String,
}

/// `key: value` lines of an MLflow `meta.yaml` (flat: all the import reads).
fn meta_yaml(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('\'').trim_matches('"').to_string()))
        .collect())
}

fn files_in(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}

/// Imports experiment `experiment` (or the only one with runs) of an MLflow
/// file store (`mlruns/`) into `store` as the sweep `sweep` (default: the
/// experiment's name). Params become the space (numbers as int or float
/// ranges, log where positive and spanning two decades, `True`/`False` as
/// bool, anything else categorical; optional where some run lacks one);
/// metrics keep their steps (the `metrics` table); `metric` (or the only
/// metric logged) is each run's value, its last step's; tags and where the
/// artifacts are go into the run's note; the artifacts stay where they are.
pub fn import_mlflow(
    store: &mut dyn Store,
    mlruns: &Path,
    experiment: Option<&str>,
    sweep: Option<&str>,
    metric: Option<&str>,
) -> Result<Imported> {
    let not_mlruns =
        || format!("{} is not an MLflow file store: pass the `mlruns` folder (its experiments hold meta.yaml files)", mlruns.display());
    if !mlruns.is_dir() {
        bail!("{}", not_mlruns());
    }
    let mut experiments: Vec<(String, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(mlruns)?.flatten() {
        let meta = entry.path().join("meta.yaml");
        if entry.path().is_dir() && meta.is_file() {
            let m = meta_yaml(&meta)?;
            if m.get("lifecycle_stage").is_some_and(|s| s == "deleted") {
                continue;
            }
            let has_runs = std::fs::read_dir(entry.path())?.flatten().any(|r| r.path().join("meta.yaml").is_file());
            if has_runs || experiment.is_some() {
                experiments.push((m.get("name").cloned().unwrap_or_default(), entry.path()));
            }
        }
    }
    experiments.sort();
    if experiments.is_empty() {
        bail!("{} (no experiment with runs)", not_mlruns());
    }
    let (exp_name, exp_dir) = named_or_only(experiments, experiment, &mlruns.display().to_string(), "experiment", "experiments with runs")?;
    let mut runs: Vec<(i64, MlflowRun)> = Vec::new();
    for entry in std::fs::read_dir(&exp_dir)?.flatten() {
        let meta = entry.path().join("meta.yaml");
        if !entry.path().is_dir() || !meta.is_file() {
            continue;
        }
        let m = meta_yaml(&meta)?;
        if m.get("lifecycle_stage").is_some_and(|s| s == "deleted") {
            continue;
        }
        let start: i64 = m.get("start_time").and_then(|v| v.parse().ok()).unwrap_or(0);
        let end: Option<i64> = m.get("end_time").and_then(|v| v.parse().ok());
        let params = files_in(&entry.path().join("params"))
            .into_iter()
            .map(|(k, p)| Ok((k, std::fs::read_to_string(&p)?.trim().to_string())))
            .collect::<std::io::Result<_>>()?;
        let mut metrics = BTreeMap::new();
        for (name, path) in files_in(&entry.path().join("metrics")) {
            let mut by_step: BTreeMap<u32, f64> = BTreeMap::new();
            for line in std::fs::read_to_string(&path)?.lines() {
                let parts: Vec<&str> = line.split_whitespace().collect();
                if let [_, value, step, ..] = parts[..] {
                    by_step.insert(step.parse().unwrap_or(0), value.parse().unwrap_or(f64::NAN));
                }
            }
            metrics.insert(name, by_step.into_iter().collect());
        }
        let tags = files_in(&entry.path().join("tags"))
            .into_iter()
            .filter(|(k, _)| !k.starts_with("mlflow."))
            .map(|(k, p)| Ok(format!("{k}={}", std::fs::read_to_string(&p)?.trim())))
            .collect::<std::io::Result<_>>()?;
        runs.push((
            start,
            MlflowRun {
                name: m.get("run_name").cloned().unwrap_or_default(),
                status: m.get("status").cloned().unwrap_or_default(),
                seconds: end.map(|e| (e - start) as f64 / 1000.0),
                params,
                metrics,
                tags,
                artifacts: m.get("artifact_uri").cloned().unwrap_or_default(),
            },
        ));
    }
    if runs.is_empty() {
        bail!("experiment `{exp_name}` in {} has no runs", mlruns.display());
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let runs: Vec<MlflowRun> = runs.into_iter().map(|(_, r)| r).collect();
    let space = inferred_space(&runs)?;
    let metric_names: std::collections::BTreeSet<&String> = runs.iter().flat_map(|r| r.metrics.keys()).collect();
    let objective = match metric {
        Some(m) if metric_names.contains(&m.to_string()) => Some(m.to_string()),
        Some(m) => bail!(
            "no run of experiment `{exp_name}` logged the metric `{m}`; they logged: {}",
            metric_names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ),
        None if metric_names.len() == 1 => metric_names.iter().next().map(|s| s.to_string()),
        None => None,
    };
    let name = sweep.unwrap_or(&exp_name);
    if store.sweep_by_name(name)?.is_some() {
        bail!("{} already holds a sweep `{name}`: pass --sweep with another name", store.root().display());
    }
    let info = store.create_param_sweep(name, &format!("MLflow experiment `{exp_name}` ({})", mlruns.display()), &space)?;
    let mut out = Imported {
        sweep: info.clone(),
        direction: objective.clone().map_or("no objective".into(), |m| format!("value: last `{m}`")),
        complete: 0,
        pruned: 0,
        failed: 0,
        running: 0,
    };
    for r in &runs {
        let point: Params = r.params.iter().map(|(k, v)| (k.clone(), parse_value(&space, k, v))).collect();
        let run = store.add_run(&info, &point).with_context(|| format!("MLflow run `{}`", r.name))?;
        for (metric_name, steps) in &r.metrics {
            store.record_metrics(run.id, metric_name, steps)?;
        }
        let value = objective.as_ref().and_then(|m| r.metrics.get(m)).and_then(|s| s.last()).map(|(_, v)| *v);
        store.set_run_value(run.id, value)?;
        let mut note: Vec<String> = vec![format!("MLflow run `{}`", r.name)];
        note.extend(r.tags.iter().cloned());
        note.push(format!("artifacts: {}", r.artifacts));
        let status = match r.status.as_str() {
            "3" | "FINISHED" => {
                out.complete += 1;
                RunStatus::Done
            }
            "4" | "FAILED" | "5" | "KILLED" => {
                out.failed += 1;
                note.push(if matches!(r.status.as_str(), "5" | "KILLED") { "killed in MLflow".into() } else { "failed in MLflow".into() });
                RunStatus::Failed
            }
            _ => {
                out.running += 1;
                continue;
            }
        };
        finish_imported(store, run.id, status, r.seconds, Some(note.join("; ")))?;
    }
    Ok(out)
}

/// The space MLflow's string params span (MLflow keeps no distributions).
fn inferred_space(runs: &[MlflowRun]) -> Result<ParamSpace> {
    let mut order: Vec<&String> = Vec::new();
    for r in runs {
        for k in r.params.keys() {
            if !order.contains(&k) {
                order.push(k);
            }
        }
    }
    if order.is_empty() {
        bail!("the experiment's runs logged no params");
    }
    let params = order
        .into_iter()
        .map(|name| {
            let values: Vec<&str> = runs.iter().filter_map(|r| r.params.get(name).map(String::as_str)).collect();
            let ints: Option<Vec<i64>> = values.iter().map(|v| v.parse().ok()).collect();
            let floats: Option<Vec<f64>> = values.iter().map(|v| v.parse().ok().filter(|x: &f64| x.is_finite())).collect();
            let spans_decades = |lo: f64, hi: f64| lo > 0.0 && hi / lo >= 100.0;
            let kind = if values.iter().all(|v| matches!(*v, "True" | "False" | "true" | "false")) {
                Kind::Bool
            } else if let Some(ints) = ints {
                let (lo, hi) = (*ints.iter().min().expect("some"), *ints.iter().max().expect("some"));
                Kind::Int { low: lo, high: hi, log: lo >= 1 && spans_decades(lo as f64, hi as f64), step: 1 }
            } else if let Some(fl) = floats {
                let (lo, hi) = fl.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                Kind::Float { low: lo, high: hi, log: spans_decades(lo, hi) }
            } else {
                let mut choices: Vec<Value> = Vec::new();
                for v in &values {
                    let c = Value::Str(v.to_string());
                    if !choices.contains(&c) {
                        choices.push(c);
                    }
                }
                Kind::Categorical { choices }
            };
            Param { name: name.clone(), kind, when: None, optional: values.len() < runs.len() }
        })
        .collect();
    let space = ParamSpace { params };
    space.validate()?;
    Ok(space)
}

/// An MLflow param's string as a value of its inferred kind.
fn parse_value(space: &ParamSpace, name: &str, text: &str) -> Value {
    match space.param(name).map(|p| &p.kind) {
        Some(Kind::Bool) => Value::Bool(text.eq_ignore_ascii_case("true")),
        Some(Kind::Int { .. }) => text.parse().map_or(Value::Str(text.into()), Value::Int),
        Some(Kind::Float { .. }) => text.parse().map_or(Value::Str(text.into()), Value::Float),
        _ => Value::Str(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optunas_distributions_old_and_new_become_parameter_kinds() {
        let float = r#"{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.1, "log": true}}"#;
        assert_eq!(distribution(float).unwrap(), Kind::Float { low: 1e-5, high: 0.1, log: true });
        let int = r#"{"name": "IntDistribution", "attributes": {"log": false, "step": 2, "low": 1, "high": 9}}"#;
        assert_eq!(distribution(int).unwrap(), Kind::Int { low: 1, high: 9, log: false, step: 2 });
        let cat = r#"{"name": "CategoricalDistribution", "attributes": {"choices": ["sgd", 3, true, null]}}"#;
        assert_eq!(
            distribution(cat).unwrap(),
            Kind::Categorical { choices: vec![Value::Str("sgd".into()), Value::Int(3), Value::Bool(true), Value::Str("null".into())] }
        );
        let legacy = r#"{"name": "LogUniformDistribution", "attributes": {"low": 0.001, "high": 1.0}}"#;
        assert_eq!(distribution(legacy).unwrap(), Kind::Float { low: 0.001, high: 1.0, log: true });
        assert!(
            distribution(r#"{"name": "Weird", "attributes": {}}"#).unwrap_err().to_string().contains("unknown Optuna distribution `Weird`")
        );
        // Categorical values are stored as indices.
        assert_eq!(value_in(&distribution(cat).unwrap(), 1.0), Value::Int(3));
    }

    #[test]
    fn trials_of_a_dynamic_space_unite_into_one_space() {
        let f = |lo: f64, hi: f64| Kind::Float { low: lo, high: hi, log: false };
        let c = |v: &[&str]| Kind::Categorical { choices: v.iter().map(|s| Value::Str(s.to_string())).collect() };
        let trials = vec![
            vec![("x".to_string(), 0.5, f(0.0, 1.0)), ("opt".to_string(), 0.0, c(&["sgd"]))],
            vec![("x".to_string(), 1.5, f(-1.0, 2.0)), ("opt".to_string(), 0.0, c(&["adam", "sgd"])), ("m".to_string(), 0.9, f(0.0, 1.0))],
        ];
        let space = union_space(&trials).unwrap();
        assert_eq!(space.params[0].kind, f(-1.0, 2.0));
        assert_eq!(space.params[1].kind, c(&["sgd", "adam"]));
        assert!(space.params[2].optional && !space.params[0].optional);
        let clash = vec![vec![("x".to_string(), 0.5, f(0.0, 1.0))], vec![("x".to_string(), 0.0, c(&["a"]))]];
        assert!(union_space(&clash).unwrap_err().to_string().contains("different kinds"));
    }
}
