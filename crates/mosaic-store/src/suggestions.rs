//! The `suggestions` table: specs the meta-learner proposed for a sweep, and which were accepted as runs.

use mosaic_core::{ArchSpec, RunStatus};
use rusqlite::params;

use crate::sqlite::{SqliteStore, decode_f64s, encode_f64s, spec_to_ron, sql_error};
use crate::{Result, RunConfig, RunRecord, StoreError, SuggestionRecord};

/// Stores new suggestions for a sweep (replacing any not yet accepted) and returns them with their ids.
pub(crate) fn save(store: &mut SqliteStore, sweep: i64, suggestions: &[SuggestionRecord]) -> Result<Vec<SuggestionRecord>> {
    if let Some(s) = suggestions.iter().find(|s| ![s.mean, s.std, s.score].iter().all(|v| v.is_finite())) {
        return Err(StoreError::Invalid {
            path: store.db.clone(),
            message: format!("suggestion {} has a non-finite prediction; nothing was stored", s.spec.label()),
        });
    }
    let sql = sql_error(&store.db);
    let tx = store.conn.transaction().map_err(&sql)?;
    tx.execute("DELETE FROM suggestions WHERE sweep = ?1 AND run IS NULL", [sweep]).map_err(&sql)?;
    let mut out = Vec::with_capacity(suggestions.len());
    {
        let mut insert = tx
            .prepare("INSERT INTO suggestions (sweep, spec, encoding, mean, std, score, strategy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .map_err(&sql)?;
        for s in suggestions {
            insert
                .execute(params![sweep, spec_to_ron(&s.spec), encode_f64s(&s.encoding), s.mean, s.std, s.score, s.strategy])
                .map_err(&sql)?;
            out.push(SuggestionRecord { id: tx.last_insert_rowid(), run: None, ..s.clone() });
        }
    }
    tx.commit().map_err(&sql)?;
    Ok(out)
}

/// A sweep's suggestions, oldest first; `pending_only` leaves out accepted ones.
pub(crate) fn of_sweep(store: &SqliteStore, sweep: i64, pending_only: bool) -> Result<Vec<SuggestionRecord>> {
    let filter = if pending_only { "AND run IS NULL" } else { "" };
    let mut stmt = store
        .conn
        .prepare(&format!(
            "SELECT id, spec, encoding, mean, std, score, strategy, run FROM suggestions WHERE sweep = ?1 {filter} ORDER BY id"
        ))
        .map_err(store.sql())?;
    let rows = stmt
        .query_map([sweep], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                [r.get::<_, f64>(3)?, r.get::<_, f64>(4)?, r.get::<_, f64>(5)?],
                r.get::<_, String>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })
        .map_err(store.sql())?;
    let mut out = Vec::new();
    for row in rows {
        let (id, spec, encoding, [mean, std, score], strategy, run) = row.map_err(store.sql())?;
        let spec: ArchSpec = ron::from_str(&spec).map_err(|e| store.invalid(format!("suggestion {id}: unreadable spec: {e}")))?;
        out.push(SuggestionRecord { id, spec, encoding: decode_f64s(&encoding), mean, std, score, strategy, run });
    }
    Ok(out)
}

/// Adds the pending suggestions `ids` to the sweep as pending runs (after the
/// last run), in one transaction; returns each accepted suggestion's id with
/// its new run. Ids that are unknown or already accepted are skipped.
pub(crate) fn accept(store: &mut SqliteStore, sweep: i64, ids: &[i64]) -> Result<Vec<(i64, RunRecord)>> {
    let pending = of_sweep(store, sweep, true)?;
    let sql = sql_error(&store.db);
    let tx = store.conn.transaction().map_err(&sql)?;
    let first: i64 = tx.query_row("SELECT COALESCE(MAX(idx), -1) + 1 FROM runs WHERE sweep = ?1", [sweep], |r| r.get(0)).map_err(&sql)?;
    let mut runs = Vec::new();
    for (next, s) in (first..).zip(pending.iter().filter(|s| ids.contains(&s.id))) {
        tx.execute(
            "INSERT INTO runs (sweep, idx, spec, encoding, status) VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![sweep, next, spec_to_ron(&s.spec), encode_f64s(&s.encoding)],
        )
        .map_err(&sql)?;
        let id = tx.last_insert_rowid();
        tx.execute("UPDATE suggestions SET run = ?2 WHERE id = ?1", params![s.id, id]).map_err(&sql)?;
        runs.push((
            s.id,
            RunRecord {
                id,
                sweep,
                index: next as usize,
                config: RunConfig::Architecture(s.spec.clone()),
                encoding: s.encoding.clone(),
                status: RunStatus::Pending,
                outcome: None,
                value: None,
            },
        ));
    }
    tx.commit().map_err(&sql)?;
    Ok(runs)
}
