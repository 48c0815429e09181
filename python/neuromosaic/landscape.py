"""Loss landscapes of any PyTorch model, in NeuroMosaic's surface format.

The surface is the loss at ``w + a d1 + b d2`` over a grid of ``(a, b)``,
with ``d1``, ``d2`` random Gaussian directions normalised filter by filter
to the weights (Li et al. 2018, as ``mosaic landscape`` does: each filter of
a weight, the incoming weights of a neuron or an output channel, scaled to
the norm of the same filter in ``w``; biases and norm parameters zeroed
unless asked). Grid points are evaluated in batches with ``torch.func``
(``functional_call`` under ``vmap``), not one forward pass at a time.

``Run.landscape(...)`` writes it into the run's folder as ``landscape.npy``
with its JSON sidecar, where the explorer finds it when the run is selected.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

Axis = Tuple[float, float, int]


def _axis_values(axis: Axis) -> np.ndarray:
    lo, hi, num = float(axis[0]), float(axis[1]), int(axis[2])
    if num < 1 or not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"an axis is (min, max, num) with num >= 1, got {axis}")
    return np.array([lo]) if num == 1 else np.linspace(lo, hi, num)


def random_direction(params: Dict[str, Any], seed: int, normalization: str = "filter", ignore_bias_and_norm: bool = True) -> Dict[str, Any]:
    """A Gaussian direction over ``params`` (name -> tensor), normalised as ``mosaic landscape`` does."""
    import torch

    if normalization not in ("filter", "layer", "none"):
        raise ValueError(f"normalization must be 'filter', 'layer' or 'none', got {normalization!r}")
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, w in params.items():
        d = torch.randn(w.shape, generator=g, dtype=torch.float32).to(w.device, w.dtype)
        if w.dim() <= 1:
            d = torch.zeros_like(w) if ignore_bias_and_norm else (w.detach().clone() if normalization != "none" else d)
        elif normalization == "filter":
            shape = (-1,) + (1,) * (w.dim() - 1)
            d = d * (w.detach().flatten(1).norm(dim=1) / (d.flatten(1).norm(dim=1) + 1e-10)).view(shape)
        elif normalization == "layer":
            d = d * (w.detach().norm() / (d.norm() + 1e-10))
        out[name] = d
    return out


def loss_surface(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    inputs: Any,
    targets: Any,
    x: Axis = (-1.0, 1.0, 21),
    y: Optional[Axis] = (-1.0, 1.0, 21),
    directions: Optional[Tuple[Dict[str, Any], Optional[Dict[str, Any]]]] = None,
    seed: int = 0,
    normalization: str = "filter",
    ignore_bias_and_norm: bool = True,
    chunk: int = 64,
) -> Tuple[np.ndarray, np.ndarray]:
    """``(loss, accuracy)`` grids (``ny x nx``, or ``nx`` with ``y=None``) of
    ``loss_fn(model(inputs), targets)`` around the model's weights. Accuracy
    is the share of ``argmax(output) == targets`` (NaN when the targets are
    not class indices)."""
    import torch
    from torch.func import functional_call, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}
    if not params:
        raise ValueError("the model has no parameters to move")
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    if directions is None:
        d1 = random_direction(params, seed + 1, normalization, ignore_bias_and_norm)
        d2 = None if y is None else random_direction(params, seed + 2, normalization, ignore_bias_and_norm)
    else:
        d1, d2 = directions
        missing = [k for k in params if k not in d1 or (y is not None and (d2 is None or k not in d2))]
        if missing:
            raise ValueError(f"the directions lack the model's parameters {missing[:5]}")
    xs, ys = _axis_values(x), (None if y is None else _axis_values(y))
    grid = [(a, 0.0) for a in xs] if ys is None else [(a, b) for b in ys for a in xs]
    classes = targets.dtype in (torch.int64, torch.int32, torch.long) if hasattr(targets, "dtype") else False

    def at(ab: Any) -> Tuple[Any, Any]:
        moved = {k: w + ab[0] * d1[k] + (ab[1] * d2[k] if d2 is not None else 0.0) for k, w in params.items()}
        out = functional_call(model, (moved, buffers), (inputs,))
        acc = (out.argmax(-1) == targets).float().mean() if classes else torch.tensor(float("nan"))
        return loss_fn(out, targets), acc

    was_training = model.training
    model.eval()
    losses, accs = [], []
    try:
        with torch.no_grad():
            points = torch.tensor(grid, dtype=next(iter(params.values())).dtype, device=next(iter(params.values())).device)
            for i in range(0, len(points), max(1, chunk)):
                loss, acc = vmap(at)(points[i : i + chunk])
                losses.append(loss.double().cpu().numpy())
                accs.append(acc.double().cpu().numpy())
    finally:
        model.train(was_training)
    shape = (len(xs),) if ys is None else (len(ys), len(xs))
    return np.concatenate(losses).reshape(shape), np.concatenate(accs).reshape(shape)


def write_surface(
    folder: str,
    loss: np.ndarray,
    accuracy: np.ndarray,
    x: Axis,
    y: Optional[Axis],
    *,
    source: str,
    run: Optional[int],
    data: str,
    examples: int,
    seed: int,
    normalization: str,
    ignore_bias_and_norm: bool,
    seconds: float,
    stem: str = "landscape",
) -> str:
    """Writes ``<stem>.npy`` and its sidecar ``<stem>.json`` into ``folder``
    (each atomically) in the format ``mosaic landscape`` writes; returns the .npy path."""
    os.makedirs(folder, exist_ok=True)
    flat = np.asarray(loss, dtype=np.float64).reshape(-1)
    finite = np.isfinite(flat)
    xs = _axis_values(x)
    minimum = None
    if finite.any():
        k = int(np.nanargmin(np.where(finite, flat, np.nan)))
        ys = None if y is None else _axis_values(y)
        minimum = [float(xs[k % len(xs)]), 0.0 if ys is None else float(ys[k // len(xs)]), float(flat[k])]
    info = {
        "source": source,
        "run": run,
        "data": data,
        "examples": int(examples),
        "x": {"min": float(x[0]), "max": float(x[1]), "num": int(x[2])},
        "y": None if y is None else {"min": float(y[0]), "max": float(y[1]), "num": int(y[2])},
        "directions": "random",
        "options": {"normalization": normalization, "ignore_bias_and_norm": bool(ignore_bias_and_norm), "orthogonalize": False, "seed": int(seed)},
        "loss_file": f"{stem}.npy",
        "accuracy": [None if not math.isfinite(v) else float(v) for v in np.asarray(accuracy, dtype=np.float64).reshape(-1)],
        "minimum": minimum,
        "non_finite": int((~finite).sum()),
        "trajectory": None,
        "seconds": float(seconds),
    }
    npy = os.path.join(folder, f"{stem}.npy")
    _atomic(npy, lambda f: np.save(f, np.asarray(loss, dtype=np.float64)))
    _atomic(os.path.join(folder, f"{stem}.json"), lambda f: f.write(json.dumps(info, indent=1).encode()))
    return npy


def _atomic(path: str, write: Callable[[Any], Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
