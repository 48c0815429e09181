//! Fixed-length vector encodings of specs, and the evolutionary operators on them.
//!
//! Layout of an encoding (its length depends only on the space):
//! first one entry per numeric knob, scaled to [0, 1] (log scale where the
//! space says so), then a one-hot block per categorical knob, in the order of
//! [`Knob::ALL`] and [`Choice::ALL`].

use rand::RngExt;

use crate::space::{Bounds, SearchSpace};
use crate::spec::ArchSpec;

/// Numeric knobs, in encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Knob {
    Depth,
    Width,
    Taper,
    Dropout,
    LearningRate,
    BatchSize,
    WeightDecay,
    Epochs,
}

impl Knob {
    pub const ALL: [Knob; 8] =
        [Knob::Depth, Knob::Width, Knob::Taper, Knob::Dropout, Knob::LearningRate, Knob::BatchSize, Knob::WeightDecay, Knob::Epochs];

    pub fn name(self) -> &'static str {
        match self {
            Knob::Depth => "depth",
            Knob::Width => "width",
            Knob::Taper => "taper",
            Knob::Dropout => "dropout",
            Knob::LearningRate => "learning_rate",
            Knob::BatchSize => "batch_size",
            Knob::WeightDecay => "weight_decay",
            Knob::Epochs => "epochs",
        }
    }

    pub fn is_integer(self) -> bool {
        matches!(self, Knob::Depth | Knob::Width | Knob::BatchSize | Knob::Epochs)
    }

    pub fn bounds(self, space: &SearchSpace) -> Bounds {
        match self {
            Knob::Depth => space.depth,
            Knob::Width => space.width,
            Knob::Taper => space.taper,
            Knob::Dropout => space.dropout,
            Knob::LearningRate => space.learning_rate,
            Knob::BatchSize => space.batch_size,
            Knob::WeightDecay => space.weight_decay,
            Knob::Epochs => space.epochs,
        }
    }

    pub fn get(self, spec: &ArchSpec) -> f64 {
        match self {
            Knob::Depth => spec.depth as f64,
            Knob::Width => spec.width as f64,
            Knob::Taper => spec.taper,
            Knob::Dropout => spec.dropout,
            Knob::LearningRate => spec.learning_rate,
            Knob::BatchSize => spec.batch_size as f64,
            Knob::WeightDecay => spec.weight_decay,
            Knob::Epochs => spec.epochs as f64,
        }
    }

    fn set(self, spec: &mut ArchSpec, value: f64) {
        let int = value.round() as u32;
        match self {
            Knob::Depth => spec.depth = int,
            Knob::Width => spec.width = int,
            Knob::Taper => spec.taper = value,
            Knob::Dropout => spec.dropout = value,
            Knob::LearningRate => spec.learning_rate = value,
            Knob::BatchSize => spec.batch_size = int,
            Knob::WeightDecay => spec.weight_decay = value,
            Knob::Epochs => spec.epochs = int,
        }
    }
}

/// Categorical knobs, in encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Choice {
    Family,
    Activation,
    Norm,
    Skip,
    Optimizer,
}

impl Choice {
    pub const ALL: [Choice; 5] = [Choice::Family, Choice::Activation, Choice::Norm, Choice::Skip, Choice::Optimizer];

    pub fn name(self) -> &'static str {
        match self {
            Choice::Family => "family",
            Choice::Activation => "activation",
            Choice::Norm => "norm",
            Choice::Skip => "skip",
            Choice::Optimizer => "optimizer",
        }
    }

    /// Number of options the space offers for this knob.
    pub fn arity(self, space: &SearchSpace) -> usize {
        match self {
            Choice::Family => space.families.len(),
            Choice::Activation => space.activations.len(),
            Choice::Norm => space.norms.len(),
            Choice::Skip => space.skip.len(),
            Choice::Optimizer => space.optimizers.len(),
        }
    }

    /// Index of the spec's option in the space's list, `None` if the space lacks it.
    pub fn index(self, space: &SearchSpace, spec: &ArchSpec) -> Option<usize> {
        match self {
            Choice::Family => space.families.iter().position(|v| *v == spec.family),
            Choice::Activation => space.activations.iter().position(|v| *v == spec.activation),
            Choice::Norm => space.norms.iter().position(|v| *v == spec.norm),
            Choice::Skip => space.skip.iter().position(|v| *v == spec.skip),
            Choice::Optimizer => space.optimizers.iter().position(|v| *v == spec.optimizer),
        }
    }

    fn set(self, space: &SearchSpace, spec: &mut ArchSpec, index: usize) {
        match self {
            Choice::Family => spec.family = space.families[index],
            Choice::Activation => spec.activation = space.activations[index],
            Choice::Norm => spec.norm = space.norms[index],
            Choice::Skip => spec.skip = space.skip[index],
            Choice::Optimizer => spec.optimizer = space.optimizers[index],
        }
    }
}

