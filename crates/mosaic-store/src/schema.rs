//! The tables on both backends, and bringing a database made by an older
//! NeuroMosaic up to date.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

/// 1: sweeps, runs, epochs. 2: sweeps.data (what was trained on), embeddings.
/// 3: sweeps.examples (how many examples were generated or read; NULL: not recorded).
/// 4: sweeps.params and runs.params (JSON): sweeps of the user's own parameters;
/// runs.value (the objective a study reported) and the `metrics` table (named per-step values).
/// 5: runs.worker, runs.lease_until, runs.claims (pull workers' leases) and the `settings` table.
pub(crate) const SCHEMA_VERSION: i64 = 5;

/// Every table and its columns, parents before children: what `store copy`
/// moves, column by column, between any two stores.
pub(crate) const TABLES: &[(&str, &[&str])] = &[
    ("settings", &["key", "value"]),
    ("sweeps", &["id", "name", "dataset", "data", "examples", "seed", "space", "params", "created"]),
    (
        "runs",
        &[
            "id",
            "sweep",
            "idx",
            "spec",
            "params",
            "value",
            "encoding",
            "status",
            "parameters",
            "val_accuracy",
            "test_loss",
            "test_accuracy",
            "seconds",
            "note",
            "worker",
            "lease_until",
            "claims",
        ],
    ),
    ("suggestions", &["id", "sweep", "spec", "encoding", "mean", "std", "score", "strategy", "run", "created"]),
    ("metrics", &["run", "name", "step", "value"]),
    (
        "epochs",
        &[
            "run",
            "epoch",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "grad_norm",
            "weight_norm",
            "learning_rate",
            "seconds",
        ],
    ),
    ("embeddings", &["sweep", "kind", "run", "t", "x", "y", "z"]),
    ("features", &["sweep", "name", "run", "value"]),
];

/// Opens the database file `file` (named `db` in errors), creating it if
/// needed, and migrates it to [`SCHEMA_VERSION`].
pub(crate) fn connect(file: &Path, db: &str) -> Result<Connection> {
    let sql = |source| StoreError::Sql { path: db.to_string(), source };
    let mut conn = Connection::open(file).map_err(&sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(&sql)?;
    // A file that is not a database fails here, before anything is written.
    let version = user_version(&conn).map_err(&sql)?;
    refuse_newer(version, db)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(&sql)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(&sql)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(&sql)?;
    // Tables added without a schema step (suggestions, features) appear in any store that lacks them.
    conn.execute_batch(SCHEMA).map_err(&sql)?;
    if version < SCHEMA_VERSION {
        // One writer migrates; another process opening the same old store at
        // once waits (busy timeout), then finds it up to date.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(&sql)?;
        let version = user_version(&tx).map_err(&sql)?;
        refuse_newer(version, db)?;
        migrate(&tx, version).map_err(&sql)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
    }
    Ok(conn)
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

fn refuse_newer(version: i64, db: &str) -> Result<()> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::Invalid {
            path: db.to_string(),
            message: format!("made by a newer NeuroMosaic (schema {version}, this one knows {SCHEMA_VERSION}); upgrade mosaic"),
        });
    }
    Ok(())
}

