#!/usr/bin/env bash
# The search benchmark, side by side in one run: our strategies (random,
# GP+EI, GP+EI with transfer, our TPE) and Optuna's TPE sampler, on the
# stored table of 600 specs x 4 built-in tasks. No training happens.
#
#   benches/search_compare.sh [TARGET] [TRANSFER_FROM]   (default: spirals checkerboard)
#
# Needs a Python with optuna (`pip install optuna`); set PYTHON to use another.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-spirals}
from=${2:-checkerboard}
python=${PYTHON:-python3}
out=$(mktemp -d)
cargo build --release --quiet
./target/release/mosaic bench search --target "$target" --transfer-from "$from" --seeds 20 --budget 100 --out "$out/curves.csv"
"$python" benches/search_optuna.py --target "$target" --curves "$out/curves.csv" --markdown
