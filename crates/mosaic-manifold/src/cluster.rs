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
    let mut order: Vec<usize> = (0..points.len()).filter(|&i| i != query).collect();
    order.sort_by(|&a, &b| dist2(&points[a], &q).total_cmp(&dist2(&points[b], &q)).then(a.cmp(&b)));
    order.truncate(k);
    order
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
