//! The smallest use of the explorer's plugins: a scene of points on the
//! sphere, coloured by a column, rendered offscreen to a PNG (no window, no
//! display; Vulkan or Mesa's software renderer).
//!
//! `cargo run -p mosaic-app --example minimal_sphere [OUT.png]`

use std::path::PathBuf;

use mosaic_app::scene::ColorMapping;
use mosaic_app::session::{Session, SessionFile};
use mosaic_app::{CaptureRequest, ExplorerOptions};
use mosaic_core::Colormap;
use mosaic_protocol::{MetricColumn, SphereScene};

fn main() -> anyhow::Result<()> {
    let out: PathBuf = std::env::args().nth(1).map_or_else(|| std::env::temp_dir().join("mosaic-minimal-sphere.png"), Into::into);
    // 400 points on a golden spiral, coloured by their height.
    let n = 400;
    let positions: Vec<[f32; 3]> = (0..n)
        .map(|i| {
            let y = 1.0 - 2.0 * (i as f32 + 0.5) / n as f32;
            let r = (1.0 - y * y).sqrt();
            let a = i as f32 * std::f32::consts::PI * (3.0 - 5f32.sqrt());
            [r * a.cos(), y, r * a.sin()]
        })
        .collect();
    let height = positions.iter().map(|p| p[1] as f64).collect();
    let scene = SphereScene {
        title: format!("{n} points on a golden spiral"),
        labels: (0..n).map(|i| format!("point {i}")).collect(),
        positions,
        columns: vec![MetricColumn { name: "height".into(), values: height }],
        ..SphereScene::default()
    };
    let options = ExplorerOptions {
        scene,
        mapping: ColorMapping::new(0, Colormap::Plasma),
        panel: true,
        feed: None,
        requests: None,
        select: None,
        path_to: None,
        suggest: None,
        session: SessionFile { base: Session::default(), path: None },
        errors: Vec::new(),
    };
    mosaic_app::check_gpu()?;
    mosaic_app::run_offscreen(options, 960, 540, CaptureRequest { path: out.clone(), frames: 8, manifest: None })?;
    println!("wrote {}", out.display());
    Ok(())
}
