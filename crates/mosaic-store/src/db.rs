//! One SQL vocabulary over both backends: the table modules write each query
//! once (SQLite's `?1` placeholders, upserts with `ON CONFLICT`, `RETURNING`),
//! and [`Db`] runs it on SQLite or PostgreSQL. Values cross as [`Val`], so
//! the same code reads and writes either database, and `store copy` moves
//! any table between them column by column.

use std::rc::Rc;

use crate::{Result, StoreError};

/// One SQL value, as both backends hold it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}

impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Val {
        Val::Blob(v)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// A number for a REAL column: missing when not finite (a diverged loss is
/// stored as NULL and read back as NaN).
pub(crate) fn finite(v: f64) -> Val {
    if v.is_finite() { Val::Real(v) } else { Val::Null }
}

/// Builds the argument list of a query: `args![sweep, name, value]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Val::from($v)),*] as &[$crate::db::Val] };
}
pub(crate) use args;

/// One result row; its getters name the column and the database when a
/// value is not what the schema promises.
pub(crate) struct Row {
    pub(crate) values: Vec<Val>,
    pub(crate) db: Rc<str>,
}

impl Row {
    fn wrong(&self, i: usize, wanted: &str) -> StoreError {
        StoreError::Invalid { path: self.db.to_string(), message: format!("column {i} holds {:?}, not {wanted}", self.values.get(i)) }
    }

    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.values.get(i) {
            Some(Val::Null) => Ok(None),
            Some(Val::Int(v)) => Ok(Some(*v)),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| self.wrong(i, "an integer"))
    }

    pub(crate) fn opt_real(&self, i: usize) -> Result<Option<f64>> {
        match self.values.get(i) {
            Some(Val::Null) => Ok(None),
            Some(Val::Real(v)) => Ok(Some(*v)),
            // SQLite hands back a whole number stored in a REAL column as written.
            Some(Val::Int(v)) => Ok(Some(*v as f64)),
            _ => Err(self.wrong(i, "a number")),
        }
    }

    pub(crate) fn real(&self, i: usize) -> Result<f64> {
        self.opt_real(i)?.ok_or_else(|| self.wrong(i, "a number"))
    }

    /// A REAL column whose NULL means "no value": read as NaN.
    pub(crate) fn real_or_nan(&self, i: usize) -> Result<f64> {
        Ok(self.opt_real(i)?.unwrap_or(f64::NAN))
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.values.get(i) {
            Some(Val::Null) => Ok(None),
            Some(Val::Text(v)) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "text")),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| self.wrong(i, "text"))
    }

    pub(crate) fn blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.values.get(i) {
            Some(Val::Blob(v)) => Ok(v.clone()),
            _ => Err(self.wrong(i, "bytes")),
        }
    }
}

/// Which database a [`Db`] speaks to: the few statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Starts a transaction that writes: SQLite takes the write lock at once
    /// (two writers would otherwise both read, then one fail to upgrade).
    pub(crate) fn begin(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// The database's clock in seconds since 1970: leases are measured on
    /// one clock, whatever the workers' clocks say.
    pub(crate) fn now(self) -> &'static str {
        match self {
            Backend::Sqlite => "(unixepoch('subsec'))",
            Backend::Postgres => "(extract(epoch from clock_timestamp())::float8)",
        }
    }

    /// What a claim adds to the row it picks so that concurrent claimers
    /// skip it rather than wait (SQLite has one writer at a time anyway).
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A connection to one store's database.
pub(crate) trait Db: Send {
    /// Runs a statement; returns how many rows it changed.
    fn exec(&self, sql: &str, args: &[Val]) -> Result<u64>;
    /// Runs a query; returns its rows.
    fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>>;
    /// Runs statements without arguments, separated by `;`.
    fn batch(&self, sql: &str) -> Result<()>;
    fn backend(&self) -> Backend;
    /// The database as errors name it (a file, or a URL without its password).
    fn shown(&self) -> &str;

    /// The one row a query returns (`RETURNING id`, `COUNT(*)`).
    fn query_one(&self, sql: &str, args: &[Val]) -> Result<Row> {
        self.query(sql, args)?
            .pop()
            .ok_or_else(|| StoreError::Invalid { path: self.shown().to_string(), message: format!("no row from {sql}") })
    }
}

/// Runs `f` in one transaction: committed if it returns `Ok`, rolled back otherwise.
pub(crate) fn transaction<T>(db: &dyn Db, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.batch(db.backend().begin())?;
    match f() {
        Ok(v) => {
            db.batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            // The rollback's own failure (a lost connection) must not hide why.
            let _ = db.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// `?1`, `?2`… as PostgreSQL writes them: `$1`, `$2`… (no query holds a `?` otherwise).
pub(crate) fn numbered_dollars(sql: &str) -> String {
    sql.replace('?', "$")
}

pub(crate) fn encode_f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn decode_f64s(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_blobs_round_trip() {
        let v = vec![0.0, -1.5, f64::MAX, 1e-300];
        assert_eq!(decode_f64s(&encode_f64s(&v)), v);
    }

    #[test]
    fn placeholders_are_renumbered_for_postgres() {
        assert_eq!(numbered_dollars("UPDATE runs SET value = ?2 WHERE id = ?1"), "UPDATE runs SET value = $2 WHERE id = $1");
    }

    #[test]
    fn non_finite_numbers_are_stored_as_missing() {
        assert_eq!(finite(f64::NAN), Val::Null);
        assert_eq!(finite(f64::INFINITY), Val::Null);
        assert_eq!(finite(0.5), Val::Real(0.5));
    }
}
