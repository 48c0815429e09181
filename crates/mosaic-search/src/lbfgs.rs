//! A small L-BFGS minimiser (Nocedal & Wright, algorithm 7.5) with a
//! backtracking Armijo line search: enough for the Gaussian process's
//! dozen-odd hyper-parameters, where the objective is smooth and cheap.

const MEMORY: usize = 6;

/// Minimises `f` (value and gradient) from `x0` for at most `iterations`
/// steps; returns the best point and its value. An infinite value (say, a
/// failed factorisation) makes the line search step back.
pub fn minimize(f: impl Fn(&[f64]) -> (f64, Vec<f64>), x0: Vec<f64>, iterations: usize) -> (Vec<f64>, f64) {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut x = x0;
    let (mut fx, mut g) = f(&x);
    if !fx.is_finite() {
        return (x, fx);
    }
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for _ in 0..iterations {
        if dot(&g, &g).sqrt() < 1e-6 {
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.last() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut d: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: fall back to steepest descent.
            history.clear();
            d = g.iter().map(|v| -v).collect();
            slope = -dot(&g, &g);
        }
        let mut step = if history.is_empty() { 1.0 / dot(&g, &g).sqrt().max(1.0) } else { 1.0 };
        let mut accepted = None;
        for _ in 0..30 {
            let trial: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + step * di).collect();
            let (ft, gt) = f(&trial);
            if ft.is_finite() && ft <= fx + 1e-4 * step * slope {
                accepted = Some((trial, ft, gt));
                break;
            }
            step *= 0.5;
        }
        let Some((xn, fnew, gn)) = accepted else { break };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            history.push((s, y, 1.0 / sy));
            if history.len() > MEMORY {
                history.remove(0);
            }
        }
        let improvement = fx - fnew;
        x = xn;
        fx = fnew;
        g = gn;
        if improvement < 1e-9 * (1.0 + fx.abs()) {
            break;
        }
    }
    (x, fx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_finds_the_minimum_of_the_rosenbrock_valley() {
        let rosen = |v: &[f64]| {
            let (a, b) = (v[0], v[1]);
            let f = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            (f, vec![-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a)])
        };
        let (x, f) = minimize(rosen, vec![-1.2, 1.0], 500);
        assert!(f < 1e-8, "f = {f} at {x:?}");
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3);
    }

    #[test]
    fn it_steps_back_from_infinite_values() {
        // A bowl centred at 2 with a wall (infinite) beyond 3.
        let walled = |v: &[f64]| if v[0] > 3.0 { (f64::INFINITY, vec![0.0]) } else { ((v[0] - 2.0).powi(2), vec![2.0 * (v[0] - 2.0)]) };
        let (x, _) = minimize(walled, vec![-10.0], 100);
        assert!((x[0] - 2.0).abs() < 1e-4, "{x:?}");
    }
}
