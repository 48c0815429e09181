//! The search benchmark's table: the same specs trained on several tasks
//! (one sweep per task in a store), each run's validation accuracy, so search
//! strategies can be replayed without training (`mosaic bench table`).

use anyhow::{Result, bail};
use mosaic_search::table::{Table, TableTask};
use mosaic_store::Store;

use crate::suggest::task_features;
use crate::sweeps::sweep_splits;

/// The table of every sweep in `store`; they must have trained the same specs, all finished.
pub fn search_table(store: &dyn Store) -> Result<Table> {
    let sweeps = store.sweeps()?;
    let Some(first) = sweeps.first() else { bail!("{} holds no sweep", store.root().display()) };
    let first_runs = store.runs(first.id)?;
    const NEEDS: &str = "a search table replays architectures";
    let space = first.architectures(NEEDS)?;
    let specs: Vec<_> = first_runs.iter().map(|r| r.spec(NEEDS).cloned()).collect::<Result<_, _>>()?;
    let mut tasks = Vec::new();
    for sweep in &sweeps {
        let runs = store.runs(sweep.id)?;
        if sweep.space != first.space || runs.iter().map(|r| r.arch()).ne(specs.iter().map(Some)) {
            bail!(
                "sweep `{}` trained other specs than `{}`: a table needs the same specs on every task (same --seed, --n, space)",
                sweep.name,
                first.name
            );
        }
        if let Some(r) = runs.iter().find(|r| !r.status.is_finished()) {
            bail!("run {} of sweep `{}` is not trained yet: finish the sweep first", r.id, sweep.name);
        }
        let values = runs.iter().map(|r| r.outcome.as_ref().and_then(|o| o.val_accuracy()).filter(|v| v.is_finite())).collect();
        tasks.push(TableTask { name: sweep.name.clone(), features: task_features(&sweep_splits(sweep)?), values });
    }
    let source = format!(
        "mosaic sweep --seed {} --n {} --dataset <task> (space `{}`), one sweep per task; mosaic bench table",
        first.seed,
        specs.len(),
        space.name
    );
    Ok(Table { source, space: space.to_ron(), specs, tasks, positions: Vec::new() })
}
