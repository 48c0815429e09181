"""``neuromosaic.PHATE``: the basic ``phate.PHATE`` interface on the Rust core.

The steps follow the reference package (phate 2.0 with graphtools): the
alpha-decay kNN kernel, landmarks above ``n_landmark`` points, t from the knee
of the von Neumann entropy, the log potential (or ``gamma``'s), classical then
metric MDS. Metric MDS is SMACOF (phate's ``mds_solver="smacof"``); against
phate's default SGD solver the embeddings agree to a Procrustes disparity of a
few hundredths (docs/benchmarks.md, the PHATE battery). Above ``n_pca``
features the data is first reduced by an exact PCA (phate uses a randomized
one, which agrees with it to rounding).
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from . import _core

_SUPPORTED_DIST = ("euclidean", "precomputed", "precomputed_distance")


class PHATE:
    """Potential of Heat-diffusion for Affinity-based Trajectory Embedding.

    Parameters mirror ``phate.PHATE``: ``n_components``, ``knn``, ``decay``,
    ``n_landmark`` (``None``: never), ``t`` (``"auto"`` or a positive int),
    ``gamma`` (in [-1, 1]), ``n_pca`` (``None``: never), ``knn_dist``
    (``"euclidean"`` or ``"precomputed"`` for a distance matrix), ``mds``
    (``"metric"`` or ``"classic"``), ``random_state``. ``mds_solver``,
    ``n_jobs`` and ``verbose`` are accepted for compatibility (the Rust core
    uses every core and prints nothing).

    After ``fit``: ``embedding`` (n x n_components), ``optimal_t`` (the t
    used; chosen when ``t="auto"``), ``t_source`` (how the entropy curve
    was computed) and ``entropy`` (that curve, t = 1, 2, ...).
    """

    def __init__(
        self,
        n_components: int = 2,
        knn: int = 5,
        decay: float = 40,
        n_landmark: Optional[int] = 2000,
        t: Union[int, str] = "auto",
        gamma: float = 1,
        n_pca: Optional[int] = 100,
        mds_solver: str = "sgd",
        knn_dist: str = "euclidean",
        knn_max: Optional[int] = None,
        mds_dist: str = "euclidean",
        mds: str = "metric",
        n_jobs: int = 1,
        random_state: Optional[int] = None,
        verbose: Union[int, bool] = 1,
        **kwargs: Any,
    ) -> None:
        self.n_components = n_components
        self.knn = knn
        self.decay = decay
        self.n_landmark = n_landmark
        self.t = t
        self.gamma = gamma
        self.n_pca = n_pca
        self.mds_solver = mds_solver
        self.knn_dist = knn_dist
        self.knn_max = knn_max
        self.mds_dist = mds_dist
        self.mds = mds
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        if kwargs:
            raise TypeError(f"PHATE got unknown parameters: {', '.join(sorted(kwargs))}")
        self.embedding: Optional[np.ndarray] = None
        self.optimal_t: Optional[int] = None
        self.t_source: Optional[str] = None
        self.entropy: Optional[np.ndarray] = None
        self._fitted: Optional[np.ndarray] = None
        self._projection: Optional[tuple] = None

    # scikit-learn's estimator protocol, so PHATE fits in pipelines and grid searches.
    _PARAMS = (
        "n_components", "knn", "decay", "n_landmark", "t", "gamma", "n_pca", "mds_solver", "knn_dist",
        "knn_max", "mds_dist", "mds", "n_jobs", "random_state", "verbose",
    )

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> "PHATE":
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(f"PHATE has no parameter {name!r}; it has {', '.join(self._PARAMS)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return f"neuromosaic.PHATE(n_components={self.n_components}, knn={self.knn}, decay={self.decay}, t={self.t!r})"

    def _settings(self) -> dict:
        if self.knn_dist not in _SUPPORTED_DIST:
            raise ValueError(
                f"knn_dist={self.knn_dist!r} is not supported: use 'euclidean', or compute the distances "
                "yourself and pass them with knn_dist='precomputed'"
            )
        if self.knn_max is not None:
            raise ValueError("knn_max is not supported: leave it None (every point keeps the neighbours its bandwidth reaches)")
        if self.mds_dist != "euclidean":
            raise ValueError(f"mds_dist={self.mds_dist!r} is not supported: only 'euclidean'")
        if self.mds not in ("metric", "classic"):
            raise ValueError(f"mds={self.mds!r} is not supported: use 'metric' or 'classic'")
        if self.t == "auto":
            t = None
        elif isinstance(self.t, (int, np.integer)) and not isinstance(self.t, bool) and self.t >= 1:
            t = int(self.t)
        else:
            raise ValueError(f"t must be 'auto' or a positive integer, got {self.t!r}")
        if not isinstance(self.knn, (int, np.integer)) or self.knn < 1:
            raise ValueError(f"knn must be a positive integer, got {self.knn!r}")
        if not isinstance(self.n_components, (int, np.integer)) or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}")
        seed = 0 if self.random_state is None else int(self.random_state)
        if seed < 0:
            raise ValueError(f"random_state must not be negative, got {seed}")
        return dict(
            n_components=int(self.n_components),
            knn=int(self.knn),
            decay=float(self.decay),
            t=t,
            t_max=100,
            n_landmark=0 if self.n_landmark is None else int(self.n_landmark),
            gamma=float(self.gamma),
            seed=seed,
            mds_iterations=0 if self.mds == "classic" else 3000,
        )

    @property
    def _precomputed(self) -> bool:
        return self.knn_dist in ("precomputed", "precomputed_distance")

    def fit(self, X: Any) -> "PHATE":
        """Embeds ``X`` (n samples x features, or with ``knn_dist="precomputed"`` an n x n distance matrix)."""
        settings = self._settings()
        data = _as_matrix(X, "X")
        self._projection = None
        if not self._precomputed and self.n_pca is not None and data.shape[1] > self.n_pca and data.shape[0] > self.n_pca:
            mean = data.mean(axis=0)
            _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
            self._projection = (mean, vt[: int(self.n_pca)].T)
            data = (data - mean) @ self._projection[1]
        embedding, t, entropy, source = _core.phate_fit(data, precomputed=self._precomputed, **settings)
        self._fitted = data
        self.embedding = embedding
        self.optimal_t = t
        self.t_source = source
        self.entropy = np.asarray(entropy, dtype=np.float64)
        return self

    def fit_transform(self, X: Any) -> np.ndarray:
        """Fits and returns the embedding."""
        self.fit(X)
        assert self.embedding is not None
        return self.embedding

    def transform(self, Y: Any = None) -> np.ndarray:
        """The embedding (``Y`` None) or coordinates for new points placed into it.

        New points are placed as the reference does: their kernel
        transitions to the fitted points average those points' coordinates,
        so the embedding itself does not move. With ``knn_dist="precomputed"``
        ``Y`` holds each new point's distances to the fitted points (m x n).
        """
        if self.embedding is None or self._fitted is None:
            raise RuntimeError("this PHATE is not fitted yet: call fit(X) first")
        if Y is None:
            return self.embedding
        settings = self._settings()
        new = _as_matrix(Y, "Y")
        if self._precomputed:
            if new.shape[1] != self._fitted.shape[0]:
                raise ValueError(
                    f"with knn_dist='precomputed', Y needs one column per fitted point ({self._fitted.shape[0]}), got {new.shape[1]}"
                )
            distances = new
        else:
            if self._projection is not None:
                mean, components = self._projection
                if new.shape[1] != mean.shape[0]:
                    raise ValueError(f"Y has {new.shape[1]} features, the fitted data {mean.shape[0]}")
                new = (new - mean) @ components
            distances = _core.cross_distances(new, self._fitted)
        return _core.phate_extend(distances, self.embedding, settings["knn"], settings["decay"])

    def von_neumann_entropy(self, t_max: int = 100) -> tuple:
        """``(t, entropy)``: the curve the automatic t was chosen from (t = 1..)."""
        if self.entropy is None or len(self.entropy) == 0:
            raise RuntimeError("no entropy curve: fit with t='auto' first")
        h = self.entropy[:t_max]
        return np.arange(1, len(h) + 1), h


def _as_matrix(X: Any, name: str) -> np.ndarray:
    if hasattr(X, "toarray"):  # scipy.sparse
        X = X.toarray()
    try:
        data = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a 2-D array of numbers: {e}") from None
    if data.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x features), got shape {data.shape}")
    return np.ascontiguousarray(data)
