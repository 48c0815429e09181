//! The `embeddings` table: a sweep's networks placed in 3-D, one set per kind.

use rusqlite::params;

use crate::sqlite::{SqliteStore, sql_error};
use crate::{Embedding, Result, StoreError};

/// What an embedding places networks by. Stored as [`EmbeddingKind::as_str`]
/// (`representation`, `architecture`), the strings stores have always held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmbeddingKind {
    /// By what the trained networks compute: PHATE over their probe activations.
    Representation,
    /// By what the networks are: their encodings.
    Architecture,
}

impl EmbeddingKind {
    pub const ALL: [EmbeddingKind; 2] = [EmbeddingKind::Representation, EmbeddingKind::Architecture];

    /// The name in the store and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            EmbeddingKind::Representation => "representation",
            EmbeddingKind::Architecture => "architecture",
        }
    }
}

impl std::fmt::Display for EmbeddingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EmbeddingKind {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<EmbeddingKind> {
        EmbeddingKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| StoreError::UnknownEmbeddingKind { kind: s.to_string() })
    }
}

/// Replaces a sweep's embedding of one kind with `coords`, in one transaction;
/// refused whole if a coordinate is not finite.
pub(crate) fn save(store: &mut SqliteStore, sweep: i64, kind: EmbeddingKind, t: usize, coords: &[(i64, [f64; 3])]) -> Result<()> {
    if let Some((run, _)) = coords.iter().find(|(_, c)| c.iter().any(|v| !v.is_finite())) {
        return Err(StoreError::Invalid {
            path: store.db.clone(),
            message: format!("embedding of run {run} is not finite; nothing was stored"),
        });
    }
    let (sql, kind) = (sql_error(&store.db), kind.as_str());
    let tx = store.conn.transaction().map_err(&sql)?;
    tx.execute("DELETE FROM embeddings WHERE sweep = ?1 AND kind = ?2", params![sweep, kind]).map_err(&sql)?;
    {
        let mut insert =
            tx.prepare("INSERT INTO embeddings (sweep, kind, run, t, x, y, z) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(&sql)?;
        for (run, c) in coords {
            insert.execute(params![sweep, kind, run, t as i64, c[0], c[1], c[2]]).map_err(&sql)?;
        }
    }
    tx.commit().map_err(&sql)
}

/// A sweep's stored embedding of one kind: the t used, and run ids with coordinates.
pub(crate) fn load(store: &SqliteStore, sweep: i64, kind: EmbeddingKind) -> Result<Option<Embedding>> {
    let mut stmt =
        store.conn.prepare("SELECT run, t, x, y, z FROM embeddings WHERE sweep = ?1 AND kind = ?2 ORDER BY run").map_err(store.sql())?;
    let rows = stmt
        .query_map(params![sweep, kind.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, [r.get(2)?, r.get(3)?, r.get(4)?])))
        .map_err(store.sql())?;
    let mut t = 0;
    let mut coords = Vec::new();
    for row in rows {
        let (run, rt, c) = row.map_err(store.sql())?;
        t = rt as usize;
        coords.push((run, c));
    }
    Ok((!coords.is_empty()).then_some((t, coords)))
}
