#!/usr/bin/env python3
"""Epoch time of NeuroMosaic's trainer against PyTorch on the CPU, in one run.

Both sides train the same model on the same examples: a 2x64 ReLU MLP on
2,000 two-spiral points (written by `mosaic bench train`), batch 64, Adam,
and both do the same work per epoch: shuffle, forward, cross-entropy,
backward, global gradient norm, optimiser step, then weight norm and a
validation pass. NeuroMosaic trains single-threaded; PyTorch is timed with
one thread (the fair match) and with all cores.

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    cargo build --release
    .venv/bin/python benches/train_vs_pytorch.py [--epochs 20]
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


def torch_epochs(train, val, epochs, threads, seed=1):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 2),
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.003, eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    (x, y), (vx, vy) = train, val
    n = x.shape[0]
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        for start in range(0, n, 64):
            idx = order[start:start + 64]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--mosaic", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "mosaic"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as out:
        subprocess.run([args.mosaic, "bench", "train", "--out-dir", out, "--epochs", str(args.epochs)], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "rust.json")) as f:
            rust = json.load(f)
        train, val = load(os.path.join(out, "train.csv")), load(os.path.join(out, "val.csv"))
    torch_1, acc_1 = torch_epochs(train, val, args.epochs, threads=1)
    cores = os.cpu_count() or 1
    torch_n, acc_n = torch_epochs(train, val, args.epochs, threads=cores)

    # The first epoch includes warm-up on both sides; report the median of the rest.
    med = lambda ts: statistics.median(ts[1:] if len(ts) > 1 else ts) * 1000
    ours = med(rust["epoch_seconds"])
    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, torch {torch.__version__}")
    rows = [
        ("NeuroMosaic (burn Flex, 1 thread)", ours, rust["final_val_accuracy"]),
        ("PyTorch CPU, 1 thread", med(torch_1), acc_1),
        (f"PyTorch CPU, {cores} threads", med(torch_n), acc_n),
    ]
    print(f"{'trainer':<36}{'median epoch (ms)':>18}{'final val acc':>15}")
    for name, ms, acc in rows:
        print(f"{name:<36}{ms:>18.2f}{acc:>15.3f}")
    print(f"speed-up over PyTorch 1 thread: {med(torch_1) / ours:.2f}x; over {cores} threads: {med(torch_n) / ours:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
