#!/usr/bin/env bash
# Renders the README's pictures from a freshly trained default demo sweep:
#   docs/images/sphere.png     the 200 networks, placed by PHATE of their representations
#   docs/images/drilldown.png  one network opened: neighbours, details, landscape and path
# Usage: scripts/readme-images.sh [MOSAIC_BINARY]   (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then mosaic=$1; else
  cargo build --release --quiet
  mosaic=${CARGO_TARGET_DIR:-target}/release/mosaic
fi
source scripts/test-env.sh
store=$(mktemp -d)/demo
trap 'rm -rf "$(dirname "$store")"' EXIT
"$mosaic" sweep --store "$store"
"$mosaic" embed --store "$store"
"$mosaic" snapshot --store "$store" --width 1280 --height 720 --out docs/images/sphere.png
# The best network (run 1 without the sqlite3 tool): its landscape and training path beside the sphere.
best=1
if command -v sqlite3 >/dev/null; then
  best=$(sqlite3 "$store/mosaic.sqlite" "select id from runs where status = 'done' order by val_accuracy desc limit 1")
fi
"$mosaic" snapshot --store "$store" --select "$best" --width 1280 --height 720 --out docs/images/drilldown.png
echo "wrote docs/images/sphere.png and docs/images/drilldown.png (run $best opened)"
