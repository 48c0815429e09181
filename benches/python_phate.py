#!/usr/bin/env python3
"""neuromosaic.PHATE (Python, in process) beside the same core from the
command line and beside the Python `phate` package, on the same inputs.

The command line is `phate_npy` (mosaic-manifold's example: .npy in, .npy
out, the function `mosaic embed --features` calls); its `seconds=` is the
PHATE call alone, as `fit` is here, so the two columns differ only by what
the binding adds (copying the array in and the embedding out). Inputs:
scikit-learn's digits (1,797 x 64, exact regime) and a DLA tree of 6,000
points in 40-D (landmark regime). n_components 3, defaults otherwise;
phate runs with its default SGD solver. Build both sides in release first:

    cargo build --release -p mosaic-manifold --example phate_npy
    (cd python && maturin build --release) and pip install the wheel
    python benches/python_phate.py
"""

import os
import platform
import re
import subprocess
import tempfile
import time
import warnings

import numpy as np
import phate
from sklearn.datasets import load_digits

import neuromosaic

warnings.simplefilter("ignore")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
CLI = os.path.join(TARGET, "release", "examples", "phate_npy")


def best_of(k, f):
    times = []
    for _ in range(k):
        started = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - started)
    return min(times), out


def cli_seconds(X):
    with tempfile.TemporaryDirectory() as d:
        xin, yout = os.path.join(d, "X.npy"), os.path.join(d, "Y.npy")
        np.save(xin, X)
        out = subprocess.run([CLI, xin, yout], check=True, capture_output=True, text=True).stdout
        return float(re.search(r"seconds=([0-9.]+)", out).group(1))


def main():
    tree, _ = phate.tree.gen_dla(n_dim=40, n_branch=10, branch_length=600, rand_multiplier=2, seed=11, sigma=4)
    cases = [("digits 1,797 x 64", load_digits().data), ("DLA tree 6,000 x 40", tree)]
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, neuromosaic {neuromosaic.__version__}, phate {phate.__version__}")
    print("| input | neuromosaic.PHATE (s) | phate_npy, same core (s) | Python / CLI | phate 2.0 (s) | speed-up vs phate | t ours / phate |")
    print("|---|---|---|---|---|---|---|")
    for name, X in cases:
        ours, op = best_of(3, lambda: neuromosaic.PHATE(n_components=3, random_state=0).fit(X))
        cli = min(cli_seconds(X) for _ in range(3))
        ref = phate.PHATE(n_components=3, random_state=0, verbose=0)
        started = time.perf_counter()
        ref.fit_transform(X)
        ref_time = time.perf_counter() - started
        print(f"| {name} | {ours:.2f} | {cli:.2f} | {ours / cli:.2f} | {ref_time:.2f} | {ref_time / ours:.1f}x | {op.optimal_t} / {ref.optimal_t} |", flush=True)


if __name__ == "__main__":
    main()
