#!/usr/bin/env python3
"""A PyTorch sweep of small MLPs and CNNs on scikit-learn's digits, chosen by
ask/tell, logged into a NeuroMosaic store, then embedded and explored.

    pip install ./python torch scikit-learn
    python python/examples/digits_sweep.py runs/ --trials 16
    mosaic embed --store runs/              # PHATE of the networks' hidden representations
    mosaic explore --store runs/ --no-train  # fly through them

The space is conditional: `width` counts for MLPs, `channels` for CNNs.
Each network's last hidden layer on a shared probe of 300 digits is what
`mosaic embed` compares; a NaN loss (too high a learning rate) is kept as a
diverged run.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

import neuromosaic
from neuromosaic import Categorical, Float, Int

SPACE = {
    "model": Categorical(["mlp", "cnn"]),
    "width": Int(16, 256, log=True, when=("model", ["mlp"])),
    "channels": Int(4, 32, log=True, when=("model", ["cnn"])),
    "lr": Float(1e-3, 1.0, log=True),
    "activation": Categorical(["relu", "tanh"]),
}


def build(p: dict) -> tuple:
    """The network and the names of its hidden layers (for the representations)."""
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[p["activation"]]
    if p["model"] == "mlp":
        net = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(64, p["width"]), act(), torch.nn.Linear(p["width"], p["width"]), act(),
            torch.nn.Linear(p["width"], 10),
        )
        return net, ["2", "4"]
    c = p["channels"]
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, c, 3, padding=1), act(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(c, 2 * c, 3, padding=1), act(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(2 * c, 10),
    )
    return net, ["2", "6"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store")
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--sweep", default="digits-mlp-cnn")
    args = ap.parse_args()

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # 1 x 8 x 8 images
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))
    train, val, probe = order[:1200], order[1200:1500], order[1500:1800]
    xt, yt, xv, yv = (torch.from_numpy(a) for a in (x[train], y[train], x[val], y[val]))

    store = neuromosaic.Store(args.store)
    sweep = store.sweep(args.sweep, space=SPACE, dataset="scikit-learn digits (8x8)")
    sweep.set_probe(x[probe], y[probe])
    study = neuromosaic.Study(SPACE, direction="maximize", seed=0, startup_trials=8)
    for k in range(args.trials):
        trial = study.ask()
        torch.manual_seed(k)
        model, hidden = build(trial.params)
        opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=0.9)
        started = time.perf_counter()
        acc = float("nan")
        with sweep.start_run(trial.params) as run:
            for epoch in range(1, args.epochs + 1):
                for i in range(0, len(xt), 64):
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(xt[i : i + 64]), yt[i : i + 64])
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    out = model(xv)
                    val_loss = torch.nn.functional.cross_entropy(out, yv).item()
                    acc = (out.argmax(1) == yv).float().mean().item()
                if not run.log(epoch, train_loss=loss.item(), val_loss=val_loss, val_accuracy=acc, learning_rate=trial.params["lr"]):
                    break  # diverged: kept as such
            if run.status == "running":
                run.record_representations(model, hidden)
                run.save_weights(model.state_dict())
        study.tell(trial, acc if run.status != "diverged" else float("nan"))
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in trial.params.items()}
        print(f"run {run.id:>3}: {run.status:<8} val accuracy {acc:.3f}  {shown}  ({time.perf_counter() - started:.1f} s)")
    best = study.best_trial
    print(f"best: {best.value:.3f} with {best.params}")
    print(f"next: mosaic embed --store {args.store} && mosaic explore --store {args.store} --no-train")


if __name__ == "__main__":
    main()
