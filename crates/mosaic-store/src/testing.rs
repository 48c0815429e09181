//! For tests of the store and of the crates above it: a fresh PostgreSQL
//! database on the test cluster that `scripts/test.sh` starts
//! (`scripts/test-postgres.sh`; its URL in `MOSAIC_TEST_PG`).

use std::path::{Path, PathBuf};

/// The test cluster's URL (`postgres://USER:PASSWORD@HOST:PORT`), if one is
/// running. Without one, tests of the shared store say so and pass, except
/// under `CI=true`, where a missing cluster is a failure.
pub fn postgres_cluster() -> Option<String> {
    match std::env::var("MOSAIC_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but MOSAIC_TEST_PG is not set: scripts/test.sh starts the test PostgreSQL cluster (scripts/test-postgres.sh)")
        }
        _ => {
            eprintln!("no MOSAIC_TEST_PG: the PostgreSQL half of this test is left out (scripts/test.sh starts a cluster)");
            None
        }
    }
}

/// A new, empty database named `mosaic_test_{name}` (an older one of that
/// name is dropped) as a store URL whose run files go to `files`.
pub fn scratch_postgres(name: &str, files: &Path) -> Option<PathBuf> {
    let cluster = postgres_cluster()?;
    let db = format!("mosaic_test_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")).to_lowercase();
    let mut admin = postgres::Client::connect(&format!("{cluster}/postgres"), postgres::NoTls).expect("the test cluster answers");
    // Two calls: several statements in one string would run as one transaction, which these refuse.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).expect("the old scratch database dropped");
    admin.batch_execute(&format!("CREATE DATABASE {db}")).expect("a scratch database");
    let _ = std::fs::remove_dir_all(files);
    Some(PathBuf::from(format!("{cluster}/{db}?files={}", files.display())))
}