/// Encodes and decodes the specs of one search space.
#[derive(Clone, Debug)]
pub struct Encoder {
    space: SearchSpace,
}

impl Encoder {
    pub fn new(space: SearchSpace) -> Encoder {
        Encoder { space }
    }

    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    /// Length of every encoding of this space.
    pub fn len(&self) -> usize {
        Knob::ALL.len() + Choice::ALL.iter().map(|c| c.arity(&self.space)).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of independent knobs: the dimension of the unit cube that samplers fill.
    pub fn design_dims(&self) -> usize {
        Knob::ALL.len() + Choice::ALL.len()
    }

    /// The columns of the encoding that belong to each knob: one column per
    /// numeric knob, then one block per categorical knob.
    pub fn knob_blocks(&self) -> Vec<std::ops::Range<usize>> {
        let mut blocks: Vec<std::ops::Range<usize>> = (0..Knob::ALL.len()).map(|i| i..i + 1).collect();
        let mut start = Knob::ALL.len();
        for c in Choice::ALL {
            let end = start + c.arity(&self.space);
            blocks.push(start..end);
            start = end;
        }
        blocks
    }

    /// Names of the encoding's entries, e.g. `learning_rate` or `activation=Gelu`.
    pub fn feature_names(&self) -> Vec<String> {
        let s = &self.space;
        let mut names: Vec<String> = Knob::ALL.iter().map(|k| k.name().to_string()).collect();
        let labelled = |c: Choice, labels: Vec<String>| labels.into_iter().map(move |l| format!("{}={l}", c.name()));
        names.extend(labelled(Choice::Family, s.families.iter().map(|v| format!("{v:?}")).collect()));
        names.extend(labelled(Choice::Activation, s.activations.iter().map(|v| format!("{v:?}")).collect()));
        names.extend(labelled(Choice::Norm, s.norms.iter().map(|v| format!("{v:?}")).collect()));
        names.extend(labelled(Choice::Skip, s.skip.iter().map(|v| v.to_string()).collect()));
        names.extend(labelled(Choice::Optimizer, s.optimizers.iter().map(|v| format!("{v:?}")).collect()));
        names
    }

    /// The spec's encoding. Options the space lacks encode as an all-zero block.
    pub fn encode(&self, spec: &ArchSpec) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(Knob::ALL.iter().map(|k| k.bounds(&self.space).to_unit(k.get(spec))));
        for c in Choice::ALL {
            let start = out.len();
            out.resize(start + c.arity(&self.space), 0.0);
            if let Some(i) = c.index(&self.space, spec) {
                out[start + i] = 1.0;
            }
        }
        out
    }

    /// A valid spec for ANY vector: numbers are clamped into the space (NaN
    /// counts as the lower bound), integers rounded, and each one-hot block
    /// becomes its arg-max (first on ties). Missing trailing entries count as 0.
    pub fn decode(&self, v: &[f64]) -> ArchSpec {
        let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
        let mut spec = self.base_spec();
        for (i, k) in Knob::ALL.iter().enumerate() {
            k.set(&mut spec, self.knob_value(*k, at(i)));
        }
        let mut offset = Knob::ALL.len();
        for c in Choice::ALL {
            let arity = c.arity(&self.space);
            let best =
                (0..arity).map(|j| (j, at(offset + j))).fold((0, f64::NEG_INFINITY), |best, (j, x)| if x > best.1 { (j, x) } else { best });
            c.set(&self.space, &mut spec, best.0);
            offset += arity;
        }
        spec
    }

    /// A spec from a point of the unit design cube (one coordinate per knob,
    /// see [`Encoder::design_dims`]): real knobs scale into their bounds;
    /// integer knobs and categorical options split the axis into equal bins
    /// (equal in log space for log knobs), so a uniform design gives every
    /// value its fair share, the end values included.
    pub fn from_design(&self, u: &[f64]) -> ArchSpec {
        let at = |i: usize| {
            let x = u.get(i).copied().unwrap_or(0.0);
            if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
        };
        let mut spec = self.base_spec();
        for (i, k) in Knob::ALL.iter().enumerate() {
            let value = if k.is_integer() { integer_bin(k.bounds(&self.space), at(i)) } else { self.knob_value(*k, at(i)) };
            k.set(&mut spec, value);
        }
        for (j, c) in Choice::ALL.iter().enumerate() {
            let arity = c.arity(&self.space);
            let x = at(Knob::ALL.len() + j);
            c.set(&self.space, &mut spec, ((x * arity as f64) as usize).min(arity - 1));
        }
        spec
    }

