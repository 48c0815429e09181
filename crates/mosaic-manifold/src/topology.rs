//! Persistent homology of a point cloud: the Vietoris–Rips filtration's H0
//! and H1 barcodes (Edelsbrunner & Harer, "Computational Topology"), by the
//! standard reduction of the triangle-to-edge boundary matrix over Z/2.
//! Cubic in the number of points: meant for a subsample of a representation
//! (tens to a couple of hundred points).

/// Birth and death of each feature; H0 leaves out the one component that never dies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Barcode {
    pub h0: Vec<(f64, f64)>,
    pub h1: Vec<(f64, f64)>,
}

impl Barcode {
    /// Sum of bar lengths (death - birth) in H0 and in H1.
    pub fn total_persistence(&self) -> (f64, f64) {
        let total = |bars: &[(f64, f64)]| bars.iter().map(|(b, d)| d - b).sum();
        (total(&self.h0), total(&self.h1))
    }
}

/// The H0 and H1 barcodes of the Rips filtration of `n` points given by
/// their distances (row-major n x n, symmetric). Bars of zero length are
/// dropped.
pub fn rips_barcode(distances: &[f64], n: usize) -> Barcode {
    assert_eq!(distances.len(), n * n, "distances must be n x n");
    // Edges in filtration order (length, then index for ties).
    let mut edges: Vec<(f64, usize, usize)> =
        (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| (distances[i * n + j], i, j)).collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let mut edge_index = vec![usize::MAX; n * n];
    for (k, &(_, i, j)) in edges.iter().enumerate() {
        edge_index[i * n + j] = k;
        edge_index[j * n + i] = k;
    }
    // H0 by union-find: an edge joining two components kills the younger (all are born at 0).
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    let mut h0 = Vec::new();
    let mut kills_component = vec![false; edges.len()];
    for (k, &(len, i, j)) in edges.iter().enumerate() {
        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
        if a != b {
            parent[a] = b;
            kills_component[k] = true;
            if len > 0.0 {
                h0.push((0.0, len));
            }
        }
    }
    // Past the enclosing radius (the least, over points, of the distance to
    // the farthest other) one point reaches all: the complex is a cone and
    // every loop has died, so longer edges and triangles pair among
    // themselves at zero length and can be left out (as Ripser does).
    let enclosing = (0..n).map(|i| (0..n).map(|j| distances[i * n + j]).fold(0.0, f64::max)).fold(f64::INFINITY, f64::min);
    let last_edge = edges.partition_point(|e| e.0 <= enclosing);
    // Triangles in filtration order: a triangle enters with its longest edge.
    let mut triangles: Vec<(usize, [usize; 3])> = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            for c in b + 1..n {
                let e = [edge_index[a * n + b], edge_index[a * n + c], edge_index[b * n + c]];
                let longest = *e.iter().max().unwrap();
                if longest < last_edge {
                    triangles.push((longest, e));
                }
            }
        }
    }
    triangles.sort_unstable_by_key(|t| (t.0, t.1));
    // Column reduction: each reduced column's lowest edge pairs that edge
    // (which opened a cycle) with the triangle (which fills it).
    let mut reduced_by_low: Vec<Option<Vec<usize>>> = vec![None; edges.len()];
    let mut h1 = Vec::new();
    let (mut column, mut scratch) = (Vec::new(), Vec::new());
    for (_, faces) in &triangles {
        column.clear();
        column.extend_from_slice(faces);
        column.sort_unstable();
        while let Some(&low) = column.last() {
            match &reduced_by_low[low] {
                Some(other) => {
                    symmetric_difference(&column, other, &mut scratch);
                    std::mem::swap(&mut column, &mut scratch);
                }
                None => break,
            }
        }
        if let Some(&low) = column.last() {
            debug_assert!(!kills_component[low]);
            let birth = edges[low].0;
            let death = edges[*faces.iter().max().unwrap()].0;
            if death > birth {
                h1.push((birth, death));
            }
            reduced_by_low[low] = Some(column.clone());
        }
    }
    Barcode { h0, h1 }
}

/// Sum over Z/2 of two sorted index lists, into `out`.
fn symmetric_difference(a: &[usize], b: &[usize], out: &mut Vec<usize>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}
