#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with or without a GPU:
# installs what it needs, then runs every test, headless rendering included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-rust.sh
scripts/install-deps.sh test

# Bevy renders through Vulkan; with no GPU, Mesa's lavapipe answers.
export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR
fi
exec cargo test --workspace --locked "$@"
