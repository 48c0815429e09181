//! `mosaic bench train`: the trainer's epoch time on the reference task, and
//! the task's data written out so a PyTorch script can time the same model on
//! the same examples (`benches/train_vs_pytorch.py` runs both).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::Args;
use mosaic_core::{ArchSpec, Family};
use mosaic_train::data::{BuiltIn, Dataset, Splits, split};
use mosaic_train::train::{Checkpoints, TrainConfig, train};
use mosaic_train::{CpuBackend, cpu_device};

#[derive(Args, Debug)]
pub struct BenchTrainArgs {
    /// Folder for the data and the timings (rust.json).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    #[arg(long, default_value_t = 20)]
    pub epochs: u32,
    /// spirals: the reference MLP on 2,000 two-spiral points (train.csv,
    /// val.csv); images: the image space's reference MLPs and CNNs on a
    /// Fashion-MNIST subset (train_x.npy, train_y.npy, val_x.npy, val_y.npy).
    #[arg(long, value_enum, default_value_t = BenchTask::Spirals)]
    pub task: BenchTask,
    /// With --task images: examples of Fashion-MNIST (split as a sweep splits them).
    #[arg(long, default_value_t = 6000)]
    pub examples: u32,
    /// With --task images: Fashion-MNIST's folder [default: Debian's].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchTask {
    Spirals,
    Images,
}

fn write_csv(data: &Dataset, path: &std::path::Path) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?);
    for i in 0..data.len() {
        let row = data.row(i);
        writeln!(f, "{},{},{}", row[0], row[1], data.labels[i])?;
    }
    Ok(())
}

fn write_npy(data: &Dataset, dir: &std::path::Path, part: &str) -> Result<()> {
    use mosaic_manifold::npy::shaped_bytes;
    let features: Vec<f64> = data.features.iter().map(|&v| v as f64).collect();
    let labels: Vec<f64> = data.labels.iter().map(|&l| l as f64).collect();
    for (name, bytes) in [
        (format!("{part}_x.npy"), shaped_bytes(&[data.len(), data.dim], &features)),
        (format!("{part}_y.npy"), shaped_bytes(&[data.len()], &labels)),
    ] {
        std::fs::write(dir.join(&name), bytes).with_context(|| format!("cannot write {name} in {}", dir.display()))?;
    }
    Ok(())
}

/// Trains `spec` once, single-threaded, timing each epoch.
fn time_epochs(spec: &ArchSpec, splits: &Splits) -> Result<serde_json::Value> {
    let config = TrainConfig { seed: 1, checkpoints: Checkpoints::None, out_dir: None };
    let run = train::<CpuBackend>(spec, splits, &config, &AtomicBool::new(false), &cpu_device(), &mut |_| {})?;
    // JSON has no NaN: a missing or broken number is null.
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
    Ok(serde_json::json!({
        "epoch_seconds": run.outcome.epochs.iter().map(|e| e.seconds).collect::<Vec<_>>(),
        "final_val_accuracy": finite(run.outcome.val_accuracy()),
        "final_train_loss": finite(run.outcome.last().map(|e| e.train_loss)),
    }))
}

pub fn bench_train(args: BenchTrainArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out_dir).with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let json = match args.task {
        BenchTask::Spirals => {
            // 2,000 training points, as the benchmark promises, and 500 to validate on each epoch.
            let train_set = BuiltIn::Spirals.generate(2000, 1);
            let validation = BuiltIn::Spirals.generate(500, 2);
            write_csv(&train_set, &args.out_dir.join("train.csv"))?;
            write_csv(&validation, &args.out_dir.join("val.csv"))?;
            let splits = Splits { train: train_set, test: validation.clone(), probe: validation.subset(&[]), validation };
            time_epochs(&mosaic_train::reference_spec(args.epochs), &splits)?
        }
        BenchTask::Images => {
            let spec = mosaic_compute::sweeps::dataset_spec("fashion-mnist", args.data_dir.as_deref())?;
            let data = mosaic_compute::sweeps::load_dataset(&spec, Some(args.examples as usize), 1)?;
            let splits = split(&data, 1, 0);
            write_npy(&splits.train, &args.out_dir, "train")?;
            write_npy(&splits.validation, &args.out_dir, "val")?;
            let mut networks = Vec::new();
            for (name, spec) in mosaic_train::image_reference_specs(args.epochs) {
                eprintln!("training {name}");
                let mut timing = time_epochs(&spec, &splits)?;
                timing["name"] = name.into();
                timing["spec"] = serde_json::to_value(&spec)?;
                timing["hidden_widths"] = spec.hidden_widths().into();
                networks.push(timing);
            }
            serde_json::json!({ "networks": networks })
        }
    };
    let text = json.to_string();
    std::fs::write(args.out_dir.join("rust.json"), &text)?;
    println!("{text}");
    Ok(())
}

