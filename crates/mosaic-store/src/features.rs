//! The `features` table: named numbers per run (class separation, …), replaced a name at a time.

use crate::db::{Val, args, finite, transaction};
use crate::sql_store::SqlStore;
use crate::{Feature, Result};

/// Replaces one named feature of a sweep's runs, in one transaction.
pub(crate) fn save(store: &mut SqlStore, sweep: i64, name: &str, values: &[(i64, f64)]) -> Result<()> {
    let db = store.db.as_ref();
    transaction(db, || {
        db.exec("DELETE FROM features WHERE sweep = ?1 AND name = ?2", args![sweep, name])?;
        for (run, v) in values {
            // NULL for a value that is not finite: read back as NaN (no value).
            db.exec(
                "INSERT INTO features (sweep, name, run, value) VALUES (?1, ?2, ?3, ?4)",
                &[Val::Int(sweep), name.into(), Val::Int(*run), finite(*v)],
            )?;
        }
        Ok(())
    })
}

/// Every stored feature of a sweep: name, then (run, value) pairs.
pub(crate) fn of_sweep(store: &SqlStore, sweep: i64) -> Result<Vec<Feature>> {
    let rows = store.db.query("SELECT name, run, value FROM features WHERE sweep = ?1 ORDER BY name, run", args![sweep])?;
    let mut out: Vec<Feature> = Vec::new();
    for r in &rows {
        let name = r.text(0)?;
        if out.last().is_none_or(|(n, _)| *n != name) {
            out.push((name, Vec::new()));
        }
        out.last_mut().expect("just pushed").1.push((r.int(1)?, r.real_or_nan(2)?));
    }
    Ok(out)
}
