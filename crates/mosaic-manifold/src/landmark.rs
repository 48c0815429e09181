//! Landmarks for large n, as graphtools (`LandmarkGraph.build_landmark_op`)
//! builds them for PHATE: the leading singular vectors V of the symmetric
//! diffusion affinity `A = D^-1/2 K D^-1/2` (graphtools' `diff_aff`; A is
//! symmetric, so they are its eigenvectors of largest |eigenvalue|) give
//! every point the coordinates `P V` (its `diff_op @ VT.T`); k-means on
//! them groups the points (spectral clustering), each group becomes a
//! landmark, and diffusion runs between landmarks through
//! `P_landmark = P_mn P_nm` (landmark -> points -> landmark). Every point's
//! coordinates are then its transitions to the landmarks times theirs.

use faer::{Mat, Side};
use rayon::prelude::*;

use crate::ManifoldError;
use crate::dense::{orthonormalise, settle_vector_state, symmetric_product};
use crate::diffusion::Diffusion;
use crate::graph::Sparse;

/// Singular vectors used for the spectral clustering (graphtools' `n_svd`).
pub const SPECTRAL_DIMS: usize = 100;

/// The landmark structure of one graph.
#[derive(Clone, Debug)]
pub struct Landmarks {
    /// Each point's landmark.
    pub cluster: Vec<usize>,
    /// Transitions from points to landmarks (n x L, rows sum to 1).
    pub transitions: Sparse,
    /// Diffusion between landmarks, `P_landmark = from * transitions` (L x L, rows sum to 1).
    pub operator: Diffusion,
}

/// A small deterministic generator (SplitMix64) for seeds and starts.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub(crate) fn symmetric(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Every point's spectral coordinates as graphtools computes them: `P V`,
/// V the `dims` leading eigenvectors (by |eigenvalue|, which for a
/// symmetric matrix are its leading singular vectors) of the symmetric
/// diffusion affinity `A = D^-1/2 K D^-1/2`, D the kernel's degrees. V comes
/// from randomized subspace iteration (Halko et al. 2011) with sparse
/// products only, as scikit-learn's `randomized_svd` that graphtools calls:
/// 10 extra directions, 7 rounds of `A A` (4 when `dims` is at least a tenth
/// of the points).
pub fn spectral_coordinates(kernel: &Sparse, p: &Sparse, dims: usize, seed: u64) -> Result<Mat<f64>, ManifoldError> {
    let n = p.rows;
    let width = (dims + 10).min(n);
    let inverse_root: Vec<f64> = kernel.row_sums().iter().map(|d| d.sqrt().recip()).collect();
    let a = kernel.scaled(|i, j, v| v * inverse_root[i] * inverse_root[j]);
    let mut rng = SplitMix(seed);
    // The subspace is found in single precision (these products are bound by
    // memory, and k-means, their only user, measures in single precision);
    // the Rayleigh-Ritz step below is in double.
    let omega = Mat::from_fn(n, width, |_, _| rng.symmetric() as f32);
    let rounds = if dims * 10 < n { 7 } else { 4 };
    // Eigenvalues of A lie in [-1, 1], so a round's conditioning stays mild
    // and one orthonormalisation per round suffices.
    let mut q = orthonormalise(a.mul_dense(&omega));
    for _ in 0..rounds {
        q = orthonormalise(a.mul_dense(&a.mul_dense(&q)));
    }
    let q = Mat::from_fn(n, width, |i, j| q[(i, j)] as f64);
    // Rayleigh-Ritz: A on the captured range is Q (Q^T A Q) Q^T.
    let aq = a.mul_dense(&q);
    let small = q.transpose() * &aq;
    settle_vector_state();
    let small = Mat::from_fn(width, width, |i, j| 0.5 * (small[(i, j)] + small[(j, i)]));
    let eig = small.self_adjoint_eigen(Side::Lower).map_err(|e| ManifoldError::Numerics(format!("{e:?}")))?;
    let (w, values) = (eig.U(), eig.S().column_vector());
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&x, &y| values[y].abs().total_cmp(&values[x].abs()));
    let keep = dims.min(width);
    let qw = &q * w;
    let v = Mat::from_fn(n, keep, |i, k| qw[(i, order[k])]);
    Ok(p.mul_dense(&v))
}

