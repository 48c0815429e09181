//! The compute service driven with no window: a tiny sweep trained in the
//! background, then the questions a view asks, answered over the protocol's
//! channels.
//!
//! `cargo run --release -p mosaic-compute --example headless_service [STORE_DIR]`

use std::time::{Duration, Instant};

use mosaic_compute::live::{self, Layout, Population};
use mosaic_core::SearchSpace;
use mosaic_protocol::{Answer, SceneUpdate, TrainingState, ViewRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store =
        std::env::args().nth(1).map_or_else(|| std::env::temp_dir().join(format!("mosaic-headless-{}", std::process::id())), Into::into);
    // The example removes its store when done: it never takes over a folder that holds anything.
    if store.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!("{} is not empty: name a new folder", store.display()).into());
    }
    // Six small networks (1-2 layers of 8-24 units, 4-6 epochs) on 300 two-moons examples.
    let space = mosaic_core::space::DEMO_SPACE_RON
        .replace("depth: (min: 1, max: 6)", "depth: (min: 1, max: 2)")
        .replace("width: (min: 8, max: 256, log: true)", "width: (min: 8, max: 24, log: true)")
        .replace("epochs: (min: 5, max: 40)", "epochs: (min: 4, max: 6)");
    let population = Population {
        store: store.clone(),
        space: Some(SearchSpace::from_ron(&space, "tiny")?),
        sweep: None,
        new_sweep: false,
        dataset: "moons".into(),
        examples: Some(300),
        n: 6,
        seed: 1,
        layout: Layout::Design,
    };
    let opened = live::open(population, true)?;
    println!("{} · {} points", opened.scene.title, opened.scene.len());
    let started = Instant::now();
    let next = |what: &str| -> Result<SceneUpdate, String> {
        opened.feed.recv_timeout(Duration::from_secs(300)).map_err(|e| format!("waiting for {what}: {e}"))
    };

    // Updates arrive as the sweep trains; the trainer says when it is idle.
    loop {
        match next("training")? {
            SceneUpdate::SetValue { index, value, .. } => println!("network {index} trained: {:.1}%", 100.0 * value),
            SceneUpdate::Training { state: TrainingState::Idle { left: 0 }, .. } => break,
            _ => {}
        }
    }
    println!("trained in {:.1} s", started.elapsed().as_secs_f64());

    // One network's details, then its landscape over its training path (the run is replayed to record it).
    opened.requests.send(ViewRequest::Inspect { index: 0 })?;
    let mut stage = String::new();
    loop {
        match next("the landscape")? {
            SceneUpdate::Details { details, .. } => println!("{}", details.title),
            // Progress comes often: say when a new stage starts.
            SceneUpdate::LandscapeProgress { text, .. } if !text.starts_with(&stage) || stage.is_empty() => {
                stage = text.split(':').next().unwrap_or_default().to_string();
                println!("  {text}");
            }
            SceneUpdate::Landscape { answer: Answer::Ready(l), .. } => {
                let (_, _, lowest) = l.minimum().expect("finite losses");
                println!("landscape {}x{} ({}), lowest loss {lowest:.3}, {} path points", l.x.len(), l.y.len(), l.caption, l.path.len());
                break;
            }
            SceneUpdate::Landscape { answer, .. } => return Err(format!("no landscape: {answer:?}").into()),
            _ => {}
        }
    }

    // Clusters of the points as the sphere shows them.
    opened.requests.send(ViewRequest::Clusters { positions: opened.scene.positions.clone() })?;
    loop {
        if let SceneUpdate::Clusters(answer) = next("clusters")? {
            println!("clusters: {answer:?}");
            break;
        }
    }
    drop(opened);
    std::fs::remove_dir_all(&store)?;
    Ok(())
}