/// Brings tables made at schema `from` up to date ([`SCHEMA`] has already
/// added the tables that did not exist, with every column). Each step checks for its column,
/// so a database half migrated by hand is finished, not broken.
fn migrate(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    if from < 2 && !has_column(conn, "sweeps", "data")? {
        // Stores from before the data fingerprint: the column, empty ("not
        // recorded"); the next resume records it.
        conn.execute_batch("ALTER TABLE sweeps ADD COLUMN data TEXT NOT NULL DEFAULT ''")?;
    }
    if from < 3 && !has_column(conn, "sweeps", "examples")? {
        // The example count was only written inside the fingerprint: read it
        // out once, here. A sweep without a fingerprint keeps NULL, as its data does.
        conn.execute_batch("ALTER TABLE sweeps ADD COLUMN examples INTEGER")?;
        let sweeps: Vec<(i64, String)> =
            conn.prepare("SELECT id, data FROM sweeps")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let mut set = conn.prepare("UPDATE sweeps SET examples = ?2 WHERE id = ?1")?;
        for (id, data) in sweeps {
            if let Some(n) = examples_in_fingerprint(&data) {
                set.execute(rusqlite::params![id, n as i64])?;
            }
        }
    }
    if from < 4 {
        // Sweeps of the user's own parameters: their space and each run's point
        // (NULL for architecture sweeps, whose `space` and `spec` stay as they were).
        for table in ["sweeps", "runs"] {
            if !has_column(conn, table, "params")? {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN params TEXT"))?;
            }
        }
        if !has_column(conn, "runs", "value")? {
            conn.execute_batch("ALTER TABLE runs ADD COLUMN value REAL")?;
        }
    }
    if from < 5 {
        // Leases of pull workers: none held on an older store's runs.
        for (column, ty) in [("worker", "TEXT"), ("lease_until", "REAL"), ("claims", "INTEGER NOT NULL DEFAULT 0")] {
            if !has_column(conn, "runs", column)? {
                conn.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {column} {ty}"))?;
            }
        }
    }
    Ok(())
}

/// The example count in a data fingerprint (`spirals: 2000 examples x 2
/// features, …`, as mosaic-train's `Dataset::fingerprint` writes it), read
/// from the right so a data set's name may hold `: ` itself.
fn examples_in_fingerprint(data: &str) -> Option<usize> {
    let (head, _) = data.rsplit_once(" examples")?;
    head.rsplit_once(": ")?.1.parse().ok()
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    conn.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?.exists([table, column])
}

/// Every table as this version makes it (`IF NOT EXISTS`: a table that
/// exists keeps its columns, and [`migrate`] adds the missing ones).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sweeps (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    dataset TEXT NOT NULL,
    data    TEXT NOT NULL,
    examples INTEGER,
    seed    INTEGER NOT NULL,
    -- the architecture space (RON), or '' for a sweep of parameters
    space   TEXT NOT NULL,
    -- the user's own parameter space (JSON), NULL for architecture sweeps
    params  TEXT,
    created TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY,
    sweep         INTEGER NOT NULL REFERENCES sweeps(id),
    idx           INTEGER NOT NULL,
    -- the architecture (RON), or '' for a run of parameters
    spec          TEXT NOT NULL,
    -- the run's point of its sweep's parameter space (JSON), NULL for architectures
    params        TEXT,
    -- the objective value a study reported for the run (Optuna's trial value), if any
    value         REAL,
    encoding      BLOB NOT NULL,
    status        TEXT NOT NULL,
    parameters    INTEGER,
    val_accuracy  REAL,
    test_loss     REAL,
    test_accuracy REAL,
    seconds       REAL,
    note          TEXT,
    -- the worker holding (or that last held) the run's lease, until when (seconds since 1970,
    -- the database's clock), and how many times it was claimed
    worker        TEXT,
    lease_until   REAL,
    claims        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sweep, idx)
);
-- What claims look up: a sweep's runs of one status in order.
CREATE INDEX IF NOT EXISTS runs_claimable ON runs (sweep, status, idx);
CREATE TABLE IF NOT EXISTS settings (
    -- the store's own facts (a shared store's folder for run files: `files`)
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suggestions (
    -- AUTOINCREMENT: an id never comes back, so a replaced batch's ids stay unknown.
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep    INTEGER NOT NULL REFERENCES sweeps(id),
    spec     TEXT NOT NULL,
    encoding BLOB NOT NULL,
    mean     REAL NOT NULL,
    std      REAL NOT NULL,
    score    REAL NOT NULL,
    strategy TEXT NOT NULL,
    run      INTEGER REFERENCES runs(id),
    created  TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS metrics (
    -- named values by step beyond the epochs' fixed columns (Optuna's intermediate values)
    run   INTEGER NOT NULL REFERENCES runs(id),
    name  TEXT NOT NULL,
    step  INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run, name, step)
);
CREATE TABLE IF NOT EXISTS epochs (
    run            INTEGER NOT NULL REFERENCES runs(id),
    epoch          INTEGER NOT NULL,
    train_loss     REAL,
    train_accuracy REAL,
    val_loss       REAL,
    val_accuracy   REAL,
    grad_norm      REAL,
    weight_norm    REAL,
    learning_rate  REAL NOT NULL,
    seconds        REAL NOT NULL,
    PRIMARY KEY (run, epoch)
);
CREATE TABLE IF NOT EXISTS embeddings (
    sweep INTEGER NOT NULL REFERENCES sweeps(id),
    kind  TEXT NOT NULL,
    run   INTEGER NOT NULL REFERENCES runs(id),
    t     INTEGER NOT NULL,
    x     REAL NOT NULL,
    y     REAL NOT NULL,
    z     REAL NOT NULL,
    PRIMARY KEY (sweep, kind, run)
);
CREATE TABLE IF NOT EXISTS features (
    sweep INTEGER NOT NULL REFERENCES sweeps(id),
    name  TEXT NOT NULL,
    run   INTEGER NOT NULL REFERENCES runs(id),
    value REAL,
    PRIMARY KEY (sweep, name, run)
);
";

