"""Ask/tell optimisation over your own parameters, on NeuroMosaic's meta-learner.

::

    study = neuromosaic.Study({"x": Float(-5, 5), "act": Categorical(["relu", "tanh"])}, direction="minimize")
    for _ in range(40):
        trial = study.ask()
        study.tell(trial, objective(**trial.params))
    print(study.best_params, study.best_value)

The first ``startup_trials`` trials come from a Latin hypercube; after that a
Gaussian process over the space (Matérn on numbers, an overlap kernel per
categorical) picks each trial by expected improvement. ``ask(n)`` hands out a
batch for parallel workers, spread out by the kriging believer; trials asked
for and not yet told count the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _core
from .space import params_to_json, space_to_json


@dataclass(frozen=True)
class Trial:
    """One evaluation: ``params`` to try; once told, ``state`` and ``value``.

    ``predicted`` is the model's ``(mean, std)`` for it when it was asked for
    (``None`` for the initial design and for added trials).
    """

    number: int
    params: Dict[str, Any]
    state: str
    value: Optional[float]
    predicted: Optional[tuple]

    @staticmethod
    def _from(raw: dict) -> "Trial":
        p = raw.get("predicted")
        return Trial(
            number=raw["number"],
            params=raw["params"],
            state=raw["state"].lower(),
            value=raw.get("value"),
            predicted=None if p is None else (p["mean"], p["std"]),
        )


class Study:
    """An ask/tell study. ``direction`` is ``"maximize"`` or ``"minimize"``."""

    def __init__(
        self,
        space: Mapping[str, Any],
        direction: str = "maximize",
        seed: int = 0,
        startup_trials: int = 10,
        candidates: int = 1000,
    ) -> None:
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        if startup_trials < 0 or candidates < 1:
            raise ValueError("startup_trials must be >= 0 and candidates >= 1")
        self.direction = direction
        self._native = _core.NativeStudy(
            space_to_json(space),
            minimize=direction == "minimize",
            seed=int(seed),
            startup_trials=int(startup_trials),
            candidates=int(candidates),
        )

    @classmethod
    def from_sweep(cls, sweep: Any, direction: str = "maximize", **options: Any) -> "Study":
        """A study that continues a stored sweep of parameters (one logged with
        :class:`neuromosaic.Store`, or imported with ``mosaic import optuna``):
        its space; its runs that finished with a value (``run.finish(value=...)``,
        an Optuna trial's value) as complete trials, its failed and diverged
        runs as failed ones."""
        if not isinstance(sweep.space, dict):
            raise ValueError(f"sweep `{sweep.name}` is a sweep of architectures: use mosaic suggest for it")
        # The stored space as the dict the constructor takes (its JSON form per name).
        space = {p["name"]: {k: v for k, v in p.items() if k != "name"} for p in sweep.space["params"]}
        study = cls(space, direction=direction, **options)
        for run in sweep.runs():
            if not isinstance(run["params"], dict):
                continue
            if run["status"] == "done" and run.get("value") is not None:
                study.add_trial(run["params"], run["value"])
            elif run["status"] in ("failed", "diverged"):
                study.add_trial(run["params"], None)
        return study

    def ask(self, n: Optional[int] = None) -> Union[Trial, List[Trial]]:
        """One trial, or with ``n`` a list of ``n`` trials for parallel workers."""
        count = 1 if n is None else int(n)
        if count < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        trials = [Trial._from(t) for t in json.loads(self._native.ask(count))]
        return trials[0] if n is None else trials

    def tell(self, trial: Union[Trial, int], value: Optional[float] = None, state: str = "complete") -> Trial:
        """Records how a trial went: its value, or ``state="fail"``. A value
        that is not a finite number (a diverged loss) marks the trial failed."""
        number = trial.number if isinstance(trial, Trial) else int(trial)
        if state not in ("complete", "fail"):
            raise ValueError(f"state must be 'complete' or 'fail', got {state!r}")
        if state == "complete" and value is None:
            raise ValueError("tell needs a value, or state='fail'")
        told = None if state == "fail" else _finite_or_nan(value)
        return Trial._from(json.loads(self._native.tell(number, told)))

    def add_trial(self, params: Mapping[str, Any], value: Optional[float]) -> Trial:
        """Records a trial evaluated elsewhere (``value`` None: failed); checked against the space."""
        told = None if value is None else _finite_or_nan(value)
        return Trial._from(json.loads(self._native.add(params_to_json(params), told)))

    @property
    def trials(self) -> List[Trial]:
        return [Trial._from(t) for t in json.loads(self._native.trials())]

    @property
    def best_trial(self) -> Trial:
        raw = self._native.best()
        if raw is None:
            raise ValueError("no trial is complete yet")
        return Trial._from(json.loads(raw))

    @property
    def best_params(self) -> Dict[str, Any]:
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def space(self) -> dict:
        """The space in its JSON form."""
        return json.loads(self._native.space())


def _finite_or_nan(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"a trial's value must be a number, got {value!r}") from None
    return v if math.isfinite(v) else math.nan
