"""Log your own training runs into a NeuroMosaic store, from any training loop.

::

    store = neuromosaic.Store("runs/")
    sweep = store.sweep("mlps", space={"lr": Float(1e-4, 1e-1, log=True), "width": Int(16, 256)}, dataset="digits")
    sweep.set_probe(X_probe, y_probe)                      # once: the inputs every network is compared on
    with sweep.start_run({"lr": 1e-2, "width": 64}) as run:
        for epoch in range(1, 21):
            ...                                             # your training step
            run.log(epoch, train_loss=loss, val_accuracy=acc)
        run.record_representations(model, ["net.1", "net.3"])   # forward hooks on the probe
        run.save_weights(model.state_dict())
    # leaving the block finishes the run as done (failed if it raised; diverged on a NaN loss)

Every call writes through NeuroMosaic's own store code (the same SQLite
schema and files as ``mosaic sweep``), one transaction at a time, so
``mosaic embed --store runs/``, ``mosaic export`` and the explorer read the
sweep while it is being logged.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _core
from .space import params_to_json, space_to_json

_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "learning_rate", "grad_norm", "weight_norm")


def _numpy(value: Any, name: str) -> np.ndarray:
    """A tensor (PyTorch, JAX, ...) or array as float32 numpy."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.ascontiguousarray(np.asarray(value, dtype=np.float32))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be an array of numbers: {e}") from None


class Store:
    """A NeuroMosaic store folder, created if it does not exist."""

    def __init__(self, path: "os.PathLike[str] | str") -> None:
        self._native = _core.NativeStore(os.fspath(path))
        self.path = os.fspath(path)

    def sweep(self, name: str, space: Optional[Mapping[str, Any]] = None, dataset: str = "") -> "Sweep":
        """The sweep ``name``; with ``space`` it is created if new (and must match if not)."""
        space_json = None if space is None else space_to_json(space)
        info = json.loads(self._native.sweep(name, space_json, dataset))
        return Sweep(self, info)

    @property
    def sweeps(self) -> List[str]:
        return self._native.sweep_names()

    def close(self) -> None:
        """Closes the store: later calls raise an error saying so."""
        self._native.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        # A shared store's password stays out of notebooks and logs.
        return f"neuromosaic.Store({self._native.location()!r})"


class Sweep:
    """A sweep of your own parameters in a store."""

    def __init__(self, store: Store, info: dict) -> None:
        self._store = store
        self.id: int = info["id"]
        self.name: str = info["name"]
        self.dataset: str = info["dataset"]
        self.space = info["space"]
        self._probe: Optional[tuple] = None

    def set_probe(self, inputs: Any, labels: Any = None) -> None:
        """Stores the probe: inputs every network of the sweep is run on to
        compare their hidden representations (a few hundred examples), with
        their class labels if there are classes."""
        x = _numpy(inputs, "probe inputs")
        y = np.zeros(len(x), dtype=np.float32) if labels is None else _numpy(labels, "probe labels").reshape(-1)
        if len(y) != len(x):
            raise ValueError(f"the probe has {len(x)} inputs but {len(y)} labels")
        self._store._native.set_probe(self.name, x, y)
        self._probe = (x, y)

    @property
    def probe(self) -> Optional[tuple]:
        """``(inputs, labels)`` as stored, or None."""
        if self._probe is None:
            self._probe = self._store._native.probe(self.name)
        return self._probe

    def start_run(self, params: Mapping[str, Any]) -> "Run":
        """Starts a run with ``params`` (checked against the space: unknown
        names, values outside it and inactive conditional parameters are refused)."""
        run_id, index = self._store._native.start_run(self.name, params_to_json(params))
        return Run(self, run_id, index, dict(params))

    def enqueue(self, params: Mapping[str, Any]) -> int:
        """Queues a run with ``params`` (checked against the space) for a worker
        to claim with :meth:`claim`; returns its id. Hand a study's suggestions
        to workers on other machines this way (a shared store: ``postgres://…``)."""
        return self._store._native.queue_run(self.name, params_to_json(params))

    def claim(self, lease: float = 60.0, worker: Optional[str] = None) -> Optional["Run"]:
        """Claims the next queued run for this process, or None when none is left.

        The run is leased for ``lease`` seconds, renewed as it logs its epochs:
        a worker that dies stops renewing, and another claims the run once the
        lease runs out. Its result is stored only while the lease holds, so
        every run is finished once (an error says when this worker lost it)."""
        if not lease > 0:
            raise ValueError(f"the lease must be a positive number of seconds, got {lease!r}")
        worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        claimed = self._store._native.claim_run(self.name, worker, float(lease))
        if claimed is None:
            return None
        run_id, index, params = claimed
        return Run(self, run_id, index, json.loads(params), lease=(worker, float(lease)))

    def runs(self) -> List[dict]:
        """Every run so far: id, index, status, params, epochs (missing metrics are None)."""
        return json.loads(self._store._native.runs(self.name))

    def __repr__(self) -> str:
        return f"neuromosaic.Sweep({self.name!r}, {len(self.runs())} runs)"


