use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, EpochMetrics, RunOutcome, RunStatus, SearchSpace};
use mosaic_store::{EmbeddingKind, SqlStore, Store, SuggestionRecord, SweepPlan};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-store-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A scratch store on each backend: a SQLite folder, and with a test
/// cluster (scripts/test.sh starts one) a fresh PostgreSQL database.
fn stores(name: &str) -> Vec<std::path::PathBuf> {
    let mut out = vec![scratch(name)];
    out.extend(mosaic_store::testing::scratch_postgres(name, &scratch(&format!("{name}-files"))));
    out
}

fn plan(n: usize) -> SweepPlan {
    let space = SearchSpace::default_space();
    let encoder = Encoder::new(space.clone());
    let specs = latin_hypercube(&encoder, n, 3);
    let encodings = specs.iter().map(|s| encoder.encode(s)).collect();
    SweepPlan {
        name: "demo".into(),
        dataset: "spirals".into(),
        data: "spirals, 2000 examples".into(),
        examples: 2000,
        seed: 3,
        space,
        specs,
        encodings,
    }
}

fn outcome(status: RunStatus, epochs: u32, last_loss: f64) -> RunOutcome {
    RunOutcome {
        status,
        epochs: (1..=epochs)
            .map(|e| EpochMetrics {
                epoch: e,
                train_loss: if e == epochs { last_loss } else { 1.0 / e as f64 },
                train_accuracy: 0.5 + 0.01 * e as f64,
                val_loss: 1.1 / e as f64,
                val_accuracy: 0.5 + 0.02 * e as f64,
                grad_norm: 0.3,
                weight_norm: 4.0 + e as f64,
                learning_rate: 1e-3,
                seconds: 0.01,
            })
            .collect(),
        test_loss: Some(0.2),
        test_accuracy: Some(0.9),
        parameters: 1234,
        seconds: 0.5,
        note: (status == RunStatus::Diverged).then(|| "loss became NaN at epoch 3".to_string()),
    }
}

#[test]
fn sweeps_and_runs_survive_reopening() {
    for dir in stores("reopen") {
        let p = plan(6);
        let (sweep, first_run) = {
            let mut store = SqlStore::open(&dir).unwrap();
            let sweep = store.create_sweep(&p).unwrap();
            let runs = store.runs(sweep.id).unwrap();
            assert_eq!(runs.len(), 6);
            assert!(runs.iter().all(|r| r.status == RunStatus::Pending && r.outcome.is_none()));
            store.finish_run(runs[0].id, &outcome(RunStatus::Done, 4, 0.1)).unwrap();
            store.finish_run(runs[1].id, &outcome(RunStatus::Diverged, 3, f64::NAN)).unwrap();
            (sweep, runs[0].id)
        };
        let store = SqlStore::open(&dir).unwrap();
        assert_eq!(store.sweep_by_name("demo").unwrap().unwrap(), sweep);
        let runs = store.runs(sweep.id).unwrap();
        assert_eq!(runs[0].id, first_run);
        for (r, spec) in runs.iter().zip(&p.specs) {
            assert_eq!(r.arch(), Some(spec));
        }
        assert_eq!(runs[0].encoding, p.encodings[0]);
        assert_eq!(runs[0].outcome.as_ref().unwrap(), &outcome(RunStatus::Done, 4, 0.1));
        let diverged = runs[1].outcome.as_ref().unwrap();
        assert_eq!(diverged.status, RunStatus::Diverged);
        assert!(diverged.epochs[2].train_loss.is_nan(), "a NaN loss reads back as NaN");
        assert_eq!(diverged.note.as_deref(), Some("loss became NaN at epoch 3"));
        assert_eq!(runs.iter().filter(|r| r.status == RunStatus::Pending).count(), 4);
    }
}

#[test]
fn finishing_a_run_twice_replaces_its_epochs() {
    for dir in stores("twice") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(2)).unwrap();
        let run = store.runs(sweep.id).unwrap()[0].id;
        store.finish_run(run, &outcome(RunStatus::Done, 5, 0.1)).unwrap();
        store.finish_run(run, &outcome(RunStatus::Done, 2, 0.3)).unwrap();
        let again = store.runs(sweep.id).unwrap()[0].outcome.clone().unwrap();
        assert_eq!(again.epochs.len(), 2);
        assert!(store.finish_run(9999, &outcome(RunStatus::Done, 1, 0.1)).is_err());
    }
}

#[test]
fn sweep_names_are_unique() {
    for dir in stores("unique") {
        let mut store = SqlStore::open(&dir).unwrap();
        store.create_sweep(&plan(2)).unwrap();
        let err = store.create_sweep(&plan(2)).unwrap_err().to_string();
        assert!(err.contains("a sweep named `demo` exists already"), "{err}");
        // The failed insert left nothing behind.
        assert_eq!(store.sweeps().unwrap().len(), 1);
        assert_eq!(store.runs(store.sweeps().unwrap()[0].id).unwrap().len(), 2);
    }
}

