//! The `features` table: named numbers per run (class separation, …), replaced a name at a time.

use rusqlite::params;

use crate::sqlite::{SqliteStore, sql_error};
use crate::{Feature, Result};

/// Replaces one named feature of a sweep's runs, in one transaction.
pub(crate) fn save(store: &mut SqliteStore, sweep: i64, name: &str, values: &[(i64, f64)]) -> Result<()> {
    let sql = sql_error(&store.db);
    let tx = store.conn.transaction().map_err(&sql)?;
    tx.execute("DELETE FROM features WHERE sweep = ?1 AND name = ?2", params![sweep, name]).map_err(&sql)?;
    {
        let mut insert = tx.prepare("INSERT INTO features (sweep, name, run, value) VALUES (?1, ?2, ?3, ?4)").map_err(&sql)?;
        for (run, v) in values {
            // NULL for a value that is not finite: read back as NaN (no value).
            insert.execute(params![sweep, name, run, v.is_finite().then_some(*v)]).map_err(&sql)?;
        }
    }
    tx.commit().map_err(&sql)
}

/// Every stored feature of a sweep: name, then (run, value) pairs.
pub(crate) fn of_sweep(store: &SqliteStore, sweep: i64) -> Result<Vec<Feature>> {
    let mut stmt = store.conn.prepare("SELECT name, run, value FROM features WHERE sweep = ?1 ORDER BY name, run").map_err(store.sql())?;
    let rows =
        stmt.query_map([sweep], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<f64>>(2)?))).map_err(store.sql())?;
    let mut out: Vec<Feature> = Vec::new();
    for row in rows {
        let (name, run, value) = row.map_err(store.sql())?;
        if out.last().is_none_or(|(n, _)| *n != name) {
            out.push((name, Vec::new()));
        }
        out.last_mut().expect("just pushed").1.push((run, value.unwrap_or(f64::NAN)));
    }
    Ok(out)
}
