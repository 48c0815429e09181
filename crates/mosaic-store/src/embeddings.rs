//! The `embeddings` table: a sweep's networks placed in 3-D, one set per kind.

use crate::db::{Val, args, transaction};
use crate::sql_store::SqlStore;
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
pub(crate) fn save(store: &mut SqlStore, sweep: i64, kind: EmbeddingKind, t: usize, coords: &[(i64, [f64; 3])]) -> Result<()> {
    if let Some((run, _)) = coords.iter().find(|(_, c)| c.iter().any(|v| !v.is_finite())) {
        return Err(store.invalid(format!("embedding of run {run} is not finite; nothing was stored")));
    }
    let (db, kind) = (store.db.as_ref(), kind.as_str());
    transaction(db, || {
        db.exec("DELETE FROM embeddings WHERE sweep = ?1 AND kind = ?2", args![sweep, kind])?;
        for (run, c) in coords {
            db.exec(
                "INSERT INTO embeddings (sweep, kind, run, t, x, y, z) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &[Val::Int(sweep), kind.into(), Val::Int(*run), Val::Int(t as i64), Val::Real(c[0]), Val::Real(c[1]), Val::Real(c[2])],
            )?;
        }
        Ok(())
    })
}

/// A sweep's stored embedding of one kind: the t used, and run ids with coordinates.
pub(crate) fn load(store: &SqlStore, sweep: i64, kind: EmbeddingKind) -> Result<Option<Embedding>> {
    let rows = store
        .db
        .query("SELECT run, t, x, y, z FROM embeddings WHERE sweep = ?1 AND kind = ?2 ORDER BY run", args![sweep, kind.as_str()])?;
    let mut t = 0;
    let mut coords = Vec::with_capacity(rows.len());
    for r in &rows {
        t = r.int(1)? as usize;
        coords.push((r.int(0)?, [r.real(2)?, r.real(3)?, r.real(4)?]));
    }
    Ok((!coords.is_empty()).then_some((t, coords)))
}
