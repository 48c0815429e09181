//! `mosaic store copy`: a whole store moved to another (SQLite to PostgreSQL
//! and back), every table column by column with its ids, and the run files
//! beside. The destination must hold no sweep yet.

use std::path::Path;

use crate::db::{Backend, transaction};
use crate::schema::TABLES;
use crate::sql_store::SqlStore;
use crate::store::Store;
use crate::{Result, StoreError};

/// What a copy moved: rows per table (in [`TABLES`] order) and run files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CopySummary {
    pub rows: Vec<(String, usize)>,
    pub files: usize,
}

/// Copies every record of `src` into the empty store `dst`, ids kept (the run
/// folders are named by them), then the run files into `dst`'s folder. The
/// records go in one transaction: a failed copy leaves `dst` empty.
pub fn copy_store(src: &SqlStore, dst: &mut SqlStore) -> Result<CopySummary> {
    if !dst.sweeps()?.is_empty() {
        return Err(dst.invalid("holds sweeps already: copy into a new store (an empty folder or database)".into()));
    }
    let mut summary = CopySummary::default();
    if src.root() != dst.root() {
        let runs = src.root().join("runs");
        if runs.is_dir() {
            summary.files = copy_dir(&runs, &dst.root().join("runs"))?;
        }
    }
    let (from, to) = (src.db.as_ref(), dst.db.as_ref());
    transaction(to, || {
        for (table, columns) in TABLES {
            // A shared store's files folder is its own, not the source's.
            let filter = if *table == "settings" { " WHERE key <> 'files'" } else { "" };
            let list = columns.join(", ");
            let rows = from.query(&format!("SELECT {list} FROM {table}{filter}"), &[])?;
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", "));
            for row in &rows {
                to.exec(&insert, &row.values)?;
            }
            summary.rows.push((table.to_string(), rows.len()));
        }
        if to.backend() == Backend::Postgres {
            // Ids were written as they were: the sequences continue after them.
            for table in ["sweeps", "runs", "suggestions"] {
                to.query(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
                    ),
                    &[],
                )?;
            }
        }
        Ok(())
    })?;
    Ok(summary)
}

/// Copies a folder tree; returns how many files it copied.
fn copy_dir(from: &Path, to: &Path) -> Result<usize> {
    fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
        move |source| StoreError::Io { path: path.display().to_string(), source }
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut files = 0;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map_err(io(&path))?.is_dir() {
            files += copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(io(&path))?;
            files += 1;
        }
    }
    Ok(files)
}
