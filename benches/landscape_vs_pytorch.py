#!/usr/bin/env python3
"""Loss surfaces: NeuroMosaic against PyTorch, for fidelity and for speed.

PyTorch is the reference a user would otherwise reach for: the method of the
loss-landscape code (Li et al. 2018) loads each grid point's weights
`w + a d1 + b d2` into the model and runs one forward pass over the data.
Both sides get the same weights, data and directions (written here as
safetensors and CSV), so their surfaces must agree point by point.

  fixture   writes the small fixture the Rust tests compare against
            (crates/mosaic-landscape/tests/fixtures/torch_mlp/)
  bench     times a 51x51 surface of the reference MLP (2x64 ReLU, trained
            on 2,000 two-spiral points) on both sides, in one run, and
            checks that they agree

    python3 -m venv .venv && .venv/bin/pip install torch numpy safetensors
    cargo build --release
    .venv/bin/python benches/landscape_vs_pytorch.py fixture
    .venv/bin/python benches/landscape_vs_pytorch.py bench [--grid 51]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def spirals(n, seed):
    """Two interleaved spirals, as `mosaic`'s built-in set draws them."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    t = np.sqrt(rng.random(n))
    angle = t * 1.75 * 2 * np.pi + labels * np.pi
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) + 0.03 * rng.standard_normal((n, 2))
    return x.astype(np.float32), labels.astype(np.int64)


def mlp(widths, activation):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(activation())
    return torch.nn.Sequential(*layers)


def train(model, x, y, epochs, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0])
        for i in range(0, x.shape[0], 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()


def filter_normalized(model, seed):
    """Li et al.'s random direction: Gaussian, each filter (a row of a Linear
    weight) scaled to the weight row's norm, biases zeroed."""
    g = torch.Generator().manual_seed(seed)
    d = {}
    for name, p in model.named_parameters():
        r = torch.randn(p.shape, generator=g)
        if p.dim() <= 1:
            r.zero_()
        else:
            r *= p.norm(dim=1, keepdim=True) / (r.norm(dim=1, keepdim=True) + 1e-10)
        d[name] = r
    return d


def torch_surface(model, d1, d2, xs, ys, x, y):
    """The reference loop: load each grid point's weights, one forward pass."""
    base = {k: v.detach().clone() for k, v in model.named_parameters()}
    params = dict(model.named_parameters())
    loss = np.zeros((len(ys), len(xs)))
    acc = np.zeros((len(ys), len(xs)))
    with torch.no_grad():
        for i, b in enumerate(ys):
            for j, a in enumerate(xs):
                for k, p in params.items():
                    p.copy_(base[k] + float(a) * d1[k] + float(b) * d2[k])
                out = model(x)
                loss[i, j] = torch.nn.functional.cross_entropy(out, y).item()
                acc[i, j] = (out.argmax(1) == y).float().mean().item()
        for k, p in params.items():
            p.copy_(base[k])
    return loss, acc


def write_inputs(folder, model, x, y, d1, d2):
    os.makedirs(folder, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, "model.safetensors"))
    dirs = {f"d1.{k}": v.contiguous() for k, v in d1.items()}
    dirs.update({f"d2.{k}": v.contiguous() for k, v in d2.items()})
    save_file(dirs, os.path.join(folder, "dirs.safetensors"))
    with open(os.path.join(folder, "data.csv"), "w") as f:
        f.write(",".join([f"x{i}" for i in range(x.shape[1])] + ["label"]) + "\n")
        for row, label in zip(x.numpy(), y.numpy()):
            f.write(",".join(repr(float(v)) for v in row) + f",{label}\n")


def fixture(args):
    """A 3-16-16-3 tanh MLP on 240 points in 3-D, a 9x9 grid: small enough to
    keep in the repository, with every layer kind the importer reads."""
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((240, 3)).astype(np.float32)
    y = (np.argmax(x @ rng.standard_normal((3, 3)), 1)).astype(np.int64)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = mlp([3, 16, 16, 3], torch.nn.Tanh)
    train(model, x, y, 30, seed=7)
    d1, d2 = filter_normalized(model, 1), filter_normalized(model, 2)
    xs = np.linspace(-1, 1, 9)
    ys = np.linspace(-0.5, 1.5, 9)
    loss, acc = torch_surface(model, d1, d2, xs, ys, x, y)
    folder = os.path.join(ROOT, "crates/mosaic-landscape/tests/fixtures/torch_mlp")
    write_inputs(folder, model, x, y, d1, d2)
    np.save(os.path.join(folder, "loss.npy"), loss)
    np.save(os.path.join(folder, "accuracy.npy"), acc)
    print(f"wrote {folder}: loss {loss.min():.4f}..{loss.max():.4f}, torch {torch.__version__}")


def bench(args):
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(1)
    x, y = spirals(2000, 1)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = mlp([2, 64, 64, 2], torch.nn.ReLU)
    train(model, x, y, 20, seed=1)
    d1, d2 = filter_normalized(model, 1), filter_normalized(model, 2)
    n = args.grid
    xs = ys = np.linspace(-1, 1, n)
    folder = tempfile.mkdtemp(prefix="mosaic-landscape-bench-")
    write_inputs(folder, model, x, y, d1, d2)

    t0 = time.perf_counter()
    loss, _ = torch_surface(model, d1, d2, xs, ys, x, y)
    torch_s = time.perf_counter() - t0

    binary = os.path.join(ROOT, "target/release/mosaic")
    out = os.path.join(folder, "surface.npy")
    cmd = [binary, "landscape", "--weights", os.path.join(folder, "model.safetensors"), "--activation", "relu",
           "--data", os.path.join(folder, "data.csv"), "--label-column", "label",
           "--directions", os.path.join(folder, "dirs.safetensors"),
           "--x", f"-1:1:{n}", "--y", f"-1:1:{n}", "--out", out]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ours_process_s = time.perf_counter() - t0
    with open(out[:-4] + ".json") as f:
        ours_s = json.load(f)["seconds"]
    ours = np.load(out)
    rel = np.max(np.abs(ours - loss) / np.maximum(np.abs(loss), 1e-12))
    result = {
        "grid": f"{n}x{n}",
        "examples": 2000,
        "model": "MLP 2-64-64-2 ReLU",
        "pytorch_s": round(torch_s, 3),
        "pytorch_threads": torch.get_num_threads(),
        "neuromosaic_surface_s": round(ours_s, 3),
        "neuromosaic_process_s": round(ours_process_s, 3),
        "speedup": round(torch_s / ours_s, 2),
        "max_relative_difference": float(rel),
        "torch": torch.__version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }
    print(json.dumps(result, indent=2))
    if rel > 1e-4:
        sys.exit(f"surfaces differ: max relative difference {rel:.2e} > 1e-4")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fixture")
    b = sub.add_parser("bench")
    b.add_argument("--grid", type=int, default=51)
    args = parser.parse_args()
    {"fixture": fixture, "bench": bench}[args.command](args)
