//! Search-space adaptation: from the runs so far, narrow each numeric knob to
//! where the good runs are and reweight each categorical knob's options
//! toward the good ones, keeping a share of draws from the whole space so
//! nothing is ruled out for good. The result is a RON file a person can read.

use mosaic_core::{ArchSpec, Choice, Encoder, Knob};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::SearchError;

/// A narrowed numeric knob: the good region in scaled units [0, 1] and in the knob's own units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnobRange {
    pub knob: String,
    pub unit: (f64, f64),
    pub values: (f64, f64),
}

/// A categorical knob's options with their sampling weights (summing to 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChoiceWeights {
    pub knob: String,
    pub options: Vec<(String, f64)>,
}

/// A search space reshaped by history; sampling it yields valid specs of the base space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaptedSpace {
    /// The name of the space it narrows.
    pub base: String,
    /// How many finished runs it learnt from, and how many counted as good.
    pub runs: usize,
    pub good: usize,
    /// Share of draws taken from the whole base space.
    pub explore: f64,
    pub numeric: Vec<KnobRange>,
    pub categorical: Vec<ChoiceWeights>,
}

/// Settings of [`AdaptedSpace::learn`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaptOptions {
    /// The best `top` share of runs counts as good (at least 5 runs).
    pub top: f64,
    /// Margin added on each side of the good runs' range, in scaled units.
    pub margin: f64,
    /// The narrowest a range may become, in scaled units.
    pub min_width: f64,
    pub explore: f64,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        AdaptOptions { top: 0.25, margin: 0.1, min_width: 0.2, explore: 0.2 }
    }
}

const MIN_GOOD: usize = 5;

impl AdaptedSpace {
    /// The unchanged space: full ranges and equal weights.
    pub fn uniform(encoder: &Encoder) -> AdaptedSpace {
        let space = encoder.space();
        AdaptedSpace {
            base: space.name.clone(),
            runs: 0,
            good: 0,
            explore: 1.0,
            numeric: Knob::ALL.iter().map(|&k| knob_range(encoder, k, (0.0, 1.0))).collect(),
            categorical: Choice::ALL
                .iter()
                .map(|&c| {
                    let labels = option_labels(encoder, c);
                    let w = 1.0 / labels.len() as f64;
                    ChoiceWeights { knob: c.name().into(), options: labels.into_iter().map(|l| (l, w)).collect() }
                })
                .collect(),
        }
    }

    /// Learns the shape of the good region from finished runs `(spec, value)`, higher values better.
    pub fn learn(encoder: &Encoder, runs: &[(ArchSpec, f64)], options: AdaptOptions) -> Result<AdaptedSpace, SearchError> {
        let mut finished: Vec<&(ArchSpec, f64)> = runs.iter().filter(|(_, v)| v.is_finite()).collect();
        let good = ((finished.len() as f64 * options.top).ceil() as usize).max(MIN_GOOD);
        if finished.len() < 2 * MIN_GOOD {
            return Err(SearchError::NoData(format!(
                "adapting the space needs at least {} finished runs, the store has {}",
                2 * MIN_GOOD,
                finished.len()
            )));
        }
        finished.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top = &finished[..good];
        let encodings: Vec<Vec<f64>> = top.iter().map(|(s, _)| encoder.encode(s)).collect();
        let numeric = Knob::ALL
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                let lo = encodings.iter().map(|e| e[i]).fold(f64::INFINITY, f64::min) - options.margin;
                let hi = encodings.iter().map(|e| e[i]).fold(f64::NEG_INFINITY, f64::max) + options.margin;
                knob_range(encoder, k, widen(lo, hi, options.min_width))
            })
            .collect();
        let categorical = Choice::ALL
            .iter()
            .map(|&c| {
                let labels = option_labels(encoder, c);
                let arity = labels.len() as f64;
                let counts: Vec<usize> =
                    (0..labels.len()).map(|o| top.iter().filter(|(s, _)| c.index(encoder.space(), s) == Some(o)).count()).collect();
                // Laplace-smoothed shares among the good runs: an option no good run used keeps a little weight.
                let options = labels.into_iter().zip(counts).map(|(label, n)| (label, (n as f64 + 1.0) / (good as f64 + arity))).collect();
                ChoiceWeights { knob: c.name().into(), options }
            })
            .collect();
        Ok(AdaptedSpace { base: encoder.space().name.clone(), runs: finished.len(), good, explore: options.explore, numeric, categorical })
    }

    /// `n` specs: with probability `explore` a draw from the whole space, otherwise from the good region.
    pub fn sample(&self, encoder: &Encoder, n: usize, seed: u64) -> Vec<ArchSpec> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                if rng.random::<f64>() < self.explore {
                    let u: Vec<f64> = (0..encoder.design_dims()).map(|_| rng.random::<f64>()).collect();
                    return encoder.from_design(&u);
                }
                let mut v: Vec<f64> = self.numeric.iter().map(|r| r.unit.0 + rng.random::<f64>() * (r.unit.1 - r.unit.0)).collect();
                for c in &self.categorical {
                    let mut draw = rng.random::<f64>();
                    let pick = c.options.iter().position(|(_, w)| {
                        draw -= w;
                        draw < 0.0
                    });
                    let pick = pick.unwrap_or(c.options.len() - 1);
                    v.extend((0..c.options.len()).map(|o| if o == pick { 1.0 } else { 0.0 }));
                }
                encoder.decode(&v)
            })
            .collect()
    }

    pub fn to_ron(&self) -> String {
        let header = "// An adapted search space, written by `mosaic suggest --adapt`.\n\
                      // `numeric`: the good runs' range of each knob (scaled units and values);\n\
                      // `categorical`: sampling weights of each option; `explore`: share of draws\n\
                      // from the whole space.\n";
        header.to_string() + &ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("an adapted space serialises")
    }

    pub fn from_ron(text: &str) -> Result<AdaptedSpace, SearchError> {
        ron::from_str(text).map_err(|e| {
            SearchError::Invalid(format!("malformed adapted space at line {}, column {}: {}", e.position.line, e.position.col, e.code))
        })
    }

    /// Checks that the file fits the encoder's space (knob names, option counts).
    pub fn check(&self, encoder: &Encoder) -> Result<(), SearchError> {
        let names_ok = self.numeric.iter().map(|r| r.knob.as_str()).eq(Knob::ALL.iter().map(|k| k.name()))
            && self.categorical.iter().map(|c| c.knob.as_str()).eq(Choice::ALL.iter().map(|c| c.name()));
        let arity_ok = self.categorical.iter().zip(Choice::ALL).all(|(w, c)| w.options.len() == c.arity(encoder.space()));
        if !names_ok || !arity_ok {
            return Err(SearchError::Invalid(format!(
                "the adapted space (from `{}`) does not fit search space `{}`: adapt it again from this store",
                self.base,
                encoder.space().name
            )));
        }
        Ok(())
    }
}

