#!/usr/bin/env python3
"""PHATE against the Python `phate` package over a battery of data sets.

Each case embeds one data set to 3-D with both, with the same knn, decay and
landmark count, t automatic, and writes one row:

    case, n, knn, decay, regime (exact: no landmarks / landmarks),
    t ours / t phate / t exact (the knee of the exact entropy curve of our
        own operator: P, or the landmark operator) and how ours was chosen,
    Procrustes disparity between the embeddings,
    potential-distance agreement: Pearson r and median relative difference
        of the potential distances of up to 1,000 sampled point pairs'
        (with landmarks each point reads its landmark's row),
    time ours (whole process: start, .npy in and out) / phate (fit_transform),
    speed-up, peak resident memory of each (GNU time, each in its own process),
    without landmarks also the disparity to phate with mds_solver="smacof"
    (ours is SMACOF: the same algorithm end to end),
    and in the landmark regime phate against itself with another
    random_state (t, disparity, potential r): the spread its own landmarks leave.

Data: DLA trees (`phate.tree.gen_dla`, 20-D), S-curves and swiss rolls with
7 noise dimensions, Gaussian blobs (10-D), uniform noise (5-D), scikit-learn's
digits (64-D) and precomputed distance matrices; n from 500 to 50,000; knn 3
to 15, decay 10 to 40 and the defaults (5, 40); both regimes (landmarks
above 2,000 points, and none at 3,000).

The Python package runs with its defaults otherwise (metric MDS by SGD,
BLAS threads as installed, random_state 0); ours is the `phate_npy`
example in release.

    python3 -m venv ~/.cache/neuromosaic/venv
    ~/.cache/neuromosaic/venv/bin/pip install phate graphtools scikit-learn
    cargo build --release -p mosaic-manifold --example phate_npy
    ~/.cache/neuromosaic/venv/bin/python benches/phate_battery.py [--quick] [--csv out.csv]
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target"))
OURS = os.path.join(TARGET, "release", "examples", "phate_npy")


def noisy(x, extra, rng, scale=0.1):
    return np.hstack([x, rng.normal(scale=scale, size=(x.shape[0], extra))])


def dataset(kind, n, seed=0):
    """Feature rows for a kind of data set (n is exact except for digits)."""
    rng = np.random.RandomState(seed)
    if kind == "dla":
        import phate

        x, _ = phate.tree.gen_dla(n_dim=20, n_branch=n // 100, branch_length=100, seed=seed + 37)
        return x
    if kind == "scurve":
        from sklearn.datasets import make_s_curve

        return noisy(make_s_curve(n, noise=0.05, random_state=seed)[0], 7, rng)
    if kind == "swiss":
        from sklearn.datasets import make_swiss_roll

        return noisy(make_swiss_roll(n, noise=0.05, random_state=seed)[0], 7, rng)
    if kind == "blobs":
        from sklearn.datasets import make_blobs

        return make_blobs(n, n_features=10, centers=8, random_state=seed)[0]
    if kind == "uniform":
        return rng.uniform(size=(n, 5))
    if kind == "digits":
        from sklearn.datasets import load_digits

        return load_digits().data.astype(np.float64)
    raise ValueError(kind)


# name, data kind, n, knn, decay, landmarks (2000: phate's default; 0: none), distances?
CASES = [
    ("dla-500", "dla", 500, 5, 40, 2000, False),
    ("dla-2000", "dla", 2000, 5, 40, 2000, False),
    ("dla-2000-k15-d10", "dla", 2000, 15, 10, 2000, False),
    ("dla-3000-nolm", "dla", 3000, 5, 40, 0, False),
    ("dla-10000", "dla", 10000, 5, 40, 2000, False),
    ("dla-50000", "dla", 50000, 5, 40, 2000, False),
    ("scurve-1000-k10-d20", "scurve", 1000, 10, 20, 2000, False),
    ("scurve-5000-k5-d10", "scurve", 5000, 5, 10, 2000, False),
    ("scurve-20000-k10-d20", "scurve", 20000, 10, 20, 2000, False),
    ("swiss-2000-k3-d10", "swiss", 2000, 3, 10, 2000, False),
    ("swiss-10000-k15-d40", "swiss", 10000, 15, 40, 2000, False),
    ("blobs-1500-k15-d40", "blobs", 1500, 15, 40, 2000, False),
    ("blobs-10000", "blobs", 10000, 5, 40, 2000, False),
    ("uniform-1000", "uniform", 1000, 5, 40, 2000, False),
    ("uniform-5000-k10-d20", "uniform", 5000, 10, 20, 2000, False),
    ("digits", "digits", 1797, 5, 40, 2000, False),
    ("digits-k10-d20", "digits", 1797, 10, 20, 2000, False),
    ("dist-dla-1000", "dla", 1000, 5, 40, 2000, True),
    ("dist-scurve-2500-k10-d20", "scurve", 2500, 10, 20, 2000, True),
]
QUICK = ["dla-500", "scurve-1000-k10-d20", "digits", "blobs-1500-k15-d40", "dist-dla-1000", "dla-10000", "scurve-5000-k5-d10"]


def timed(cmd):
    """Runs cmd under GNU time; returns (stdout, wall seconds, peak MB)."""
    timer = ["/usr/bin/time", "-f", "peak %M"] if os.path.exists("/usr/bin/time") else []
    t0 = time.perf_counter()
    out = subprocess.run(timer + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    peaks = [line.split()[1] for line in out.stderr.splitlines() if line.startswith("peak ")]
    return out.stdout, wall, int(peaks[-1]) / 1024 if peaks else float("nan")


def phate_worker(inp, prefix, params):
    """Runs phate in this (fresh) process and saves what the comparison needs."""
    import phate
    from scipy.spatial.distance import pdist, squareform

    p = json.loads(params)
    x = np.load(inp)
    kwargs = dict(n_components=3, knn=p["knn"], decay=p["decay"], t="auto", random_state=p["seed"], verbose=0, mds_solver=p.get("mds", "sgd"))
    kwargs["n_landmark"] = p["landmarks"] if p["landmarks"] > 0 else None
    if p["distances"]:
        kwargs["knn_dist"] = "precomputed_distance"
    op = phate.PHATE(**kwargs)
    t0 = time.perf_counter()
    y = op.fit_transform(x)
    seconds = time.perf_counter() - t0
    np.save(prefix + "Y.npy", np.asarray(y, dtype=np.float64))
    # The potential between landmarks (op.diff_potential would extend it to
    # every point, n x L), and each point's landmark: its rank among the
    # cluster labels, since MiniBatchKMeans may leave some empty.
    np.save(prefix + "pd.npy", squareform(pdist(op._diff_potential)).astype(np.float32))
    import graphtools

    if isinstance(op.graph, graphtools.graphs.LandmarkGraph):
        labels = np.asarray(op.graph.clusters)
        clusters = np.searchsorted(np.unique(labels), labels)
    else:
        clusters = np.arange(y.shape[0])
    np.save(prefix + "clusters.npy", np.asarray(clusters, dtype=np.int64))
    with open(prefix + "meta.json", "w") as f:
        json.dump({"t": int(op.optimal_t), "seconds": seconds}, f)


def run_phate(xin, d, tag, params):
    prefix = os.path.join(d, tag + "_")
    _, _, peak = timed([sys.executable, __file__, "--phate-worker", xin, prefix, json.dumps(params)])
    meta = json.load(open(prefix + "meta.json"))
    return np.load(prefix + "Y.npy"), np.load(prefix + "pd.npy"), np.load(prefix + "clusters.npy"), meta["t"], meta["seconds"], peak


def run_ours(xin, d, case, t="auto"):
    _, _, n, knn, decay, landmarks, distances = case
    y, pd, cl = (os.path.join(d, f"ours_{t}_{s}.npy") for s in ("Y", "pd", "clusters"))
    cmd = [OURS, "--knn", str(knn), "--decay", str(decay), "--landmarks", str(landmarks), "--t", t, "--potential", pd, "--clusters", cl]
    cmd += ["--distances"] if distances else []
    out, wall, peak = timed(cmd + [xin, y])
    last = dict(kv.split("=", 1) for kv in out.strip().splitlines()[-1].split())
    return np.load(y), np.load(pd), np.load(cl)[:, 0].astype(int), int(last["t"]), last["source"], wall, peak


def agreement(pd_a, cl_a, pd_b, cl_b, n, seed=0):
    """Pearson r and median relative difference of potential distances over sampled pairs."""
    rng = np.random.RandomState(seed)
    idx = rng.choice(n, size=min(n, 1000), replace=False)
    i, j = np.triu_indices(len(idx), k=1)
    a = pd_a[cl_a[idx[i]], cl_a[idx[j]]].astype(np.float64)
    b = pd_b[cl_b[idx[i]], cl_b[idx[j]]].astype(np.float64)
    keep = b > 0
    return float(np.corrcoef(a, b)[0, 1]), float(np.median(np.abs(a[keep] - b[keep]) / b[keep]))


def run_case(case, seed_spread=True):
    from scipy.spatial import procrustes
    from scipy.spatial.distance import pdist, squareform

    name, kind, n, knn, decay, landmarks, distances = case
    x = dataset(kind, n)
    n = x.shape[0]
    if distances:
        x = squareform(pdist(x))
    with tempfile.TemporaryDirectory() as d:
        xin = os.path.join(d, "X.npy")
        np.save(xin, x)
        y, pd, cl, t_ours, source, ours_s, ours_mb = run_ours(xin, d, case)
        _, _, _, t_exact, _, _, _ = run_ours(xin, d, case, t="exact")
        params = dict(knn=knn, decay=decay, landmarks=landmarks, distances=distances, seed=0)
        y_ref, pd_ref, cl_ref, t_ref, ref_s, ref_mb = run_phate(xin, d, "phate0", params)
        landmark_regime = landmarks > 0 and n > landmarks
        spread, smacof = None, None
        if landmark_regime and seed_spread:
            y_ref1, pd_ref1, cl_ref1, t_ref1, _, _ = run_phate(xin, d, "phate1", dict(params, seed=1))
            spread = (t_ref1, procrustes(y_ref, y_ref1)[2], agreement(pd_ref1, cl_ref1, pd_ref, cl_ref, n)[0])
        if not landmark_regime:
            # The same algorithm as ours end to end (phate's default metric MDS is SGD).
            y_smacof = run_phate(xin, d, "phate_smacof", dict(params, mds="smacof"))[0]
            smacof = procrustes(y_smacof, y)[2]
    disparity = procrustes(y_ref, y)[2]
    r, rel = agreement(pd, cl, pd_ref, cl_ref, n)
    return dict(
        case=name,
        n=n,
        knn=knn,
        decay=decay,
        regime="landmarks" if landmark_regime else "exact",
        t_ours=t_ours,
        t_phate=t_ref,
        t_exact=t_exact,
        t_source=source,
        disparity=round(disparity, 5),
        disparity_smacof=round(smacof, 5) if smacof is not None else "",
        potential_r=round(r, 5),
        potential_rel=round(rel, 5),
        ours_s=round(ours_s, 3),
        phate_s=round(ref_s, 3),
        speedup=round(ref_s / ours_s, 2),
        ours_mb=round(ours_mb),
        phate_mb=round(ref_mb),
        t_phate_seed1=spread[0] if spread else "",
        disparity_phate_seeds=round(spread[1], 5) if spread else "",
        potential_r_phate_seeds=round(spread[2], 5) if spread else "",
    )


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--phate-worker":
        return phate_worker(*sys.argv[2:5])
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the 7-case subset")
    parser.add_argument("--cases", nargs="*", help="only these cases (by name)")
    parser.add_argument("--csv", help="also write the rows here")
    parser.add_argument("--no-seed-spread", action="store_true", help="skip phate's second random_state in the landmark regime")
    args = parser.parse_args()
    cases = [c for c in CASES if (not args.quick or c[0] in QUICK) and (not args.cases or c[0] in args.cases)]
    if not os.path.exists(OURS):
        sys.exit(f"{OURS} is missing: cargo build --release -p mosaic-manifold --example phate_npy")
    rows = []
    header = (
        "| case | n | knn | decay | regime | t ours / phate / exact | t from | disparity (vs phate SGD / SMACOF) "
        "| potential r / rel. diff | ours (s) | phate (s) | speed-up | peak MB ours / phate | phate seed 1: t, disparity, potential r |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    writer = None
    for case in cases:
        row = run_case(case, seed_spread=not args.no_seed_spread)
        rows.append(row)
        spread = f"{row['t_phate_seed1']}, {row['disparity_phate_seeds']:.4f}, {row['potential_r_phate_seeds']:.4f}" if row["t_phate_seed1"] != "" else ""
        smacof = f" / {row['disparity_smacof']:.4f}" if row["disparity_smacof"] != "" else ""
        print(
            f"| {row['case']} | {row['n']} | {row['knn']} | {row['decay']} | {row['regime']} | "
            f"{row['t_ours']} / {row['t_phate']} / {row['t_exact']} | {row['t_source']} | {row['disparity']:.4f}{smacof} | "
            f"{row['potential_r']:.4f} / {row['potential_rel']:.4f} | {row['ours_s']:.2f} | {row['phate_s']:.2f} | "
            f"{row['speedup']:.1f}x | {row['ours_mb']} / {row['phate_mb']} | {spread} |",
            flush=True,
        )
        if args.csv:
            if writer is None:
                f = open(args.csv, "w", newline="")
                writer = csv.DictWriter(f, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            f.flush()
    speedups = sorted(r["speedup"] for r in rows)
    if speedups:
        median = float(np.median(speedups))
        print(f"\n{len(rows)} cases: speed-up median {median:.1f}x, worst {speedups[0]:.1f}x; "
              f"disparity max {max(r['disparity'] for r in rows):.4f}; "
              f"t ours = exact in {sum(r['t_ours'] == r['t_exact'] for r in rows)}, "
              f"= phate in {sum(r['t_ours'] == r['t_phate'] for r in rows)}, within 1 of phate in {sum(abs(r['t_ours'] - r['t_phate']) <= 1 for r in rows)}")


if __name__ == "__main__":
    main()