#[test]
fn export_writes_a_row_per_run_with_knobs_and_metrics() {
    for dir in stores("export") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(3)).unwrap();
        let runs = store.runs(sweep.id).unwrap();
        store.finish_run(runs[2].id, &outcome(RunStatus::Done, 4, 0.1)).unwrap();
        let mut csv = Vec::new();
        store.export_csv(sweep.id, &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        let header: Vec<&str> = lines[0].split(',').collect();
        for col in ["family", "learning_rate", "batch_size", "val_accuracy", "test_accuracy", "parameters"] {
            assert!(header.contains(&col), "missing {col}: {header:?}");
        }
        let last: Vec<&str> = lines[3].split(',').collect();
        assert_eq!(last.len(), header.len());
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        assert_eq!(last[col("status")], "done");
        assert_eq!(last[col("val_accuracy")], "0.58");
        assert_eq!(last[col("parameters")], "1234");
        let pending: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(pending[col("status")], "pending");
        assert_eq!(pending[col("val_accuracy")], "");
    }
}

#[test]
fn a_file_that_is_not_a_store_gives_a_clear_error_and_is_left_alone() {
    let dir = scratch("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(mosaic_store::DB_FILE);
    std::fs::write(&db, b"this is not a database, but somebody's notes").unwrap();
    let err = SqlStore::open(&dir).err().expect("opening garbage must fail").to_string();
    assert!(err.contains("mosaic.sqlite") && err.contains("not a database"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), b"this is not a database, but somebody's notes");
}

#[test]
fn atomic_writes_leave_no_temporary_files() {
    let dir = scratch("atomic");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("weights.safetensors");
    mosaic_core::fs::write_atomic(&path, b"first").unwrap();
    mosaic_core::fs::write_atomic(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn embeddings_are_replaced_whole_and_read_back() {
    for dir in stores("embedding") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(3)).unwrap();
        let runs: Vec<i64> = store.runs(sweep.id).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(store.embedding(sweep.id, EmbeddingKind::Representation).unwrap(), None);
        let first: Vec<(i64, [f64; 3])> = runs.iter().map(|&r| (r, [r as f64, 0.5, -1.0])).collect();
        store.save_embedding(sweep.id, EmbeddingKind::Representation, 7, &first).unwrap();
        store.save_embedding(sweep.id, EmbeddingKind::Representation, 9, &first[..2]).unwrap();
        let (t, got) = store.embedding(sweep.id, EmbeddingKind::Representation).unwrap().unwrap();
        assert_eq!((t, got), (9, first[..2].to_vec()));
        assert_eq!(store.embedding(sweep.id, EmbeddingKind::Architecture).unwrap(), None);
    }
}

#[test]
fn one_process_trains_into_a_store_at_a_time() {
    for dir in stores("lock") {
        let a = SqlStore::open(&dir).unwrap();
        let b = SqlStore::open(&dir).unwrap();
        let held = a.lock_for_training().unwrap();
        let err = b.lock_for_training().unwrap_err().to_string();
        assert!(err.contains("another mosaic process is training"), "{err}");
        drop(held);
        b.lock_for_training().unwrap();
    }
}

#[test]
fn a_non_finite_embedding_is_refused_whole() {
    for dir in stores("nan_embedding") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(2)).unwrap();
        let runs: Vec<i64> = store.runs(sweep.id).unwrap().iter().map(|r| r.id).collect();
        let coords = [(runs[0], [0.0; 3]), (runs[1], [f64::NAN, 0.0, 0.0])];
        let err = store.save_embedding(sweep.id, EmbeddingKind::Representation, 3, &coords).unwrap_err();
        assert!(err.to_string().contains(&format!("run {}", runs[1])), "{err}");
        assert_eq!(store.embedding(sweep.id, EmbeddingKind::Representation).unwrap(), None);
    }
}

#[test]
fn a_store_from_schema_1_opens_and_gains_the_new_columns() {
    let dir = scratch("schema1");
    std::fs::create_dir_all(&dir).unwrap();
    {
        // The first schema, as stores made by the first release hold it.
        let conn = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, dataset TEXT NOT NULL,
                 seed INTEGER NOT NULL, space TEXT NOT NULL, created TEXT NOT NULL DEFAULT (datetime('now')));
             PRAGMA user_version = 1;",
        )
        .unwrap();
        let space = mosaic_core::SearchSpace::default_space().to_ron();
        conn.execute("INSERT INTO sweeps (name, dataset, seed, space) VALUES ('old', 'spirals', 0, ?1)", [space]).unwrap();
    }
    let mut store = SqlStore::open(&dir).unwrap();
    let sweeps = store.sweeps().unwrap();
    assert_eq!((sweeps[0].name.as_str(), sweeps[0].data.as_str(), sweeps[0].examples), ("old", "", None));
    store.set_sweep_data(sweeps[0].id, "spirals: 2000 examples", 2000).unwrap();
    let reopened = SqlStore::open(&dir).unwrap().sweeps().unwrap().remove(0);
    assert_eq!((reopened.data.as_str(), reopened.examples), ("spirals: 2000 examples", Some(2000)));
    assert_eq!(store.embedding(sweeps[0].id, EmbeddingKind::Representation).unwrap(), None, "the embeddings table exists");
}