/// Creates the tables in a new PostgreSQL database, or checks an existing
/// one's version. Schema changes from here on add a step for both backends.
/// An advisory lock makes the workers that open a new store at once create
/// it once; an existing store is only read (its trigger is not replaced on
/// every open, which would lock `runs` against the workers' claims).
pub(crate) fn connect_postgres(client: &mut postgres::Client, url: &str) -> Result<()> {
    let err = |e: postgres::Error| StoreError::Postgres { url: url.to_string(), message: crate::postgres::describe(&e) };
    let version = |client: &mut postgres::Client| -> Result<Option<i64>> {
        let exists: bool = client.query_one("SELECT to_regclass('mosaic_schema') IS NOT NULL", &[]).map_err(err)?.get(0);
        if !exists {
            return Ok(None);
        }
        Ok(client.query_opt("SELECT version FROM mosaic_schema", &[]).map_err(err)?.map(|r| r.get(0)))
    };
    if let Some(v) = version(client)? {
        return refuse_newer(v, url);
    }
    let mut tx = client.transaction().map_err(err)?;
    tx.batch_execute("SELECT pg_advisory_xact_lock(7366755)").map_err(err)?;
    tx.batch_execute(PG_SCHEMA).map_err(err)?;
    let version: Option<i64> = tx.query_opt("SELECT version FROM mosaic_schema", &[]).map_err(err)?.map(|r| r.get(0));
    match version {
        None => {
            tx.execute("INSERT INTO mosaic_schema (version) VALUES ($1)", &[&SCHEMA_VERSION]).map_err(err)?;
        }
        Some(v) => refuse_newer(v, url)?,
    }
    tx.commit().map_err(err)
}

