//! The sparse neighbourhood graph under PHATE: compressed rows, the
//! alpha-decay kernel built from feature rows in blocks (never an n x n
//! matrix) or from a given distance matrix, and the products PHATE needs.

use faer::Mat;
use faer::traits::RealField;
use rayon::prelude::*;

use crate::dense::{settle_vector_state, transposed};
use crate::kdtree::{self, KdTree};

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
        self.dense_in()
    }

    /// The dense matrix in single precision.
    pub fn to_dense_f32(&self) -> Mat<f32> {
        self.dense_in()
    }

    fn dense_in<T: RealField + Copy>(&self) -> Mat<T> {
        let mut m = Mat::zeros(self.rows, self.cols);
        for i in 0..self.rows {
            for (c, v) in self.entries(i) {
                m[(i, c)] = T::from_f64_impl(v);
            }
        }
        m
    }

    /// `self * other`, both sparse (rows in parallel, each gathered in a dense accumulator).
    pub fn mul_sparse(&self, other: &Sparse) -> Sparse {
        assert_eq!(self.cols, other.rows);
        let rows: Vec<Vec<(usize, f64)>> = (0..self.rows)
            .into_par_iter()
            .map_init(
                || (vec![0.0; other.cols], vec![false; other.cols]),
                |(acc, seen), i| {
                    let mut touched = Vec::new();
                    let (cols, vals) = self.row(i);
                    for (&k, &a) in cols.iter().zip(vals) {
                        let (cols2, vals2) = other.row(k);
                        for (&j, &b) in cols2.iter().zip(vals2) {
                            if !seen[j] {
                                seen[j] = true;
                                touched.push(j);
                            }
                            acc[j] += a * b;
                        }
                    }
                    touched.sort_unstable();
                    touched
                        .into_iter()
                        .map(|j| {
                            let v = std::mem::take(&mut acc[j]);
                            seen[j] = false;
                            (j, v)
                        })
                        .collect()
                },
            )
            .collect();
        Sparse::from_rows(other.cols, rows)
    }

    /// Every entry `v` at (i, j) replaced by `f(i, j, v)`.
    pub fn scaled(&self, f: impl Fn(usize, usize, f64) -> f64) -> Sparse {
        let mut out = self.clone();
        for i in 0..self.rows {
            for k in self.indptr[i]..self.indptr[i + 1] {
                out.values[k] = f(i, self.indices[k], self.values[k]);
            }
        }
        out
    }

    /// `self + self^T` of a square matrix.
    pub fn plus_transpose(&self) -> Sparse {
        assert_eq!(self.rows, self.cols);
        let t = self.transpose();
        Sparse::from_rows(self.cols, (0..self.rows).map(|i| self.entries(i).chain(t.entries(i)).collect()).collect())
    }

    fn entries(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (cols, vals) = self.row(i);
        cols.iter().copied().zip(vals.iter().copied())
    }

    /// `self * x` in single precision for a symmetric `self` and a symmetric
    /// `x` that commute (powers of one matrix), so that the product is
    /// symmetric: its column i, which is also its row i, is the sum of the
    /// columns of `x` that row i of `self` names, each contiguous.
    pub fn mul_symmetric_f32(&self, x: &Mat<f32>) -> Mat<f32> {
        assert_eq!((self.rows, self.cols), (x.nrows(), x.ncols()));
        let mut out = Mat::<f32>::zeros(self.rows, self.rows);
        out.as_mut().par_col_chunks_mut(16).enumerate().for_each(|(chunk, mut block)| {
            for c in 0..block.ncols() {
                let column = block.as_mut().col_mut(c).try_as_col_major_mut().expect("contiguous").as_slice_mut();
                for (j, a) in self.entries(chunk * 16 + c) {
                    let (a, source) = (a as f32, x.col(j).try_as_col_major().expect("contiguous columns").as_slice());
                    column.iter_mut().zip(source).for_each(|(o, v)| *o += a * v);
                }
            }
        });
        out
    }

    /// `self * m` for a dense `m`: rows in parallel, each a sum of rows of
    /// `m` (transposed first, so each is contiguous). In `m`'s precision.
    pub fn mul_dense<T: RealField + Copy + std::ops::AddAssign + std::ops::Mul<Output = T> + Send + Sync + 'static>(
        &self,
        m: &Mat<T>,
    ) -> Mat<T> {
        assert_eq!(self.cols, m.nrows());
        let w = m.ncols();
        let of = |a: f64| T::from_f64_impl(a);
        if w == 1 {
            let by_row = m.col(0).try_as_col_major().expect("contiguous").as_slice();
            // One column: a gather per row (no per-entry slices).
            let mut out = vec![of(0.0); self.rows];
            out.par_chunks_mut(2048).enumerate().for_each(|(task, chunk)| {
                for (r, o) in chunk.iter_mut().enumerate() {
                    let i = task * 2048 + r;
                    let range = self.indptr[i]..self.indptr[i + 1];
                    let mut sum = of(0.0);
                    for (&j, &a) in self.indices[range.clone()].iter().zip(&self.values[range]) {
                        sum += of(a) * by_row[j];
                    }
                    *o = sum;
                }
            });
            return Mat::from_fn(self.rows, 1, |i, _| out[i]);
        }
        // Output row i is column i of the transposed result, so each task
        // writes contiguous columns.
        let source = transposed(m.as_ref());
        let mut out = Mat::<T>::zeros(w, self.rows);
        let per_task = (4096 / w).max(1);
        out.as_mut().par_col_chunks_mut(per_task).enumerate().for_each(|(task, mut block)| {
            for r in 0..block.ncols() {
                let row = block.as_mut().col_mut(r).try_as_col_major_mut().expect("contiguous").as_slice_mut();
                for (j, a) in self.entries(task * per_task + r) {
                    let (a, x) = (of(a), source.col(j).try_as_col_major().expect("contiguous").as_slice());
                    row.iter_mut().zip(x).for_each(|(o, &x)| *o += a * x);
                }
            }
        });
        transposed(out.as_ref())
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
    candidates.iter().map(|&(j, dist)| (j, (-(dist / bandwidth).powf(decay)).exp())).filter(|e| e.1 >= THRESH).collect()
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
    let rows: Vec<Vec<(usize, f64)>> =
        (0..n).into_par_iter().map(|i| decay_row(&(0..n).map(|j| (j, distances[(i, j)])).collect::<Vec<_>>(), k, decay, true)).collect();
    symmetrise(n, rows)
}

