//! An experiment store from scratch: plan a sweep, record a finished run,
//! read it back by id, keep an embedding, export the table.
//!
//! `cargo run -p mosaic-store --example store_walkthrough [DIR]`
//! (default: a fresh folder under the system's temp dir).

use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, EpochMetrics, RunOutcome, RunStatus, SearchSpace};
use mosaic_store::{EmbeddingKind, SqlStore, Store, SweepPlan};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir =
        std::env::args().nth(1).map_or_else(|| std::env::temp_dir().join(format!("mosaic-store-walk-{}", std::process::id())), Into::into);
    // The example removes its store when done: it never takes over a folder that holds anything.
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!("{} is not empty: name a new folder", dir.display()).into());
    }
    let mut store = SqlStore::open(&dir)?;

    // A sweep is fixed when planned: its data, seed and specs, every run pending.
    let space = SearchSpace::from_ron(mosaic_core::space::DEMO_SPACE_RON, "demo")?;
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, 4, 7);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    let plan = SweepPlan {
        name: "walkthrough".into(),
        dataset: "spirals".into(),
        data: "spirals: 400 examples (a walkthrough)".into(),
        examples: 400,
        seed: 7,
        space,
        specs,
        encodings,
    };
    let sweep = store.create_sweep(&plan)?;
    let first = store.runs(sweep.id)?[0].id;

    // A trainer records how the run ended, with every epoch, in one transaction.
    let epoch = EpochMetrics {
        epoch: 1,
        train_loss: 0.62,
        train_accuracy: 0.71,
        val_loss: 0.65,
        val_accuracy: 0.69,
        grad_norm: 1.3,
        weight_norm: 8.2,
        learning_rate: 1e-3,
        seconds: 0.02,
    };
    let outcome = RunOutcome {
        status: RunStatus::Done,
        epochs: vec![epoch],
        test_loss: None,
        test_accuracy: None,
        parameters: 1234,
        seconds: 0.02,
        note: None,
    };
    store.finish_run(first, &outcome)?;
    let run = store.run(first)?.expect("the run just finished");
    println!("run {} of `{}`: {} · val accuracy {:?}", run.id, sweep.name, run.status.as_str(), run.outcome.and_then(|o| o.val_accuracy()));
    println!("its files go in {}", store.run_files(first).dir().display());

    // Embeddings are kept by kind; the explorer places networks by them.
    store.save_embedding(sweep.id, EmbeddingKind::Architecture, 12, &[(first, [0.1, 0.2, 0.3])])?;
    let (t, coords) = store.embedding(sweep.id, EmbeddingKind::Architecture)?.expect("saved");
    println!("architecture embedding: t = {t}, {} network(s) placed", coords.len());

    // The whole sweep as a table, one row per run, for pandas or a spreadsheet.
    let mut csv = Vec::new();
    store.export_csv(sweep.id, &mut csv)?;
    print!("{}", String::from_utf8(csv)?);
    // Reopening finds the same sweep; `sweep(None)` picks a store's only one.
    let reopened = SqlStore::open_existing(&dir)?;
    assert_eq!(reopened.sweep(None)?.name, "walkthrough");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
