#!/usr/bin/env bash
# Opens the NeuroMosaic explorer on the embedded default search space,
# installing the system packages it needs first. Extra arguments go to `mosaic`
# (try `scripts/run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-rust.sh
scripts/install-deps.sh run
exec cargo run --release --locked -- "$@"
