#!/usr/bin/env bash
# Installs the Debian packages NeuroMosaic needs, if any are missing.
#   scripts/install-deps.sh run    window + Vulkan (Mesa's software renderer where no GPU)
#   scripts/install-deps.sh test   the above + Xvfb and xdotool for headless window tests, ffmpeg for recorded tours,
#                                  the OpenXR loader (no runtime) for `mosaic xr`'s fallback tests,
#                                  PostgreSQL's server for the shared store's tests,
#                                  Slurm (controller, node daemon, munge) for the Slurm launcher's tests,
#                                  Fashion-MNIST (dataset-fashion-mnist) for the real-data sweep and report tests
set -euo pipefail

mode=${1:-run}
# gcc + libc6-dev: the linker and C runtime rustc needs (gcc alone only recommends libc6-dev).
packages=(libvulkan1 mesa-vulkan-drivers libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 gcc libc6-dev)
if [ "$mode" = test ]; then
  packages+=(xvfb xauth xdotool ffmpeg libopenxr-loader1 libopenxr-dev postgresql slurmctld slurmd munge dataset-fashion-mnist)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages (${missing[*]}) and no apt-get: install their equivalents, then rerun" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: missing system packages; as root run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "installing system packages: ${missing[*]}" >&2
# A private TMPDIR: apt has failed here when files in a shared /tmp vanished
# mid-install. `env` carries it (and non-interactive mode) through sudo; the
# lock timeout waits out unattended upgrades on a freshly booted machine.
apt_tmp=$(mktemp -d)
trap 'rm -rf "$apt_tmp"' EXIT
apt=($sudo env TMPDIR="$apt_tmp" DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