#[test]
fn features_are_replaced_by_name_and_keep_missing_values_missing() {
    for dir in stores("features") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(3)).unwrap();
        let runs: Vec<i64> = store.runs(sweep.id).unwrap().iter().map(|r| r.id).collect();
        store.save_feature(sweep.id, "class separation", &[(runs[0], 1.5), (runs[1], f64::NAN)]).unwrap();
        store.save_feature(sweep.id, "width use", &[(runs[2], 0.25)]).unwrap();
        store.save_feature(sweep.id, "class separation", &[(runs[0], 2.5), (runs[1], 0.5)]).unwrap();
        let got = store.features(sweep.id).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], ("class separation".to_string(), vec![(runs[0], 2.5), (runs[1], 0.5)]));
        store.save_feature(sweep.id, "width use", &[(runs[2], f64::INFINITY)]).unwrap();
        assert!(store.features(sweep.id).unwrap()[1].1[0].1.is_nan());
    }
}

#[test]
fn suggestions_are_stored_replaced_and_accepted_as_new_runs() {
    for dir in stores("suggest") {
        let p = plan(4);
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&p).unwrap();
        let record = |i: usize, mean: f64| SuggestionRecord {
            id: 0,
            spec: p.specs[i].clone(),
            encoding: p.encodings[i].clone(),
            mean,
            std: 0.05,
            score: 0.01,
            strategy: "gp-ei".into(),
            run: None,
        };
        store.save_suggestions(sweep.id, &[record(0, 0.7)]).unwrap();
        // A new batch replaces the pending one.
        let saved = store.save_suggestions(sweep.id, &[record(1, 0.8), record(2, 0.9)]).unwrap();
        assert_eq!(store.suggestions(sweep.id, true).unwrap(), saved);
        let runs = store.accept_suggestions(sweep.id, &[saved[1].id]).unwrap();
        assert_eq!(runs.len(), 1);
        let (from, run) = &runs[0];
        assert_eq!((*from, run.index, run.status, run.arch()), (saved[1].id, 4, RunStatus::Pending, Some(&p.specs[2])));
        // Accepted suggestions keep their run; the plan still counts 4 runs, the sweep holds 5.
        let all = store.suggestions(sweep.id, false).unwrap();
        assert_eq!(all.iter().find(|s| s.id == saved[1].id).unwrap().run, Some(run.id));
        assert_eq!(store.suggestions(sweep.id, true).unwrap().len(), 1);
        drop(store);
        let store = SqlStore::open(&dir).unwrap();
        assert_eq!(store.sweep_by_name("demo").unwrap().unwrap().runs, 4);
        assert_eq!(store.runs(sweep.id).unwrap().len(), 5);
        // Accepting twice adds nothing; non-finite predictions are refused.
        let mut store = store;
        assert!(store.accept_suggestions(sweep.id, &[saved[1].id]).unwrap().is_empty());
        let e = store.save_suggestions(sweep.id, &[record(3, f64::NAN)]).unwrap_err();
        assert!(e.to_string().contains("non-finite"), "{e}");
        assert_eq!(store.suggestions(sweep.id, true).unwrap().len(), 1, "a refused batch leaves the old one");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_run_is_found_by_id_with_its_outcome() {
    for dir in stores("run_by_id") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(3)).unwrap();
        let runs = store.runs(sweep.id).unwrap();
        store.finish_run(runs[1].id, &outcome(RunStatus::Done, 3, 0.2)).unwrap();
        assert_eq!(store.run(runs[0].id).unwrap().as_ref(), Some(&runs[0]), "a pending run, as runs() has it");
        let done = store.run(runs[1].id).unwrap().unwrap();
        assert_eq!((done.sweep, done.index, done.status), (sweep.id, 1, RunStatus::Done));
        assert_eq!(done.outcome.unwrap(), outcome(RunStatus::Done, 3, 0.2));
        assert_eq!(store.run(9999).unwrap(), None);
        assert_eq!(store.run(-1).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_only_sweep_is_picked_and_otherwise_the_error_says_what_to_pass() {
    for dir in stores("pick") {
        let mut store = SqlStore::open(&dir).unwrap();
        let shown = mosaic_store::redact(&dir);
        let none = store.sweep(None).unwrap_err().to_string();
        assert_eq!(none, format!("{shown} holds no sweep yet"));
        let first = store.create_sweep(&plan(2)).unwrap();
        assert_eq!(store.sweep(None).unwrap(), first);
        assert_eq!(store.sweep(Some("demo")).unwrap(), first);
        store.create_sweep(&SweepPlan { name: "second".into(), ..plan(2) }).unwrap();
        let many = store.sweep(None).unwrap_err();
        assert!(matches!(many, mosaic_store::StoreError::WhichSweep { count: 2, .. }), "{many:?}");
        let many = many.to_string();
        assert!(many.contains("pass --sweep NAME") && many.contains("demo, second") && many.contains(&shown), "{many}");
        assert_eq!(store.sweep(Some("second")).unwrap().name, "second");
        let unknown = store.sweep(Some("third")).unwrap_err().to_string();
        assert_eq!(unknown, format!("no sweep `third` in {shown}; it has: demo, second"));
        assert_eq!(store.sweep_by_name("third").unwrap(), None);
        assert_eq!(store.sweep_by_name("second").unwrap().unwrap().runs, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn open_existing_refuses_a_folder_without_a_store_and_creates_nothing() {
    let dir = scratch("existing");
    let err = SqlStore::open_existing(&dir).err().expect("no store there").to_string();
    assert_eq!(err, format!("{} is not a NeuroMosaic store (no mosaic.sqlite inside): run `mosaic sweep --store` first", dir.display()));
    assert!(!dir.exists(), "reading created nothing");
    assert!(mosaic_store::open_existing(&dir).is_err());
    SqlStore::open(&dir).unwrap();
    assert!(SqlStore::open_existing(&dir).unwrap().sweeps().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn callers_can_hold_any_backend_behind_the_trait() {
    fn plan_count(store: &mut dyn Store) -> usize {
        let sweep = store.create_sweep(&plan(2)).unwrap();
        store.runs(sweep.id).unwrap().len()
    }
    fn send<T: Send + ?Sized>(_: &T) {}
    let dir = scratch("dyn");
    let mut store: Box<dyn Store> = mosaic_store::open(&dir).unwrap();
    send(&store);
    assert_eq!(plan_count(store.as_mut()), 2);
    assert_eq!(store.root(), dir.as_path());
    let run = store.runs(store.sweep(None).unwrap().id).unwrap()[0].id;
    assert_eq!(store.run_dir(run).unwrap(), dir.join("runs").join(run.to_string()));
    assert!(dir.join("runs").join(run.to_string()).is_dir());
    drop(store);
    assert_eq!(mosaic_store::open_existing(&dir).unwrap().sweeps().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn embedding_kinds_are_stored_as_the_strings_stores_always_held() {
    let dir = scratch("embedding_kind");
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.create_sweep(&plan(2)).unwrap();
    let runs: Vec<i64> = store.runs(sweep.id).unwrap().iter().map(|r| r.id).collect();
    store.save_embedding(sweep.id, EmbeddingKind::Architecture, 0, &[(runs[0], [1.0, 2.0, 3.0])]).unwrap();
    // A row as an older mosaic wrote it, by its string.
    let conn = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE)).unwrap();
    conn.execute(
        "INSERT INTO embeddings (sweep, kind, run, t, x, y, z) VALUES (?1, 'representation', ?2, 5, 0, 0, 1)",
        [sweep.id, runs[1]],
    )
    .unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM embeddings ORDER BY kind")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kinds, ["architecture", "representation"]);
    assert_eq!(store.embedding(sweep.id, EmbeddingKind::Architecture).unwrap(), Some((0, vec![(runs[0], [1.0, 2.0, 3.0])])));
    assert_eq!(store.embedding(sweep.id, EmbeddingKind::Representation).unwrap(), Some((5, vec![(runs[1], [0.0, 0.0, 1.0])])));
    for kind in EmbeddingKind::ALL {
        assert_eq!(kind.as_str().parse::<EmbeddingKind>().unwrap(), kind);
        assert_eq!(kind.to_string(), kind.as_str());
    }
    let err = "design".parse::<EmbeddingKind>().unwrap_err().to_string();
    assert_eq!(err, "unknown embedding kind `design`: use representation or architecture");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_runs_files_are_named_under_its_store() {
    let dir = scratch("run_files");
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.create_sweep(&plan(1)).unwrap();
    let run = store.runs(sweep.id).unwrap()[0].id;
    let files = store.run_files(run);
    assert_eq!(files, mosaic_store::RunFiles::new(&dir, run));
    assert!(!files.dir().exists(), "naming creates nothing");
    assert_eq!(store.run_dir(run).unwrap(), files.dir());
    assert!(files.dir().is_dir());
    assert_eq!(files.final_weights(), dir.join("runs").join(run.to_string()).join("final.safetensors"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_example_count_is_a_column_that_survives_reopening() {
    for dir in stores("examples") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&SweepPlan { examples: 777, ..plan(2) }).unwrap();
        assert_eq!(sweep.examples, Some(777));
        drop(store);
        let again = SqlStore::open(&dir).unwrap().sweep(None).unwrap();
        assert_eq!(again, sweep);
        assert_eq!(again.data, "spirals, 2000 examples", "the fingerprint is stored as given, apart from the count");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_store_from_schema_2_gains_the_example_count_read_out_of_its_fingerprints() {
    let dir = scratch("schema2");
    std::fs::create_dir_all(&dir).unwrap();
    let space = SearchSpace::default_space().to_ron();
    let fingerprint = "spirals: 1500 examples x 2 features, 2 classes, hash 00112233deadbeef";
    {
        // The second schema's sweeps, runs and embeddings, as stores made before the example count hold them.
        let conn = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, dataset TEXT NOT NULL, data TEXT NOT NULL,
                 seed INTEGER NOT NULL, space TEXT NOT NULL, created TEXT NOT NULL DEFAULT (datetime('now')));
             CREATE TABLE runs (id INTEGER PRIMARY KEY, sweep INTEGER NOT NULL REFERENCES sweeps(id), idx INTEGER NOT NULL,
                 spec TEXT NOT NULL, encoding BLOB NOT NULL, status TEXT NOT NULL, parameters INTEGER, val_accuracy REAL,
                 test_loss REAL, test_accuracy REAL, seconds REAL, note TEXT, UNIQUE (sweep, idx));
             CREATE TABLE embeddings (sweep INTEGER NOT NULL REFERENCES sweeps(id), kind TEXT NOT NULL,
                 run INTEGER NOT NULL REFERENCES runs(id), t INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
                 PRIMARY KEY (sweep, kind, run));
             PRAGMA user_version = 2;",
        )
        .unwrap();
        for (name, data) in [("trained", fingerprint), ("unrecorded", ""), ("odd", "hand-written note")] {
            conn.execute("INSERT INTO sweeps (name, dataset, data, seed, space) VALUES (?1, 'spirals', ?2, 4, ?3)", [name, data, &space])
                .unwrap();
        }
        let spec = ron::to_string(&plan(1).specs[0]).unwrap();
        conn.execute("INSERT INTO runs (sweep, idx, spec, encoding, status) VALUES (1, 0, ?1, x'', 'pending')", [spec]).unwrap();
        conn.execute("INSERT INTO embeddings (sweep, kind, run, t, x, y, z) VALUES (1, 'representation', 1, 6, 1, 2, 3)", []).unwrap();
    }
    let store = SqlStore::open(&dir).unwrap();
    let sweeps = store.sweeps().unwrap();
    let got: Vec<(&str, &str, Option<usize>)> = sweeps.iter().map(|s| (s.name.as_str(), s.data.as_str(), s.examples)).collect();
    assert_eq!(got, [("trained", fingerprint, Some(1500)), ("unrecorded", "", None), ("odd", "hand-written note", None)]);
    assert_eq!((sweeps[0].seed, sweeps[0].runs), (4, 1));
    assert_eq!(store.runs(sweeps[0].id).unwrap()[0].status, RunStatus::Pending);
    assert_eq!(store.embedding(sweeps[0].id, EmbeddingKind::Representation).unwrap(), Some((6, vec![(1, [1.0, 2.0, 3.0])])));
    assert!(store.features(sweeps[0].id).unwrap().is_empty(), "the tables schema 2 lacked exist");
    let version: i64 = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE))
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5, "migrated to the current schema");
    drop(store);
    // Migrated once: opening again reads the same.
    assert_eq!(SqlStore::open(&dir).unwrap().sweeps().unwrap(), sweeps);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_store_from_a_newer_mosaic_is_refused_and_left_alone() {
    let dir = scratch("newer");
    std::fs::create_dir_all(&dir).unwrap();
    rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE)).unwrap().execute_batch("PRAGMA user_version = 99;").unwrap();
    let err = SqlStore::open(&dir).err().expect("a newer schema is refused").to_string();
    assert!(err.contains("newer NeuroMosaic") && err.contains("schema 99") && err.contains("upgrade mosaic"), "{err}");
    let tables: i64 = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "nothing was created in it");
    let _ = std::fs::remove_dir_all(&dir);
}

fn param_space() -> mosaic_core::ParamSpace {
    mosaic_core::ParamSpace::from_ron(
        r#"(params: [
            (name: "lr", kind: Float(low: 1e-5, high: 0.1, log: true)),
            (name: "optimizer", kind: Categorical(choices: ["sgd", "adam"])),
            (name: "momentum", kind: Float(low: 0.0, high: 0.99), when: Some((param: "optimizer", values: ["sgd"]))),
        ])"#,
    )
    .unwrap()
}

fn params(pairs: &[(&str, mosaic_core::params::Value)]) -> mosaic_core::Params {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[test]
fn a_sweep_of_parameters_keeps_its_space_its_runs_and_their_epochs_as_they_are_logged() {
    use mosaic_core::params::Value;
    use mosaic_store::{RunConfig, SweepSpace};
    for dir in stores("params") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_param_sweep("mlps", "digits", &param_space()).unwrap();
        assert!(store.create_param_sweep("mlps", "digits", &param_space()).unwrap_err().to_string().contains("exists already"));
        let p = params(&[("lr", Value::Float(1e-3)), ("optimizer", Value::Str("sgd".into())), ("momentum", Value::Float(0.9))]);
        let run = store.add_run(&sweep, &p).unwrap();
        assert_eq!((run.index, run.status, run.encoding.len()), (0, RunStatus::Running, 4));
        let second = store.add_run(&sweep, &params(&[("lr", Value::Float(0.01)), ("optimizer", Value::Str("adam".into()))])).unwrap();
        assert_eq!(second.index, 1);

        // Epochs are visible as they are logged, to another connection too.
        let epochs = outcome(RunStatus::Done, 3, 0.1).epochs;
        for e in &epochs[..2] {
            store.record_epoch(run.id, e).unwrap();
        }
        let reader = SqlStore::open_existing(&dir).unwrap();
        assert_eq!(reader.epochs(run.id).unwrap(), epochs[..2].to_vec());
        let sweeps = reader.sweeps().unwrap();
        assert_eq!(sweeps[0].space, SweepSpace::Parameters(param_space()));
        assert_eq!(sweeps[0].space_name(), "parameters (3)");
        assert!(sweeps[0].architectures("training needs one").unwrap_err().to_string().contains("holds the user's own parameters"));
        let runs = reader.runs(sweep.id).unwrap();
        assert_eq!(runs[0].config, RunConfig::Parameters(p.clone()));
        assert_eq!(runs[0].label(), "lr=0.001 momentum=0.9 optimizer=\"sgd\"");
        assert!(runs[0].spec("a landscape replay needs one").is_err());

        // Finishing keeps what the outcome says; a finished run takes no more epochs.
        store.finish_run(run.id, &outcome(RunStatus::Done, 3, 0.1)).unwrap();
        let err = store.record_epoch(run.id, &epochs[2]).unwrap_err().to_string();
        assert!(err.contains("has finished"), "{err}");
        assert_eq!(store.run(run.id).unwrap().unwrap().outcome.unwrap().epochs.len(), 3);

        // The CSV has a column per parameter, empty where inactive.
        let mut csv = Vec::new();
        store.export_csv(sweep.id, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("run,status,lr,momentum,optimizer,parameters,"), "{}", lines[0]);
        // Each row starts with the run's id, the one every command takes.
        let ids: Vec<i64> = store.runs(sweep.id).unwrap().iter().map(|r| r.id).collect();
        assert!(lines[1].starts_with(&format!("{},done,0.001,0.9,sgd,1234,", ids[0])), "{}", lines[1]);
        assert!(lines[2].starts_with(&format!("{},running,0.01,,adam,,", ids[1])), "{}", lines[2]);
    }
}

#[test]
fn parameters_outside_the_space_are_refused_by_name_and_nothing_is_stored() {
    use mosaic_core::params::Value;
    for dir in stores("params-bad") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_param_sweep("s", "digits", &param_space()).unwrap();
        let bad = [
            (
                params(&[("lr", Value::Float(1e-3)), ("optimizer", Value::Str("adam".into())), ("dropout", Value::Float(0.1))]),
                "unknown parameter `dropout`",
            ),
            (params(&[("lr", Value::Float(5.0)), ("optimizer", Value::Str("adam".into()))]), "`lr` = 5 is outside the space"),
            (
                params(&[("lr", Value::Float(1e-3)), ("optimizer", Value::Str("adam".into())), ("momentum", Value::Float(0.5))]),
                "is given but inactive",
            ),
        ];
        for (p, want) in bad {
            let err = store.add_run(&sweep, &p).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("sweep `s`"), "{err}");
        }
        assert!(store.runs(sweep.id).unwrap().is_empty());
        // An architecture sweep takes no runs of parameters.
        let arch = store.create_sweep(&plan(2)).unwrap();
        let err = store.add_run(&arch, &params(&[("lr", Value::Float(1e-3))])).unwrap_err().to_string();
        assert!(err.contains("sweep of architectures"), "{err}");
    }
}

