"""Reference numbers for mosaic-landscape's knob importance: the `fanova`
package (Hutter et al. 2014; random-forest surrogate, first-order variance
shares) on synthetic sweeps whose shares are also known analytically.

Writes crates/mosaic-landscape/tests/fixtures/importance.json; the test
tests/importance.rs holds `hyper::importance` to fANOVA's individual
importances and to the analytic first-order (Sobol) shares.

    apt-get install swig   # pyrfr, fanova's forest, builds from source
    .venv/bin/pip install fanova
    .venv/bin/python benches/importance_reference.py
"""
import json
import pathlib

import ConfigSpace
import numpy as np

# fanova 2.0.19 still uses the alias np.float, which NumPy 1.24 removed.
np.float = float
from fanova import fANOVA  # noqa: E402

rng = np.random.default_rng(11)
n = 300
# Named in ConfigSpace's own (alphabetical) order, which fanova expects the columns in.
names = ["a_lr", "b_width", "c_dropout"]


def additive(x):
    return 3 * np.sin(np.pi * x[:, 0]) + 2 * x[:, 1] + 0.2 * x[:, 2]


def interacting(x):
    return 2 * x[:, 0] + x[:, 1] + 3 * (x[:, 0] - 0.5) * (x[:, 2] - 0.5)


# First-order shares for knobs uniform on [0, 1], by the variance of each main effect.
# additive: var(3 sin(pi a)) = 9 (1/2 - 4/pi^2), var(2 b) = 4/12, var(0.2 c) = 0.04/12.
# interacting: main effects 2a and b (var 4/12, 1/12); the product term adds
# 9 var(a - 1/2) var(c - 1/2) = 9/144 of pure interaction.
analytic = {
    "additive": [9 * (0.5 - 4 / np.pi**2), 4 / 12, 0.04 / 12],
    "interacting": [4 / 12, 1 / 12, 0.0],
}
totals = {"additive": sum(analytic["additive"]), "interacting": 4 / 12 + 1 / 12 + 9 / 144}

cases = []
for name, f in [("additive", additive), ("interacting", interacting)]:
    x = rng.uniform(size=(n, 3))
    y = f(x) + 0.05 * rng.normal(size=n)
    space = ConfigSpace.ConfigurationSpace(seed=0)
    for k in names:
        space.add(ConfigSpace.UniformFloatHyperparameter(k, 0.0, 1.0))
    model = fANOVA(x, y, config_space=space, n_trees=64, seed=3)
    fanova = [float(model.quantify_importance((k,))[(k,)]["individual importance"]) for k in range(3)]
    exact = [v / totals[name] for v in analytic[name]]
    cases.append({"name": name, "knobs": names, "x": x.tolist(), "y": y.tolist(), "fanova": fanova, "analytic": exact})
    print(name, "fanova", np.round(fanova, 3), "analytic", np.round(exact, 3))

out = pathlib.Path(__file__).parent.parent / "crates/mosaic-landscape/tests/fixtures/importance.json"
out.write_text(json.dumps(cases))
print("wrote", out)
