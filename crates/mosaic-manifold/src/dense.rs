//! Dense helpers for symmetric results: compute one triangle, mirror it.

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
/// both sides stay in cache.
pub fn mirror_lower<T: Copy>(m: &mut Mat<T>) {
    const TILE: usize = 64;
    let n = m.nrows();
    for jb in (0..n).step_by(TILE) {
        for ib in (0..=jb).step_by(TILE) {
            for j in jb..(jb + TILE).min(n) {
                for i in ib..(ib + TILE).min(j) {
                    m[(i, j)] = m[(j, i)];
                }
            }
        }
    }
}

/// An orthonormal basis of the columns of a tall `y`: Cholesky QR, twice
/// (a small Gram matrix and a triangular solve, mostly matrix products, so
/// far cheaper than Householder QR; the second pass restores orthogonality
/// to rounding), or Householder QR where the Gram matrix will not factor.
pub fn orthonormalise(mut y: Mat<f64>) -> Mat<f64> {
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
