#!/usr/bin/env bash
# Runs every crate's examples, as `cargo test --workspace` built them (no
# second build with other features). Each must exit 0; the output shows
# what it does. Sourced environment: scripts/test-env.sh (the app's example
# renders offscreen through Vulkan).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${CARGO_TARGET_DIR:-target}/debug/examples"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
run() {
  local name=$1
  shift
  echo "--- example $name $*" >&2
  "$examples/$name" "$@"
}
run space_walk scenes/spaces/demo.ron
run scene_updates
run store_walkthrough "$scratch/store"
run train_one
run phate_npy "$scratch/phate.npy"
run surface_of_a_network
run suggest_next
run ask_tell 60
run headless_service "$scratch/headless"
run minimal_sphere "$scratch/sphere.png"
test -s "$scratch/sphere.png" || { echo "minimal_sphere wrote no picture" >&2; exit 1; }
echo "examples: 10 passed, 0 failed"
