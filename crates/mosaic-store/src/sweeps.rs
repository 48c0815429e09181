//! The `sweeps` table: what each sweep trains (data, seed, space), and its plan's runs.

use mosaic_core::SearchSpace;
use mosaic_core::params::ParamSpace;
use rusqlite::{ToSql, params};

use crate::sqlite::{SqliteStore, encode_f64s, spec_to_ron, sql_error};
use crate::{Result, StoreError, SweepInfo, SweepPlan, SweepSpace};

/// Records a sweep and all its runs as pending, in one transaction.
pub(crate) fn create(store: &mut SqliteStore, plan: &SweepPlan) -> Result<SweepInfo> {
    let sql = sql_error(&store.db);
    if plan.specs.len() != plan.encodings.len() {
        return Err(StoreError::Invalid { path: store.db.clone(), message: "each spec needs its encoding".into() });
    }
    let tx = store.conn.transaction().map_err(&sql)?;
    tx.execute(
        "INSERT INTO sweeps (name, dataset, data, examples, seed, space) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![plan.name, plan.dataset, plan.data, plan.examples as i64, plan.seed as i64, plan.space.to_ron()],
    )
    .map_err(&sql)?;
    let sweep = tx.last_insert_rowid();
    {
        let mut insert =
            tx.prepare("INSERT INTO runs (sweep, idx, spec, encoding, status) VALUES (?1, ?2, ?3, ?4, 'pending')").map_err(&sql)?;
        for (i, (spec, enc)) in plan.specs.iter().zip(&plan.encodings).enumerate() {
            insert.execute(params![sweep, i as i64, spec_to_ron(spec), encode_f64s(enc)]).map_err(&sql)?;
        }
    }
    tx.commit().map_err(&sql)?;
    Ok(SweepInfo {
        id: sweep,
        name: plan.name.clone(),
        dataset: plan.dataset.clone(),
        data: plan.data.clone(),
        examples: Some(plan.examples),
        seed: plan.seed,
        space: SweepSpace::Architectures(plan.space.clone()),
        runs: plan.specs.len(),
    })
}

/// Records a sweep of the user's own parameters, with no runs yet (they are
/// added one by one as they start elsewhere).
pub(crate) fn create_for_params(store: &mut SqliteStore, name: &str, dataset: &str, space: &ParamSpace) -> Result<SweepInfo> {
    space.validate().map_err(|e| StoreError::BadParams { sweep: name.to_string(), message: e.to_string() })?;
    if by_name(store, name)?.is_some() {
        return Err(store.invalid(format!("a sweep named `{name}` exists already: pick another name, or open it")));
    }
    let json = serde_json::to_string(space).expect("a parameter space always serialises");
    store
        .conn
        .execute(
            "INSERT INTO sweeps (name, dataset, data, examples, seed, space, params) VALUES (?1, ?2, '', NULL, 0, '', ?3)",
            params![name, dataset, json],
        )
        .map_err(store.sql())?;
    let id = store.conn.last_insert_rowid();
    Ok(SweepInfo {
        id,
        name: name.to_string(),
        dataset: dataset.to_string(),
        data: String::new(),
        examples: None,
        seed: 0,
        space: SweepSpace::Parameters(space.clone()),
        runs: 0,
    })
}

pub(crate) fn all(store: &SqliteStore) -> Result<Vec<SweepInfo>> {
    select(store, "", &[])
}

pub(crate) fn by_name(store: &SqliteStore, name: &str) -> Result<Option<SweepInfo>> {
    Ok(select(store, "WHERE s.name = ?1", &[&name])?.pop())
}

/// Records what a sweep was trained on, for sweeps made before that was recorded.
pub(crate) fn set_data(store: &mut SqliteStore, sweep: i64, data: &str, examples: usize) -> Result<()> {
    store
        .conn
        .execute("UPDATE sweeps SET data = ?2, examples = ?3 WHERE id = ?1", params![sweep, data, examples as i64])
        .map_err(store.sql())?;
    Ok(())
}

/// The sweeps `filter` (a `WHERE` clause over `sweeps s`, or nothing) keeps, oldest first.
fn select(store: &SqliteStore, filter: &str, args: &[&dyn ToSql]) -> Result<Vec<SweepInfo>> {
    let mut stmt = store
        .conn
        .prepare(&format!(
            "SELECT s.id, s.name, s.dataset, s.seed, s.space,
                    (SELECT COUNT(*) FROM runs r WHERE r.sweep = s.id
                      AND r.id NOT IN (SELECT run FROM suggestions WHERE run IS NOT NULL)),
                    s.data, s.examples, s.params
             FROM sweeps s {filter} ORDER BY s.id"
        ))
        .map_err(store.sql())?;
    let rows = stmt
        .query_map(args, |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                (r.get::<_, i64>(3)?, r.get::<_, String>(4)?, r.get::<_, i64>(5)?, r.get::<_, String>(6)?, r.get::<_, Option<i64>>(7)?),
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(store.sql())?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, name, dataset), (seed, space, runs, data, examples), params) = row.map_err(store.sql())?;
        let space = match params {
            Some(json) => SweepSpace::Parameters(
                serde_json::from_str::<ParamSpace>(&json)
                    .map_err(|e| store.invalid(format!("sweep `{name}`: unreadable parameter space: {e}")))?,
            ),
            None => SweepSpace::Architectures(
                SearchSpace::from_ron(&space, &format!("sweep `{name}` in {}", store.root.display()))
                    .map_err(|e| store.invalid(e.to_string()))?,
            ),
        };
        let examples = examples.map(|n| n as usize);
        out.push(SweepInfo { id, name, dataset, data, examples, seed: seed as u64, space, runs: runs as usize });
    }
    Ok(out)
}
