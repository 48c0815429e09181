#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with or without a GPU:
# installs what it needs, then runs every test, headless rendering included,
# and the VR session against Monado's simulated headset (scripts/test-xr.sh;
# needs root; MOSAIC_SKIP_XR=1 leaves it out). The house rules come first:
# rustfmt and clippy (warnings are errors); after the tests every crate's
# examples run (scripts/run-examples.sh), then the Python package's tests
# (scripts/test-python.sh: the wheel built and installed beside phate and
# optuna). The tests of the shared store run against a throwaway PostgreSQL
# cluster (scripts/test-postgres.sh), and the Slurm launcher's against a
# single-node Slurm (scripts/test-slurm.sh), started here and stopped
# whatever happens. Arguments go to the first `cargo test` (the workspace's).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-rust.sh
scripts/install-deps.sh test
source scripts/test-env.sh
eval "$(scripts/test-postgres.sh start)"
# A single-node Slurm cluster for the Slurm launcher's test (needs root: slurmd
# switches users). Where it cannot start, its test says so, and fails under CI=true.
if slurm=$(scripts/test-slurm.sh start); then
  eval "$slurm"
else
  echo "no test Slurm cluster (above): the Slurm array test will say so" >&2
fi
trap 'scripts/test-postgres.sh stop "$MOSAIC_TEST_PG_DIR"; [ -z "${MOSAIC_TEST_SLURM_DIR:-}" ] || scripts/test-slurm.sh stop "$MOSAIC_TEST_SLURM_DIR"' EXIT
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
scripts/run-examples.sh
scripts/test-python.sh
if [ "${MOSAIC_SKIP_XR:-0}" = 1 ]; then
  echo "skipping the VR session test (MOSAIC_SKIP_XR=1)" >&2
else
  scripts/test-xr.sh
fi
