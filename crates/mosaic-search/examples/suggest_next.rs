//! The meta-learner on a made-up task: a few "trained" architectures with
//! their scores, a Gaussian process over their encodings, and the next
//! batch it suggests by expected improvement.
//!
//! `cargo run --release -p mosaic-search --example suggest_next`

use mosaic_core::sample::latin_hypercube;
use mosaic_core::{ArchSpec, Encoder, SearchSpace};
use mosaic_search::{SuggestOptions, suggest};

/// A stand-in for training: wider networks at a learning rate near 3e-3 score best.
fn score(spec: &ArchSpec) -> f64 {
    let rate = (spec.learning_rate.log10() + 2.5).powi(2);
    let width = (spec.width as f64).log2() / 8.0;
    (0.9 - 0.2 * rate + 0.1 * width).clamp(0.0, 1.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let encoder = Encoder::new(SearchSpace::from_ron(mosaic_core::space::DEMO_SPACE_RON, "demo")?);
    let history: Vec<(ArchSpec, f64)> = latin_hypercube(&encoder, 16, 0).into_iter().map(|s| (s.clone(), score(&s))).collect();
    let best = history.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    println!("best of 16 random architectures: {best:.3}");
    // Accuracies are shares: the surrogate models them on the logit scale.
    let options = SuggestOptions { q: 4, shares: true, ..SuggestOptions::default() };
    let suggestions = suggest(&encoder, &history, &options)?;
    for s in &suggestions {
        println!(
            "{:?} {}x{} lr {:.1e}: predicted {:.3} ± {:.3}, true {:.3}",
            s.spec.family,
            s.spec.depth,
            s.spec.width,
            s.spec.learning_rate,
            s.mean,
            s.std,
            score(&s.spec)
        );
    }
    assert_eq!(suggestions.len(), 4);
    Ok(())
}
