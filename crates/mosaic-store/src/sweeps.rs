//! The `sweeps` table: what each sweep trains (data, seed, space), and its plan's runs.

use mosaic_core::SearchSpace;
use mosaic_core::params::ParamSpace;

use crate::db::{Val, args, encode_f64s, transaction};
use crate::sql_store::SqlStore;
use crate::store::Store;
use crate::{Result, StoreError, SweepInfo, SweepPlan, SweepSpace, spec_to_ron};

/// Records a sweep and all its runs as pending, in one transaction.
pub(crate) fn create(store: &mut SqlStore, plan: &SweepPlan) -> Result<SweepInfo> {
    if plan.specs.len() != plan.encodings.len() {
        return Err(store.invalid("each spec needs its encoding".into()));
    }
    refuse_taken(store, &plan.name)?;
    let db = store.db.as_ref();
    let sweep = transaction(db, || {
        let sweep = db
            .query_one(
                "INSERT INTO sweeps (name, dataset, data, examples, seed, space) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                args![
                    plan.name.as_str(),
                    plan.dataset.as_str(),
                    plan.data.as_str(),
                    plan.examples as i64,
                    plan.seed as i64,
                    plan.space.to_ron()
                ],
            )?
            .int(0)?;
        for (i, (spec, enc)) in plan.specs.iter().zip(&plan.encodings).enumerate() {
            let run = db
                .query_one(
                    "INSERT INTO runs (sweep, idx, spec, encoding, status) VALUES (?1, ?2, ?3, ?4, 'pending') RETURNING id",
                    args![sweep, i as i64, spec_to_ron(spec), encode_f64s(enc)],
                )?
                .int(0)?;
            crate::runs::refuse_unknown_files(&store.root, run)?;
        }
        Ok(sweep)
    })?;
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
pub(crate) fn create_for_params(store: &mut SqlStore, name: &str, dataset: &str, space: &ParamSpace) -> Result<SweepInfo> {
    space.validate().map_err(|e| StoreError::BadParams { sweep: name.to_string(), message: e.to_string() })?;
    refuse_taken(store, name)?;
    let json = serde_json::to_string(space).expect("a parameter space always serialises");
    let id = store
        .db
        .query_one(
            "INSERT INTO sweeps (name, dataset, data, examples, seed, space, params) VALUES (?1, ?2, '', NULL, 0, '', ?3) RETURNING id",
            args![name, dataset, json],
        )?
        .int(0)?;
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

fn refuse_taken(store: &SqlStore, name: &str) -> Result<()> {
    match by_name(store, name)? {
        Some(_) => Err(store.invalid(format!("a sweep named `{name}` exists already: pick another name, or open it"))),
        None => Ok(()),
    }
}

pub(crate) fn all(store: &SqlStore) -> Result<Vec<SweepInfo>> {
    select(store, "", &[])
}

pub(crate) fn by_name(store: &SqlStore, name: &str) -> Result<Option<SweepInfo>> {
    Ok(select(store, "WHERE s.name = ?1", args![name])?.pop())
}

/// Records what a sweep was trained on, for sweeps made before that was recorded.
pub(crate) fn set_data(store: &mut SqlStore, sweep: i64, data: &str, examples: usize) -> Result<()> {
    store.db.exec("UPDATE sweeps SET data = ?2, examples = ?3 WHERE id = ?1", args![sweep, data, examples as i64])?;
    Ok(())
}

/// The sweeps `filter` (a `WHERE` clause over `sweeps s`, or nothing) keeps, oldest first.
fn select(store: &SqlStore, filter: &str, args: &[Val]) -> Result<Vec<SweepInfo>> {
    let rows = store.db.query(
        &format!(
            "SELECT s.id, s.name, s.dataset, s.seed, s.space,
                    (SELECT COUNT(*) FROM runs r WHERE r.sweep = s.id
                      AND r.id NOT IN (SELECT run FROM suggestions WHERE run IS NOT NULL)),
                    s.data, s.examples, s.params
             FROM sweeps s {filter} ORDER BY s.id"
        ),
        args,
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let name = r.text(1)?;
        let space = match r.opt_text(8)? {
            Some(json) => SweepSpace::Parameters(
                serde_json::from_str::<ParamSpace>(&json)
                    .map_err(|e| store.invalid(format!("sweep `{name}`: unreadable parameter space: {e}")))?,
            ),
            None => SweepSpace::Architectures(
                SearchSpace::from_ron(&r.text(4)?, &format!("sweep `{name}` in {}", store.location()))
                    .map_err(|e| store.invalid(e.to_string()))?,
            ),
        };
        out.push(SweepInfo {
            id: r.int(0)?,
            name,
            dataset: r.text(2)?,
            data: r.text(6)?,
            examples: r.opt_int(7)?.map(|n| n as usize),
            seed: r.int(3)? as u64,
            space,
            runs: r.int(5)? as usize,
        });
    }
    Ok(out)
}
