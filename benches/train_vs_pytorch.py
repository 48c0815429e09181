#!/usr/bin/env python3
"""Epoch time of NeuroMosaic's trainer against PyTorch on the CPU, in one run.

Both sides train the same models on the same examples, written by `mosaic
bench train`: with `--task spirals`, a 2x64 ReLU MLP on 2,000 two-spiral
points, batch 64, Adam; with `--task images`, the image space's reference
MLPs and CNNs (`mosaic_train::image_reference_specs`: 3x3 conv blocks ending
in 2x2 max-pools, batch norm, a skip, global average pool) on a Fashion-MNIST
subset, batch 64, Adam. Both do the same work per epoch: shuffle, forward,
cross-entropy, backward, global gradient norm, optimiser step, then weight
norm and a validation pass. NeuroMosaic trains single-threaded; PyTorch is
timed with one thread (the fair match) and with all cores.

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    cargo build --release
    .venv/bin/python benches/train_vs_pytorch.py [--task images] [--epochs 20]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


def load(path):
    a = np.loadtxt(path, delimiter=",", dtype=np.float32)
    return torch.from_numpy(a[:, :2].copy()), torch.from_numpy(a[:, 2].astype(np.int64))


class Block(torch.nn.Module):
    """One hidden block as mosaic-train builds it: layer, norm, activation,
    skip (through a bias-free projection when widths differ), max-pool."""

    def __init__(self, conv, prev, width, norm, act, skip):
        super().__init__()
        self.conv = conv
        self.layer = torch.nn.Conv2d(prev, width, 3, padding=1) if conv else torch.nn.Linear(prev, width)
        if norm == "Batch":
            self.norm = torch.nn.BatchNorm2d(width) if conv else torch.nn.BatchNorm1d(width)
        elif norm == "Layer":
            self.norm = torch.nn.LayerNorm(width)
        else:
            self.norm = None
        self.act = act
        self.skip = skip
        self.proj = None
        if skip and prev != width:
            self.proj = torch.nn.Conv2d(prev, width, 1, bias=False) if conv else torch.nn.Linear(prev, width, bias=False)

    def forward(self, x):
        h = self.layer(x)
        if isinstance(self.norm, torch.nn.LayerNorm) and self.conv:
            h = self.norm(h.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        elif self.norm is not None:
            h = self.norm(h)
        h = self.act(h)
        if self.skip:
            h = h + (self.proj(x) if self.proj is not None else x)
        if self.conv and h.shape[2] >= 2 and h.shape[3] >= 2:
            h = torch.nn.functional.max_pool2d(h, 2)
        return h


class Network(torch.nn.Module):
    def __init__(self, spec, widths, input_dim, side, classes):
        super().__init__()
        self.conv = spec["family"] == "Cnn"
        self.side = side
        act = {"Relu": torch.nn.ReLU(), "Gelu": torch.nn.GELU(), "Tanh": torch.nn.Tanh(), "Silu": torch.nn.SiLU()}[spec["activation"]]
        residual = spec["family"] == "ResidualMlp" or spec["skip"]
        prev = 1 if self.conv else input_dim
        blocks = []
        for i, w in enumerate(widths):
            blocks.append(Block(self.conv, prev, w, spec["norm"], act, residual and i > 0))
            prev = w
        self.blocks = torch.nn.Sequential(*blocks)
        self.head = torch.nn.Linear(prev, classes)

    def forward(self, x):
        if self.conv:
            x = x.reshape(-1, 1, self.side, self.side)
        h = self.blocks(x)
        if self.conv:
            h = h.mean(dim=(2, 3))
        return self.head(h)


def spirals_model():
    return torch.nn.Sequential(
        torch.nn.Linear(2, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 2),
    )


def torch_epochs(make_model, train, val, epochs, threads, batch=64, lr=0.003, seed=1):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    (x, y), (vx, vy) = train, val
    n = x.shape[0]
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            logits = model(x[idx])
            loss = loss_fn(logits, y[idx])
            loss_value = loss.item()
            if not np.isfinite(loss_value):
                raise RuntimeError("PyTorch run diverged")
            opt.zero_grad()
            loss.backward()
            torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in model.parameters()]))
            opt.step()
        with torch.no_grad():
            model.eval()
            torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p) for p in model.parameters()]))
            val_logits = model(vx)
            val_acc = (val_logits.argmax(1) == vy).float().mean().item()
        times.append(time.perf_counter() - t0)
    return times, val_acc


def load_npy(out, part):
    x = np.load(os.path.join(out, f"{part}_x.npy")).astype(np.float32)
    y = np.load(os.path.join(out, f"{part}_y.npy")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["spirals", "images"], default="spirals")
    parser.add_argument("--epochs", type=int, default=None, help="default: 20 (spirals), 3 (images)")
    parser.add_argument("--examples", type=int, default=6000, help="images: Fashion-MNIST examples (before the split)")
    parser.add_argument("--mosaic", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "mosaic"))
    args = parser.parse_args()
    epochs = args.epochs or (20 if args.task == "spirals" else 3)

    with tempfile.TemporaryDirectory() as out:
        command = [args.mosaic, "bench", "train", "--out-dir", out, "--epochs", str(epochs), "--task", args.task]
        if args.task == "images":
            command += ["--examples", str(args.examples)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "rust.json")) as f:
            rust = json.load(f)
        if args.task == "spirals":
            train, val = load(os.path.join(out, "train.csv")), load(os.path.join(out, "val.csv"))
            cases = [("2x64 relu mlp", spirals_model, rust, 64, 0.003)]
        else:
            train, val = load_npy(out, "train"), load_npy(out, "val")
            classes = int(max(train[1].max(), val[1].max())) + 1
            dim = train[0].shape[1]
            side = int(round(dim ** 0.5))

            def maker(net):
                return lambda: Network(net["spec"], net["hidden_widths"], dim, side, classes)

            cases = [(net["name"], maker(net), net, net["spec"]["batch_size"], net["spec"]["learning_rate"]) for net in rust["networks"]]

    cores = os.cpu_count() or 1
    # The first epoch includes warm-up on both sides; report the median of the rest.
    med = lambda ts: statistics.median(ts[1:] if len(ts) > 1 else ts) * 1000
    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, torch {torch.__version__}; "
          f"{train[0].shape[0]} training examples, {epochs} epochs")
    print(f"{'network':<36}{'ours (ms)':>11}{'torch 1t':>10}{f'torch {cores}t':>10}{'vs 1t':>8}{'vs {cores}t'.format(cores=cores):>8}"
          f"{'acc ours':>10}{'acc torch':>10}")
    for name, make, ours_run, batch, lr in cases:
        torch_1, acc_1 = torch_epochs(make, train, val, epochs, threads=1, batch=batch, lr=lr)
        torch_n, _ = torch_epochs(make, train, val, epochs, threads=cores, batch=batch, lr=lr)
        ours = med(ours_run["epoch_seconds"])
        print(f"{name:<36}{ours:>11.1f}{med(torch_1):>10.1f}{med(torch_n):>10.1f}{med(torch_1) / ours:>7.2f}x"
              f"{med(torch_n) / ours:>7.2f}x{ours_run['final_val_accuracy'] or float('nan'):>10.3f}{acc_1:>10.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
