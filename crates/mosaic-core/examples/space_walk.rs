//! A search space, sampled and encoded: what every sweep starts from.
//!
//! `cargo run -p mosaic-core --example space_walk [SPACE.ron]`
//! (default: the space sweeps use for feature data, `scenes/spaces/demo.ron`).

use mosaic_core::sample::latin_hypercube;
use mosaic_core::{Encoder, SearchSpace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let space = match std::env::args().nth(1) {
        Some(path) => SearchSpace::load(std::path::Path::new(&path))?,
        None => SearchSpace::from_ron(mosaic_core::space::DEMO_SPACE_RON, "demo")?,
    };
    let encoder = Encoder::new(space);
    // Eight architectures spread evenly over every knob (a Latin hypercube).
    let specs = latin_hypercube(&encoder, 8, 0);
    println!("space `{}`: {} dimensions per encoding", encoder.space().name, encoder.encode(&specs[0]).len());
    for spec in &specs {
        let code = encoder.encode(spec);
        // Any vector decodes to a valid spec; an encoding decodes to its own spec.
        assert_eq!(&encoder.decode(&code), spec, "encode and decode round-trip");
        println!("{:?} {}x{} {:?} lr {:.1e}", spec.family, spec.depth, spec.width, spec.activation, spec.learning_rate);
    }
    let (a, b) = (&specs[0], &specs[1]);
    println!("distance between the first two: {:.3}", encoder.distance(a, b));
    Ok(())
}
