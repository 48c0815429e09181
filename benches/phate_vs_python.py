#!/usr/bin/env python3
"""PHATE speed: `mosaic embed` against the Python `phate` package, one run.

Both embed the same branching data set (three noisy arms in 10-D) to 3-D with
knn 5, decay 40, t auto. The Python package runs with its default metric-MDS
solver (SGD) and single-threaded BLAS settings as installed; wall times are
whole calls (graph, t, potential, MDS). Also reports the chosen t from both
and the Procrustes disparity between the embeddings.

    .venv/bin/pip install phate
    cargo build --release
    .venv/bin/python benches/phate_vs_python.py --n 1000 2000
"""

import argparse
import os
import subprocess
import tempfile
import time

import numpy as np
import phate
from scipy.spatial import procrustes


def branches(n, dims=10, seed=0):
    rng = np.random.RandomState(seed)
    directions = rng.normal(size=(3, dims))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    arms = []
    for k, d in enumerate(directions):
        m = n // 3 + (1 if k < n % 3 else 0)
        s = rng.uniform(0, 1, size=(m, 1))
        arms.append(s * d * 4 + rng.normal(scale=0.15, size=(m, dims)))
    return np.vstack(arms)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 2000])
    parser.add_argument("--mosaic", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "mosaic"))
    args = parser.parse_args()
    print(f"{'n':>6}{'mosaic (s)':>12}{'phate (s)':>12}{'speed-up':>10}{'t ours':>8}{'t phate':>9}{'disparity':>11}")
    for n in args.n:
        X = branches(n)
        with tempfile.TemporaryDirectory() as d:
            xin, yout = os.path.join(d, "X.npy"), os.path.join(d, "Y.npy")
            np.save(xin, X)
            t0 = time.perf_counter()
            out = subprocess.run([args.mosaic, "embed", "--features", xin, "--out", yout], check=True, capture_output=True, text=True)
            ours = time.perf_counter() - t0
            Y_ours = np.load(yout)
        t_ours = int(out.stdout.split()[2])
        t0 = time.perf_counter()
        op = phate.PHATE(n_components=3, knn=5, decay=40, t="auto", random_state=0, verbose=0)
        Y_ref = op.fit_transform(X)
        ref = time.perf_counter() - t0
        _, _, disparity = procrustes(Y_ref, Y_ours)
        print(f"{n:>6}{ours:>12.2f}{ref:>12.2f}{ref / ours:>9.1f}x{t_ours:>8}{int(op.optimal_t):>9}{disparity:>11.4f}")


if __name__ == "__main__":
    main()
