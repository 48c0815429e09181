"""Type stubs of the native module (crates/mosaic-py)."""

from typing import Optional, Tuple, List

import numpy as np
import numpy.typing as npt

__version__: str

def phate_fit(
    data: npt.NDArray[np.float64],
    *,
    precomputed: bool,
    n_components: int,
    knn: int,
    decay: float,
    t: Optional[int],
    t_max: int,
    n_landmark: int,
    gamma: float,
    seed: int,
    mds_iterations: int,
) -> Tuple[npt.NDArray[np.float64], int, List[float], str]: ...
def phate_extend(
    distances: npt.NDArray[np.float64], embedding: npt.NDArray[np.float64], knn: int, decay: float
) -> npt.NDArray[np.float64]: ...
def cross_distances(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def check_space(space_json: str) -> str: ...

class NativeStudy:
    def __init__(self, space_json: str, *, minimize: bool, seed: int, startup_trials: int, candidates: int) -> None: ...
    def ask(self, n: int) -> str: ...
    def tell(self, number: int, value: Optional[float]) -> str: ...
    def add(self, params_json: str, value: Optional[float]) -> str: ...
    def trials(self) -> str: ...
    def best(self) -> Optional[str]: ...
    def space(self) -> str: ...
