//! The sparse neighbourhood graph under PHATE: compressed rows, the
//! alpha-decay kernel built from feature rows in blocks (never an n x n
//! matrix) or from a given distance matrix, and the products PHATE needs.

use faer::Mat;
use rayon::prelude::*;

/// Kernel entries below this are zeroed (graphtools' `thresh`).
pub const THRESH: f64 = 1e-4;

/// A sparse matrix in compressed-row form; each row's columns ascend.
#[derive(Clone, Debug, PartialEq)]
pub struct Sparse {
    pub rows: usize,
    pub cols: usize,
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
}

impl Sparse {
    /// From each row's (column, value) entries; repeated columns are summed.
    pub fn from_rows(cols: usize, rows: Vec<Vec<(usize, f64)>>) -> Sparse {
        let count = rows.len();
        let mut indptr = Vec::with_capacity(count + 1);
        indptr.push(0);
        let (mut indices, mut values) = (Vec::new(), Vec::new());
        for mut row in rows {
            row.sort_by_key(|e| e.0);
            for (c, v) in row {
                debug_assert!(c < cols);
                if indices.len() > *indptr.last().unwrap() && *indices.last().unwrap() == c {
                    *values.last_mut().unwrap() += v;
                } else {
                    indices.push(c);
                    values.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Sparse { rows: count, cols, indptr, indices, values }
    }

    /// Row `i` as (columns, values).
    pub fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.values[r])
    }

    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        let (cols, vals) = self.row(i);
        cols.binary_search(&j).map_or(0.0, |k| vals[k])
    }

    pub fn transpose(&self) -> Sparse {
        let mut rows = vec![Vec::new(); self.cols];
        for i in 0..self.rows {
            let (cols, vals) = self.row(i);
            for (&c, &v) in cols.iter().zip(vals) {
                rows[c].push((i, v));
            }
        }
        Sparse::from_rows(self.rows, rows)
    }

    pub fn row_sums(&self) -> Vec<f64> {
        (0..self.rows).map(|i| self.row(i).1.iter().sum()).collect()
    }

    /// Each row divided by its sum (rows summing to zero stay zero).
    pub fn row_normalised(&self) -> Sparse {
        let mut out = self.clone();
        for i in 0..self.rows {
            let sum: f64 = self.row(i).1.iter().sum();
            if sum > 0.0 {
                out.values[self.indptr[i]..self.indptr[i + 1]].iter_mut().for_each(|v| *v /= sum);
            }
        }
        out
    }

    pub fn to_dense(&self) -> Mat<f64> {
        let mut m = Mat::zeros(self.rows, self.cols);
        for i in 0..self.rows {
            let (cols, vals) = self.row(i);
            for (&c, &v) in cols.iter().zip(vals) {
                m[(i, c)] = v;
            }
        }
        m
    }

    /// `self * m` for a dense `m` (columns in parallel).
    pub fn mul_dense(&self, m: &Mat<f64>) -> Mat<f64> {
        assert_eq!(self.cols, m.nrows());
        let columns: Vec<Vec<f64>> = (0..m.ncols())
            .into_par_iter()
            .map(|c| {
                let col = m.col(c);
                (0..self.rows)
                    .map(|i| {
                        let (cols, vals) = self.row(i);
                        cols.iter().zip(vals).map(|(&j, &v)| v * col[j]).sum()
                    })
                    .collect()
            })
            .collect();
        Mat::from_fn(self.rows, m.ncols(), |i, c| columns[c][i])
    }
}

/// The alpha-decay affinity of one point to others at `distances`:
/// `exp(-(d / bw)^decay)` with `bw` the distance to its `knn`-th nearest
/// (`skip_self`: the point itself is among `distances`, at 0, and is not a
/// neighbour). Entries below [`THRESH`] are dropped.
pub fn decay_row(candidates: &[(usize, f64)], knn: usize, decay: f64, skip_self: bool) -> Vec<(usize, f64)> {
    let mut d: Vec<f64> = candidates.iter().map(|c| c.1).collect();
    let k = (knn - usize::from(!skip_self)).min(d.len().saturating_sub(1));
    let bandwidth = if d.is_empty() { 1.0 } else { d.select_nth_unstable_by(k, f64::total_cmp).1.max(f64::EPSILON) };
    candidates
        .iter()
        .map(|&(j, dist)| (j, (-(dist / bandwidth).powf(decay)).exp()))
        .filter(|e| e.1 >= THRESH)
        .collect()
}

/// Distance beyond which the kernel of a point with bandwidth 1 is below [`THRESH`].
fn cutoff(decay: f64) -> f64 {
    (-THRESH.ln()).powf(decay.recip())
}