#[test]
fn a_store_from_schema_3_gains_the_parameter_columns_and_keeps_its_runs() {
    let dir = scratch("schema3");
    {
        let mut store = SqlStore::open(&dir).unwrap();
        store.create_sweep(&plan(3)).unwrap();
    }
    {
        // Undo schemas 4 and 5 as a store written by an older release holds it.
        let conn = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE)).unwrap();
        conn.execute_batch(
            "ALTER TABLE runs DROP COLUMN params; ALTER TABLE sweeps DROP COLUMN params; ALTER TABLE runs DROP COLUMN worker;
             ALTER TABLE runs DROP COLUMN lease_until; ALTER TABLE runs DROP COLUMN claims; PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let mut store = SqlStore::open(&dir).unwrap();
    let sweep = store.sweeps().unwrap().remove(0);
    assert_eq!(store.runs(sweep.id).unwrap().len(), 3);
    assert!(store.runs(sweep.id).unwrap().iter().all(|r| r.arch().is_some()));
    store.create_param_sweep("later", "digits", &param_space()).unwrap();
    let claimed = store.claim_run(sweep.id, "w1", 60.0).unwrap().expect("a pending run to claim");
    assert_eq!((claimed.index, claimed.status), (0, RunStatus::Running), "the lease columns exist");
    let version: i64 = rusqlite::Connection::open(dir.join(mosaic_store::DB_FILE))
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5);
}

