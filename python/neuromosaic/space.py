"""Search spaces of your own parameters, as Optuna declares them.

A space is a dict from name to parameter::

    space = {
        "lr": Float(1e-5, 1e-1, log=True),
        "layers": Int(1, 4),
        "optimizer": Categorical(["sgd", "adam"]),
        "momentum": Float(0.0, 0.99, when=("optimizer", ["sgd"])),
        "batch_norm": Bool(),
    }

``when=(name, values)`` makes a parameter count only while an earlier
categorical or boolean parameter takes one of ``values``. Plain dicts in the
JSON form (``{"kind": {"Float": {"low": ..., "high": ...}}}``) work too; the
same space written in RON is what ``mosaic`` reads from files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

from . import _core

Choice = Union[str, int, float, bool]
When = Optional[Tuple[str, Sequence[Choice]]]


@dataclass(frozen=True)
class Param:
    """Base of the parameter kinds; ``when`` makes it conditional."""

    def _kind(self) -> dict:
        raise NotImplementedError

    def _json(self, name: str) -> dict:
        out: dict = {"name": name, "kind": self._kind()}
        when = getattr(self, "when", None)
        if when is not None:
            parent, values = when
            out["when"] = {"param": parent, "values": [_plain(v) for v in values]}
        return out


@dataclass(frozen=True)
class Float(Param):
    """A real number in ``[low, high]``; ``log=True`` spreads draws evenly in log space."""

    low: float
    high: float
    log: bool = False
    when: When = None

    def _kind(self) -> dict:
        return {"Float": {"low": float(self.low), "high": float(self.high), "log": bool(self.log)}}


@dataclass(frozen=True)
class Int(Param):
    """A whole number in ``[low, high]`` on the grid ``low + k * step``."""

    low: int
    high: int
    log: bool = False
    step: int = 1
    when: When = None

    def _kind(self) -> dict:
        return {"Int": {"low": int(self.low), "high": int(self.high), "log": bool(self.log), "step": int(self.step)}}


@dataclass(frozen=True)
class Categorical(Param):
    """One of ``choices`` (strings, numbers or booleans)."""

    choices: Sequence[Choice]
    when: When = None

    def _kind(self) -> dict:
        return {"Categorical": {"choices": [_plain(c) for c in self.choices]}}


@dataclass(frozen=True)
class Bool(Param):
    """True or false."""

    when: When = None

    def _kind(self) -> Any:
        return "Bool"


def _plain(value: Any) -> Any:
    """numpy scalars as the Python numbers json writes."""
    return value.item() if hasattr(value, "item") else value


def space_to_json(space: Mapping[str, Any]) -> str:
    """The space as the JSON the Rust core reads, checked by it (errors name the parameter)."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError("a space is a non-empty dict from parameter name to Float/Int/Categorical/Bool")
    params = []
    for name, p in space.items():
        if isinstance(p, Param):
            params.append(p._json(name))
        elif isinstance(p, Mapping) and "kind" in p:
            params.append({"name": name, **p})
        else:
            raise ValueError(f"parameter {name!r}: expected Float, Int, Categorical or Bool, got {p!r}")
    return _core.check_space(json.dumps({"params": params}))


def space_from_dict(space: Mapping[str, Any]) -> dict:
    """The space in its JSON form (what a store keeps), validated."""
    return json.loads(space_to_json(space))


def params_to_json(params: Mapping[str, Any]) -> str:
    if not isinstance(params, Mapping):
        raise ValueError(f"parameters are a dict from name to value, got {type(params).__name__}")
    return json.dumps({str(k): _plain(v) for k, v in params.items()})