/// K-means (Lloyd) into at most `k` groups, started from `k` distinct rows
/// drawn with `seed` by k-means++ on a sample of at most 3 k rows (as
/// scikit-learn's `MiniBatchKMeans` in graphtools); stops when under 1 % of
/// points move or after `iterations`. Empty groups are dropped; groups are renumbered 0.. in order
/// of their first point. The first pass measures every centre; later ones
/// only those the triangle inequality leaves in reach, with the same result.
pub fn kmeans(x: &Mat<f64>, k: usize, iterations: usize, seed: u64) -> Vec<usize> {
    let (n, d) = (x.nrows(), x.ncols());
    let k = k.min(n).max(1);
    // Distances in single precision (the nearest centre is all that is
    // asked), sums in double.
    let xs = Mat::<f32>::from_fn(n, d, |i, j| x[(i, j)] as f32);
    let by_row: Vec<f64> = (0..n).flat_map(|i| (0..d).map(move |j| x[(i, j)])).collect();
    let rows: Vec<f32> = by_row.iter().map(|&v| v as f32).collect();
    let starts = plus_plus_starts(&rows, n, d, k, seed);
    let mut centres = Mat::<f32>::from_fn(k, d, |c, j| xs[(starts[c], j)]);
    let mut label = vec![usize::MAX; n];
    for iteration in 0..iterations.max(1) {
        let centre_norms: Vec<f32> = (0..k).map(|c| (0..d).map(|j| centres[(c, j)].powi(2)).sum()).collect();
        let nearest = if iteration == 0 {
            nearest_of_all(&xs, &centres, &centre_norms)
        } else {
            nearest_of_candidates(&rows, &centres, &centre_norms, &label)
        };
        let moved = label.iter().zip(&nearest).filter(|(a, b)| a != b).count();
        label = nearest;
        let mut sums = vec![0.0f64; k * d];
        let mut counts = vec![0usize; k];
        for i in 0..n {
            counts[label[i]] += 1;
            sums[label[i] * d..(label[i] + 1) * d].iter_mut().zip(&by_row[i * d..(i + 1) * d]).for_each(|(s, v)| *s += v);
        }
        for c in 0..k {
            if counts[c] > 0 {
                for j in 0..d {
                    centres[(c, j)] = (sums[c * d + j] / counts[c] as f64) as f32;
                }
            }
        }
        // The passes after 1 % move little: at 10,000 points (2,000 groups) the last four of
        // eight moved 91, 46, 19 and 7 points, and the embedding kept a Procrustes disparity of 1.5e-5.
        if moved * 100 <= n {
            break;
        }
    }
    let mut renumber = vec![usize::MAX; k];
    let mut next = 0;
    for l in &mut label {
        if renumber[*l] == usize::MAX {
            renumber[*l] = next;
            next += 1;
        }
        *l = renumber[*l];
    }
    label
}