/// [`SCHEMA`] in PostgreSQL's types: 64-bit ids and counts, double-precision
/// numbers, bytes for encodings; the same tables, columns and keys.
const PG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS mosaic_schema (version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps (
    id       BIGSERIAL PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    dataset  TEXT NOT NULL,
    data     TEXT NOT NULL,
    examples BIGINT,
    seed     BIGINT NOT NULL,
    space    TEXT NOT NULL,
    params   TEXT,
    created  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
);
CREATE TABLE IF NOT EXISTS runs (
    id            BIGSERIAL PRIMARY KEY,
    sweep         BIGINT NOT NULL REFERENCES sweeps(id),
    idx           BIGINT NOT NULL,
    spec          TEXT NOT NULL,
    params        TEXT,
    value         DOUBLE PRECISION,
    encoding      BYTEA NOT NULL,
    status        TEXT NOT NULL,
    parameters    BIGINT,
    val_accuracy  DOUBLE PRECISION,
    test_loss     DOUBLE PRECISION,
    test_accuracy DOUBLE PRECISION,
    seconds       DOUBLE PRECISION,
    note          TEXT,
    worker        TEXT,
    lease_until   DOUBLE PRECISION,
    claims        BIGINT NOT NULL DEFAULT 0,
    UNIQUE (sweep, idx)
);
CREATE INDEX IF NOT EXISTS runs_claimable ON runs (sweep, status, idx);
CREATE TABLE IF NOT EXISTS suggestions (
    id       BIGSERIAL PRIMARY KEY,
    sweep    BIGINT NOT NULL REFERENCES sweeps(id),
    spec     TEXT NOT NULL,
    encoding BYTEA NOT NULL,
    mean     DOUBLE PRECISION NOT NULL,
    std      DOUBLE PRECISION NOT NULL,
    score    DOUBLE PRECISION NOT NULL,
    strategy TEXT NOT NULL,
    run      BIGINT REFERENCES runs(id),
    created  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
);
CREATE TABLE IF NOT EXISTS metrics (
    run   BIGINT NOT NULL REFERENCES runs(id),
    name  TEXT NOT NULL,
    step  BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (run, name, step)
);
CREATE TABLE IF NOT EXISTS epochs (
    run            BIGINT NOT NULL REFERENCES runs(id),
    epoch          BIGINT NOT NULL,
    train_loss     DOUBLE PRECISION,
    train_accuracy DOUBLE PRECISION,
    val_loss       DOUBLE PRECISION,
    val_accuracy   DOUBLE PRECISION,
    grad_norm      DOUBLE PRECISION,
    weight_norm    DOUBLE PRECISION,
    learning_rate  DOUBLE PRECISION NOT NULL,
    seconds        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run, epoch)
);
CREATE TABLE IF NOT EXISTS embeddings (
    sweep BIGINT NOT NULL REFERENCES sweeps(id),
    kind  TEXT NOT NULL,
    run   BIGINT NOT NULL REFERENCES runs(id),
    t     BIGINT NOT NULL,
    x     DOUBLE PRECISION NOT NULL,
    y     DOUBLE PRECISION NOT NULL,
    z     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (sweep, kind, run)
);
CREATE TABLE IF NOT EXISTS features (
    sweep BIGINT NOT NULL REFERENCES sweeps(id),
    name  TEXT NOT NULL,
    run   BIGINT NOT NULL REFERENCES runs(id),
    value DOUBLE PRECISION,
    PRIMARY KEY (sweep, name, run)
);
-- Every run that finishes, whoever finished it (a worker, the Python client), is announced on
-- the channel `mosaic_runs` as 'SWEEP RUN': viewers listen instead of reading the table again.
CREATE OR REPLACE FUNCTION mosaic_run_finished() RETURNS trigger AS $$
BEGIN
    IF NEW.status IN ('done', 'diverged', 'failed') AND NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM pg_notify('mosaic_runs', NEW.sweep || ' ' || NEW.id);
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER runs_finished AFTER UPDATE OF status ON runs FOR EACH ROW EXECUTE FUNCTION mosaic_run_finished();
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_count_is_read_out_of_a_fingerprint() {
        assert_eq!(examples_in_fingerprint("spirals: 2000 examples x 2 features, 3 classes, hash 00ff00ff00ff00ff"), Some(2000));
        assert_eq!(examples_in_fingerprint("iris: 150 examples x 4 features, 3 classes, hash 0123456789abcdef"), Some(150));
        assert_eq!(examples_in_fingerprint("notes: v2: 7 examples x 1 features, 2 classes, hash 0"), Some(7));
        assert_eq!(examples_in_fingerprint("spirals: 2000 examples"), Some(2000));
        assert_eq!(examples_in_fingerprint("mnist: 60000 examples x 784 features, 10 classes, hash 0"), Some(60000));
        for unknown in ["", "spirals", "spirals: many examples x 2 features", "spirals: 2000 rows", "2000 examples x 2 features"] {
            assert_eq!(examples_in_fingerprint(unknown), None, "{unknown}");
        }
    }
}
