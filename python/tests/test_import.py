"""`mosaic import optuna` on a study made by the real optuna package, then continued with ask/tell."""

import json
import math
import sqlite3
import subprocess

import optuna
import pytest

import neuromosaic
from test_store import mosaic_binary

optuna.logging.set_verbosity(optuna.logging.WARNING)


def make_study(path) -> optuna.Study:
    """30 trials of a define-by-run space: `momentum` only for SGD; some pruned, one failed."""
    study = optuna.create_study(study_name="mlp-tuning", storage=f"sqlite:///{path}", direction="minimize", sampler=optuna.samplers.RandomSampler(seed=1))

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        opt = trial.suggest_categorical("optimizer", ["sgd", "adam"])
        loss = (math.log10(lr) + 3) ** 2 + 0.1 * layers
        if opt == "sgd":
            loss += 1 - trial.suggest_float("momentum", 0.0, 0.99)
        for step in range(3):
            trial.report(loss * (3 - step), step)
        if trial.number % 7 == 3:
            raise optuna.TrialPruned()
        if trial.number == 11:
            raise RuntimeError("out of memory")
        return loss

    study.optimize(objective, n_trials=30, catch=(RuntimeError,))
    return study


def test_an_optuna_study_imports_with_its_trials_values_ranges_and_intermediate_values(tmp_path):
    db = tmp_path / "optuna.db"
    made = make_study(db)
    store_dir = tmp_path / "store"
    out = subprocess.run([mosaic_binary(), "import", "optuna", f"sqlite:///{db}", "--store", store_dir], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    states = [t.state.name for t in made.trials]
    assert f"{states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned, {states.count('FAIL')} failed" in out.stdout, out.stdout

    store = neuromosaic.Store(store_dir)
    sweep = store.sweep("mlp-tuning")
    runs = sweep.runs()
    assert len(runs) == 30
    by_number = {t.number: t for t in made.trials}
    for run in runs:
        trial = by_number[run["index"]]
        assert run["params"].keys() == trial.params.keys()
        for k, v in trial.params.items():
            assert run["params"][k] == (pytest.approx(v, rel=1e-12) if isinstance(v, float) else v)
        assert run["status"] == {"COMPLETE": "done", "PRUNED": "failed", "FAIL": "failed"}[trial.state.name]
        if trial.value is not None:
            assert run["value"] == pytest.approx(trial.value, rel=1e-12)
    # The space: each distribution's range, momentum optional (only SGD trials asked for it).
    params = {p["name"]: p for p in sweep.space["params"]}
    assert params["lr"]["kind"] == {"Float": {"low": 1e-5, "high": 1e-1, "log": True}}
    assert params["layers"]["kind"]["Int"]["low"] == 1 and params["layers"]["kind"]["Int"]["high"] == 4
    assert params["optimizer"]["kind"] == {"Categorical": {"choices": ["sgd", "adam"]}}
    assert params["momentum"].get("optional") is True and "optional" not in params["lr"]
    # Intermediate values as per-step metrics.
    con = sqlite3.connect(store_dir / "mosaic.sqlite")
    first = runs[0]["id"]
    steps = con.execute("SELECT step, value FROM metrics WHERE run = ? AND name = 'intermediate' ORDER BY step", (first,)).fetchall()
    assert [s for s, _ in steps] == [0, 1, 2]
    assert steps[0][1] == pytest.approx(by_number[0].intermediate_values[0])

    # Continued with ask/tell: the study learns from the imported trials.
    study = neuromosaic.Study.from_sweep(sweep, direction="minimize")
    told = [t for t in study.trials if t.state == "complete"]
    assert len(told) == states.count("COMPLETE")
    assert study.best_value == pytest.approx(made.best_value)
    nxt = study.ask()
    assert nxt.predicted is not None, "past the startup trials: the model proposes"
    assert 1e-5 <= nxt.params["lr"] <= 1e-1 and nxt.params["optimizer"] in ("sgd", "adam")

    # Imported twice under the same name: refused, nothing changed.
    again = subprocess.run([mosaic_binary(), "import", "optuna", str(db), "--store", store_dir], capture_output=True, text=True)
    assert again.returncode != 0 and "already holds a sweep `mlp-tuning`" in again.stderr
    # The explorer opens it, placed by the parameters (Optuna keeps no representations).
    shot = subprocess.run(
        [mosaic_binary(), "snapshot", "--store", store_dir, "--sweep", "mlp-tuning", "--out", tmp_path / "s.png", "--manifest", tmp_path / "s.json"],
        capture_output=True, text=True, timeout=300,
    )
    assert shot.returncode == 0, shot.stderr
    points = json.loads((tmp_path / "s.json").read_text())["points"]
    assert len(points) == 30
    # No accuracies here: the points are coloured by the objective (a failed trial has none; Optuna
    # gives a pruned one its last intermediate value).
    valued = [p for p in points if p["value"] is not None and math.isfinite(p["value"])]
    assert len(valued) == sum(t.value is not None for t in made.trials) and len({tuple(p["color"]) for p in valued}) > 5


def test_a_database_that_is_not_an_optuna_storage_is_named_as_such(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE things (id INTEGER)")
    con.commit()
    con.close()
    out = subprocess.run([mosaic_binary(), "import", "optuna", f"sqlite:///{other}", "--store", tmp_path / "s"], capture_output=True, text=True)
    assert out.returncode != 0 and "is not an Optuna storage" in out.stderr, out.stderr
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    out = subprocess.run([mosaic_binary(), "import", "optuna", str(text), "--store", tmp_path / "s"], capture_output=True, text=True)
    assert out.returncode != 0 and ("not a database" in out.stderr or "is not an Optuna storage" in out.stderr), out.stderr
    out = subprocess.run([mosaic_binary(), "import", "optuna", "postgresql://db/x", "--store", tmp_path / "s"], capture_output=True, text=True)
    assert out.returncode != 0 and "only SQLite storages" in out.stderr


def test_an_mlflow_file_store_imports_with_params_metrics_and_statuses(tmp_path, monkeypatch):
    # MLflow 3 keeps the file store in maintenance mode: it asks for this to write one.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    import mlflow

    mlruns = tmp_path / "mlruns"
    mlflow.set_tracking_uri(mlruns.as_uri())
    mlflow.set_experiment("cnn-sweep")
    logged = []
    for i in range(6):
        with mlflow.start_run(run_name=f"run-{i}") as active:
            params = {"lr": 10 ** (-4 + i * 0.6), "layers": 1 + i % 3, "act": ["relu", "gelu"][i % 2]}
            mlflow.log_params(params)
            losses = [1.0 / (s + 1 + i) for s in range(4)]
            for s, v in enumerate(losses):
                mlflow.log_metric("val_loss", v, step=s)
            mlflow.set_tag("owner", "me")
            logged.append((active.info.run_name, params, losses[-1]))
            if i == 5:
                mlflow.end_run(status="FAILED")
    store_dir = tmp_path / "store"
    out = subprocess.run([mosaic_binary(), "import", "mlflow", mlruns, "--store", store_dir], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "5 finished, 1 failed, 0 running" in out.stdout and "value: last `val_loss`" in out.stdout, out.stdout

    sweep = neuromosaic.Store(store_dir).sweep("cnn-sweep")
    runs = sweep.runs()
    assert len(runs) == 6
    for run, (name, params, last) in zip(runs, logged):
        assert f"MLflow run `{name}`" in run["note"] and "owner=me" in run["note"] and "artifacts: file://" in run["note"]
        assert run["params"]["lr"] == pytest.approx(params["lr"]) and run["params"]["layers"] == params["layers"]
        assert run["params"]["act"] == params["act"]
        assert run["value"] == pytest.approx(last)
    assert [r["status"] for r in runs] == ["done"] * 5 + ["failed"]
    space = {p["name"]: p["kind"] for p in sweep.space["params"]}
    assert space["lr"]["Float"]["log"] is True and space["lr"]["Float"]["low"] == pytest.approx(1e-4)
    assert space["layers"] == {"Int": {"low": 1, "high": 3, "log": False, "step": 1}}
    assert space["act"] == {"Categorical": {"choices": ["relu", "gelu"]}}
    con = sqlite3.connect(store_dir / "mosaic.sqlite")
    steps = con.execute("SELECT step FROM metrics WHERE run = ? AND name = 'val_loss' ORDER BY step", (runs[0]["id"],)).fetchall()
    assert [s for (s,) in steps] == [0, 1, 2, 3]
    # Continued with ask/tell, minimising the imported loss.
    study = neuromosaic.Study.from_sweep(sweep, direction="minimize", startup_trials=3)
    assert study.best_value == pytest.approx(min(last for _, _, last in logged[:5]))
    assert study.ask().predicted is not None

    bad = tmp_path / "empty"
    bad.mkdir()
    out = subprocess.run([mosaic_binary(), "import", "mlflow", bad, "--store", store_dir], capture_output=True, text=True)
    assert out.returncode != 0 and "is not an MLflow file store" in out.stderr, out.stderr
    out = subprocess.run([mosaic_binary(), "import", "mlflow", mlruns, "--store", store_dir, "--sweep", "x", "--metric", "acc"], capture_output=True, text=True)
    assert out.returncode != 0 and "no run of experiment `cnn-sweep` logged the metric `acc`" in out.stderr, out.stderr
