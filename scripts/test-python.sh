#!/usr/bin/env bash
# The Python package's tests: builds the `neuromosaic` wheel with maturin
# (the workspace's crates/mosaic-py inside), installs it into a virtual
# environment with the reference packages (phate, optuna) and runs pytest
# on python/tests. The environment is kept in ~/.cache/neuromosaic/pyenv
# (MOSAIC_PYENV overrides), so only the first run downloads. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  echo "error: the Python tests need Python 3.9 or newer as \$PYTHON or python3" >&2
  exit 1
fi
venv=${MOSAIC_PYENV:-$HOME/.cache/neuromosaic/pyenv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
# Pinned to what the tests were written against; pip skips what is already there.
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin==1.16.0" "pytest>=8,<10" "numpy>=1.24,<3" "phate==2.0.0" "optuna>=4,<6" "scikit-learn>=1.3,<2" \
  "torch>=2.4,<3" "mlflow-skinny>=2,<4"
# The dev profile: its dependencies are optimised (Cargo.toml), and it shares
# the compiled crates with `cargo test`. Release wheels: `pip install ./python`.
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
cd python
"$venv/bin/maturin" build --quiet --profile dev --interpreter "$venv/bin/python" --out "$wheels"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheels"/neuromosaic-*.whl
# The store client's tests run `mosaic` on what they logged: the debug build
# `cargo test` made (MOSAIC_BIN overrides).
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$(cd .. && pwd)/$target ;; esac
export MOSAIC_BIN=${MOSAIC_BIN:-$target/debug/mosaic}
# Not `python -m pytest`: that would put python/ first on sys.path, and the
# source folder (no native module) would shadow the installed package.
"$venv/bin/pytest" -q "$@"
