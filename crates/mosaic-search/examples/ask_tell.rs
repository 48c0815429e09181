//! Ask/tell on a space of your own parameters: a study minimises a
//! 10-parameter function (8 numbers, a categorical, a bool), first from a
//! Latin hypercube, then by the Gaussian process. It then shows how long an
//! ask takes with 200 finished trials (the `neuromosaic.Study` call from Python).
//!
//! `cargo run --release -p mosaic-search --example ask_tell [TRIALS]`

use std::time::Instant;

use mosaic_core::params::{ParamSpace, Params, Value};
use mosaic_search::{Direction, Study, StudyOptions};

const SPACE: &str = r#"(params: [
    (name: "x0", kind: Float(low: 0.0, high: 1.0)), (name: "x1", kind: Float(low: 0.0, high: 1.0)),
    (name: "x2", kind: Float(low: 0.0, high: 1.0)), (name: "x3", kind: Float(low: 0.0, high: 1.0)),
    (name: "x4", kind: Float(low: 0.0, high: 1.0)), (name: "x5", kind: Float(low: 0.0, high: 1.0)),
    (name: "lr", kind: Float(low: 1e-5, high: 1.0, log: true)),
    (name: "width", kind: Int(low: 8, high: 512, log: true)),
    (name: "act", kind: Categorical(choices: ["relu", "tanh", "gelu"])),
    (name: "bn", kind: Bool),
])"#;

/// Smallest (0) at every x = 0.3, lr = 1e-3, width = 64, gelu, bn on.
fn objective(p: &Params) -> f64 {
    let num = |k: &str| p[k].as_f64().expect("numeric");
    let xs: f64 = (0..6).map(|i| (num(&format!("x{i}")) - 0.3).powi(2)).sum();
    let act = match &p["act"] {
        Value::Str(s) if s == "gelu" => 0.0,
        _ => 0.5,
    };
    xs + 0.1 * (num("lr").log10() + 3.0).powi(2)
        + 0.1 * (num("width").log2() - 6.0).powi(2)
        + act
        + if p["bn"] == Value::Bool(true) { 0.0 } else { 0.3 }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let trials: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(200);
    let space = ParamSpace::from_ron(SPACE)?;
    let mut study = Study::new(space, StudyOptions { direction: Direction::Minimize, seed: 1, ..Default::default() })?;
    let started = Instant::now();
    let mut slowest = 0.0_f64;
    let mut latest = Vec::new();
    for k in 0..trials {
        let asked = Instant::now();
        let trial = study.ask(1)?.remove(0);
        let seconds = asked.elapsed().as_secs_f64();
        slowest = slowest.max(seconds);
        if k + 10 >= trials {
            latest.push(seconds);
        }
        let value = objective(&trial.params);
        study.tell(trial.number, Some(value))?;
        if (k + 1) % 50 == 0 || k + 1 == trials {
            let best = study.best().expect("told trials");
            println!("after {:>3} trials: best {:.4} (trial {})", k + 1, best.value.unwrap_or(f64::NAN), best.number);
        }
    }
    latest.sort_by(f64::total_cmp);
    let best = study.best().expect("told trials");
    println!("best parameters: {:?}", best.params);
    println!(
        "{trials} trials in {:.1} s; an ask near the end: median {:.1} ms, slowest of all {:.0} ms",
        started.elapsed().as_secs_f64(),
        1e3 * latest[latest.len() / 2],
        1e3 * slowest
    );
    Ok(())
}
