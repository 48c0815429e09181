"""neuromosaic.PHATE against the reference phate package, on real and generated data."""

import threading
import time

import numpy as np
import phate
import pytest
from scipy.spatial import procrustes

import neuromosaic


def similarity(a: np.ndarray, b: np.ndarray):
    """The rotation, scale and shift that best carry embedding ``a`` onto ``b``."""
    ma, mb = a.mean(0), b.mean(0)
    u, s, vt = np.linalg.svd((a - ma).T @ (b - mb))
    scale = s.sum() / ((a - ma) ** 2).sum()
    return lambda x: (x - ma) @ (u @ vt) * scale + mb


def dla_tree() -> np.ndarray:
    tree, _ = phate.tree.gen_dla(n_dim=40, n_branch=6, branch_length=300, rand_multiplier=2, seed=7, sigma=4)
    return tree


@pytest.mark.parametrize(
    "data, settings",
    [
        ("digits", {}),
        ("digits", {"knn": 10, "decay": 15, "gamma": 0}),
        ("tree", {"knn": 7}),
    ],
    ids=["digits-defaults", "digits-knn10-decay15-gamma0", "dla-tree-knn7"],
)
def test_matches_phate_with_its_default_sgd_solver(digits, data, settings):
    X = digits if data == "digits" else dla_tree()
    ref = phate.PHATE(n_components=3, random_state=0, verbose=0, **settings)
    want = ref.fit_transform(X)
    ours = neuromosaic.PHATE(n_components=3, random_state=0, **settings)
    got = ours.fit_transform(X)
    assert got.shape == (X.shape[0], 3)
    assert ours.optimal_t == ref.optimal_t
    # SMACOF against phate's SGD: the same shape, up to the solvers' difference.
    assert procrustes(want, got)[2] < 0.05


def test_equals_phate_with_smacof_and_places_new_points_as_phate_does(digits):
    train, new = digits[:1500], digits[1500:]
    ref = phate.PHATE(n_components=2, random_state=0, verbose=0, mds_solver="smacof")
    want, want_new = ref.fit_transform(train), ref.transform(new)
    ours = neuromosaic.PHATE(n_components=2, random_state=0)
    got, got_new = ours.fit_transform(train), ours.transform(new)
    onto = similarity(got, want)
    spread = np.linalg.norm(want - want.mean(0))
    assert np.linalg.norm(onto(got) - want) / spread < 1e-4
    assert np.linalg.norm(onto(got_new) - want_new) / spread < 1e-4
    assert ours.transform() is ours.embedding


def test_a_distance_matrix_gives_the_embedding_of_its_features(digits):
    X = digits[:600]
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    from_features = neuromosaic.PHATE(random_state=0).fit_transform(X)
    pre = neuromosaic.PHATE(random_state=0, knn_dist="precomputed")
    np.testing.assert_allclose(pre.fit_transform(D), from_features, atol=1e-9)
    # New points by their distances to the fitted ones.
    placed = pre.transform(D[:5])
    assert placed.shape == (5, 2)
    with pytest.raises(ValueError, match="one column per fitted point"):
        pre.transform(D[:5, :10])


def test_more_features_than_n_pca_are_reduced_first():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20)) @ rng.normal(size=(20, 150))
    reduced = neuromosaic.PHATE(n_pca=20, random_state=0, t=10).fit_transform(X)
    plain = neuromosaic.PHATE(n_pca=None, random_state=0, t=10).fit_transform(X)
    # 20 components hold all of the data's variance: the same distances, the same embedding.
    np.testing.assert_allclose(reduced, plain, atol=1e-6 * np.abs(plain).max())
    assert neuromosaic.PHATE(n_pca=20, t=10).fit(X).transform(X[:3]).shape == (3, 2)


def test_the_gil_is_released_while_it_computes(digits):
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    worker = threading.Thread(target=tick)
    worker.start()
    started = time.perf_counter()
    neuromosaic.PHATE(random_state=0).fit(digits)
    finished = time.perf_counter()
    stop.set()
    worker.join()
    during = [t for t in ticks if started < t < finished]
    # A thread blocked by the GIL would tick a handful of times at most.
    assert len(during) > 0.3 * (finished - started) / 0.005


def test_bad_input_raises_errors_that_name_the_problem(digits):
    X = digits[:200].copy()
    X[17, 3] = np.nan
    with pytest.raises(ValueError, match="row 17 holds a NaN"):
        neuromosaic.PHATE().fit(X)
    with pytest.raises(ValueError, match="knn_dist='cosine' is not supported"):
        neuromosaic.PHATE(knn_dist="cosine").fit(digits[:200])
    with pytest.raises(ValueError, match="t must be 'auto' or a positive integer"):
        neuromosaic.PHATE(t=0).fit(digits[:200])
    with pytest.raises(ValueError, match="gamma must lie in"):
        neuromosaic.PHATE(gamma=2).fit(digits[:200])
    with pytest.raises(ValueError, match="need at least 4 points"):
        neuromosaic.PHATE().fit(digits[:3])
    with pytest.raises(ValueError, match="must be 2-D"):
        neuromosaic.PHATE().fit(digits[0])
    with pytest.raises(ValueError, match="must be square"):
        neuromosaic.PHATE(knn_dist="precomputed").fit(np.zeros((5, 4)))
    with pytest.raises(RuntimeError, match="not fitted yet"):
        neuromosaic.PHATE().transform(digits[:3])
    fitted = neuromosaic.PHATE(t=5).fit(digits[:200])
    with pytest.raises(ValueError, match="new points have 10 features, the fitted data 64"):
        fitted.transform(digits[:3, :10])
    with pytest.raises(TypeError, match="unknown parameters: colour"):
        neuromosaic.PHATE(colour="red")


def test_it_follows_the_estimator_protocol():
    op = neuromosaic.PHATE(knn=7)
    assert op.get_params()["knn"] == 7
    assert op.set_params(decay=20, t=12) is op and op.decay == 20 and op.t == 12
    with pytest.raises(ValueError, match="no parameter 'knnn'"):
        op.set_params(knnn=3)
