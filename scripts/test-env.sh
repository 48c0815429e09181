# Sourced by the test scripts: Bevy renders through Vulkan, and with no GPU
# Mesa's lavapipe answers; Vulkan and the OpenXR runtime want a runtime dir.
export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR
fi