class Run:
    """One training run being logged. Use it as a context manager, or call :meth:`finish`."""

    def __init__(
        self, sweep: Sweep, run_id: int, index: int, params: Dict[str, Any], lease: Optional[Tuple[str, float]] = None
    ) -> None:
        self.sweep = sweep
        # (worker, seconds) for a run claimed from the queue: renewed as epochs are logged.
        self._lease = lease
        self._renewed = time.perf_counter()
        self.id = run_id
        self.index = index
        self.params = params
        self.status = "running"
        self.parameters = 0
        self._started = time.perf_counter()
        self._last = self._started
        self._epoch = 0

    @property
    def _native(self):
        return self.sweep._store._native

    def _check_running(self) -> None:
        if self.status == "lost":
            raise RuntimeError(f"run {self.id}'s lease was lost: another worker has it")
        if self.status != "running":
            raise ValueError(f"run {self.id} has finished ({self.status}): start a new run")

    def log(self, epoch: Optional[int] = None, seconds: Optional[float] = None, **metrics: float) -> bool:
        """Records one epoch (1-based; by default the next one) and its metrics:
        ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``,
        ``learning_rate``, ``grad_norm``, ``weight_norm``. A loss that is NaN
        or infinite marks the run diverged (the epoch is kept) and returns False."""
        self._check_running()
        unknown = sorted(set(metrics) - set(_METRICS))
        if unknown:
            raise ValueError(f"unknown metric {', '.join(unknown)}: the store keeps {', '.join(_METRICS)}")
        values = {}
        for k in _METRICS:
            v = metrics.get(k)
            try:
                values[k] = math.nan if v is None else float(v)
            except (TypeError, ValueError):
                raise ValueError(f"metric {k} must be a number, got {v!r}") from None
        epoch = self._epoch + 1 if epoch is None else int(epoch)
        if epoch < 1:
            raise ValueError(f"epochs count from 1, got {epoch}")
        now = time.perf_counter()
        took = now - self._last if seconds is None else float(seconds)
        self._last, self._epoch = now, epoch
        lr = values["learning_rate"]
        self._renew()
        self._native.log_epoch(
            self.id, epoch, values["train_loss"], values["train_accuracy"], values["val_loss"], values["val_accuracy"],
            0.0 if math.isnan(lr) else lr, took, values["grad_norm"], values["weight_norm"],
        )
        bad = [k for k in ("train_loss", "val_loss") if k in metrics and not math.isfinite(values[k])]
        if bad:
            self.finish("diverged", note=f"{bad[0]} became {values[bad[0]]} at epoch {epoch}")
            return False
        return True

    def _renew(self) -> None:
        """Renews a claimed run's lease once a third of it has passed; raises if another worker has the run now."""
        if self._lease is None:
            return
        worker, seconds = self._lease
        if time.perf_counter() - self._renewed < seconds / 3:
            return
        if not self._native.renew_lease(self.id, worker, seconds):
            self.status = "lost"
            raise RuntimeError(
                f"run {self.id}'s lease ran out (this process stalled longer than the {seconds:g} s lease?) "
                "and another worker has it: stop training it"
            )
        self._renewed = time.perf_counter()

    def save_weights(self, state_dict: Mapping[str, Any]) -> str:
        """Saves the weights (a PyTorch ``state_dict`` or a dict of arrays) as
        the run's ``final.safetensors``; returns its path."""
        arrays = {str(k): _numpy(v, f"weight {k}") for k, v in state_dict.items()}
        if not arrays:
            raise ValueError("the state_dict is empty")
        self.parameters = int(sum(a.size for a in arrays.values()))
        return self._native.write_run_file(self.id, "final.safetensors", arrays)

    def record_representations(self, model: Any, modules: Sequence[str], probe: Any = None) -> str:
        """Runs ``model`` on the sweep's probe (or ``probe``) and stores the
        outputs of the named modules (PyTorch forward hooks), flattened per
        example, as the run's hidden representations: what ``mosaic embed``
        compares networks by (the last module named)."""
        import torch

        if not modules:
            raise ValueError("name at least one module whose output is a hidden representation")
        named = dict(model.named_modules())
        missing = [m for m in modules if m not in named]
        if missing:
            known = ", ".join(n for n in named if n) or "(none)"
            raise ValueError(f"the model has no module {', '.join(map(repr, missing))}; its modules are: {known}")
        if probe is None:
            stored = self.sweep.probe
            if stored is None:
                raise ValueError(f"sweep `{self.sweep.name}` has no probe: call sweep.set_probe(inputs, labels) first")
            inputs, labels = stored
        else:
            inputs = _numpy(probe, "probe")
            labels = np.zeros(len(inputs), dtype=np.float32)
        outputs: Dict[str, np.ndarray] = {}
        hooks = [
            named[m].register_forward_hook(lambda _mod, _in, out, m=m: outputs.__setitem__(m, out.detach().cpu().reshape(len(inputs), -1).float().numpy()))
            for m in modules
        ]
        try:
            parameter = next(model.parameters(), None)
            device = parameter.device if parameter is not None else "cpu"
            x = torch.from_numpy(np.asarray(inputs)).to(device)
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    model(x)
            except RuntimeError as e:
                raise ValueError(f"the model cannot run on the probe (shape {tuple(x.shape)}): {e}") from None
            finally:
                model.train(was_training)
        finally:
            for h in hooks:
                h.remove()
        arrays = {f"layer{i}": np.ascontiguousarray(outputs[m]) for i, m in enumerate(modules)}
        arrays["probe_labels"] = np.asarray(labels, dtype=np.float32).reshape(-1)
        return self._native.write_run_file(self.id, "activations.safetensors", arrays)

    def landscape(
        self,
        model: Any,
        loss_fn: Any,
        inputs: Any,
        targets: Any,
        x: tuple = (-1.0, 1.0, 21),
        y: Optional[tuple] = (-1.0, 1.0, 21),
        seed: int = 0,
        normalization: str = "filter",
        ignore_bias_and_norm: bool = True,
        data: str = "",
    ) -> str:
        """Computes the model's loss landscape around its weights on
        ``(inputs, targets)`` (see :func:`neuromosaic.landscape.loss_surface`)
        and writes it into the run's folder, where the explorer shows it when
        the run is selected. Returns the surface's ``.npy`` path."""
        from .landscape import loss_surface, write_surface

        started = time.perf_counter()
        loss, acc = loss_surface(model, loss_fn, inputs, targets, x=x, y=y, seed=seed, normalization=normalization, ignore_bias_and_norm=ignore_bias_and_norm)
        folder = os.path.join(self.sweep._store._native.root(), "runs", str(self.id))
        return write_surface(
            folder, loss, acc, x, y, source=f"PyTorch {type(model).__name__} (neuromosaic)", run=self.id,
            data=data or self.sweep.dataset, examples=len(inputs), seed=seed, normalization=normalization,
            ignore_bias_and_norm=ignore_bias_and_norm, seconds=time.perf_counter() - started,
        )

    def finish(
        self,
        status: str = "done",
        test_loss: Optional[float] = None,
        test_accuracy: Optional[float] = None,
        note: Optional[str] = None,
        value: Optional[float] = None,
    ) -> None:
        """Ends the run: ``done``, ``diverged`` or ``failed``; its epochs are
        kept. ``value`` is its objective, what a :class:`Study` continuing the
        sweep (``Study.from_sweep``) learns from."""
        self._check_running()
        try:
            self._native.finish(
                self.id, status, time.perf_counter() - self._started, self.parameters,
                test_loss, test_accuracy, note, None if value is None else float(value),
                None if self._lease is None else self._lease[0],
            )
        except RuntimeError:
            if self._lease is not None:
                self.status = "lost"
            raise
        self.status = status

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind: Any, error: Any, _tb: Any) -> None:
        if self.status != "running":
            return
        if error is not None:
            self.finish("failed", note=f"{kind.__name__}: {error}")
        else:
            self.finish("done")

    def __repr__(self) -> str:
        return f"neuromosaic.Run(id={self.id}, index={self.index}, {self.status}, params={self.params})"
