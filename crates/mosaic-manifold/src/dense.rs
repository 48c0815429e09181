//! Dense helpers: symmetric products (one triangle, mirrored), tiled
//! parallel transposes and elementwise passes, Cholesky QR, and a guard for
//! the vector unit's state after faer's AVX-512 kernels.

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::triangular_solve::solve_lower_triangular_in_place;
use faer::{Accum, Mat, MatRef, Par, Side};

/// `a b` known to be symmetric (`a b^T` of one matrix, or two commuting
/// symmetric matrices such as powers of one): the lower triangle is
/// computed (half the work of a full product), then mirrored.
pub fn symmetric_product<T: faer::traits::ComplexField + Copy + Send + Sync + 'static>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Mat<T> {
    let n = a.nrows();
    let mut out = Mat::<T>::zeros(n, n);
    triangular::matmul(
        out.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        a,
        BlockStructure::Rectangular,
        b,
        BlockStructure::Rectangular,
        T::one_impl(),
        Par::rayon(0),
    );
    settle_vector_state();
    mirror_lower(&mut out);
    out
}

/// `m[(i, j)] = f(i, j, m[(i, j)])` for every entry, columns in parallel:
/// for elementwise passes over n x n matrices (a logarithm each, say), which
/// would otherwise leave all but one core idle.
pub fn par_update<T: Copy + Send + Sync + 'static>(m: &mut Mat<T>, f: impl Fn(usize, usize, T) -> T + Sync) {
    use rayon::prelude::*;
    const COLUMNS: usize = 32;
    m.as_mut().par_col_chunks_mut(COLUMNS).enumerate().for_each(|(chunk, mut block)| {
        for c in 0..block.ncols() {
            let j = chunk * COLUMNS + c;
            block.as_mut().col_mut(c).iter_mut().enumerate().for_each(|(i, x)| *x = f(i, j, *x));
        }
    });
}

/// Copies the strict lower triangle onto the upper one, in tiles so that
/// both sides stay in cache, each column of tiles in parallel.
pub fn mirror_lower<T: Copy + Send + Sync + 'static>(m: &mut Mat<T>) {
    use rayon::prelude::*;
    let n = m.nrows();
    assert_eq!(n, m.ncols());
    let stride = m.col_stride() as usize;
    // As an address, so that the tasks can share it.
    let base = m.as_ptr_mut() as usize;
    (0..n.div_ceil(TILE)).into_par_iter().for_each(|jb| {
        let entries = base as *mut T;
        for ib in 0..=jb {
            for j in jb * TILE..((jb + 1) * TILE).min(n) {
                for i in ib * TILE..((ib + 1) * TILE).min(j) {
                    // SAFETY: i < j < n. Each task writes above the diagonal in
                    // its own columns only, and reads below it, which no task writes.
                    unsafe { *entries.add(i + j * stride) = *entries.add(j + i * stride) };
                }
            }
        }
    });
}

/// The transpose of `m` (contiguous columns), in tiles, columns of the
/// result in parallel: faer's `transpose().to_owned()` copies entry by entry.
pub fn transposed<T: faer::traits::ComplexField + Copy + Send + Sync + 'static>(m: MatRef<'_, T>) -> Mat<T> {
    use rayon::prelude::*;
    let (rows, cols) = (m.nrows(), m.ncols());
    let source: Vec<&[T]> = (0..cols).map(|i| m.col(i).try_as_col_major().expect("contiguous columns").as_slice()).collect();
    let mut out = Mat::<T>::zeros(cols, rows);
    out.as_mut().par_col_chunks_mut(TILE).enumerate().for_each(|(chunk, mut block)| {
        let first = chunk * TILE;
        for start in (0..cols).step_by(TILE) {
            for c in 0..block.ncols() {
                let target = block.as_mut().col_mut(c).try_as_col_major_mut().expect("contiguous").as_slice_mut();
                for i in start..(start + TILE).min(cols) {
                    target[i] = source[i][first + c];
                }
            }
        }
    });
    out
}

const TILE: usize = 64;

/// An orthonormal basis of the columns of a tall `y`: Cholesky QR, twice
/// (a small Gram matrix and a triangular solve, mostly matrix products, so
/// far cheaper than Householder QR; the second pass restores orthogonality
/// to rounding), or Householder QR where the Gram matrix will not factor.
pub fn orthonormalise<T: faer::traits::RealField + Copy + Send + Sync + 'static>(mut y: Mat<T>) -> Mat<T> {
    for _ in 0..2 {
        let gram = symmetric_product(y.transpose(), y.as_ref());
        let Ok(llt) = gram.llt(Side::Lower) else { return y.qr().compute_thin_Q() };
        // y <- y L^-T, that is y^T <- L^-1 y^T.
        solve_lower_triangular_in_place(llt.L(), y.as_mut().transpose_mut(), Par::rayon(0));
        settle_vector_state();
    }
    y
}

/// [`clear_upper_vector_state`] on every thread of the pool and this one:
/// for after a parallel faer product.
pub fn settle_vector_state() {
    rayon::broadcast(|_| clear_upper_vector_state());
    clear_upper_vector_state();
}

/// Marks the upper halves of the vector registers clean (`vzeroupper`) on
/// the calling thread. faer's AVX-512 kernels can leave them dirty, and then
/// every non-VEX instruction that follows pays for it: libm's `ln` over a
/// 2,000 x 2,000 matrix took 0.55 s after a product instead of 0.02 s.
pub fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx")]
        fn zero_upper() {
            std::arch::x86_64::_mm256_zeroupper()
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX is present.
            unsafe { zero_upper() }
        }
    }
}
