"""NeuroMosaic from Python.

- :class:`PHATE`: a drop-in for ``phate.PHATE`` on NeuroMosaic's Rust core.
- :class:`Store`: log your own training runs (PyTorch or anything) into a
  NeuroMosaic store that ``mosaic`` and the explorer read.
- :class:`Study`: ask/tell optimisation over your own parameters
  (:class:`Float`, :class:`Int`, :class:`Categorical`, :class:`Bool`), driven
  by NeuroMosaic's meta-learner (a Gaussian process and expected improvement).
"""

from ._core import __version__
from .phate import PHATE
from .space import Bool, Categorical, Float, Int, Param, space_from_dict
from .store import Run, Store, Sweep
from .study import Study, Trial

__all__ = [
    "PHATE",
    "Study",
    "Store",
    "Sweep",
    "Run",
    "Trial",
    "Float",
    "Int",
    "Categorical",
    "Bool",
    "Param",
    "space_from_dict",
    "__version__",
]
