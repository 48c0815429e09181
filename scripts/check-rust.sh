#!/usr/bin/env bash
# Fails with the fix when no Rust toolchain new enough for this workspace is on PATH.
set -euo pipefail
need=1.95
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found: install Rust $need or newer with rustup (https://rustup.rs), then rerun" >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "error: rustc $have is too old (this workspace needs $need+): run \`rustup update stable\` (Debian's own cargo is too old)" >&2
  exit 1
fi
for tool in fmt clippy; do
  if ! cargo "$tool" --version >/dev/null 2>&1; then
    echo "error: cargo $tool is missing: run \`rustup component add rustfmt clippy\`, then rerun" >&2
    exit 1
  fi
done