/// `k` distinct starting rows by k-means++ (Arthur & Vassilvitskii 2007)
/// on a seeded sample of at most `3 k` rows, as scikit-learn's
/// `MiniBatchKMeans` (`init_size = 3 * n_landmark`) that graphtools runs:
/// the first uniformly, each next one with probability proportional to its
/// squared distance to the nearest chosen so far. `rows` holds the points
/// row by row.
fn plus_plus_starts(rows: &[f32], n: usize, d: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix(seed ^ 0x5EED);
    let m = (3 * k).min(n);
    let mut sample: Vec<usize> = (0..n).collect();
    for i in 0..m {
        let j = i + (rng.next() % (n - i) as u64) as usize;
        sample.swap(i, j);
    }
    sample.truncate(m);
    let point = |i: usize| &rows[i * d..(i + 1) * d];
    let uniform = |rng: &mut SplitMix| (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    let mut chosen = vec![sample[(rng.next() % m as u64) as usize]];
    let mut nearest = vec![f32::INFINITY; m];
    while chosen.len() < k {
        let last = point(chosen[chosen.len() - 1]);
        nearest.par_iter_mut().zip(&sample).for_each(|(best, &i)| *best = best.min(squared_distance(point(i), last)));
        let total: f64 = nearest.iter().map(|&v| v as f64).sum();
        let next = if total > 0.0 {
            let mut target = uniform(&mut rng) * total;
            let mut pick = m - 1;
            for (s, &v) in nearest.iter().enumerate() {
                target -= v as f64;
                if target < 0.0 && v > 0.0 {
                    pick = s;
                    break;
                }
            }
            sample[pick]
        } else {
            // Every sampled row is a chosen one: any other row will do.
            match (0..n).find(|i| !chosen.contains(i)) {
                Some(i) => i,
                None => break,
            }
        };
        if chosen.contains(&next) {
            // Only rounding can pick a chosen row (its distance is 0): take the farthest instead.
            let far = (0..m).max_by(|&a, &b| nearest[a].total_cmp(&nearest[b])).expect("a sample");
            chosen.push(sample[far]);
        } else {
            chosen.push(next);
        }
    }
    chosen
}

/// Each point's nearest centre among all, a block of points at a time
/// through one product: |x - c|^2 = |x|^2 + |c|^2 - 2 x.c, and |x|^2 is the
/// same for every centre.
fn nearest_of_all(xs: &Mat<f32>, centres: &Mat<f32>, centre_norms: &[f32]) -> Vec<usize> {
    let n = xs.nrows();
    let mut nearest = Vec::with_capacity(n);
    for start in (0..n).step_by(1024) {
        let end = (start + 1024).min(n);
        let cross = centres * xs.subrows(start, end - start).transpose();
        settle_vector_state();
        nearest.par_extend(
            (start..end)
                .into_par_iter()
                .map(|i| nearest_centre(centre_norms, cross.col(i - start).try_as_col_major().expect("contiguous").as_slice())),
        );
    }
    nearest
}

/// Each point's nearest centre once every point has one (`label`): centre
/// j can be nearer to x than x's centre a only if |c_a - c_j| < 2 |x - c_a|
/// (the triangle inequality; Elkan 2003), so a point measures only the
/// centres that close to its own. Each centre first lists the centres
/// within twice its farthest point; its points then filter that list.
/// `rows` holds the points row by row.
fn nearest_of_candidates(rows: &[f32], centres: &Mat<f32>, centre_norms: &[f32], label: &[usize]) -> Vec<usize> {
    let (k, d) = (centres.nrows(), centres.ncols());
    let centre_rows: Vec<f32> = (0..k).flat_map(|c| (0..d).map(move |j| centres[(c, j)])).collect();
    let point = |i: usize| &rows[i * d..(i + 1) * d];
    let centre = |c: usize| &centre_rows[c * d..(c + 1) * d];
    let own: Vec<f32> = label.par_iter().enumerate().map(|(i, &a)| squared_distance(point(i), centre(a))).collect();
    let mut reach = vec![0.0f32; k];
    for (&a, &r) in label.iter().zip(&own) {
        reach[a] = reach[a].max(4.0 * r);
    }
    // Squared gaps between centres from their Gram matrix, with a margin for its rounding.
    let gram = symmetric_product(centres.as_ref(), centres.transpose());
    let near: Vec<Vec<(usize, f32)>> = (0..k)
        .into_par_iter()
        .map(|a| {
            let column = gram.col(a).try_as_col_major().expect("contiguous").as_slice();
            let gaps = column.iter().zip(centre_norms).map(|(&g, &norm)| (centre_norms[a] + norm) * (1.0 - 1e-5) - 2.0 * g);
            gaps.enumerate().filter(|&(j, gap)| j != a && gap < reach[a]).collect()
        })
        .collect();
    label
        .par_iter()
        .enumerate()
        .map(|(i, &a)| {
            let mut best = (a, own[i]);
            for &(j, gap) in &near[a] {
                if gap < 4.0 * own[i] {
                    let dist = squared_distance(point(i), centre(j));
                    if dist < best.1 || (dist == best.1 && j < best.0) {
                        best = (j, dist);
                    }
                }
            }
            best.0
        })
        .collect()
}

/// |x - c|^2 in eight lanes, so that it vectorises.
fn squared_distance(x: &[f32], c: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (xc, cc) = (x.chunks_exact(8), c.chunks_exact(8));
    let tail: f32 = xc.remainder().iter().zip(cc.remainder()).map(|(a, b)| (a - b) * (a - b)).sum();
    for (a, b) in xc.zip(cc) {
        for l in 0..8 {
            lanes[l] += (a[l] - b[l]) * (a[l] - b[l]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The first `c` minimising `|c|^2 - 2 x.c`, from the centres' squared
/// norms and their dot products with x. Two passes that both vectorise
/// (a scalar running argmin is one long dependency chain): the minimum by
/// lanes, then the first centre that attains it, recomputed by the same
/// expression so the comparison is exact.
fn nearest_centre(norms: &[f32], dots: &[f32]) -> usize {
    const LANES: usize = 16;
    let score = |c: usize| norms[c] - 2.0 * dots[c];
    let mut lanes = [f32::INFINITY; LANES];
    let (norm_chunks, dot_chunks) = (norms.chunks_exact(LANES), dots.chunks_exact(LANES));
    let tail = norm_chunks.remainder().len();
    for (n, d) in norm_chunks.zip(dot_chunks) {
        for l in 0..LANES {
            lanes[l] = lanes[l].min(n[l] - 2.0 * d[l]);
        }
    }
    let least = (norms.len() - tail..norms.len()).map(score).fold(lanes.into_iter().fold(f32::INFINITY, f32::min), f32::min);
    (0..norms.len()).find(|&c| score(c) == least).unwrap_or(0)
}

/// The landmark operator and transitions for kernel `kernel` with diffusion
/// operator `p`, grouped into at most `count` landmarks. `step_done` is
/// called with each step's name as it ends, for the timings.
pub fn landmarks(
    kernel: &Sparse,
    p: &Sparse,
    count: usize,
    seed: u64,
    step_done: &mut dyn FnMut(&'static str),
) -> Result<Landmarks, ManifoldError> {
    let coords = spectral_coordinates(kernel, p, SPECTRAL_DIMS.min(p.rows), seed)?;
    step_done("landmarks: spectral coordinates");
    let cluster = kmeans(&coords, count, KMEANS_ITERATIONS, seed);
    drop(coords);
    step_done("landmarks: k-means");
    let landmarks = from_clusters(kernel, p, cluster);
    step_done("landmarks: operator");
    Ok(landmarks)
}

/// Lloyd iterations of the landmark clustering at most.
const KMEANS_ITERATIONS: usize = 8;

/// The landmark structure for a given grouping of the points (labels `0..L`),
/// as graphtools builds it: `P_nm` the row-normalised transposed group sums
/// of K (each point's transitions to the groups), `P_mn` the row-normalised
/// group sums of K, `P_landmark = P_mn P_nm`.
pub fn from_clusters(kernel: &Sparse, p: &Sparse, cluster: Vec<usize>) -> Landmarks {
    let n = p.rows;
    let l = cluster.iter().max().map_or(0, |m| m + 1);
    // Point -> landmark: P's row mass on each group.
    let transitions = Sparse::from_rows(
        l,
        (0..n)
            .map(|i| {
                let (cols, vals) = p.row(i);
                cols.iter().zip(vals).map(|(&j, &v)| (cluster[j], v)).collect()
            })
            .collect(),
    )
    .row_normalised();
    // Landmark -> point: the group's summed kernel rows, normalised.
    let mut from = vec![Vec::new(); l];
    for j in 0..n {
        let (cols, vals) = kernel.row(j);
        from[cluster[j]].extend(cols.iter().zip(vals).map(|(&i, &v)| (i, v)));
    }
    let from = Sparse::from_rows(n, from);
    // A group's kernel mass is its stationary weight: with C the summed rows,
    // P_landmark = diag(1/s) C D^-1 C^T, s = C 1 (D the degrees).
    let mass = from.row_sums();
    let operator = Diffusion::new(from.row_normalised().mul_sparse(&transitions), mass);
    Landmarks { cluster, transitions, operator }
}