#[test]
fn a_runs_value_and_named_metrics_are_kept_and_read_back() {
    use mosaic_core::params::Value;
    for dir in stores("values") {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_param_sweep("s", "optuna", &param_space()).unwrap();
        let run = store.add_run(&sweep, &params(&[("lr", Value::Float(1e-3)), ("optimizer", Value::Str("adam".into()))])).unwrap();
        store.set_run_value(run.id, Some(0.25)).unwrap();
        store.record_metrics(run.id, "intermediate", &[(0, 1.0), (1, f64::NAN), (2, 0.5)]).unwrap();
        let reopened = SqlStore::open_existing(&dir).unwrap();
        assert_eq!(reopened.run(run.id).unwrap().unwrap().value, Some(0.25));
        let m = reopened.metrics(run.id).unwrap();
        assert_eq!((m.len(), m[0].clone(), m[2].clone()), (3, ("intermediate".to_string(), 0, 1.0), ("intermediate".to_string(), 2, 0.5)));
        assert!(m[1].2.is_nan(), "a missing value reads back as NaN");
        assert!(store.set_run_value(999, Some(1.0)).unwrap_err().to_string().contains("no run with id 999"));
    }
}

#[test]
fn claims_hand_each_run_to_one_worker_and_a_lease_that_ran_out_goes_to_another() {
    for dir in stores("leases") {
        let mut a = SqlStore::open(&dir).unwrap();
        let mut b = SqlStore::open(&dir).unwrap();
        let sweep = a.create_sweep(&plan(3)).unwrap();
        let first = a.claim_run(sweep.id, "a", 60.0).unwrap().expect("a pending run");
        let second = b.claim_run(sweep.id, "b", 0.3).unwrap().expect("another pending run");
        assert_eq!((first.index, second.index, first.status), (0, 1, RunStatus::Running));
        assert!(b.renew_lease(second.id, "b", 0.3).unwrap(), "b holds its lease");
        let counts = a.run_counts(sweep.id).unwrap();
        assert_eq!((counts.pending, counts.leased, counts.logging, counts.finished, counts.total()), (1, 2, 0, 0, 3));
        // b dies: its lease runs out, and its run is the next one claimed.
        std::thread::sleep(std::time::Duration::from_millis(700));
        let again = a.claim_run(sweep.id, "a", 60.0).unwrap().unwrap();
        assert_eq!(again.id, second.id, "the run whose lease ran out is claimed again, before later pending ones");
        assert!(!b.renew_lease(second.id, "b", 60.0).unwrap(), "b lost its lease");
        assert!(!b.finish_leased_run(second.id, "b", &outcome(RunStatus::Done, 2, 0.1)).unwrap(), "b may not finish it");
        assert_eq!(a.run(second.id).unwrap().unwrap().status, RunStatus::Running, "nothing of b's was stored");
        assert!(a.finish_leased_run(second.id, "a", &outcome(RunStatus::Done, 3, 0.1)).unwrap());
        assert!(!a.finish_leased_run(second.id, "a", &outcome(RunStatus::Done, 1, 0.1)).unwrap(), "a run is finished once");
        assert_eq!(a.run(second.id).unwrap().unwrap().outcome.unwrap(), outcome(RunStatus::Done, 3, 0.1));
        // A worker that stops cleanly gives its run back.
        assert!(a.release_run(first.id, "a").unwrap());
        assert!(!b.release_run(first.id, "b").unwrap(), "only the holder releases");
        assert_eq!(a.run(first.id).unwrap().unwrap().status, RunStatus::Pending);
        let claimed: Vec<usize> = std::iter::from_fn(|| b.claim_run(sweep.id, "b", 60.0).unwrap()).map(|r| r.index).collect();
        assert_eq!(claimed, [0, 2]);
        // Runs of parameters logged as they train hold no lease: never claimed; queued ones are.
        let params_sweep = a.create_param_sweep("logged", "digits", &param_space()).unwrap();
        a.add_run(
            &params_sweep,
            &params(&[("lr", mosaic_core::params::Value::Float(1e-3)), ("optimizer", mosaic_core::params::Value::Str("adam".into()))]),
        )
        .unwrap();
        assert_eq!(a.claim_run(params_sweep.id, "a", 0.0).unwrap(), None);
        let counts = a.run_counts(params_sweep.id).unwrap();
        assert_eq!((counts.logging, counts.leased, counts.open()), (1, 0, 1), "logged runs hold no lease");
        assert_eq!(a.run_counts(sweep.id).unwrap().finished, 1);
        let point =
            params(&[("lr", mosaic_core::params::Value::Float(0.01)), ("optimizer", mosaic_core::params::Value::Str("adam".into()))]);
        let queued = a.queue_run(&params_sweep, &point).unwrap();
        assert_eq!((queued.index, queued.status), (1, RunStatus::Pending));
        let claimed = b.claim_run(params_sweep.id, "b", 60.0).unwrap().expect("a queued run is claimed");
        assert_eq!((claimed.id, claimed.config), (queued.id, mosaic_store::RunConfig::Parameters(point)));
        assert!(b.finish_leased_run(claimed.id, "b", &outcome(RunStatus::Done, 2, 0.2)).unwrap());
    }
}

