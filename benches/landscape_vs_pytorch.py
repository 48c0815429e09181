#!/usr/bin/env python3
"""Loss surfaces: NeuroMosaic against PyTorch, for fidelity and for speed.

PyTorch is the reference a user would otherwise reach for: the method of the
loss-landscape code (Li et al. 2018) loads each grid point's weights
`w + a d1 + b d2` into the model and runs one forward pass over the data.
Both sides get the same weights, data and directions (written here as
safetensors and CSV), so their surfaces must agree point by point.

  fixture   writes the small fixture the Rust tests compare against
            (crates/mosaic-landscape/tests/fixtures/torch_mlp/)
  biased-fixture
            directions with non-zero bias components for the same MLP
            (dirs_biased.safetensors, loss_biased.npy beside it): given
            directions are applied as written, biases included
  conv-fixture
            the same for a small CNN, in a NeuroMosaic checkpoint's names
            (crates/mosaic-landscape/tests/fixtures/torch_cnn/)
  bench     times a 51x51 surface of the reference MLP (2x64 ReLU, trained
            on 2,000 two-spiral points) on both sides, in one run, and
            checks that they agree; `--model cnn`: a small CNN on 500
            16x16 images instead

    python3 -m venv .venv && .venv/bin/pip install torch numpy safetensors
    cargo build --release
    .venv/bin/python benches/landscape_vs_pytorch.py fixture
    .venv/bin/python benches/landscape_vs_pytorch.py biased-fixture
    .venv/bin/python benches/landscape_vs_pytorch.py conv-fixture
    .venv/bin/python benches/landscape_vs_pytorch.py bench [--grid 51] [--model mlp|cnn]
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


class Cnn(torch.nn.Module):
    """NeuroMosaic's Cnn family as mosaic-train builds it: 3x3 convolutions
    (padding 1), each followed by the activation and a 2x2 max-pool while
    both sides are at least 2; global average pooling; a linear head."""

    def __init__(self, channels, widths, classes, activation):
        super().__init__()
        convs, prev = [], channels
        for w in widths:
            convs.append(torch.nn.Conv2d(prev, w, 3, padding=1))
            prev = w
        self.blocks = torch.nn.ModuleList(convs)
        self.head = torch.nn.Linear(prev, classes)
        self.activation = activation()

    def forward(self, x):
        for conv in self.blocks:
            x = self.activation(conv(x))
            if x.shape[2] >= 2 and x.shape[3] >= 2:
                x = torch.nn.functional.max_pool2d(x, 2)
        return self.head(x.mean((2, 3)))


def checkpoint_names(arrays):
    """PyTorch's names and layout to a NeuroMosaic checkpoint's:
    `blocks.{i}.weight` -> `blocks.{i}.layer.weight`; the head `[in, out]`."""
    out = {}
    for name, v in arrays.items():
        if name.startswith("head."):
            out[name] = (v.t() if v.dim() == 2 else v).detach().contiguous()
        else:
            block, kind = name.rsplit(".", 1)
            out[f"{block}.layer.{kind}"] = v.detach().contiguous()
    return out


def filter_normalized(model, seed):
    """Li et al.'s random direction: Gaussian, each filter (a row of a Linear
    weight, an output channel of a convolution) scaled to the same filter's
    norm in the weights, biases zeroed."""
    g = torch.Generator().manual_seed(seed)
    d = {}
    for name, p in model.named_parameters():
        r = torch.randn(p.shape, generator=g)
        if p.dim() <= 1:
            r.zero_()
        else:
            shape = (-1,) + (1,) * (p.dim() - 1)
            r *= (p.flatten(1).norm(dim=1) / (r.flatten(1).norm(dim=1) + 1e-10)).view(shape)
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
    write_fixture("torch_mlp", model, x, y, np.linspace(-1, 1, 9), np.linspace(-0.5, 1.5, 9), write_inputs)


def biased_fixture(args):
    """Directions whose bias components are not zero (as the loss-landscape
    repository's directions are with its `--xignore`/`--yignore` off), over the
    torch_mlp fixture's own model and data; PyTorch's surface over them."""
    from safetensors.torch import load_file

    folder = os.path.join(ROOT, "crates/mosaic-landscape/tests/fixtures/torch_mlp")
    state = load_file(os.path.join(folder, "model.safetensors"))
    model = mlp([3, 16, 16, 3], torch.nn.Tanh)
    model.load_state_dict(state)
    rows = np.loadtxt(os.path.join(folder, "data.csv"), delimiter=",", skiprows=1)
    x, y = torch.from_numpy(rows[:, :-1].astype(np.float32)), torch.from_numpy(rows[:, -1].astype(np.int64))
    g = torch.Generator().manual_seed(11)
    d1, d2 = filter_normalized(model, 3), filter_normalized(model, 4)
    for d in (d1, d2):
        for name, v in d.items():
            if v.dim() == 1:
                v.copy_(0.5 * torch.randn(v.shape, generator=g))
    loss, _ = torch_surface(model, d1, d2, np.linspace(-1, 1, 9), np.linspace(-0.5, 1.5, 9), x, y)
    dirs = {f"d1.{k}": v.contiguous() for k, v in d1.items()}
    dirs.update({f"d2.{k}": v.contiguous() for k, v in d2.items()})
    save_file(dirs, os.path.join(folder, "dirs_biased.safetensors"))
    np.save(os.path.join(folder, "loss_biased.npy"), loss)
    print(f"wrote {folder}/dirs_biased.safetensors, loss_biased.npy: loss {loss.min():.4f}..{loss.max():.4f}, torch {torch.__version__}")


def write_fixture(name, model, x, y, xs, ys, write):
    """Directions for `model`, PyTorch's surface over them, and everything
    `write` writes, into tests/fixtures/`name`/."""
    d1, d2 = filter_normalized(model, 1), filter_normalized(model, 2)
    loss, acc = torch_surface(model, d1, d2, xs, ys, x, y)
    folder = os.path.join(ROOT, "crates/mosaic-landscape/tests/fixtures", name)
    write(folder, model, x, y, d1, d2)
    np.save(os.path.join(folder, "loss.npy"), loss)
    np.save(os.path.join(folder, "accuracy.npy"), acc)
    print(f"wrote {folder}: loss {loss.min():.4f}..{loss.max():.4f}, torch {torch.__version__}")


def pattern_images(n, side, seed):
    """Noisy grey images of four patterns (left half, top half, the two
    diagonals, a diamond), labelled 0-3 in turn, as `[n, 1, side, side]`."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    centre = (side - 1) / 2
    patterns = np.stack([xx < side // 2, yy < side // 2, (xx == yy) | (xx == side - 1 - yy),
                         abs(xx - centre) + abs(yy - centre) < 3 * side / 8]).astype(np.float32)
    labels = np.arange(n) % 4
    images = patterns[labels] + 0.3 * rng.standard_normal((n, side, side)).astype(np.float32)
    return torch.from_numpy(images[:, None].astype(np.float32)), torch.from_numpy(labels.astype(np.int64))


def write_cnn_inputs(folder, model, x, y, d1, d2):
    """The CNN, its directions and its data as `mosaic bench cnn-landscape` and the tests read them."""
    os.makedirs(folder, exist_ok=True)
    save_file(checkpoint_names(dict(model.named_parameters())), os.path.join(folder, "model.safetensors"))
    dirs = {f"d1.{k}": v for k, v in checkpoint_names(d1).items()}
    dirs.update({f"d2.{k}": v for k, v in checkpoint_names(d2).items()})
    save_file(dirs, os.path.join(folder, "dirs.safetensors"))
    np.save(os.path.join(folder, "images.npy"), x.reshape(x.shape[0], -1).numpy())
    np.save(os.path.join(folder, "labels.npy"), y.numpy().astype(np.float32))


def conv_fixture(args):
    """A two-block ReLU CNN (1 -> 6 -> 6 channels) on 48 noisy 8x8 images
    of four patterns, a 7x7 grid, written in a NeuroMosaic checkpoint's
    names and layout (tests/fixtures/torch_cnn/)."""
    torch.manual_seed(3)
    x, y = pattern_images(48, 8, seed=3)
    model = Cnn(1, [6, 6], 4, torch.nn.ReLU)
    train(model, x, y, 40, seed=3)
    write_fixture("torch_cnn", model, x, y, np.linspace(-1, 1, 7), np.linspace(-1, 1, 7), write_cnn_inputs)


def timed_torch_surface(model, x, y, n, prefix, write):
    """Directions for `model`, its inputs written by `write` to a fresh
    folder, and PyTorch's n x n surface over them, timed."""
    d1, d2 = filter_normalized(model, 1), filter_normalized(model, 2)
    xs = ys = np.linspace(-1, 1, n)
    folder = tempfile.mkdtemp(prefix=prefix)
    write(folder, model, x, y, d1, d2)
    t0 = time.perf_counter()
    loss, _ = torch_surface(model, d1, d2, xs, ys, x, y)
    return folder, loss, time.perf_counter() - t0


def report(n, examples, model, torch_s, ours_s, ours, loss, **extra):
    """Prints the side-by-side result; fails if the surfaces differ."""
    rel = np.max(np.abs(ours - loss) / np.maximum(np.abs(loss), 1e-12))
    result = {
        "grid": f"{n}x{n}",
        "examples": examples,
        "model": model,
        "pytorch_s": round(torch_s, 3),
        "pytorch_threads": torch.get_num_threads(),
        "neuromosaic_surface_s": round(ours_s, 3),
        **extra,
        "speedup": round(torch_s / ours_s, 2),
        "max_relative_difference": float(rel),
        "torch": torch.__version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }
    print(json.dumps(result, indent=2))
    if rel > 1e-4:
        sys.exit(f"surfaces differ: max relative difference {rel:.2e} > 1e-4")


def bench(args):
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(1)
    x, y = spirals(2000, 1)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = mlp([2, 64, 64, 2], torch.nn.ReLU)
    train(model, x, y, 20, seed=1)
    n = args.grid
    folder, loss, torch_s = timed_torch_surface(model, x, y, n, "mosaic-landscape-bench-", write_inputs)

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
    report(n, 2000, "MLP 2-64-64-2 ReLU", torch_s, ours_s, np.load(out), loss,
           neuromosaic_process_s=round(ours_process_s, 3))


def bench_cnn(args):
    """A 51x51 surface of a two-block ReLU CNN (1 -> 16 -> 16 channels) on
    500 noisy 16x16 pattern images, PyTorch's loop against
    `mosaic bench cnn-landscape` on the same files."""
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(1)
    x, y = pattern_images(500, 16, seed=1)
    model = Cnn(1, [16, 16], 4, torch.nn.ReLU)
    train(model, x, y, 10, seed=1)
    n = args.grid
    folder, loss, torch_s = timed_torch_surface(model, x, y, n, "mosaic-landscape-cnn-bench-", write_cnn_inputs)

    binary = os.path.join(ROOT, "target/release/mosaic")
    cmd = [binary, "bench", "cnn-landscape", "--dir", folder, "--image", "1,16,16", "--depth", "2", "--width", "16",
           "--grid", str(n)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(folder, "rust.json")) as f:
        ours_s = json.load(f)["surface_seconds"]
    report(n, 500, "CNN 1-16-16 channels, 3x3, ReLU, 16x16 images, 4 classes", torch_s, ours_s,
           np.load(os.path.join(folder, "surface.npy")), loss)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fixture")
    sub.add_parser("biased-fixture")
    sub.add_parser("conv-fixture")
    b = sub.add_parser("bench")
    b.add_argument("--grid", type=int, default=51)
    b.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    args = parser.parse_args()
    if args.command == "bench" and args.model == "cnn":
        bench_cnn(args)
    else:
        {"fixture": fixture, "biased-fixture": biased_fixture, "conv-fixture": conv_fixture, "bench": bench}[args.command](args)