#[derive(Args, Debug)]
pub struct BenchExplorerArgs {
    /// Sampled architectures on the sphere (ignored with --store).
    #[arg(long, default_value_t = 10_000)]
    pub n: u32,
    /// How points are drawn: the explorer's one mesh, or a baseline (a mesh per point).
    #[arg(long, value_enum, default_value_t = DrawingArg::OneMesh)]
    pub drawing: DrawingArg,
    /// Frames timed (after 10 warm-up frames).
    #[arg(long, default_value_t = 100)]
    pub frames: u32,
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// Show this store's demo sweep instead of sampled architectures…
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// …and train it in the background while frames are timed.
    #[arg(long, requires = "store")]
    pub train: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DrawingArg {
    OneMesh,
    SpherePerPoint,
    QuadPerPoint,
}

/// Prints one JSON line of frame statistics, so a script can run each case
/// in its own process (and so read each case's own peak memory).
pub fn bench_explorer(args: BenchExplorerArgs) -> Result<()> {
    use mosaic_app::bench::{PointDrawing, frame_bench};
    mosaic_app::check_gpu()?;
    let (scene, feed, case) = match &args.store {
        Some(store) => {
            let population = mosaic_compute::live::Population {
                store: store.clone(),
                space: None,
                sweep: None,
                new_sweep: false,
                dataset: "spirals".into(),
                examples: None,
                n: 200,
                seed: 0,
                layout: mosaic_compute::live::Layout::Design,
            };
            let opened = mosaic_compute::live::open(population, args.train)?;
            let case = if args.train { "store, sweep training" } else { "store, idle" };
            (opened.scene, Some(opened.feed), case)
        }
        None => {
            let scene = mosaic_compute::design::design_sphere(mosaic_core::SearchSpace::default_space(), args.n as usize, 0)?;
            (scene, None, "sampled design")
        }
    };
    let n = scene.len();
    let drawing = match args.drawing {
        DrawingArg::OneMesh => PointDrawing::OneMesh,
        DrawingArg::SpherePerPoint => PointDrawing::SpherePerPoint,
        DrawingArg::QuadPerPoint => PointDrawing::QuadPerPoint,
    };
    let options = mosaic_app::ExplorerOptions {
        scene,
        mapping: mosaic_app::scene::ColorMapping::default(),
        panel: false,
        feed,
        requests: None,
        select: None,
        path_to: None,
        suggest: None,
        session: mosaic_app::session::SessionFile { base: Default::default(), path: None },
        errors: Vec::new(),
    };
    let stats = frame_bench(options, drawing, args.width, args.height, 10, args.frames)?;
    println!(
        "{{\"case\": \"{case}\", \"points\": {n}, \"drawing\": \"{:?}\", \"width\": {}, \"height\": {}, \"frames\": {}, \
         \"mean_ms\": {:.2}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"peak_rss_mib\": {:.0}}}",
        args.drawing, args.width, args.height, stats.frames, stats.mean_ms, stats.p50_ms, stats.p99_ms, stats.peak_rss_mib
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct BenchCnnLandscapeArgs {
    /// Folder `benches/landscape_vs_pytorch.py bench --model cnn` wrote:
    /// model.safetensors and dirs.safetensors (a checkpoint's names),
    /// images.npy (n x C*H*W), labels.npy. Gets surface.npy and rust.json.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// `C,H,W` of the images.
    #[arg(long, value_name = "C,H,W")]
    pub image: String,
    /// Hidden conv blocks (ReLU, no norm).
    #[arg(long)]
    pub depth: u32,
    /// Channels of every block.
    #[arg(long)]
    pub width: u32,
    /// Points per axis of the surface over -1..1.
    #[arg(long, default_value_t = 51)]
    pub grid: usize,
}

/// Times the CPU engine's surface of a CNN given as files, for the
/// side-by-side run against PyTorch's loop.
pub fn bench_cnn_landscape(args: BenchCnnLandscapeArgs) -> Result<()> {
    use mosaic_landscape::{Axis, Net, directions, surface_cpu};
    use mosaic_train::checkpoint::read_safetensors;
    let dims: Vec<usize> = args.image.split(',').map(|v| v.trim().parse()).collect::<Result<_, _>>().context("--image is C,H,W")?;
    let [c, h, w] = dims[..] else { anyhow::bail!("--image is C,H,W, e.g. 1,16,16") };
    let spec = ArchSpec { family: Family::Cnn, depth: args.depth, width: args.width, epochs: 1, ..mosaic_train::reference_spec(1) };
    let read = |name: &str| read_safetensors(&args.dir.join(name));
    let net = Net::from_checkpoint(&spec, read("model.safetensors")?)?;
    let (d1, d2) = directions::from_file(read("dirs.safetensors")?, &net)?;
    let array = |name: &str| mosaic_manifold::npy::read(&args.dir.join(name)).with_context(|| format!("{name} in {}", args.dir.display()));
    let (images, labels) = (array("images.npy")?, array("labels.npy")?);
    let data = Dataset {
        name: "bench".into(),
        features: images.data.iter().map(|&v| v as f32).collect(),
        labels: labels.data.iter().map(|&l| l as u32).collect(),
        dim: c * h * w,
        classes: net.classes(),
        image: Some((c, h, w)),
        held_out: 0,
    };
    let axis = Axis { min: -1.0, max: 1.0, num: args.grid };
    let started = std::time::Instant::now();
    let surface = surface_cpu(&net, &d1, d2.as_ref(), axis, Some(axis), &data, &|_, _| {}, &AtomicBool::new(false))?;
    let seconds = started.elapsed().as_secs_f64();
    let npy = mosaic_manifold::npy::shaped_bytes(&[args.grid, args.grid], &surface.loss);
    std::fs::write(args.dir.join("surface.npy"), npy).with_context(|| format!("cannot write {}", args.dir.display()))?;
    let json = format!("{{\"surface_seconds\": {seconds}}}");
    std::fs::write(args.dir.join("rust.json"), &json)?;
    println!("{json}");
    Ok(())
}
