"""Ask/tell on a user's own space: it learns, spreads batches, and refuses bad input by name."""

import math

import numpy as np
import pytest

import neuromosaic
from neuromosaic import Bool, Categorical, Float, Int, Study

SPACE = {
    "x1": Float(-3.0, 3.0),
    "x2": Float(-3.0, 3.0),
    "lr": Float(1e-4, 1.0, log=True),
    "width": Int(8, 256, log=True),
    "act": Categorical(["relu", "tanh", "gelu"]),
    "bn": Bool(),
}


def objective(p: dict) -> float:
    """A 6-parameter test function with its minimum 0 at x=(1, -0.5), lr=1e-2, width=64, gelu, bn on."""
    return (
        (p["x1"] - 1.0) ** 2
        + (p["x2"] + 0.5) ** 2
        + (math.log10(p["lr"]) + 2.0) ** 2
        + (math.log2(p["width"]) - 6.0) ** 2 / 4.0
        + {"relu": 0.6, "tanh": 1.2, "gelu": 0.0}[p["act"]]
        + (0.0 if p["bn"] else 0.8)
    )


def best_of_study(seed: int, budget: int) -> float:
    study = Study(SPACE, direction="minimize", seed=seed)
    for _ in range(budget):
        trial = study.ask()
        study.tell(trial, objective(trial.params))
    return study.best_value


def best_of_random(seed: int, budget: int) -> float:
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(budget):
        p = {
            "x1": rng.uniform(-3, 3),
            "x2": rng.uniform(-3, 3),
            "lr": 10 ** rng.uniform(-4, 0),
            "width": int(round(2 ** rng.uniform(3, 8))),
            "act": ["relu", "tanh", "gelu"][rng.integers(3)],
            "bn": bool(rng.integers(2)),
        }
        values.append(objective(p))
    return min(values)


def test_ask_tell_beats_random_search_on_a_six_parameter_function():
    budget = 40
    ours = [best_of_study(seed, budget) for seed in range(5)]
    random = [best_of_random(seed, budget) for seed in range(5)]
    assert np.median(ours) < 0.5 * np.median(random), (ours, random)
    assert max(ours) < 1.0, ours


def test_trials_lie_in_the_space_and_conditions_hold():
    space = {
        "optimizer": Categorical(["sgd", "adam"]),
        "momentum": Float(0.0, 0.99, when=("optimizer", ["sgd"])),
        "layers": Int(1, 9, step=2),
    }
    study = Study(space, seed=1, startup_trials=5)
    for _ in range(15):
        t = study.ask()
        assert ("momentum" in t.params) == (t.params["optimizer"] == "sgd"), t.params
        assert t.params["layers"] in (1, 3, 5, 7, 9)
        study.tell(t, t.params["layers"] + t.params.get("momentum", 0.0))
    assert study.best_params["layers"] == 9


def test_a_batch_for_parallel_workers_holds_different_points_with_predictions():
    study = Study(SPACE, direction="minimize", seed=2)
    for t in study.ask(10):
        study.tell(t, objective(t.params))
    batch = study.ask(4)
    assert len({repr(sorted(t.params.items())) for t in batch}) == 4
    assert all(t.predicted is not None and t.predicted[1] >= 0 for t in batch)
    assert all(t.state == "running" for t in batch)


def test_nan_values_and_failures_are_kept_as_failed_trials():
    study = Study(SPACE, seed=3)
    a, b = study.ask(2)
    assert study.tell(a, float("nan")).state == "failed"
    assert study.tell(b, state="fail").state == "failed"
    with pytest.raises(ValueError, match="already told"):
        study.tell(a, 1.0)
    with pytest.raises(ValueError, match="no trial 7"):
        study.tell(7, 1.0)
    with pytest.raises(ValueError, match="no trial is complete yet"):
        study.best_value


def test_added_trials_are_checked_against_the_space_by_name():
    study = Study(SPACE, seed=4)
    good = {"x1": 0.0, "x2": 0.0, "lr": 1e-3, "width": 32, "act": "relu", "bn": True}
    assert study.add_trial(good, 2.5).state == "complete"
    assert study.add_trial({**good, "width": np.int64(16)}, None).state == "failed"
    with pytest.raises(ValueError, match="unknown parameter `dropout`"):
        study.add_trial({**good, "dropout": 0.1}, 1.0)
    with pytest.raises(ValueError, match="`lr` = 5 is outside the space: needs a number in"):
        study.add_trial({**good, "lr": 5.0}, 1.0)
    with pytest.raises(ValueError, match="`act` = \"swish\" is outside the space"):
        study.add_trial({**good, "act": "swish"}, 1.0)
    with pytest.raises(ValueError, match="parameter `bn` is missing"):
        study.add_trial({k: v for k, v in good.items() if k != "bn"}, 1.0)


def test_bad_spaces_are_refused_by_name():
    with pytest.raises(ValueError, match="`lr`: a log scale needs low > 0"):
        Study({"lr": Float(0.0, 1.0, log=True)})
    with pytest.raises(ValueError, match="`m`: its condition names `opt`, which is not declared before it"):
        Study({"m": Float(0, 1, when=("opt", ["sgd"])), "opt": Categorical(["sgd"])})
    with pytest.raises(ValueError, match="expected Float, Int, Categorical or Bool"):
        Study({"x": (0, 1)})
    with pytest.raises(ValueError, match="direction must be"):
        Study({"x": Float(0, 1)}, direction="up")
    assert neuromosaic.space_from_dict({"x": Float(0, 1)})["params"][0]["name"] == "x"
