//! CSV export: one row per run, for pandas and Optuna users.

use std::io::Write;

use mosaic_core::Knob;

use mosaic_core::params::Value;

use crate::{Result, RunConfig, RunRecord, StoreError};

/// Writes `runs` as CSV: a header, then per run its index and status, the
/// spec's choices and knobs, then its final metrics (empty where the run has
/// none, or they are not finite). [`crate::Store::export_csv`] writes a sweep's runs with it.
pub fn write_csv(runs: &[RunRecord], out: &mut dyn Write) -> Result<()> {
    let io = StoreError::Export;
    // A sweep of parameters: one column per parameter name (empty where inactive).
    let names: Vec<String> = runs
        .iter()
        .filter_map(|r| match &r.config {
            RunConfig::Parameters(p) => Some(p.keys().cloned()),
            RunConfig::Architecture(_) => None,
        })
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let architectures = runs.iter().all(|r| r.arch().is_some());
    let mut header: Vec<&str> = vec!["run", "status"];
    if architectures {
        header.extend(["family", "activation", "norm", "skip", "optimizer"]);
        header.extend(Knob::ALL.iter().map(|k| k.name()));
    } else {
        header.extend(names.iter().map(String::as_str));
    }
    header.extend([
        "parameters",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "test_loss",
        "test_accuracy",
        "epochs_trained",
        "seconds",
    ]);
    writeln!(out, "{}", header.join(",")).map_err(io)?;
    let num = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or(String::new(), |x| format!("{x}"));
    for r in runs {
        // The id every command takes (`--select`, `--run`), not the index in the sweep.
        let mut row = vec![r.id.to_string(), r.status.as_str().to_string()];
        match &r.config {
            RunConfig::Architecture(s) => {
                row.extend([
                    format!("{:?}", s.family),
                    format!("{:?}", s.activation),
                    format!("{:?}", s.norm),
                    s.skip.to_string(),
                    format!("{:?}", s.optimizer),
                ]);
                row.extend(Knob::ALL.iter().map(|k| format!("{}", k.get(s))));
            }
            RunConfig::Parameters(p) => row.extend(names.iter().map(|n| p.get(n).map_or(String::new(), csv_value))),
        }
        let o = r.outcome.as_ref();
        let last = o.and_then(|o| o.last());
        row.extend([
            o.map_or(String::new(), |o| o.parameters.to_string()),
            num(last.map(|e| e.train_loss)),
            num(last.map(|e| e.train_accuracy)),
            num(last.map(|e| e.val_loss)),
            num(last.map(|e| e.val_accuracy)),
            num(o.and_then(|o| o.test_loss)),
            num(o.and_then(|o| o.test_accuracy)),
            o.map_or(String::new(), |o| o.epochs.len().to_string()),
            num(o.map(|o| o.seconds)),
        ]);
        writeln!(out, "{}", row.join(",")).map_err(io)?;
    }
    Ok(())
}

/// A parameter's value as a CSV field (strings quoted when they need it).
fn csv_value(v: &Value) -> String {
    match v {
        Value::Str(s) if s.contains([',', '"', '\n']) => format!("\"{}\"", s.replace('"', "\"\"")),
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    }
}
