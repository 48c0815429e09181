//! Correlations between metrics, across epochs of one run or across the
//! runs of a sweep: Pearson, Spearman and Kendall (tau-b), each with its
//! two-sided p-value, computed as SciPy computes them (`pearsonr`,
//! `spearmanr`, `kendalltau(method="asymptotic")`); `tests/stats.rs`
//! checks them against SciPy's numbers.

use serde::Serialize;
use statrs::function::beta::checked_beta_reg;
use statrs::function::erf::erfc;

/// Which correlation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Method {
    Pearson,
    Spearman,
    Kendall,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Pearson, Method::Spearman, Method::Kendall];

    pub fn name(self) -> &'static str {
        match self {
            Method::Pearson => "Pearson",
            Method::Spearman => "Spearman",
            Method::Kendall => "Kendall",
        }
    }
}

/// A correlation coefficient, its two-sided p-value and how many pairs it saw.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Correlation {
    pub r: f64,
    pub p: f64,
    pub n: usize,
}

impl Correlation {
    const UNDEFINED: Correlation = Correlation { r: f64::NAN, p: f64::NAN, n: 0 };
}

/// The correlation of `x` and `y` over the pairs where both are finite.
/// Undefined (NaN) with fewer than 3 pairs or when either side is constant.
pub fn correlation(method: Method, x: &[f64], y: &[f64]) -> Correlation {
    let (x, y): (Vec<f64>, Vec<f64>) = x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).unzip();
    if x.len() < 3 {
        return Correlation { n: x.len(), ..Correlation::UNDEFINED };
    }
    match method {
        Method::Pearson => pearson(&x, &y),
        Method::Spearman => pearson(&ranks(&x), &ranks(&y)),
        Method::Kendall => kendall(&x, &y),
    }
}

/// The matrix of correlations between every pair of columns.
pub fn correlation_matrix(method: Method, columns: &[&[f64]]) -> Vec<Vec<Correlation>> {
    let k = columns.len();
    let mut m = vec![vec![Correlation::UNDEFINED; k]; k];
    for i in 0..k {
        for j in i..k {
            let c = correlation(method, columns[i], columns[j]);
            m[i][j] = c;
            m[j][i] = c;
        }
    }
    m
}

fn pearson(x: &[f64], y: &[f64]) -> Correlation {
    let n = x.len();
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return Correlation { n, ..Correlation::UNDEFINED };
    }
    let r = (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0);
    // Under independence t = r sqrt(df / (1 - r²)) follows Student's t with
    // df = n - 2; its two-sided tail is I_{df / (df + t²)}(df/2, 1/2), and
    // df / (df + t²) = 1 - r².
    let df = (n - 2) as f64;
    // A NaN r (sums that overflowed) has no p-value; statrs refuses it.
    let p = checked_beta_reg(df / 2.0, 0.5, (1.0 - r * r).clamp(0.0, 1.0)).unwrap_or(f64::NAN);
    Correlation { r, p, n }
}

/// Ranks from 1, ties sharing their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Kendall's tau-b with the asymptotic (normal) p-value, ties corrected.
/// Counts pairs directly: O(n²), fine for sweeps of thousands of runs.
fn kendall(x: &[f64], y: &[f64]) -> Correlation {
    let n = x.len();
    let (mut concordant, mut discordant) = (0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let s = (x[i] - x[j]).signum() * (y[i] - y[j]).signum();
            if x[i] != x[j] && y[i] != y[j] {
                if s > 0.0 {
                    concordant += 1;
                } else {
                    discordant += 1;
                }
            }
        }
    }
    let (tx, ty) = (tie_groups(x), tie_groups(y));
    let nf = n as f64;
    let pairs = nf * (nf - 1.0) / 2.0;
    let sum = |groups: &[f64], f: &dyn Fn(f64) -> f64| groups.iter().map(|&t| f(t)).sum::<f64>();
    let (x_tied, y_tied) = (sum(&tx, &|t| t * (t - 1.0) / 2.0), sum(&ty, &|t| t * (t - 1.0) / 2.0));
    if pairs == x_tied || pairs == y_tied {
        return Correlation { n, ..Correlation::UNDEFINED };
    }
    let s = (concordant - discordant) as f64;
    let tau = (s / ((pairs - x_tied) * (pairs - y_tied)).sqrt()).clamp(-1.0, 1.0);
    // Variance of S under independence, with ties (Kendall 1970).
    let v0 = nf * (nf - 1.0) * (2.0 * nf + 5.0);
    let vt = sum(&tx, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(&ty, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let v1 = sum(&tx, &|t| t * (t - 1.0)) * sum(&ty, &|t| t * (t - 1.0)) / (2.0 * nf * (nf - 1.0));
    let v2 = sum(&tx, &|t| t * (t - 1.0) * (t - 2.0)) * sum(&ty, &|t| t * (t - 1.0) * (t - 2.0)) / (9.0 * nf * (nf - 1.0) * (nf - 2.0));
    let var = (v0 - vt - vu) / 18.0 + v1 + v2;
    let z = s / var.sqrt();
    Correlation { r: tau, p: erfc(z.abs() / std::f64::consts::SQRT_2), n }
}

/// Sizes of the groups of equal values (singletons included).
fn tie_groups(x: &[f64]) -> Vec<f64> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.chunk_by(|a, b| a == b).map(|g| g.len() as f64).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn perfect_and_undefined_correlations() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 4.0, 6.0, 8.0, 11.0];
        for m in Method::ALL {
            let c = correlation(m, &x, &y);
            assert!(c.r > 0.99 && c.p < 0.05 && c.n == 5, "{m:?}: {c:?}");
        }
        assert!((correlation(Method::Spearman, &x, &y).r - 1.0).abs() < 1e-12, "monotone: Spearman 1");
        let flat = correlation(Method::Pearson, &x, &[1.0; 5]);
        assert!(flat.r.is_nan() && flat.p.is_nan(), "a constant has no correlation");
        let gaps = correlation(Method::Pearson, &[1.0, f64::NAN, 3.0, 4.0], &[1.0, 2.0, f64::NAN, 4.0]);
        assert_eq!(gaps.n, 2, "pairs with a missing side are dropped");
        assert!(gaps.r.is_nan());
    }

    #[test]
    fn values_too_large_to_square_give_no_correlation_rather_than_a_panic() {
        // Every product overflows: r is inf / inf.
        let c = correlation(Method::Pearson, &[1e200, 2e200, 3e200, 4e200], &[1e200, 2e200, 4e200, 3e200]);
        assert!(c.r.is_nan() && c.p.is_nan() && c.n == 4, "{c:?}");
    }
}