#[test]
fn concurrent_claimers_never_get_the_same_run() {
    for dir in stores("contention") {
        let sweep = SqlStore::open(&dir).unwrap().create_sweep(&plan(40)).unwrap();
        let claimed: Vec<i64> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..6)
                .map(|w| {
                    let dir = dir.clone();
                    scope.spawn(move || {
                        let mut store = SqlStore::open(&dir).unwrap();
                        let worker = format!("w{w}");
                        std::iter::from_fn(|| store.claim_run(sweep.id, &worker, 60.0).unwrap()).map(|r| r.id).collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        let mut unique = claimed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((claimed.len(), unique.len()), (40, 40), "each of the 40 runs claimed exactly once");
    }
}

/// Everything a store holds, as text: what a lossless copy keeps.
fn everything(store: &dyn Store) -> String {
    let mut out = String::new();
    for sweep in store.sweeps().unwrap() {
        out += &format!("{sweep:?}\n");
        for run in store.runs(sweep.id).unwrap() {
            out += &format!("{run:?}\n{:?}\n{:?}\n", store.epochs(run.id).unwrap(), store.metrics(run.id).unwrap());
        }
        for kind in EmbeddingKind::ALL {
            out += &format!("{:?}\n", store.embedding(sweep.id, kind).unwrap());
        }
        out += &format!("{:?}\n{:?}\n", store.suggestions(sweep.id, false).unwrap(), store.features(sweep.id).unwrap());
        let mut csv = Vec::new();
        store.export_csv(sweep.id, &mut csv).unwrap();
        out += &String::from_utf8(csv).unwrap();
    }
    out
}

#[test]
fn a_store_copied_to_another_backend_and_back_is_the_same_store() {
    use mosaic_core::params::Value;
    let src_dir = scratch("copy_src");
    let mut src = SqlStore::open(&src_dir).unwrap();
    let p = plan(4);
    let sweep = src.create_sweep(&p).unwrap();
    let runs = src.runs(sweep.id).unwrap();
    src.finish_run(runs[0].id, &outcome(RunStatus::Done, 3, 0.2)).unwrap();
    src.finish_run(runs[1].id, &outcome(RunStatus::Diverged, 2, f64::NAN)).unwrap();
    src.claim_run(sweep.id, "w", 60.0).unwrap();
    src.save_embedding(sweep.id, EmbeddingKind::Representation, 7, &[(runs[0].id, [0.5, -1.0, 2.0])]).unwrap();
    src.save_feature(sweep.id, "class separation", &[(runs[0].id, 1.5), (runs[1].id, f64::NAN)]).unwrap();
    let record = SuggestionRecord {
        id: 0,
        spec: p.specs[3].clone(),
        encoding: p.encodings[3].clone(),
        mean: 0.8,
        std: 0.1,
        score: 0.02,
        strategy: "gp-ei".into(),
        run: None,
    };
    let saved = src.save_suggestions(sweep.id, &[record.clone(), record]).unwrap();
    src.accept_suggestions(sweep.id, &[saved[0].id]).unwrap();
    let logged = src.create_param_sweep("logged", "digits", &param_space()).unwrap();
    let run = src.add_run(&logged, &params(&[("lr", Value::Float(3e-4)), ("optimizer", Value::Str("adam".into()))])).unwrap();
    src.record_metrics(run.id, "intermediate", &[(0, 1.0), (1, 0.5)]).unwrap();
    src.set_run_value(run.id, Some(0.125)).unwrap();
    mosaic_core::fs::write_atomic(&src.run_files(runs[0].id).final_weights(), b"weights").unwrap_or_else(|_| {
        src.run_dir(runs[0].id).unwrap();
        mosaic_core::fs::write_atomic(&src.run_files(runs[0].id).final_weights(), b"weights").unwrap();
    });
    let before = everything(&src);

    for middle in stores("copy_middle") {
        let mut there = SqlStore::open(&middle).unwrap();
        let copied = mosaic_store::copy_store(&src, &mut there).unwrap();
        assert_eq!(copied.files, 1);
        assert_eq!(everything(&there), before, "{} holds what the source held", mosaic_store::redact(&middle));
        let back_dir = scratch("copy_back");
        let mut back = SqlStore::open(&back_dir).unwrap();
        mosaic_store::copy_store(&there, &mut back).unwrap();
        assert_eq!(everything(&back), before, "the round trip is lossless");
        assert_eq!(std::fs::read(back.run_files(runs[0].id).final_weights()).unwrap(), b"weights");
        // Ids continue after the copied ones, and a copy refuses a store that holds sweeps.
        let next = there.create_sweep(&SweepPlan { name: "after".into(), ..plan(1) }).unwrap();
        assert!(next.id > logged.id && there.runs(next.id).unwrap()[0].id > run.id);
        let err = mosaic_store::copy_store(&src, &mut there).unwrap_err().to_string();
        assert!(err.contains("holds sweeps already"), "{err}");
    }
}

#[test]
fn a_replaced_database_never_lets_new_runs_write_over_the_old_runs_files() {
    let dir = scratch("replaced_db");
    let weights = {
        let mut store = SqlStore::open(&dir).unwrap();
        let sweep = store.create_sweep(&plan(3)).unwrap();
        let run = store.runs(sweep.id).unwrap()[1].id;
        store.run_dir(run).unwrap();
        let weights = store.run_files(run).final_weights();
        mosaic_core::fs::write_atomic(&weights, b"trained weights").unwrap();
        weights
    };
    // The database is moved away (or lost); its runs' files stay.
    for file in ["mosaic.sqlite", "mosaic.sqlite-wal", "mosaic.sqlite-shm"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    let mut store = SqlStore::open(&dir).unwrap();
    let err = store.create_sweep(&plan(3)).unwrap_err().to_string();
    let runs = dir.join("runs");
    assert!(err.contains("does not know") && err.contains(&format!("mv {} {}.old", runs.display(), runs.display())), "{err}");
    assert!(store.sweeps().unwrap().is_empty(), "nothing was created");
    assert_eq!(std::fs::read(&weights).unwrap(), b"trained weights", "the old weights are untouched");
    // Runs of parameters and accepted suggestions are refused the same way.
    let logged = store.create_param_sweep("logged", "digits", &param_space());
    let point = params(&[("lr", mosaic_core::params::Value::Float(0.01)), ("optimizer", mosaic_core::params::Value::Str("adam".into()))]);
    let first = store.add_run(&logged.unwrap(), &point).unwrap();
    assert_eq!(first.id, 1, "run 1 had no files");
    let err = store.add_run(&store.sweep_by_name("logged").unwrap().unwrap(), &point).unwrap_err().to_string();
    assert!(err.contains("does not know"), "{err}");
    // Moved aside as the message says, the new sweep is created.
    std::fs::rename(&runs, dir.join("runs.old")).unwrap();
    assert_eq!(store.create_sweep(&plan(3)).unwrap().runs, 3);
    assert_eq!(std::fs::read(dir.join("runs.old").join("2").join("final.safetensors")).unwrap(), b"trained weights");
}
