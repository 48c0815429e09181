import warnings

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits() -> np.ndarray:
    """scikit-learn's 1,797 handwritten digits (8x8 images, 64 features): real data shipped in the package."""
    from sklearn.datasets import load_digits

    return load_digits().data


@pytest.fixture(autouse=True)
def quiet_reference_warnings():
    # phate and graphtools warn about their own internals (SGD convergence, deprecations).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
