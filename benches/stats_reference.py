"""Reference numbers for mosaic-landscape's correlations and dynamics.

Writes crates/mosaic-landscape/tests/fixtures/stats.json: pairs of series
(random, monotone, tied, with a strong trend) and SciPy's Pearson, Spearman
and Kendall (tau-b, asymptotic p-value) on each, plus NumPy's gradient.
tests/stats.rs checks the Rust side against it.

    python benches/stats_reference.py   # needs numpy and scipy
"""
import json
import pathlib

import numpy as np
from scipy import stats

rng = np.random.default_rng(7)
cases = []
n = 40
x = rng.normal(size=n)
cases.append(("independent", x, rng.normal(size=n)))
cases.append(("trend", x, 0.6 * x + 0.5 * rng.normal(size=n)))
cases.append(("negative", x, -np.exp(x) + 0.1 * rng.normal(size=n)))
ties_x = rng.integers(0, 5, size=n).astype(float)
cases.append(("ties", ties_x, rng.integers(0, 4, size=n) + 0.3 * ties_x))
cases.append(("small", np.array([1.0, 2.0, 3.0, 4.0, 6.0]), np.array([2.0, 1.0, 4.0, 3.0, 5.0])))
epochs = np.linspace(0, 1, 25)
cases.append(("loss_curve", np.exp(-3 * epochs) + 0.02 * rng.normal(size=25), epochs))

out = []
for name, a, b in cases:
    p = stats.pearsonr(a, b)
    s = stats.spearmanr(a, b)
    k = stats.kendalltau(a, b, method="asymptotic")
    out.append({
        "name": name,
        "x": a.tolist(),
        "y": b.tolist(),
        "pearson": [float(p.statistic), float(p.pvalue)],
        "spearman": [float(s.statistic), float(s.pvalue)],
        "kendall": [float(k.statistic), float(k.pvalue)],
        "gradient_x": np.gradient(a).tolist(),
    })
path = pathlib.Path(__file__).resolve().parent.parent / "crates/mosaic-landscape/tests/fixtures/stats.json"
path.write_text(json.dumps({"scipy": __import__("scipy").__version__, "numpy": np.__version__, "cases": out}, indent=1))
print(f"wrote {path}")
