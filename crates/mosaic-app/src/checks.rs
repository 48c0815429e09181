//! Environment checks that turn missing displays and drivers into one clear
//! line naming the fix, before any window or renderer is created.

use anyhow::{Result, bail};

/// The explorer window needs an X11 display (Wayland sessions provide one through XWayland).
pub fn check_display() -> Result<()> {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if display.is_empty() {
        bail!(
            "no display: DISPLAY is not set. Run `mosaic` in a desktop session, or under a virtual display \
             with `xvfb-run -a mosaic` (Debian: apt-get install xvfb xauth); `mosaic snapshot --out view.png` \
             renders without any display"
        );
    }
    // A local display ":N" listens on a socket file, an abstract socket, or
    // both; with neither, the X server is gone.
    if let Some(number) = display.strip_prefix(':').and_then(|d| d.split('.').next()) {
        let socket = std::path::Path::new("/tmp/.X11-unix").join(format!("X{number}"));
        let abstract_name = format!("@/tmp/.X11-unix/X{number}");
        let listening = std::fs::read_to_string("/proc/net/unix")
            .is_ok_and(|t| t.lines().any(|l| l.split_whitespace().last() == Some(abstract_name.as_str())));
        if !socket.exists() && !listening {
            bail!(
                "no display: DISPLAY={display} but no X server is listening ({} is missing). Start one, or run \
                 under `xvfb-run -a mosaic`",
                socket.display()
            );
        }
    }
    Ok(())
}

/// Bevy renders through Vulkan on Linux: make sure some adapter, hardware or
/// software (Mesa's lavapipe), is there before starting it.
pub fn check_gpu() -> Result<()> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = bevy::tasks::block_on(instance.enumerate_adapters(wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all())));
    if adapters.is_empty() {
        bail!(
            "no Vulkan device found: install a GPU driver with Vulkan support, or Mesa's software renderer \
             (Debian: apt-get install mesa-vulkan-drivers libvulkan1)"
        );
    }
    Ok(())
}
