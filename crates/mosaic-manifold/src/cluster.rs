//! Neighbourhoods on the sphere: k-nearest and radius queries, and DBSCAN
//! clusters with noise (Ester et al., 1996).

/// Squared Euclidean distance.
fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum()
}

/// The `k` points nearest to `query` (itself excluded if it is one of
/// `points`, by index), nearest first; ties by index.
pub fn k_nearest(points: &[[f64; 3]], query: usize, k: usize) -> Vec<usize> {
    let q = points[query];
    let mut order: Vec<(f64, usize)> = (0..points.len()).filter(|&i| i != query).map(|i| (dist2(&points[i], &q), i)).collect();
    let by_distance = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    // Partition around the k-th first (linear), then sort only the k nearest.
    if k < order.len() {
        order.select_nth_unstable_by(k, by_distance);
        order.truncate(k);
    }
    order.sort_by(by_distance);
    order.into_iter().map(|(_, i)| i).collect()
}

/// Every point within `radius` of `center` (inclusive), by index.
pub fn within_radius(points: &[[f64; 3]], center: [f64; 3], radius: f64) -> Vec<usize> {
    (0..points.len()).filter(|&i| dist2(&points[i], &center) <= radius * radius).collect()
}

/// DBSCAN: a point with at least `min_points` neighbours within `eps`
/// (itself included) is a core point; clusters are the core points linked
/// through each other's neighbourhoods, plus the border points they reach.
/// Returns a cluster number per point, `None` for noise. Clusters are
/// numbered in order of their lowest index, so labels are repeatable.
pub fn dbscan(points: &[[f64; 3]], eps: f64, min_points: usize) -> Vec<Option<usize>> {
    let n = points.len();
    let neighbours: Vec<Vec<usize>> = (0..n).map(|i| within_radius(points, points[i], eps)).collect();
    let core: Vec<bool> = neighbours.iter().map(|nb| nb.len() >= min_points).collect();
    let mut label = vec![None; n];
    let mut next = 0;
    for start in 0..n {
        if !core[start] || label[start].is_some() {
            continue;
        }
        label[start] = Some(next);
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for &j in &neighbours[i] {
                if label[j].is_none() {
                    label[j] = Some(next);
                    // Only core points carry the cluster further.
                    if core[j] {
                        stack.push(j);
                    }
                }
            }
        }
        next += 1;
    }
    label
}

/// A DBSCAN radius from the data: 1.5 times the median distance from a
/// point to its `k`-th nearest neighbour, so dense regions join and sparse
/// gaps part. Quadratic in the number of points.
pub fn auto_eps(points: &[[f64; 3]], k: usize) -> f64 {
    let mut kth: Vec<f64> = (0..points.len())
        .filter_map(|i| {
            let j = *k_nearest(points, i, k).last()?;
            Some(dist2(&points[i], &points[j]).sqrt())
        })
        .collect();
    if kth.is_empty() {
        return 0.0;
    }
    let mid = kth.len() / 2;
    1.5 * *kth.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// One merge of an agglomerative clustering: the two clusters joined
/// (ids below n are points, n + k the k-th merge), at which height, and the
/// size of the result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Merge {
    pub a: usize,
    pub b: usize,
    pub height: f64,
    pub size: usize,
}

/// Average-linkage (UPGMA) hierarchical clustering of `n` points given by
/// their distances (row-major n x n, symmetric), by the Lance–Williams
/// update: n - 1 merges, heights non-decreasing. O(n^3); for a few hundred points.
pub fn average_linkage(distances: &[f64], n: usize) -> Vec<Merge> {
    assert_eq!(distances.len(), n * n, "distances must be n x n");
    let mut d = distances.to_vec();
    let mut active: Vec<Option<(usize, usize)>> = (0..n).map(|i| Some((i, 1))).collect(); // (cluster id, size)
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    for step in 0..n.saturating_sub(1) {
        let mut best = (f64::INFINITY, 0, 0);
        for i in 0..n {
            if active[i].is_none() {
                continue;
            }
            for j in i + 1..n {
                if active[j].is_some() && d[i * n + j] < best.0 {
                    best = (d[i * n + j], i, j);
                }
            }
        }
        let (height, i, j) = best;
        let ((id_i, size_i), (id_j, size_j)) = (active[i].unwrap(), active[j].unwrap());
        // The merged cluster lives in slot i; its distance to every other is the size-weighted mean.
        for k in 0..n {
            if k != i && k != j && active[k].is_some() {
                let v = (size_i as f64 * d[i * n + k] + size_j as f64 * d[j * n + k]) / (size_i + size_j) as f64;
                d[i * n + k] = v;
                d[k * n + i] = v;
            }
        }
        active[j] = None;
        active[i] = Some((n + step, size_i + size_j));
        merges.push(Merge { a: id_i.min(id_j), b: id_i.max(id_j), height, size: size_i + size_j });
    }
    merges
}

/// The number of clusters at the largest jump between consecutive merge
/// heights: the most distinct level of the hierarchy (1 for fewer than
/// three points, or when every merge is at one height).
pub fn clusters_at_largest_gap(merges: &[Merge]) -> usize {
    let n = merges.len() + 1;
    let mut best = (0.0, 1);
    for k in 1..merges.len() {
        let gap = merges[k].height - merges[k - 1].height;
        // Before merge k there are n - k clusters.
        if gap > best.0 {
            best = (gap, n - k);
        }
    }
    best.1
}