/// graphtools clamps knn to n - 2.
fn clamp_knn(knn: usize, n: usize) -> usize {
    knn.min(n.saturating_sub(2)).max(1)
}

/// The symmetrised alpha-decay kernel `K = (K0 + K0^T) / 2` of a distance matrix.
pub fn kernel_from_distances(distances: &Mat<f64>, knn: usize, decay: f64) -> Sparse {
    let n = distances.nrows();
    let k = clamp_knn(knn, n);
    let rows: Vec<Vec<(usize, f64)>> = (0..n)
        .into_par_iter()
        .map(|i| decay_row(&(0..n).map(|j| (j, distances[(i, j)])).collect::<Vec<_>>(), k, decay, true))
        .collect();
    symmetrise(n, rows)
}

/// Rows per block when distances are computed blockwise: the n x BLOCK
/// products must stay in cache (at 512 the same work takes 5x longer).
const BLOCK: usize = 128;

/// The symmetrised alpha-decay kernel of feature rows (`n x d`), built a
/// block of rows at a time: squared distances from the Gram matrix pick each
/// row's neighbourhood (with slack for rounding), exact distances give the
/// values. Memory is O(BLOCK * n + nnz), never n x n.
pub fn kernel_from_features(x: &Mat<f64>, knn: usize, decay: f64) -> Sparse {
    let (n, d) = (x.nrows(), x.ncols());
    let k = clamp_knn(knn, n);
    // Centring leaves distances alone and keeps the Gram entries small.
    let mean: Vec<f64> = (0..d).map(|c| (0..n).map(|i| x[(i, c)]).sum::<f64>() / n.max(1) as f64).collect();
    let x = Mat::from_fn(n, d, |i, c| x[(i, c)] - mean[c]);
    let norms: Vec<f64> = (0..n).map(|i| (0..d).map(|c| x[(i, c)] * x[(i, c)]).sum()).collect();
    let largest = norms.iter().copied().fold(0.0, f64::max);
    let exact = |i: usize, j: usize| (0..d).map(|c| (x[(i, c)] - x[(j, c)]).powi(2)).sum::<f64>().sqrt();
    let reach = cutoff(decay).max(1.0);
    let mut rows = Vec::with_capacity(n);
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        // n x block, so each block row's products lie contiguous in a column.
        let gram = &x * x.subrows(start, end - start).transpose();
        let block: Vec<Vec<(usize, f64)>> = (start..end)
            .into_par_iter()
            .map(|i| {
                let column = gram.col(i - start);
                let d2: Vec<f64> = (0..n).map(|j| (norms[i] + norms[j] - 2.0 * column[j]).max(0.0)).collect();
                let kth = kth_smallest(&d2, k);
                // Rounding in the Gram form is at most ~1e-15 of the norms; the slack covers it many times over.
                let slack = 1e-9 * (norms[i] + largest) + 1e-300;
                let limit = (kth + slack) * reach * reach + slack;
                let candidates: Vec<(usize, f64)> =
                    (0..n).filter(|&j| d2[j] <= limit).map(|j| (j, if j == i { 0.0 } else { exact(i, j) })).collect();
                decay_row(&candidates, k, decay, true)
            })
            .collect();
        rows.extend(block);
    }
    symmetrise(n, rows)
}

/// The `k`-th smallest value (0-based) in one pass, keeping the k + 1
/// smallest seen so far: far cheaper than a selection when k is small.
fn kth_smallest(values: &[f64], k: usize) -> f64 {
    let mut best: Vec<f64> = Vec::with_capacity(k + 2);
    for &v in values {
        if best.len() <= k || v < best[k] {
            let at = best.partition_point(|&b| b <= v);
            best.insert(at, v);
            best.truncate(k + 1);
        }
    }
    best[k.min(best.len() - 1)]
}

/// `(K0 + K0^T) / 2` from K0's rows.
fn symmetrise(n: usize, rows: Vec<Vec<(usize, f64)>>) -> Sparse {
    let mut both = vec![Vec::new(); n];
    for (i, row) in rows.into_iter().enumerate() {
        for (j, v) in row {
            both[i].push((j, 0.5 * v));
            both[j].push((i, 0.5 * v));
        }
    }
    Sparse::from_rows(n, both)
}

/// `m^t` of a dense square matrix by repeated squaring (about 2 log2(t)
/// products, each a multithreaded dense product).
pub fn matrix_power(m: &Mat<f64>, t: usize) -> Mat<f64> {
    let mut result: Option<Mat<f64>> = None;
    let mut base = m.clone();
    let mut e = t;
    loop {
        if e & 1 == 1 {
            result = Some(match result {
                None => base.clone(),
                Some(r) => &r * &base,
            });
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        base = &base * &base;
    }
    result.unwrap_or_else(|| Mat::identity(m.nrows(), m.ncols()))
}
