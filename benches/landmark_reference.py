#!/usr/bin/env python3
"""graphtools' landmark operator, for the Rust landmark test.

Builds graphtools' LandmarkGraph (as `phate` does: knn 5, decay 40,
thresh 1e-4, no PCA) on a small branching data set (three noisy arms in
5-D, 600 points, 60 landmarks) and writes its spectral clusters and its
landmark operator, so the test can rebuild the operator from the same
clusters and check the spectral coordinates' subspace:

    crates/mosaic-manifold/tests/fixtures/landmark_tree/
        X.npy              the data (float64)
        clusters.npy       graphtools' cluster of each point (as float64)
        landmark_op.npy    its landmark operator (60 x 60)
        coords.npy         its spectral coordinates diff_op @ VT.T (float32, 600 x 100)

    ~/.cache/neuromosaic/venv/bin/python benches/landmark_reference.py
"""

import os

import graphtools
import numpy as np
from sklearn.utils.extmath import randomized_svd

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "mosaic-manifold", "tests", "fixtures", "landmark_tree")


def branches(n_per_arm=200, dims=5, seed=3):
    rng = np.random.RandomState(seed)
    directions = rng.normal(size=(3, dims))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    arms = [rng.uniform(0, 1, size=(n_per_arm, 1)) * d * 4 + rng.normal(scale=0.15, size=(n_per_arm, dims)) for d in directions]
    return np.vstack(arms).astype(np.float64)


def main():
    assert not graphtools.graphs.NUMBA_AVAILABLE, "run without numba installed"
    X = branches()
    G = graphtools.Graph(X, knn=5, decay=40, thresh=1e-4, n_pca=None, n_landmark=60, random_state=0, verbose=0)
    op = G.landmark_op
    _, _, VT = randomized_svd(G.diff_aff, n_components=G.n_svd, random_state=G.random_state)
    coords = G.diff_op.dot(VT.T)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "X.npy"), X)
    np.save(os.path.join(OUT, "clusters.npy"), np.asarray(G.clusters, dtype=np.float64).reshape(-1, 1))
    np.save(os.path.join(OUT, "landmark_op.npy"), np.asarray(op, dtype=np.float64))
    np.save(os.path.join(OUT, "coords.npy"), np.asarray(coords, dtype=np.float32))
    print(f"graphtools {graphtools.__version__}: n={X.shape[0]}, {op.shape[0]} landmarks -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
