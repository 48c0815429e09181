//! `mosaic record`: a tour (RON) rendered offline to H.264 MP4 through
//! ffmpeg, or to a PNG sequence, at the tour's size and frame rate, with a
//! progress bar. Frames stream to the encoder; none are held in memory.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mosaic_app::record::{FrameSink, record};
use mosaic_app::tour::Tour;

use crate::cli::check_writable;
use crate::population::{PopulationArgs, explorer_options_for_recording};

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The tour file (RON; see scenes/tour.ron).
    #[arg(value_name = "TOUR")]
    pub tour: PathBuf,
    /// The video to write (H.264 MP4, yuv420p).
    #[arg(long, short, value_name = "MP4", required_unless_present = "frames_dir")]
    pub out: Option<PathBuf>,
    /// Write a PNG per frame into this folder instead of a video.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub frames_dir: Option<PathBuf>,
    #[command(flatten)]
    pub population: PopulationArgs,
}

pub fn run(args: RecordArgs) -> Result<()> {
    let tour = Tour::load(&args.tour)?;
    let (width, height, fps) = (tour.output.width, tour.output.height, tour.output.fps);
    let frames = tour.frames();
    let mut options = explorer_options_for_recording(&args.population)?;
    options.panel = false;
    mosaic_app::check_gpu()?;
    let sink: FrameSink = match (&args.frames_dir, &args.out) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let dir = dir.clone();
            Box::new(move |n, rgba| {
                let image = image::RgbaImage::from_raw(width, height, rgba.to_vec()).ok_or("a frame of the wrong size")?;
                let path = dir.join(format!("frame-{n:05}.png"));
                image::DynamicImage::ImageRgba8(image)
                    .to_rgb8()
                    .save(&path)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()).into())
            })
        }
        (None, Some(out)) => {
            check_writable(out)?;
            let encoder = Encoder::start(out, width, height, fps)?;
            let encoder = Arc::new(std::sync::Mutex::new(Some(encoder)));
            let finishing = encoder.clone();
            let sink: FrameSink = Box::new(move |_, rgba| {
                let mut guard = encoder.lock().map_err(|_| "the encoder broke")?;
                let e = guard.as_mut().ok_or("the encoder has finished")?;
                e.stdin.write_all(rgba).map_err(|err| format!("ffmpeg stopped taking frames ({err}); run it by hand to see why").into())
            });
            return render(options, tour, sink, frames, move || {
                let encoder = finishing.lock().expect("render is over").take().expect("started above");
                encoder.finish()
            });
        }
        (None, None) => bail!("say where the frames go: -o/--out VIDEO.mp4 or --frames-dir DIR"),
    };
    render(options, tour, sink, frames, || Ok(()))
}

/// Renders every frame with a progress bar, then runs `finish`.
fn render(
    options: mosaic_app::ExplorerOptions,
    tour: Tour,
    sink: FrameSink,
    frames: u32,
    finish: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let progress = Arc::new(AtomicU32::new(0));
    let bar = ProgressBar::new(frames as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames · {per_sec} · ETA {eta}")
            .expect("valid template"),
    );
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (bar, progress, done) = (bar.clone(), progress.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                bar.set_position(progress.load(Ordering::SeqCst) as u64);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let result = record(options, tour, sink, progress.clone());
    done.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    bar.finish_and_clear();
    result?;
    finish()?;
    eprintln!("rendered {frames} frames");
    Ok(())
}

/// ffmpeg reading raw RGBA frames on stdin and writing H.264 MP4.
struct Encoder {
    child: Child,
    stdin: ChildStdin,
}

impl Encoder {
    fn start(out: &std::path::Path, width: u32, height: u32, fps: u32) -> Result<Encoder> {
        let mut child = Command::new("ffmpeg")
            .args([
                "-loglevel",
                "error",
                "-y",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgba",
                "-s",
                &format!("{width}x{height}"),
                "-r",
                &fps.to_string(),
            ])
            .args(["-i", "-", "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    anyhow::anyhow!("ffmpeg is not on PATH: install it (Debian: apt-get install ffmpeg), or write frames with --frames DIR")
                }
                _ => anyhow::anyhow!("cannot start ffmpeg: {e}"),
            })?;
        let stdin = child.stdin.take().context("ffmpeg's stdin")?;
        Ok(Encoder { child, stdin })
    }

    fn finish(self) -> Result<()> {
        let Encoder { mut child, stdin } = self;
        drop(stdin);
        let status = child.wait().context("waiting for ffmpeg")?;
        if !status.success() {
            bail!("ffmpeg failed ({status}); its message is above");
        }
        Ok(())
    }
}
