#!/usr/bin/env bash
# A simulated VR headset for tests: Monado (the open OpenXR runtime) with its
# simulated HMD and no display, in a Debian 13 chroot (Debian 12 has no Monado).
#
#   scripts/xr-runtime.sh setup          build the chroot once (~4 min, ~1 GB), cached
#   scripts/xr-runtime.sh run CMD ARGS   run CMD inside it with monado-service up
#
# The chroot lives in $MOSAIC_XR_ROOT (default ~/.cache/neuromosaic/xr-trixie)
# and is reused while its package list is unchanged. Mounts are made in a
# private mount namespace, so nothing stays mounted when the command ends.
# Needs root (debootstrap, chroot), as CI has.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

root=${MOSAIC_XR_ROOT:-${HOME:-/tmp}/.cache/neuromosaic/xr-trixie}
mirror=${MOSAIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# libopenxr-dev: the unversioned libopenxr_loader.so that the openxr crate opens.
packages=monado-service,libopenxr-loader1,libopenxr1-monado,libopenxr-dev,mesa-vulkan-drivers,libvulkan1,ca-certificates
stamp="$root/.mosaic-packages"

setup() {
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: building the Monado chroot needs root (debootstrap, chroot); rerun as root" >&2
    exit 1
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  echo "building the Monado chroot in $root (Debian 13, once; a few minutes)" >&2
  rm -rf "$root"
  mkdir -p "$(dirname "$root")"
  local started=$SECONDS
  if ! debootstrap --variant=minbase --include="$packages" trixie "$root" "$mirror" >"$root.log" 2>&1; then
    echo "error: debootstrap failed; the end of $root.log:" >&2
    tail -20 "$root.log" >&2
    exit 1
  fi
  echo "$packages" >"$stamp"
  echo "Monado chroot ready in $((SECONDS - started)) s" >&2
}

# Runs "$@" inside the chroot, the repository bind-mounted at the same path,
# with monado-service running and the environment an OpenXR client needs.
run_inside() {
  setup
  local runtime_dir=/tmp/mosaic-xr-run
  # A fresh private namespace: bind mounts vanish with it.
  exec unshare --mount --propagation private bash -euo pipefail -c '
    root=$1 repo=$2 runtime_dir=$3; shift 3
    for d in dev proc sys; do mount --rbind "/$d" "$root/$d"; done
    mkdir -p "$root$repo" "$root/tmp"
    mount --bind "$repo" "$root$repo"
    if [ -n "${CARGO_TARGET_DIR:-}" ] && [ -d "$CARGO_TARGET_DIR" ]; then
      mkdir -p "$root$CARGO_TARGET_DIR"; mount --bind "$CARGO_TARGET_DIR" "$root$CARGO_TARGET_DIR"
    fi
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      RUST_LOG="${RUST_LOG:-info}" RUST_BACKTRACE="${RUST_BACKTRACE:-1}" \
      XDG_RUNTIME_DIR="$runtime_dir" XRT_COMPOSITOR_NULL=1 XRT_NO_STDIN=1 \
      VK_ICD_FILENAMES="$(ls "$root"/usr/share/vulkan/icd.d/lvp_icd*.json | head -1 | sed "s|^$root||")" WGPU_BACKEND=vulkan \
      bash -euo pipefail -c "
        rm -rf \"\$XDG_RUNTIME_DIR\"; mkdir -m 700 -p \"\$XDG_RUNTIME_DIR\"
        monado-service >\"\$XDG_RUNTIME_DIR/monado.log\" 2>&1 &
        monado=\$!
        for _ in \$(seq 100); do [ -S \"\$XDG_RUNTIME_DIR/monado_comp_ipc\" ] && break; sleep 0.1; done
        if ! [ -S \"\$XDG_RUNTIME_DIR/monado_comp_ipc\" ]; then
          echo \"error: monado-service did not start; its log:\" >&2; cat \"\$XDG_RUNTIME_DIR/monado.log\" >&2; exit 1
        fi
        cd \"$repo\"
        status=0; \"\$@\" || status=\$?
        kill \$monado 2>/dev/null || true; wait \$monado 2>/dev/null || true
        exit \$status
      " bash "$@"
  ' bash "$root" "$repo" "$runtime_dir" "$@"
}

case "${1:-}" in
  setup) setup ;;
  run) shift; [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARGS...]" >&2; exit 2; }; run_inside "$@" ;;
  *) echo "usage: $0 setup | run CMD [ARGS...]" >&2; exit 2 ;;
esac
