//! A k-d tree over the rows of a matrix, for exact k-nearest and radius
//! queries in few dimensions (Bentley 1975; Friedman, Bentley & Finkel
//! 1977): splits at the median of the widest coordinate, and a query visits
//! the far side of a split only when the ball around it crosses the plane.
//! PHATE's kernel asks each point for its k-th neighbour's distance, then
//! for everything within a small multiple of it: O(n log n) in place of the
//! O(n^2) scan over all pairs.

/// Points per leaf: below this a scan beats descending further.
const LEAF: usize = 16;

/// Up to this many dimensions the tree prunes well; above, a scan of all
/// pairs is as fast.
pub const MAX_DIMS: usize = 16;

enum Node {
    Leaf { start: usize, end: usize },
    Split { dim: usize, value: f64, left: usize, right: usize },
}

pub struct KdTree {
    /// The points, row-major, in the order the tree holds them.
    points: Vec<f64>,
    /// Original index of each held point.
    index: Vec<usize>,
    dims: usize,
    nodes: Vec<Node>,
}

impl KdTree {
    /// A tree over `n` points of `dims` coordinates, `coords(i, c)`.
    pub fn new(n: usize, dims: usize, coords: impl Fn(usize, usize) -> f64) -> KdTree {
        let mut index: Vec<usize> = (0..n).collect();
        let mut nodes = Vec::new();
        build(&mut index, 0, &coords, dims, &mut nodes);
        let points = index.iter().flat_map(|&i| (0..dims).map(move |c| (i, c))).map(|(i, c)| coords(i, c)).collect();
        KdTree { points, index, dims, nodes }
    }

    fn point(&self, slot: usize) -> &[f64] {
        &self.points[slot * self.dims..(slot + 1) * self.dims]
    }

    /// Squared distance of held point `slot` to `q`, summed in coordinate
    /// order (as every other distance in the crate is).
    fn distance2(&self, slot: usize, q: &[f64]) -> f64 {
        self.point(slot).iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum()
    }

    /// The squared distance from `q` to its `k`-th nearest point (1-based;
    /// a point in the tree counts itself, at 0).
    pub fn kth_distance2(&self, q: &[f64], k: usize) -> f64 {
        // The k smallest so far, ascending.
        let mut best: Vec<f64> = Vec::with_capacity(k + 1);
        self.nearest(0, q, k, &mut best);
        best.last().copied().unwrap_or(f64::INFINITY)
    }

    fn nearest(&self, node: usize, q: &[f64], k: usize, best: &mut Vec<f64>) {
        match self.nodes[node] {
            Node::Leaf { start, end } => {
                for slot in start..end {
                    let d = self.distance2(slot, q);
                    if best.len() < k || d < best[k - 1] {
                        let at = best.partition_point(|&b| b <= d);
                        best.insert(at, d);
                        best.truncate(k);
                    }
                }
            }
            Node::Split { dim, value, left, right } => {
                let gap = q[dim] - value;
                let (near, far) = if gap < 0.0 { (left, right) } else { (right, left) };
                self.nearest(near, q, k, best);
                if best.len() < k || gap * gap <= best[k - 1] {
                    self.nearest(far, q, k, best);
                }
            }
        }
    }

    /// Every point within squared distance `r2` of `q`, as (original
    /// index, squared distance).
    pub fn within(&self, q: &[f64], r2: f64) -> Vec<(usize, f64)> {
        let mut found = Vec::new();
        self.collect(0, q, r2, &mut found);
        found
    }

    fn collect(&self, node: usize, q: &[f64], r2: f64, found: &mut Vec<(usize, f64)>) {
        match self.nodes[node] {
            Node::Leaf { start, end } => {
                for slot in start..end {
                    let d = self.distance2(slot, q);
                    if d <= r2 {
                        found.push((self.index[slot], d));
                    }
                }
            }
            Node::Split { dim, value, left, right } => {
                let gap = q[dim] - value;
                let (near, far) = if gap < 0.0 { (left, right) } else { (right, left) };
                self.collect(near, q, r2, found);
                if gap * gap <= r2 {
                    self.collect(far, q, r2, found);
                }
            }
        }
    }
}

/// Builds the subtree over `index[..]` (which starts at `offset` in the
/// whole order); returns its node.
fn build(index: &mut [usize], offset: usize, coords: &impl Fn(usize, usize) -> f64, dims: usize, nodes: &mut Vec<Node>) -> usize {
    let id = nodes.len();
    if index.len() <= LEAF || dims == 0 {
        nodes.push(Node::Leaf { start: offset, end: offset + index.len() });
        return id;
    }
    let spread = |c: usize| {
        let (lo, hi) = index.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| (lo.min(coords(i, c)), hi.max(coords(i, c))));
        hi - lo
    };
    let dim = (0..dims).max_by(|&a, &b| spread(a).total_cmp(&spread(b))).unwrap_or(0);
    let mid = index.len() / 2;
    index.select_nth_unstable_by(mid, |&a, &b| coords(a, dim).total_cmp(&coords(b, dim)));
    let value = coords(index[mid], dim);
    nodes.push(Node::Leaf { start: 0, end: 0 });
    let (lower, upper) = index.split_at_mut(mid);
    let left = build(lower, offset, coords, dims, nodes);
    let right = build(upper, offset + mid, coords, dims, nodes);
    nodes[id] = Node::Split { dim, value, left, right };
    id
}
