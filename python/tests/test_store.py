"""The store client: a PyTorch sweep logged from a training loop, read back by `mosaic`."""

import json
import math
import os
import sqlite3
import subprocess
import time

import numpy as np
import pytest
import torch

import neuromosaic
from neuromosaic import Categorical, Float, Int

SPACE = {
    "width": Int(8, 64, log=True),
    "depth": Int(1, 3),
    "lr": Float(1e-3, 3e-1, log=True),
    "activation": Categorical(["relu", "tanh"]),
}


def mosaic_binary() -> str:
    path = os.environ.get("MOSAIC_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set MOSAIC_BIN to the mosaic binary (scripts/test-python.sh does)")
    return path


def mlp(p: dict) -> torch.nn.Sequential:
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[p["activation"]]
    layers, width_in = [], 64
    for _ in range(p["depth"]):
        layers += [torch.nn.Linear(width_in, p["width"]), act()]
        width_in = p["width"]
    layers.append(torch.nn.Linear(width_in, 10))
    return torch.nn.Sequential(*layers)


@pytest.fixture()
def store(tmp_path):
    with neuromosaic.Store(tmp_path / "store") as s:
        yield s


def test_a_pytorch_sweep_logged_through_the_client_is_embedded_by_mosaic(digits, store, tmp_path):
    from sklearn.datasets import load_digits

    y = load_digits().target
    x = (digits / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train, val, probe = order[:1000], order[1000:1400], order[1400:1700]
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    xv, yv = torch.from_numpy(x[val]), torch.from_numpy(y[val])
    sweep = store.sweep("digits-mlps", space=SPACE, dataset="sklearn digits")
    sweep.set_probe(x[probe], y[probe])
    study = neuromosaic.Study(SPACE, seed=0, startup_trials=12)
    for trial in study.ask(12):
        torch.manual_seed(trial.number)
        model = mlp(trial.params)
        opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=0.9)
        with sweep.start_run(trial.params) as run:
            for epoch in range(1, 6):
                for i in range(0, len(xt), 100):
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(xt[i : i + 100]), yt[i : i + 100])
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    out = model(xv)
                    val_loss = torch.nn.functional.cross_entropy(out, yv).item()
                    acc = (out.argmax(1) == yv).float().mean().item()
                run.log(epoch, train_loss=loss.item(), val_loss=val_loss, val_accuracy=acc, learning_rate=trial.params["lr"])
            modules = [str(2 * k) for k in range(trial.params["depth"])]  # the Linear layers' outputs
            run.record_representations(model, modules)
            run.save_weights(model.state_dict())
        study.tell(trial, acc)
        if trial.number == 0:
            first = run
            # A landscape computed in PyTorch (vectorised with torch.func), kept in the run's folder.
            run.landscape(model, torch.nn.functional.cross_entropy, xv, yv, x=(-1, 1, 9), y=(-1, 1, 9))
    runs = sweep.runs()
    assert [r["status"] for r in runs] == ["done"] * 12
    assert all(len(r["epochs"]) == 5 for r in runs)
    assert runs[3]["params"] == study.trials[3].params

    # `mosaic embed --store` places the 12 networks by their representations.
    out = subprocess.run(
        [mosaic_binary(), "embed", "--store", store.path, "--sweep", "digits-mlps"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    db = sqlite3.connect(os.path.join(store.path, "mosaic.sqlite"))
    rows = db.execute("SELECT kind, COUNT(*) FROM embeddings GROUP BY kind").fetchall()
    assert ("representation", 12) in rows, rows
    # `mosaic export` writes one row per run, a column per parameter.
    csv = subprocess.run([mosaic_binary(), "export", "--store", store.path, "--sweep", "digits-mlps"], capture_output=True, text=True)
    assert csv.returncode == 0, csv.stderr
    lines = csv.stdout.strip().splitlines()
    assert lines[0].startswith("run,status,activation,depth,lr,width,"), lines[0]
    assert len(lines) == 13

    # The explorer shows the 12 networks where PHATE put them, coloured by accuracy.
    png, manifest = tmp_path / "sweep.png", tmp_path / "sweep.json"
    shot = subprocess.run(
        [mosaic_binary(), "snapshot", "--store", store.path, "--sweep", "digits-mlps", "--out", png, "--manifest", manifest],
        capture_output=True, text=True, timeout=300,
    )
    assert shot.returncode == 0, shot.stderr
    m = json.loads(manifest.read_text())
    points = m["points"]
    assert len(points) == 12 and sorted(p["label"].split(" · ")[0] for p in points) == sorted(f"run {r['id']}" for r in runs)
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    seen = 0
    for p in points:
        x, y, r = int(p["x"]), int(p["y"]), max(2, int(p["radius_px"]))
        patch = img[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1]
        if (np.abs(patch - np.array(p["color"])).max(axis=2) <= 12).any():
            seen += 1
    assert seen >= 11, f"only {seen} of 12 points drawn in their colour"
    # Coloured by accuracy: more than one colour among them, none the grey of a missing value.
    assert len({tuple(p["color"]) for p in points}) > 3
    assert all(math.isfinite(p["value"]) for p in points)

    # Selecting the first run opens the landscape the client wrote.
    selected = subprocess.run(
        [mosaic_binary(), "snapshot", "--store", store.path, "--sweep", "digits-mlps", "--select", str(first.id),
         "--out", tmp_path / "selected.png", "--manifest", tmp_path / "selected.json"],
        capture_output=True, text=True, timeout=300,
    )
    assert selected.returncode == 0, selected.stderr
    shot = json.loads((tmp_path / "selected.json").read_text())["landscape"]
    assert shot is not None and len(shot["grid"]) > 0, "the landscape opened"


def test_a_nan_loss_marks_the_run_diverged_and_keeps_its_epochs(store):
    sweep = store.sweep("s", space=SPACE)
    run = sweep.start_run({"width": 16, "depth": 1, "lr": 0.01, "activation": "relu"})
    assert run.log(train_loss=1.0) is True
    assert run.log(train_loss=float("nan")) is False
    assert run.status == "diverged"
    stored = sweep.runs()[0]
    assert stored["status"] == "diverged" and "train_loss became nan at epoch 2" in stored["note"]
    assert [e["train_loss"] for e in stored["epochs"]] == [1.0, None]
    with pytest.raises(ValueError, match="has finished \\(diverged\\)"):
        run.log(train_loss=0.5)


def test_a_run_that_raises_is_kept_as_failed(store):
    sweep = store.sweep("s", space=SPACE)
    with pytest.raises(ZeroDivisionError):
        with sweep.start_run({"width": 16, "depth": 1, "lr": 0.01, "activation": "relu"}) as run:
            run.log(train_loss=1.0)
            1 / 0
    assert sweep.runs()[0]["status"] == "failed"
    assert "ZeroDivisionError" in sweep.runs()[0]["note"]


def test_bad_input_is_named_and_never_crashes_the_process(store, tmp_path):
    sweep = store.sweep("s", space=SPACE)
    good = {"width": 16, "depth": 1, "lr": 0.01, "activation": "relu"}
    with pytest.raises(ValueError, match="unknown parameter `dropout`"):
        sweep.start_run({**good, "dropout": 0.1})
    with pytest.raises(ValueError, match="`lr` = 5 is outside the space"):
        sweep.start_run({**good, "lr": 5.0})
    with pytest.raises(ValueError, match="another space"):
        store.sweep("s", space={"x": Float(0, 1)})
    run = sweep.start_run(good)
    with pytest.raises(ValueError, match="unknown metric accuracy"):
        run.log(accuracy=0.5)
    model = mlp(good)
    with pytest.raises(ValueError, match="has no probe"):
        run.record_representations(model, ["0"])
    sweep.set_probe(np.zeros((20, 64)), np.zeros(20))
    with pytest.raises(ValueError, match="no module 'fc1'; its modules are: 0, 1, 2"):
        run.record_representations(model, ["fc1"])
    with pytest.raises(ValueError, match="cannot run on the probe"):
        run.record_representations(model, ["0"], probe=np.zeros((5, 3)))
    with pytest.raises(ValueError, match="20 inputs but 3 labels"):
        sweep.set_probe(np.zeros((20, 64)), np.zeros(3))
    store.close()
    with pytest.raises(ValueError, match="is closed"):
        sweep.start_run(good)


def test_a_store_written_by_a_newer_neuromosaic_is_refused(tmp_path):
    folder = tmp_path / "newer"
    neuromosaic.Store(folder).close()
    db = sqlite3.connect(folder / "mosaic.sqlite")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="made by a newer NeuroMosaic \\(schema 99"):
        neuromosaic.Store(folder)


def test_a_vectorised_landscape_equals_the_loop_over_grid_points():
    from neuromosaic.landscape import loss_surface, random_direction

    torch.manual_seed(0)
    model = mlp({"width": 16, "depth": 2, "lr": 0.1, "activation": "tanh"})
    x = torch.randn(50, 64)
    y = torch.randint(0, 10, (50,))
    params = {k: v.detach() for k, v in model.named_parameters()}
    d1, d2 = random_direction(params, 1), random_direction(params, 2)
    # Filter-normalised: each row of a weight has its weight row's norm; biases do not move.
    w = params["0.weight"]
    assert torch.allclose(d1["0.weight"].norm(dim=1), w.norm(dim=1), rtol=1e-4)
    assert d1["0.bias"].abs().max() == 0
    loss, acc = loss_surface(model, torch.nn.functional.cross_entropy, x, y, x=(-1, 1, 5), y=(-0.5, 0.5, 3), directions=(d1, d2), chunk=4)
    assert loss.shape == (3, 5) and acc.shape == (3, 5)
    for j, b in enumerate(np.linspace(-0.5, 0.5, 3)):
        for i, a in enumerate(np.linspace(-1, 1, 5)):
            probe = mlp({"width": 16, "depth": 2, "lr": 0.1, "activation": "tanh"})
            probe.load_state_dict({k: params[k] + a * d1[k] + b * d2[k] for k in params})
            with torch.no_grad():
                out = probe(x)
                want = torch.nn.functional.cross_entropy(out, y).item()
                want_acc = (out.argmax(1) == y).float().mean().item()
            assert abs(loss[j, i] - want) <= 1e-5 * max(1.0, want), (a, b, loss[j, i], want)
            assert abs(acc[j, i] - want_acc) < 1e-9
    # The trained weights sit at the centre of the grid.
    with torch.no_grad():
        centre = torch.nn.functional.cross_entropy(model(x), y).item()
    assert abs(loss[1, 2] - centre) < 1e-5


@pytest.fixture()
def shared_store_url(tmp_path):
    """A fresh database on the test PostgreSQL cluster (scripts/test.sh starts one), as a store URL."""
    cluster = os.environ.get("MOSAIC_TEST_PG")
    if not cluster:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but MOSAIC_TEST_PG is not set: scripts/test.sh starts the test PostgreSQL cluster")
        pytest.skip("no MOSAIC_TEST_PG: scripts/test.sh starts a PostgreSQL cluster for this test")
    db = "mosaic_test_python"
    subprocess.run(["psql", f"{cluster}/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", "-c", f"CREATE DATABASE {db}"],
                   check=True, capture_output=True)
    return f"{cluster}/{db}?files={tmp_path / 'shared-files'}"


def test_a_shared_store_takes_runs_from_python_and_mosaic_reads_them(shared_store_url, tmp_path):
    password = os.environ["MOSAIC_TEST_PG"].rsplit("@", 1)[0].rsplit(":", 1)[1]
    with neuromosaic.Store(shared_store_url) as store:
        assert password not in repr(store) and ":***@" in repr(store), repr(store)
        sweep = store.sweep("shared", space=SPACE, dataset="toy")
        for i in range(3):
            params = {"width": 8 * (i + 1), "depth": 1, "lr": 0.01, "activation": "relu"}
            with sweep.start_run(params) as run:
                run.log(1, train_loss=1.0, val_loss=1.1, val_accuracy=0.5 + 0.1 * i, learning_rate=0.01)
                weights = run.save_weights({"w": torch.zeros(2, 2)})
            # Run files go to the shared folder the store names, not beside a database file.
            assert weights == str(tmp_path / "shared-files" / "runs" / str(run.id) / "final.safetensors"), weights
            assert os.path.isfile(weights)
        assert [r["status"] for r in sweep.runs()] == ["done"] * 3
    out = subprocess.run([mosaic_binary(), "export", "--store", shared_store_url, "--sweep", "shared"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("run,status,activation,depth,lr,width,"), lines
    assert password not in out.stdout + out.stderr


def test_workers_claim_queued_runs_each_once_and_a_stalled_worker_loses_its_run(tmp_path):
    path = tmp_path / "queue"
    study = neuromosaic.Study(SPACE, seed=1, startup_trials=6)
    with neuromosaic.Store(path) as coordinator:
        sweep = coordinator.sweep("queued", space=SPACE, dataset="toy")
        queued = [sweep.enqueue(trial.params) for trial in study.ask(6)]
    # Two workers, each its own session with the store, take turns at the queue.
    a, b = neuromosaic.Store(path).sweep("queued"), neuromosaic.Store(path).sweep("queued")
    stalled = a.claim(lease=0.5, worker="a")
    assert stalled is not None and stalled.params == study.trials[0].params
    trained = []
    while (run := b.claim(lease=30, worker="b")) is not None:
        with run:
            run.log(1, train_loss=0.5, val_accuracy=0.8)
        trained.append(run.id)
        if len(trained) == 2:
            time.sleep(0.8)  # a's lease runs out: its run is claimed again, next in order
    assert sorted(trained) == sorted(queued), "every queued run trained once, the stalled one by b"
    with pytest.raises(RuntimeError, match="lease ran out"):
        stalled.log(2, train_loss=0.4)
    with pytest.raises(RuntimeError, match="lease was lost"):
        stalled.finish()
    runs = a.runs()
    assert [r["status"] for r in runs] == ["done"] * 6 and all(len(r["epochs"]) == 1 for r in runs)
    assert a.claim() is None
    with pytest.raises(ValueError, match="positive"):
        a.claim(lease=0)
