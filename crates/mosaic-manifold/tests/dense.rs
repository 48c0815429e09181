//! Dense helpers: tiled parallel transpose and mirroring, at sizes that are
//! not multiples of the tile.

use faer::Mat;
use mosaic_manifold::dense::{mirror_lower, symmetric_product, transposed};

#[test]
fn transposed_equals_the_transpose() {
    let m = Mat::<f64>::from_fn(130, 71, |i, j| (i * 1000 + j) as f64);
    let t = transposed(m.as_ref());
    assert_eq!((t.nrows(), t.ncols()), (71, 130));
    assert_eq!(t, m.transpose().to_owned());
}

#[test]
fn mirroring_copies_the_lower_triangle_up() {
    let mut m = Mat::<f32>::from_fn(150, 150, |i, j| if i >= j { (i * 1000 + j) as f32 } else { -1.0 });
    mirror_lower(&mut m);
    for j in 0..150 {
        for i in 0..150 {
            assert_eq!(m[(i, j)], (i.max(j) * 1000 + i.min(j)) as f32, "({i}, {j})");
        }
    }
    let a = Mat::<f64>::from_fn(97, 40, |i, j| ((i * 7 + j * 3) % 11) as f64);
    let gram = symmetric_product(a.as_ref(), a.transpose());
    assert_eq!(gram, &a * a.transpose(), "a symmetric product is the full product");
}
