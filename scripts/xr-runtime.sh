#!/usr/bin/env bash
# A simulated VR headset for tests: Monado (the open OpenXR runtime) with its
# simulated HMD and no display, in a Debian 13 chroot (Debian 12 has no Monado).
#
#   scripts/xr-runtime.sh setup          build the chroot once (~2 min, ~1 GB), cached
#   scripts/xr-runtime.sh run CMD ARGS   run CMD inside it with monado-service up
#
# The chroot lives in $MOSAIC_XR_ROOT (default ~/.cache/neuromosaic/xr-trixie)
# and is reused while its package list is unchanged. Every mount (debootstrap's
# own, and the repository's for a run) is made in a private mount namespace,
# so nothing stays mounted when the command ends or is killed. Needs root
# (debootstrap, chroot, mounts): run as root, or with sudo that asks no password.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

root=${MOSAIC_XR_ROOT:-${HOME:-/tmp}/.cache/neuromosaic/xr-trixie}
mirror=${MOSAIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# libopenxr-dev: the unversioned libopenxr_loader.so that the openxr crate opens.
packages=monado-service,libopenxr-loader1,libopenxr1-monado,libopenxr-dev,mesa-vulkan-drivers,libvulkan1,ca-certificates
stamp="$root/.mosaic-packages"

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo --preserve-env=CARGO_TARGET_DIR,RUST_LOG,RUST_BACKTRACE)
  else
    echo "error: the simulated headset's chroot needs root (debootstrap, chroot, mounts): run as root or with password-less sudo, or skip it with MOSAIC_SKIP_XR=1" >&2
    exit 1
  fi
fi

setup() {
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ]; then
    return 0
  fi
  case "$(realpath -m "$root")" in
    / | "$(realpath -m "${HOME:-/}")" | "$repo")
      echo "error: MOSAIC_XR_ROOT=$root would be wiped: point it at a folder of its own" >&2
      exit 1 ;;
  esac
  if ! [ -x /usr/sbin/debootstrap ]; then
    echo "installing debootstrap" >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  echo "building the Monado chroot in $root (Debian 13, once; a few minutes)" >&2
  # An interrupted build leaves no mounts (its namespace went with it), so this stays inside $root.
  "${as_root[@]}" rm -rf --one-file-system "$root"
  mkdir -p "$(dirname "$root")"
  local started=$SECONDS
  if ! "${as_root[@]}" unshare --mount --propagation private \
    /usr/sbin/debootstrap --variant=minbase --include="$packages" trixie "$root" "$mirror" >"$root.log" 2>&1; then
    echo "error: debootstrap failed; the end of $root.log:" >&2
    tail -20 "$root.log" >&2
    exit 1
  fi
  echo "$packages" | "${as_root[@]}" tee "$stamp" >/dev/null
  echo "Monado chroot ready in $((SECONDS - started)) s" >&2
}

# Runs "$@" inside the chroot, the repository (and a target dir outside it)
# bind-mounted at the same paths, in a private mount namespace.
run() {
  setup
  local target=""
  if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    target=$(realpath -m "$CARGO_TARGET_DIR")
  fi
  exec "${as_root[@]}" unshare --mount --propagation private "$repo/scripts/xr-runtime.sh" _enter "$target" "$@"
}

# In the private namespace: mount, then enter the chroot with a clean environment.
enter() {
  local target=$1
  shift
  for d in dev proc sys; do mount --rbind "/$d" "$root/$d"; done
  mkdir -p "$root$repo"
  mount --bind "$repo" "$root$repo"
  case "$target" in
    "" | "$repo" | "$repo"/*) ;;
    *) mkdir -p "$target" "$root$target"; mount --bind "$target" "$root$target" ;;
  esac
  local icd
  icd=$(cd "$root" && ls usr/share/vulkan/icd.d/lvp_icd*.json | head -1)
  exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    RUST_LOG="${RUST_LOG:-info}" RUST_BACKTRACE="${RUST_BACKTRACE:-1}" \
    XRT_COMPOSITOR_NULL=1 XRT_NO_STDIN=1 VK_ICD_FILENAMES="/$icd" WGPU_BACKEND=vulkan \
    bash "$repo/scripts/xr-runtime.sh" _inside "$@"
}

# In the chroot: monado-service up (its own runtime dir), the command, then
# the service down whatever happens.
inside() {
  XDG_RUNTIME_DIR=$(mktemp -d /tmp/mosaic-xr.XXXXXX)
  export XDG_RUNTIME_DIR
  monado-service >"$XDG_RUNTIME_DIR/monado.log" 2>&1 &
  local monado=$!
  trap 'kill '"$monado"' 2>/dev/null || true; wait '"$monado"' 2>/dev/null || true; rm -rf "$XDG_RUNTIME_DIR"' EXIT
  for _ in $(seq 100); do
    [ -S "$XDG_RUNTIME_DIR/monado_comp_ipc" ] && break
    sleep 0.1
  done
  if ! [ -S "$XDG_RUNTIME_DIR/monado_comp_ipc" ]; then
    echo "error: monado-service did not start; its log:" >&2
    cat "$XDG_RUNTIME_DIR/monado.log" >&2
    exit 1
  fi
  "$@"
}

case "${1:-}" in
  setup) setup ;;
  run) shift; [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARGS...]" >&2; exit 2; }; run "$@" ;;
  _enter) shift; enter "$@" ;;
  _inside) shift; inside "$@" ;;
  *) echo "usage: $0 setup | run CMD [ARGS...]" >&2; exit 2 ;;
esac
