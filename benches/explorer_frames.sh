#!/usr/bin/env bash
# Frame times of the explorer's sphere view, offscreen on whatever Vulkan
# device is present (lavapipe on the CI machine), each case in its own
# process so each reports its own peak memory. Results: one JSON line each.
#   benches/explorer_frames.sh [path/to/mosaic]
set -euo pipefail
cd "$(dirname "$0")/.."
MOSAIC=${1:-target/release/mosaic}
export WGPU_BACKEND=${WGPU_BACKEND:-vulkan} RUST_LOG=${RUST_LOG:-error}
[ -n "${XDG_RUNTIME_DIR:-}" ] || { XDG_RUNTIME_DIR=$(mktemp -d); export XDG_RUNTIME_DIR; }
bench() { "$MOSAIC" bench explorer "$@" < /dev/null 2> >(grep -v slab_allocator >&2); }

# One mesh (ours) against an entity with its own mesh per point.
for n in 10000 100000; do
  bench --n "$n" --frames 100 --drawing one-mesh
  bench --n "$n" --frames 20 --drawing quad-per-point
done
# The naive sphere-per-point way takes seconds a frame: 10k points only.
bench --n 10000 --frames 5 --drawing sphere-per-point

# While a sweep trains in the background, and idle, on the same store.
store=$(mktemp -d)/store
bench --store "$store" --train --frames 1000
bench --store "$store" --frames 1000
rm -rf "$(dirname "$store")"