/// Rows per block when distances are computed blockwise: the n x BLOCK
/// products must stay in cache (at 512 the same work takes 5x longer).
const BLOCK: usize = 128;

/// The symmetrised alpha-decay kernel of feature rows (`n x d`). In up to
/// [`kdtree::MAX_DIMS`] dimensions a k-d tree answers each row's queries;
/// above, rows go a block at a time: squared distances from the Gram matrix
/// pick each row's neighbourhood (with slack for rounding), exact distances
/// give the values. Memory is O(BLOCK * n + nnz), never n x n.
pub fn kernel_from_features(x: &Mat<f64>, knn: usize, decay: f64) -> Sparse {
    let (n, d) = (x.nrows(), x.ncols());
    let k = clamp_knn(knn, n);
    // Centring leaves distances alone and keeps the Gram entries small.
    let mean: Vec<f64> = (0..d).map(|c| (0..n).map(|i| x[(i, c)]).sum::<f64>() / n.max(1) as f64).collect();
    let x = Mat::from_fn(n, d, |i, c| x[(i, c)] - mean[c]);
    let reach = cutoff(decay).max(1.0);
    if d <= kdtree::MAX_DIMS {
        // Few dimensions: a k-d tree finds each row's k-th neighbour and
        // everything the kernel can reach from it, with the same exact distances.
        let tree = KdTree::new(n, d, |i, c| x[(i, c)]);
        let rows: Vec<Vec<(usize, f64)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let q: Vec<f64> = (0..d).map(|c| x[(i, c)]).collect();
                // The point itself comes first, at 0.
                let kth = tree.kth_distance2(&q, k + 1);
                let limit = kth * reach * reach * (1.0 + 1e-9);
                let candidates: Vec<(usize, f64)> =
                    tree.within(&q, limit).into_iter().map(|(j, d2)| (j, if j == i { 0.0 } else { d2.sqrt() })).collect();
                decay_row(&candidates, k, decay, true)
            })
            .collect();
        return symmetrise(n, rows);
    }
    let norms: Vec<f64> = (0..n).map(|i| (0..d).map(|c| x[(i, c)] * x[(i, c)]).sum()).collect();
    let largest = norms.iter().copied().fold(0.0, f64::max);
    let exact = |i: usize, j: usize| (0..d).map(|c| (x[(i, c)] - x[(j, c)]).powi(2)).sum::<f64>().sqrt();
    let mut rows = Vec::with_capacity(n);
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        // n x block, so each block row's products lie contiguous in a column.
        let gram = &x * x.subrows(start, end - start).transpose();
        settle_vector_state();
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
