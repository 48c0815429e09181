#!/usr/bin/env python3
"""Optuna's TPE sampler on NeuroMosaic's tabular search benchmark, beside ours.

Reads the table written by `mosaic bench table` and the curves written by
`mosaic bench search --out CURVES` (random, gp-ei, gp-ei+transfer, our tpe),
runs Optuna's TPE on the same task for the same seeds and budget, and prints
every method's median evaluations to reach the goal (random search's best
after 100 trials, median over seeds) and median best-so-far curves.

Optuna samples in the knobs' own space; each suggestion is snapped to the
nearest untried spec of the table (Euclidean distance between encodings,
the same encoding NeuroMosaic uses: numeric knobs scaled to [0, 1] on their
(log) range, one-hot categorical knobs). A diverged run scores 0.

    benches/search_compare.sh   # runs both sides
"""

import argparse
import csv
import json
import math
import re
import statistics
import sys

import optuna

NUMERIC = ["depth", "width", "taper", "dropout", "learning_rate", "batch_size", "weight_decay", "epochs"]
INTEGER = {"depth", "width", "batch_size", "epochs"}
CHOICES = [("family", "families"), ("activation", "activations"), ("norm", "norms"), ("skip", "skip"), ("optimizer", "optimizers")]


def parse_space(ron):
    """The bounds and choice lists of a search space written in RON."""
    space = {}
    for knob in NUMERIC:
        m = re.search(knob + r"\s*:\s*\(([^)]*)\)", ron)
        fields = dict(re.findall(r"(\w+)\s*:\s*([^,\s]+)", m.group(1)))
        space[knob] = (float(fields["min"]), float(fields["max"]), fields.get("log") == "true")
    for _, field in CHOICES:
        m = re.search(field + r"\s*:\s*\[([^\]]*)\]", ron)
        space[field] = [v.strip() for v in m.group(1).split(",") if v.strip()]
    return space


def unit(value, lo, hi, log):
    if log:
        lo, hi, value = math.log(lo), math.log(hi), math.log(max(value, lo))
    return 0.0 if hi <= lo else min(max((value - lo) / (hi - lo), 0.0), 1.0)


def encode(spec, space):
    v = [unit(float(spec[k]), *space[k]) for k in NUMERIC]
    for knob, field in CHOICES:
        value = str(spec[knob]).lower() if knob == "skip" else spec[knob]
        v += [1.0 if str(o) == str(value) else 0.0 for o in space[field]]
    return v


def run(table, task, space, encodings, budget, seed):
    values = table["tasks"][task]["values"]
    tried = set()
    curve = []
    best = float("nan")

    def objective(trial):
        nonlocal best
        params = {}
        for k in NUMERIC:
            lo, hi, log = space[k]
            if k in INTEGER:
                params[k] = trial.suggest_int(k, int(lo), int(hi), log=log)
            else:
                params[k] = trial.suggest_float(k, lo, hi, log=log)
        for knob, field in CHOICES:
            params[knob] = trial.suggest_categorical(knob, space[field])
        x = encode(params, space)
        nearest = min((i for i in range(len(encodings)) if i not in tried), key=lambda i: sum((a - b) ** 2 for a, b in zip(x, encodings[i])))
        tried.add(nearest)
        value = values[nearest]
        if value is not None and not (value <= best):
            best = value
        curve.append(best)
        return 0.0 if value is None else value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=budget)
    return curve


def median_evaluations(curves, goal):
    counts = []
    for c in curves:
        hit = next((i + 1 for i, v in enumerate(c) if v >= goal), None)
        counts.append(hit if hit is not None else math.inf)
    m = sorted(counts)[(len(counts) - 1) // 2]
    return m, sum(1 for c in counts if c != math.inf)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", default="benches/fixtures/search_table.json")
    p.add_argument("--curves", required=True, help="CSV from `mosaic bench search --out`")
    p.add_argument("--target", default="spirals")
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = p.parse_args()

    table = json.load(open(args.table))
    task = next(i for i, t in enumerate(table["tasks"]) if t["name"] == args.target)
    space = parse_space(table["space"])
    specs = [{**s, "skip": str(s["skip"]).lower()} for s in table["specs"]]
    encodings = [encode(s, space) for s in specs]

    ours = {}
    with open(args.curves) as f:
        for row in csv.DictReader(f):
            ours.setdefault(row["method"], {}).setdefault(int(row["seed"]), []).append(float(row["best"]))
    curves = {m: [c for _, c in sorted(by_seed.items())] for m, by_seed in ours.items()}
    seeds = len(curves["random"])
    budget = len(curves["random"][0])
    at = min(budget, 100) - 1
    goal = sorted(c[at] for c in curves["random"])[(seeds - 1) // 2]

    curves["optuna tpe (5.x, default)"] = [run(table, task, space, encodings, budget, seed) for seed in range(seeds)]

    marks = [10, 20, 30, 40, 60, 80, 100]
    marks = [m for m in marks if m <= budget]
    print(f"task `{args.target}`: goal {goal:.4f} (random search's best after {at + 1} trials, median of {seeds} seeds)")
    if args.markdown:
        print("\n| method | evaluations to reach the goal (median) | seeds that reach it | " + " | ".join(f"best @{m}" for m in marks) + " |")
        print("|---|---|---|" + "---|" * len(marks))
    for method, cs in curves.items():
        m, hits = median_evaluations(cs, goal)
        medians = [statistics.median(c[i - 1] for c in cs) for i in marks]
        shown = "never" if m == math.inf else str(m)
        if args.markdown:
            print(f"| {method} | {shown} | {hits}/{seeds} | " + " | ".join(f"{v:.4f}" for v in medians) + " |")
        else:
            print(f"{method:<34} reach goal: median {shown:>5} ({hits}/{seeds})  best @" + " ".join(f"{i}:{v:.4f}" for i, v in zip(marks, medians)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
