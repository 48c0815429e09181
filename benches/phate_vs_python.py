#!/usr/bin/env python3
"""PHATE speed: `mosaic embed` against the Python `phate` package, one run.

Both embed the same branching data set (three noisy arms in 10-D) to 3-D with
knn 5, decay 40, t auto; above 2,000 points both diffuse between 2,000
landmarks. The Python package runs with its default metric-MDS solver (SGD)
and BLAS threads as installed; wall times are whole calls (graph, landmarks,
t, potential, MDS; ours also process start and .npy files). Also reports the
chosen t from both, the Procrustes disparity between the embeddings, and our
peak resident memory (through GNU time, Debian's `time` package).

    .venv/bin/pip install phate
    cargo build --release
    .venv/bin/python benches/phate_vs_python.py --n 2000 10000 20000
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
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--mosaic", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "mosaic"))
    args = parser.parse_args()
    print(f"{'n':>6}{'mosaic (s)':>12}{'phate (s)':>12}{'speed-up':>10}{'t ours':>8}{'t phate':>9}{'disparity':>11}{'our peak RSS':>14}")
    for n in sorted(args.n):
        X = branches(n)
        with tempfile.TemporaryDirectory() as d:
            xin, yout = os.path.join(d, "X.npy"), os.path.join(d, "Y.npy")
            np.save(xin, X)
            # GNU time reports the peak memory of mosaic alone: a child forked
            # straight from this process is charged this process's pages
            # (numpy, phate) up to its exec. Its own start is in the time.
            timer = ["/usr/bin/time", "-f", "peak %M"] if os.path.exists("/usr/bin/time") else []
            t0 = time.perf_counter()
            out = subprocess.run(timer + [args.mosaic, "embed", "--features", xin, "--out", yout], check=True, capture_output=True, text=True)
            ours = time.perf_counter() - t0
            peaks = [line.split()[1] for line in out.stderr.splitlines() if line.startswith("peak ")]
            peak = f"{int(peaks[-1]) / 1024:.0f} MB" if peaks else "n/a"
            Y_ours = np.load(yout)
        t_ours = int(out.stdout.split()[2])
        t0 = time.perf_counter()
        op = phate.PHATE(n_components=3, knn=5, decay=40, t="auto", random_state=0, verbose=0)
        Y_ref = op.fit_transform(X)
        ref = time.perf_counter() - t0
        _, _, disparity = procrustes(Y_ref, Y_ours)
        print(f"{n:>6}{ours:>12.2f}{ref:>12.2f}{ref / ours:>9.1f}x{t_ours:>8}{int(op.optimal_t):>9}{disparity:>11.4f}{peak:>14}")


if __name__ == "__main__":
    main()
