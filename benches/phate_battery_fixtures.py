#!/usr/bin/env python3
"""Small fixtures for the Rust battery test (crates/mosaic-manifold/tests/battery.rs).

A few of the battery's kinds of data at test size, each embedded by the
Python `phate` package (metric MDS by SMACOF, as ours, random_state 0):

    crates/mosaic-manifold/tests/fixtures/battery/<case>/
        X.npy           the data (float64); the distance case's test takes
                        Euclidean distances of these rows, as phate was given
        embedding.npy   phate's 3-D embedding
        case.txt        knn, decay, landmarks, distances (0/1), phate's t, and
                        in the landmark regime phate's t for random_state 0..11
                        (its own landmarks move its t)

    ~/.cache/neuromosaic/venv/bin/python benches/phate_battery_fixtures.py
"""

import os

import graphtools
import numpy as np
import phate
from scipy.spatial.distance import pdist, squareform
from sklearn.datasets import make_blobs, make_s_curve, make_swiss_roll

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "mosaic-manifold", "tests", "fixtures", "battery")


def noisy(x, extra, seed):
    rng = np.random.RandomState(seed)
    return np.hstack([x, rng.normal(scale=0.1, size=(x.shape[0], extra))])


# name -> (data, knn, decay, landmarks (0: phate's default 2,000, never reached), distances)
def cases():
    dla, _ = phate.tree.gen_dla(n_dim=20, n_branch=4, branch_length=100, seed=37)
    dla_big, _ = phate.tree.gen_dla(n_dim=20, n_branch=12, branch_length=100, seed=38)
    scurve = noisy(make_s_curve(500, noise=0.05, random_state=0)[0], 7, 0)
    blobs = make_blobs(300, n_features=10, centers=5, random_state=0)[0]
    dist = noisy(make_s_curve(300, noise=0.05, random_state=1)[0], 2, 1)
    swiss = noisy(make_swiss_roll(1200, noise=0.05, random_state=2)[0], 2, 2)
    return {
        "dla-400": (dla, 5, 40, 0, False),
        "dla-1200": (dla_big, 5, 40, 0, False),
        "scurve-500-k10-d20": (scurve, 10, 20, 0, False),
        "blobs-300-k15-d10": (blobs, 15, 10, 0, False),
        "dist-scurve-300-k3": (dist, 3, 40, 0, True),
        "swiss-1200-landmarks-300": (swiss, 5, 40, 300, False),
    }


def embed(x, knn, decay, landmarks, distances, seed):
    kwargs = dict(n_components=3, knn=knn, decay=decay, t="auto", gamma=1, mds_solver="smacof", random_state=seed, verbose=0)
    kwargs["n_landmark"] = landmarks if landmarks else 2000
    if distances:
        kwargs["knn_dist"] = "precomputed_distance"
        x = squareform(pdist(x))
    op = phate.PHATE(**kwargs)
    return op.fit_transform(x), int(op.optimal_t)


def main():
    assert not graphtools.graphs.NUMBA_AVAILABLE, "run without numba installed"
    for name, (x, knn, decay, landmarks, distances) in cases().items():
        x = np.asarray(x, dtype=np.float64)
        y, t = embed(x, knn, decay, landmarks, distances, 0)
        seeds = [t] + [embed(x, knn, decay, landmarks, distances, s)[1] for s in range(1, 12)] if landmarks else [t]
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "X.npy"), x)
        np.save(os.path.join(d, "embedding.npy"), np.asarray(y, dtype=np.float64))
        with open(os.path.join(d, "case.txt"), "w") as f:
            f.write(f"knn {knn}\ndecay {decay}\nlandmarks {landmarks}\ndistances {int(distances)}\nt {t}\n")
            f.write("t_seeds " + " ".join(map(str, seeds)) + "\n")
        print(f"{name}: n={x.shape[0]}, t={t}, phate's t over random_state 0..11: {seeds}")


if __name__ == "__main__":
    main()