    /// Distance between two specs in [0, 1]: a weighted sum of the RMS
    /// difference of the scaled numeric knobs and the fraction of categorical
    /// knobs that differ (Hamming), weighted by how many knobs of each kind.
    pub fn distance(&self, a: &ArchSpec, b: &ArchSpec) -> f64 {
        let (ea, eb) = (self.encode(a), self.encode(b));
        let n_num = Knob::ALL.len();
        let sq: f64 = ea[..n_num].iter().zip(&eb[..n_num]).map(|(x, y)| (x - y) * (x - y)).sum();
        let rms = (sq / n_num as f64).sqrt();
        let differing = Choice::ALL.iter().filter(|c| c.index(&self.space, a) != c.index(&self.space, b)).count();
        let hamming = differing as f64 / Choice::ALL.len() as f64;
        let w = n_num as f64 / (n_num + Choice::ALL.len()) as f64;
        w * rms + (1.0 - w) * hamming
    }

    /// Each knob changes with probability `rate`: numeric knobs by a Gaussian
    /// step of 0.15 in scaled units, categorical knobs to another option.
    pub fn mutate<R: rand::Rng + ?Sized>(&self, spec: &ArchSpec, rate: f64, rng: &mut R) -> ArchSpec {
        let mut out = spec.clone();
        for k in Knob::ALL {
            if rng.random::<f64>() < rate {
                let bounds = k.bounds(&self.space);
                let step = 0.15 * standard_normal(rng);
                k.set(&mut out, self.knob_value(k, bounds.to_unit(k.get(spec)) + step));
            }
        }
        for c in Choice::ALL {
            let arity = c.arity(&self.space);
            if arity > 1 && rng.random::<f64>() < rate {
                let current = c.index(&self.space, spec).unwrap_or(0);
                let shift = rng.random_range(1..arity);
                c.set(&self.space, &mut out, (current + shift) % arity);
            }
        }
        out
    }

    /// `steps + 1` specs on the straight line between two encodings, each
    /// decoded to a valid spec: `a` first, `b` last.
    pub fn interpolate(&self, a: &ArchSpec, b: &ArchSpec, steps: usize) -> Vec<ArchSpec> {
        let (ea, eb) = (self.encode(a), self.encode(b));
        let steps = steps.max(1);
        (0..=steps)
            .map(|s| {
                let t = s as f64 / steps as f64;
                let v: Vec<f64> = ea.iter().zip(&eb).map(|(x, y)| x + t * (y - x)).collect();
                self.decode(&v)
            })
            .collect()
    }

    /// Uniform crossover: every knob comes from one parent or the other.
    pub fn crossover<R: rand::Rng + ?Sized>(&self, a: &ArchSpec, b: &ArchSpec, rng: &mut R) -> ArchSpec {
        let mut out = a.clone();
        for k in Knob::ALL {
            if rng.random::<bool>() {
                k.set(&mut out, k.get(b));
            }
        }
        for c in Choice::ALL {
            if rng.random::<bool>()
                && let Some(i) = c.index(&self.space, b)
            {
                c.set(&self.space, &mut out, i);
            }
        }
        out
    }

    /// A knob's value for a scaled coordinate, rounded for integer knobs.
    fn knob_value(&self, k: Knob, unit: f64) -> f64 {
        let v = k.bounds(&self.space).from_unit(unit);
        if k.is_integer() { v.round() } else { v }
    }

    /// The lower corner of the space: the starting point that decoding overwrites.
    fn base_spec(&self) -> ArchSpec {
        let s = &self.space;
        ArchSpec {
            family: s.families[0],
            depth: s.depth.min as u32,
            width: s.width.min as u32,
            taper: s.taper.min,
            activation: s.activations[0],
            norm: s.norms[0],
            dropout: s.dropout.min,
            skip: s.skip[0],
            optimizer: s.optimizers[0],
            learning_rate: s.learning_rate.min,
            batch_size: s.batch_size.min as u32,
            weight_decay: s.weight_decay.min,
            epochs: s.epochs.min as u32,
        }
    }
}

/// The integer whose bin holds `u`: [min, max+1) cut into max-min+1 equal
/// parts (in log space for log knobs).
fn integer_bin(b: Bounds, u: f64) -> f64 {
    let value = if b.log { (b.min.ln() + u * ((b.max + 1.0).ln() - b.min.ln())).exp() } else { b.min + u * (b.max - b.min + 1.0) };
    value.floor().clamp(b.min, b.max)
}

/// A standard normal draw (Box–Muller), so we need no extra distribution crate.
fn standard_normal<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
