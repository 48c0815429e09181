#!/usr/bin/env python3
"""The reference numbers NeuroMosaic's PHATE is checked against.

Generates a branching data set (three noisy arms in 10-D, 240 points), runs
the Python `phate` package on it (knn 5, decay 40, t auto, gamma 1, metric
MDS by SMACOF, seeded) and writes what the Rust fidelity test compares:

    crates/mosaic-manifold/tests/fixtures/phate_tree/
        X.npy                 the data (float64)
        t.txt                 the automatically chosen t
        entropy.npy           the von Neumann entropy curve (t = 1..100)
        potential_dist.npy    distances between potential rows (float32)
        embedding.npy         the 3-D embedding

    python3 -m venv .venv && .venv/bin/pip install phate
    .venv/bin/python benches/phate_reference.py
"""

import os

import graphtools
import numpy as np
import phate
from scipy.spatial.distance import pdist, squareform

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "mosaic-manifold", "tests", "fixtures", "phate_tree")


def branches(n_per_arm=80, dims=10, seed=0):
    rng = np.random.RandomState(seed)
    arms = []
    directions = rng.normal(size=(3, dims))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    for d in directions:
        s = rng.uniform(0, 1, size=(n_per_arm, 1))
        arms.append(s * d * 4 + rng.normal(scale=0.15, size=(n_per_arm, dims)))
    return np.vstack(arms).astype(np.float64)


def main():
    # numba would round graphtools' bandwidths to float32; the Rust port uses float64.
    assert not graphtools.graphs.NUMBA_AVAILABLE, "run without numba installed"
    X = branches()
    op = phate.PHATE(n_components=3, knn=5, decay=40, t="auto", gamma=1, mds_solver="smacof", random_state=0, verbose=0)
    Y = op.fit_transform(X)
    _, h = op._von_neumann_entropy(100)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "X.npy"), X)
    np.save(os.path.join(OUT, "entropy.npy"), np.asarray(h, dtype=np.float64))
    np.save(os.path.join(OUT, "potential_dist.npy"), squareform(pdist(op._diff_potential)).astype(np.float32))
    np.save(os.path.join(OUT, "embedding.npy"), np.asarray(Y, dtype=np.float64))
    with open(os.path.join(OUT, "t.txt"), "w") as f:
        f.write(f"{int(op.optimal_t)}\n")
    print(f"phate {phate.__version__}: n={X.shape[0]}, t={int(op.optimal_t)} -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
