//! The SQLite backend: `mosaic.sqlite` in the store folder (WAL journal), one
//! connection; a file lock beside it keeps training to one process.

use std::path::Path;
use std::rc::Rc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, params_from_iter};

use crate::db::{Backend, Db, Row, Val};
use crate::store::TrainingLock;
use crate::{Result, StoreError, schema};

pub(crate) struct SqliteDb {
    conn: Connection,
    /// The database file, as errors name it.
    file: String,
}

impl SqliteDb {
    /// Opens (creating if needed) the database file in `dir` and brings it up to date.
    pub(crate) fn open(dir: &Path) -> Result<SqliteDb> {
        let file = dir.join(crate::DB_FILE);
        let shown = file.display().to_string();
        let conn = schema::connect(&file, &shown)?;
        Ok(SqliteDb { conn, file: shown })
    }

    fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql { path: self.file.clone(), source }
    }
}

/// One process trains into a folder store at a time: a lock on
/// `.training.lock`, released by the operating system if the process dies.
pub(crate) fn lock_for_training(root: &Path) -> Result<TrainingLock> {
    let path = root.join(".training.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(TrainingLock::new(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Invalid {
            path: root.display().to_string(),
            message: "another mosaic process is training into this store; wait for it, stop it, or use another --store".into(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Io { path: path.display().to_string(), source }),
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Real(v) => ValueRef::Real(*v),
            Val::Text(v) => ValueRef::Text(v.as_bytes()),
            Val::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

fn val(v: ValueRef<'_>) -> Val {
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(v) => Val::Int(v),
        ValueRef::Real(v) => Val::Real(v),
        ValueRef::Text(v) => Val::Text(String::from_utf8_lossy(v).into_owned()),
        ValueRef::Blob(v) => Val::Blob(v.to_vec()),
    }
}

impl Db for SqliteDb {
    fn exec(&self, sql: &str, args: &[Val]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.error(e))?;
        stmt.execute(params_from_iter(args)).map(|n| n as u64).map_err(|e| self.error(e))
    }

    fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.error(e))?;
        let columns = stmt.column_count();
        let db: Rc<str> = Rc::from(self.file.as_str());
        let mut rows = stmt.query(params_from_iter(args)).map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let values = (0..columns).map(|i| row.get_ref(i).map(val)).collect::<rusqlite::Result<_>>().map_err(|e| self.error(e))?;
            out.push(Row { values, db: db.clone() });
        }
        Ok(out)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.error(e))
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn shown(&self) -> &str {
        &self.file
    }
}
