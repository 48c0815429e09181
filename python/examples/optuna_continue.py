#!/usr/bin/env python3
"""An Optuna study brought into NeuroMosaic and continued there with ask/tell.

    pip install ./python optuna
    python python/examples/optuna_continue.py work/ [--mosaic path/to/mosaic]
    mosaic explore --store work/store --sweep branin --no-train

Optuna's TPE runs 30 trials of a 3-parameter function (Branin with a
categorical shift) into a SQLite storage; `mosaic import optuna` brings the
study into a store as a sweep of parameters; `Study.from_sweep` continues it
for 15 more trials with NeuroMosaic's Gaussian process.
"""

import argparse
import math
import os
import shutil
import subprocess

import optuna

import neuromosaic


def branin(x: float, y: float, shift: str) -> float:
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    value = a * (y - b * x**2 + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s
    return value + {"none": 0.0, "small": 1.0, "large": 5.0}[shift]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work")
    ap.add_argument("--mosaic", default=shutil.which("mosaic") or "mosaic")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    db = os.path.join(args.work, "optuna.db")
    store_dir = os.path.join(args.work, "store")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="branin", storage=f"sqlite:///{db}", direction="minimize", load_if_exists=True)
    study.optimize(
        lambda t: branin(t.suggest_float("x", -5, 10), t.suggest_float("y", 0, 15), t.suggest_categorical("shift", ["none", "small", "large"])),
        n_trials=30,
    )
    print(f"Optuna TPE, 30 trials: best {study.best_value:.4f}")

    subprocess.run([args.mosaic, "import", "optuna", f"sqlite:///{db}", "--store", store_dir], check=True)
    sweep = neuromosaic.Store(store_dir).sweep("branin")
    ours = neuromosaic.Study.from_sweep(sweep, direction="minimize")
    for _ in range(15):
        trial = ours.ask()
        ours.tell(trial, branin(trial.params["x"], trial.params["y"], trial.params["shift"]))
    print(f"continued with neuromosaic.Study, 15 more: best {ours.best_value:.4f} (the minimum is 0.3979) at {ours.best_params}")


if __name__ == "__main__":
    main()
