//! CSV export: one row per run, for pandas and Optuna users.

use std::io::Write;

use mosaic_core::Knob;

use crate::{Result, RunRecord, StoreError};

/// Writes `runs` as CSV: a header, then per run its index and status, the
/// spec's choices and knobs, then its final metrics (empty where the run has
/// none, or they are not finite). [`crate::Store::export_csv`] writes a sweep's runs with it.
pub fn write_csv(runs: &[RunRecord], out: &mut dyn Write) -> Result<()> {
    let io = StoreError::Export;
    let mut header = vec!["run", "status", "family", "activation", "norm", "skip", "optimizer"];
    header.extend(Knob::ALL.iter().map(|k| k.name()));
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
        let s = &r.spec;
        let mut row = vec![
            r.index.to_string(),
            r.status.as_str().to_string(),
            format!("{:?}", s.family),
            format!("{:?}", s.activation),
            format!("{:?}", s.norm),
            s.skip.to_string(),
            format!("{:?}", s.optimizer),
        ];
        row.extend(Knob::ALL.iter().map(|k| format!("{}", k.get(s))));
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
