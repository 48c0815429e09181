#!/usr/bin/env bash
# The VR session test: `mosaic xr` built with --features xr, run against
# Monado's simulated headset (scripts/xr-runtime.sh, a cached Debian 13
# chroot), must reach FOCUSED, submit frames, and select by a scripted ray.
# Also reruns the fallback tests with the xr build. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-rust.sh
scripts/install-deps.sh test
scripts/xr-runtime.sh setup

source scripts/test-env.sh
exec cargo test --locked --features xr --test xr "$@" -- --include-ignored