/// `[lo, hi]` clipped to [0, 1] and widened around its centre to at least `min_width`.
fn widen(lo: f64, hi: f64, min_width: f64) -> (f64, f64) {
    let (lo, hi) = (lo.max(0.0), hi.min(1.0));
    if hi - lo >= min_width {
        return (lo, hi);
    }
    let centre = (0.5 * (lo + hi)).clamp(0.5 * min_width, 1.0 - 0.5 * min_width);
    (centre - 0.5 * min_width, centre + 0.5 * min_width)
}

fn knob_range(encoder: &Encoder, k: Knob, unit: (f64, f64)) -> KnobRange {
    let b = k.bounds(encoder.space());
    let value = |u: f64| if k.is_integer() { b.from_unit(u).round() } else { b.from_unit(u) };
    KnobRange { knob: k.name().into(), unit, values: (value(unit.0), value(unit.1)) }
}

fn option_labels(encoder: &Encoder, c: Choice) -> Vec<String> {
    let s = encoder.space();
    match c {
        Choice::Family => s.families.iter().map(|v| format!("{v:?}")).collect(),
        Choice::Activation => s.activations.iter().map(|v| format!("{v:?}")).collect(),
        Choice::Norm => s.norms.iter().map(|v| format!("{v:?}")).collect(),
        Choice::Skip => s.skip.iter().map(|v| v.to_string()).collect(),
        Choice::Optimizer => s.optimizers.iter().map(|v| format!("{v:?}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use mosaic_core::{Activation, SearchSpace, sample};

    use super::*;

    #[test]
    fn good_runs_narrow_the_ranges_and_weight_their_options() {
        let encoder = Encoder::new(SearchSpace::demo_space());
        // Good runs: small learning rates and Tanh.
        let runs: Vec<(ArchSpec, f64)> = sample::random(&encoder, 200, 4)
            .into_iter()
            .map(|s| {
                let score = -s.learning_rate.log10() + if s.activation == Activation::Tanh { 0.5 } else { 0.0 };
                (s, score)
            })
            .collect();
        let adapted = AdaptedSpace::learn(&encoder, &runs, AdaptOptions::default()).unwrap();
        adapted.check(&encoder).unwrap();
        let lr = adapted.numeric.iter().find(|r| r.knob == "learning_rate").unwrap();
        assert!(lr.unit.1 < 0.7 && lr.values.1 < 1e-2, "{lr:?}");
        let act = adapted.categorical.iter().find(|c| c.knob == "activation").unwrap();
        let tanh = act.options.iter().find(|(l, _)| l == "Tanh").unwrap().1;
        assert!(tanh > 0.35, "{act:?}");
        assert!(act.options.iter().all(|(_, w)| *w > 0.0));
        assert!((act.options.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-12);
        // Samples follow the shape but still explore.
        let drawn = adapted.sample(&encoder, 1000, 1);
        let tanh_share = drawn.iter().filter(|s| s.activation == Activation::Tanh).count() as f64 / 1000.0;
        assert!(tanh_share > 0.3 && tanh_share < 0.6, "{tanh_share}");
        assert!(drawn.iter().all(|s| encoder.space().contains(s)));
        assert!(drawn.iter().any(|s| s.learning_rate > 0.03), "explore draws reach the whole space");
        // The file round-trips.
        assert_eq!(AdaptedSpace::from_ron(&adapted.to_ron()).unwrap(), adapted);
    }

    #[test]
    fn too_few_runs_or_a_foreign_file_are_explained() {
        let encoder = Encoder::new(SearchSpace::demo_space());
        let runs: Vec<(ArchSpec, f64)> = sample::random(&encoder, 6, 0).into_iter().map(|s| (s, 0.5)).collect();
        let e = AdaptedSpace::learn(&encoder, &runs, AdaptOptions::default()).unwrap_err();
        assert!(e.to_string().contains("at least 10 finished runs"), "{e}");
        let mut other = AdaptedSpace::uniform(&encoder);
        other.categorical[1].options.pop();
        assert!(other.check(&encoder).unwrap_err().to_string().contains("adapt it again"));
        assert!(AdaptedSpace::from_ron("AdaptedSpace(").is_err());
    }

    #[test]
    fn ranges_never_collapse() {
        assert_eq!(widen(0.5, 0.5, 0.2), (0.4, 0.6));
        assert_eq!(widen(-0.1, 0.02, 0.2), (0.0, 0.2));
        assert_eq!(widen(0.1, 0.9, 0.2), (0.1, 0.9));
    }
}
