//! Search spaces of the user's own named parameters, as Optuna declares them:
//! floats (linear or log), integers (linear or log, with a step),
//! categorical choices and booleans, each optionally active only while a
//! categorical or boolean parameter before it takes given values.
//!
//! A [`ParamSpace`] is RON for the command line and JSON for Python (same
//! fields). [`Params`] (name to [`Value`]) is one point of it; [`ParamSpace::check`]
//! names the problem with a point that does not belong. For the meta-learner a
//! point has an encoding: every numeric parameter scaled to [0, 1] (its
//! column), then one one-hot block per categorical parameter; an inactive
//! parameter encodes as 0.5 (numeric) or all zeros (categorical).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::space::Bounds;

/// A parameter's value. Untagged: `0.1`, `3`, `"relu"`, `true` in JSON and RON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Value {
    /// The value as a number, where it is one (booleans are 0 and 1).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            Value::Str(_) => None,
        }
    }

    /// The value for a label: floats to four significant digits (`0.02776`,
    /// `3.162e-5`), anything else as [`fmt::Display`] writes it.
    pub fn short(&self) -> String {
        match *self {
            Value::Float(x) if x != 0.0 && x.is_finite() && !(1e-3..1e4).contains(&x.abs()) => format!("{x:.3e}"),
            Value::Float(x) if x.is_finite() => {
                let digits = (3 - x.abs().max(f64::MIN_POSITIVE).log10().floor() as i32).clamp(0, 6) as usize;
                let text = format!("{x:.digits$}");
                if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
            }
            _ => self.to_string(),
        }
    }

    /// Equality as a user means it: `1` and `1.0` are the same choice.
    fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => self.as_f64() == other.as_f64(),
            _ => self == other,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// What values a parameter takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kind {
    /// A real number in `[low, high]`, spread evenly in log space when `log`.
    Float {
        low: f64,
        high: f64,
        #[serde(default)]
        log: bool,
    },
    /// A whole number in `[low, high]` on the grid `low + k * step`.
    Int {
        low: i64,
        high: i64,
        #[serde(default)]
        log: bool,
        #[serde(default = "one")]
        step: i64,
    },
    /// One of the listed values.
    Categorical {
        choices: Vec<Value>,
    },
    Bool,
}

fn one() -> i64 {
    1
}

/// A parameter that counts only while `param` (categorical or boolean, declared
/// earlier) takes one of `values`; e.g. `momentum` only when `optimizer` is `"sgd"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub param: String,
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// May be absent from a point even while active: a parameter that only
    /// some trials of a dynamic space (Optuna's define-by-run) asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// Named parameters, in the order they are declared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamSpace {
    pub params: Vec<Param>,
}

/// One point of a space: parameter name to value (inactive parameters absent).
pub type Params = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("invalid space: parameter `{name}`: {reason}")]
    Space { name: String, reason: String },
    #[error("malformed space ({format}): {message}")]
    Parse { format: &'static str, message: String },
    #[error("unknown parameter `{name}`; the space has {known}")]
    Unknown { name: String, known: String },
    #[error("parameter `{name}` is missing")]
    Missing { name: String },
    #[error("parameter `{name}` = {value} is outside the space: {reason}")]
    Outside { name: String, value: String, reason: String },
    #[error("parameter `{name}` is given but inactive: it counts only when {condition}")]
    Inactive { name: String, condition: String },
}

impl Kind {
    fn is_numeric(&self) -> bool {
        matches!(self, Kind::Float { .. } | Kind::Int { .. })
    }

    /// The choices of a categorical or boolean parameter.
    fn choices(&self) -> Vec<Value> {
        match self {
            Kind::Categorical { choices } => choices.clone(),
            Kind::Bool => vec![Value::Bool(false), Value::Bool(true)],
            _ => Vec::new(),
        }
    }

    /// The range of a numeric parameter, as the architecture knobs' bounds are kept.
    fn range(&self) -> Option<Bounds> {
        match *self {
            Kind::Float { low, high, log } => Some(Bounds { min: low, max: high, log }),
            Kind::Int { low, high, log, .. } => Some(Bounds { min: low as f64, max: high as f64, log }),
            _ => None,
        }
    }

    fn validate(&self) -> Result<(), String> {
        match self {
            Kind::Float { low, high, log } => {
                if !low.is_finite() || !high.is_finite() {
                    return Err(format!("bounds must be finite numbers, got [{low}, {high}]"));
                }
                if low > high {
                    return Err(format!("low {low} is greater than high {high}"));
                }
                if *log && *low <= 0.0 {
                    return Err(format!("a log scale needs low > 0, got {low}"));
                }
            }
            Kind::Int { low, high, log, step } => {
                if low > high {
                    return Err(format!("low {low} is greater than high {high}"));
                }
                if *step < 1 {
                    return Err(format!("step must be at least 1, got {step}"));
                }
                if *log && (*low < 1 || *step != 1) {
                    return Err(format!("a log scale needs low >= 1 and step 1, got low {low}, step {step}"));
                }
            }
            Kind::Categorical { choices } => {
                if choices.is_empty() {
                    return Err("needs at least one choice".into());
                }
                if let Some((i, dup)) = choices.iter().enumerate().find(|(i, c)| choices[..*i].iter().any(|d| d.same(c))) {
                    return Err(format!("choice {dup} is listed twice (entry {})", i + 1));
                }
                if choices.iter().any(|c| matches!(c, Value::Float(f) if !f.is_finite())) {
                    return Err("choices must be finite numbers, strings or booleans".into());
                }
            }
            Kind::Bool => {}
        }
        Ok(())
    }

    /// Maps a numeric value to [0, 1] (a range of one value: 0).
    fn to_unit(&self, v: f64) -> f64 {
        self.range().map_or(0.0, |b| b.to_unit(v))
    }

    /// Maps [0, 1] to a valid numeric value (integers on their step grid);
    /// a missing coordinate (NaN) takes the middle.
    fn at_unit(&self, u: f64) -> Value {
        let u = if u.is_nan() { 0.5 } else { u };
        let Some(bounds) = self.range() else { return Value::Float(u.clamp(0.0, 1.0)) };
        let x = bounds.from_unit(u);
        match *self {
            Kind::Int { low, high, step, .. } => {
                let k = ((x - low as f64) / step as f64).round() as i64;
                let top = (high - low) / step;
                Value::Int(low + k.clamp(0, top) * step)
            }
            _ => Value::Float(x),
        }
    }

    /// Why `value` is not a value of this kind, if it is not.
    fn outside(&self, value: &Value) -> Option<String> {
        match self {
            Kind::Float { low, high, .. } => match value.as_f64() {
                Some(v) if !matches!(value, Value::Bool(_)) => {
                    let slack = 1e-12 * (high - low).abs().max(1.0);
                    (v.is_nan() || v < low - slack || v > high + slack).then(|| format!("needs a number in [{low}, {high}]"))
                }
                _ => Some(format!("needs a number in [{low}, {high}]")),
            },
            Kind::Int { low, high, step, .. } => {
                let whole = match value {
                    Value::Int(i) => Some(*i),
                    Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(*f as i64),
                    _ => None,
                };
                match whole {
                    Some(i) if i >= *low && i <= *high && (i - low) % step == 0 => None,
                    _ if *step == 1 => Some(format!("needs a whole number in [{low}, {high}]")),
                    _ => Some(format!("needs a whole number in [{low}, {high}] on the step {step} from {low}")),
                }
            }
            Kind::Categorical { choices } => (!choices.iter().any(|c| c.same(value))).then(|| {
                let list: Vec<String> = choices.iter().map(Value::to_string).collect();
                format!("needs one of {}", list.join(", "))
            }),
            Kind::Bool => (!matches!(value, Value::Bool(_))).then(|| "needs true or false".to_string()),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.values.iter().map(Value::to_string).collect();
        write!(f, "`{}` is {}", self.param, list.join(" or "))
    }
}

impl ParamSpace {
    /// Parses and validates a space written in RON.
    pub fn from_ron(text: &str) -> Result<ParamSpace, ParamError> {
        let space: ParamSpace = ron::from_str(text).map_err(|e| ParamError::Parse {
            format: "RON",
            message: format!("line {}, column {}: {}", e.position.line, e.position.col, e.code),
        })?;
        space.validate()?;
        Ok(space)
    }

    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default()).expect("a parameter space always serialises")
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn validate(&self) -> Result<(), ParamError> {
        if self.params.is_empty() {
            return Err(ParamError::Space { name: String::new(), reason: "a space needs at least one parameter".into() });
        }
        for (i, p) in self.params.iter().enumerate() {
            let bad = |reason: String| ParamError::Space { name: p.name.clone(), reason };
            if p.name.trim().is_empty() {
                return Err(bad(format!("parameter {} has no name", i + 1)));
            }
            if self.params[..i].iter().any(|q| q.name == p.name) {
                return Err(bad("is declared twice".into()));
            }
            p.kind.validate().map_err(bad)?;
            if let Some(c) = &p.when {
                let parent = self.params[..i]
                    .iter()
                    .find(|q| q.name == c.param)
                    .ok_or_else(|| bad(format!("its condition names `{}`, which is not declared before it", c.param)))?;
                if parent.kind.is_numeric() {
                    return Err(bad(format!(
                        "its condition names `{}`, which is numeric (conditions need a categorical or bool)",
                        c.param
                    )));
                }
                if c.values.is_empty() {
                    return Err(bad("its condition lists no values".into()));
                }
                if let Some(v) = c.values.iter().find(|v| parent.kind.outside(v).is_some()) {
                    return Err(bad(format!("its condition's value {v} is not a choice of `{}`", c.param)));
                }
            }
        }
        Ok(())
    }

    /// Whether `p` counts in a point whose earlier values are `params`.
    fn active(&self, p: &Param, params: &Params) -> bool {
        match &p.when {
            None => true,
            Some(c) => {
                let parent = self.param(&c.param).expect("validated: conditions name declared parameters");
                self.active(parent, params) && params.get(&c.param).is_some_and(|v| c.values.iter().any(|w| w.same(v)))
            }
        }
    }

    /// Checks a point: every name known, every active parameter given and in
    /// range, no inactive one given. The error names the first problem.
    pub fn check(&self, params: &Params) -> Result<(), ParamError> {
        for name in params.keys() {
            if self.param(name).is_none() {
                let known: Vec<String> = self.params.iter().map(|p| format!("`{}`", p.name)).collect();
                return Err(ParamError::Unknown { name: name.clone(), known: known.join(", ") });
            }
        }
        for p in &self.params {
            let given = params.get(&p.name);
            match (self.active(p, params), given) {
                (true, None) if !p.optional => return Err(ParamError::Missing { name: p.name.clone() }),
                (true, None) => {}
                (true, Some(v)) => {
                    if let Some(reason) = p.kind.outside(v) {
                        return Err(ParamError::Outside { name: p.name.clone(), value: v.to_string(), reason });
                    }
                }
                (false, Some(_)) => {
                    let condition = p.when.as_ref().map(|c| c.to_string()).unwrap_or_default();
                    return Err(ParamError::Inactive { name: p.name.clone(), condition });
                }
                (false, None) => {}
            }
        }
        Ok(())
    }

    /// The numeric parameters, in the order of their encoding columns.
    fn numeric(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.kind.is_numeric())
    }

    fn categorical(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.kind.is_numeric())
    }

    /// Length of an encoding.
    pub fn encoded_len(&self) -> usize {
        self.numeric().count() + self.categorical().map(|p| p.kind.choices().len()).sum::<usize>()
    }

    /// How many encoding columns are numeric (the first ones).
    pub fn numeric_len(&self) -> usize {
        self.numeric().count()
    }

    /// The one-hot blocks of the categorical parameters, after the numeric columns.
    pub fn blocks(&self) -> Vec<std::ops::Range<usize>> {
        let mut start = self.numeric_len();
        self.categorical()
            .map(|p| {
                let len = p.kind.choices().len();
                start += len;
                start - len..start
            })
            .collect()
    }

    /// A name per encoding column (`lr`, `act=relu`, …).
    pub fn feature_names(&self) -> Vec<String> {
        let numeric = self.numeric().map(|p| p.name.clone());
        let categorical = self.categorical().flat_map(|p| p.kind.choices().into_iter().map(move |c| format!("{}={c}", p.name)));
        numeric.chain(categorical).collect()
    }

    /// The encoding of a point (which [`ParamSpace::check`] accepts).
    pub fn encode(&self, params: &Params) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.encoded_len());
        for p in self.numeric() {
            out.push(params.get(&p.name).and_then(Value::as_f64).map_or(0.5, |v| p.kind.to_unit(v)));
        }
        for p in self.categorical() {
            let choices = p.kind.choices();
            let given = params.get(&p.name);
            out.extend(choices.iter().map(|c| if given.is_some_and(|v| v.same(c)) { 1.0 } else { 0.0 }));
        }
        out
    }

    /// The valid point nearest an encoding: numeric columns from [0, 1],
    /// each block's largest entry chosen; inactive parameters left out.
    pub fn decode(&self, v: &[f64]) -> Params {
        let mut unit = BTreeMap::new();
        for (i, p) in self.numeric().enumerate() {
            unit.insert(p.name.as_str(), p.kind.at_unit(v.get(i).copied().unwrap_or(0.5)));
        }
        for (p, block) in self.categorical().zip(self.blocks()) {
            let choices = p.kind.choices();
            let best =
                block.clone().max_by(|&a, &b| v.get(a).unwrap_or(&0.0).total_cmp(v.get(b).unwrap_or(&0.0))).map_or(0, |i| i - block.start);
            unit.insert(p.name.as_str(), choices[best.min(choices.len() - 1)].clone());
        }
        self.keep_active(unit)
    }

    /// The point at a design location `u` in [0, 1)^n, one coordinate per
    /// parameter (a categorical one picks choice `floor(u * count)`): how
    /// random and Latin-hypercube draws become points.
    pub fn from_design(&self, u: &[f64]) -> Params {
        let mut values = BTreeMap::new();
        for (p, &x) in self.params.iter().zip(u) {
            let value = if p.kind.is_numeric() {
                p.kind.at_unit(x)
            } else {
                let choices = p.kind.choices();
                choices[((x.clamp(0.0, 1.0) * choices.len() as f64) as usize).min(choices.len() - 1)].clone()
            };
            values.insert(p.name.as_str(), value);
        }
        self.keep_active(values)
    }

    fn keep_active(&self, values: BTreeMap<&str, Value>) -> Params {
        let mut params = Params::new();
        for p in &self.params {
            if self.active(p, &params)
                && let Some(v) = values.get(p.name.as_str())
            {
                params.insert(p.name.clone(), v.clone());
            }
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> ParamSpace {
        ParamSpace::from_ron(
            r#"(params: [
                (name: "lr", kind: Float(low: 1e-5, high: 0.1, log: true)),
                (name: "layers", kind: Int(low: 1, high: 9, step: 2)),
                (name: "optimizer", kind: Categorical(choices: ["sgd", "adam"])),
                (name: "momentum", kind: Float(low: 0.0, high: 0.99), when: Some((param: "optimizer", values: ["sgd"]))),
                (name: "batch_norm", kind: Bool),
            ])"#,
        )
        .unwrap()
    }

    fn point(pairs: &[(&str, Value)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn a_space_reads_from_ron_and_json_alike() {
        let s = space();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ParamSpace>(&json).unwrap(), s);
        assert_eq!(ParamSpace::from_ron(&s.to_ron()).unwrap(), s);
        assert_eq!(s.encoded_len(), 3 + 2 + 2);
        assert_eq!(s.blocks(), vec![3..5, 5..7]);
        assert_eq!(s.feature_names()[3], "optimizer=\"sgd\"");
    }

    #[test]
    fn bad_spaces_name_the_parameter_and_the_problem() {
        let bad = |ron: &str| ParamSpace::from_ron(ron).unwrap_err().to_string();
        assert!(
            bad(r#"(params: [(name: "lr", kind: Float(low: 0.0, high: 1.0, log: true))])"#).contains("`lr`: a log scale needs low > 0")
        );
        assert!(bad(r#"(params: [(name: "a", kind: Bool), (name: "a", kind: Bool)])"#).contains("declared twice"));
        assert!(
            bad(r#"(params: [(name: "m", kind: Bool, when: Some((param: "opt", values: ["sgd"])))])"#).contains("not declared before it")
        );
        assert!(bad(r#"(params: [(name: "c", kind: Categorical(choices: [1, 1.0]))])"#).contains("listed twice"));
        assert!(bad(r#"(params: [(name: "n", kind: Int(low: 3, high: 1))])"#).contains("greater than"));
        assert!(bad("(params: [)").contains("malformed space (RON): line 1"));
    }

    #[test]
    fn check_names_unknown_missing_outside_and_inactive_parameters() {
        let s = space();
        let good = point(&[
            ("lr", Value::Float(1e-3)),
            ("layers", Value::Int(5)),
            ("optimizer", Value::Str("sgd".into())),
            ("momentum", Value::Float(0.9)),
            ("batch_norm", Value::Bool(true)),
        ]);
        s.check(&good).unwrap();
        let with = |k: &str, v: Value| {
            let mut p = good.clone();
            p.insert(k.into(), v);
            p
        };
        assert!(matches!(s.check(&with("dropout", Value::Float(0.1))), Err(ParamError::Unknown { .. })));
        assert!(matches!(s.check(&with("lr", Value::Float(0.5))), Err(ParamError::Outside { .. })));
        let off_step = s.check(&with("layers", Value::Int(4))).unwrap_err().to_string();
        assert!(off_step.contains("on the step 2 from 1"), "{off_step}");
        assert!(matches!(s.check(&with("optimizer", Value::Str("rmsprop".into()))), Err(ParamError::Outside { .. })));
        // momentum counts only for sgd.
        let adam = with("optimizer", Value::Str("adam".into()));
        assert!(matches!(s.check(&adam), Err(ParamError::Inactive { .. })));
        let mut adam_ok = adam.clone();
        adam_ok.remove("momentum");
        s.check(&adam_ok).unwrap();
        let mut missing = good.clone();
        missing.remove("lr");
        assert!(matches!(s.check(&missing), Err(ParamError::Missing { .. })));
        // Integers given as whole floats are accepted, as Python users write them.
        s.check(&with("layers", Value::Float(3.0))).unwrap();
        // An optional parameter (a dynamic space's) may be left out.
        let mut dynamic = s.clone();
        dynamic.params[0].optional = true;
        dynamic.check(&missing).unwrap();
        assert!(dynamic.to_ron().contains("optional: true"), "written only where set");
    }

    #[test]
    fn design_points_and_decoded_encodings_are_always_valid() {
        let s = space();
        let mut x = 0.0137_f64;
        for _ in 0..500 {
            let u: Vec<f64> = (0..5)
                .map(|_| {
                    x = (x * 997.0 + 0.31).fract();
                    x
                })
                .collect();
            let p = s.from_design(&u);
            s.check(&p).unwrap();
            let e = s.encode(&p);
            assert_eq!(s.decode(&e), p, "encode then decode is the identity on valid points");
            let noisy: Vec<f64> = e.iter().zip(&u).map(|(a, b)| a + 0.3 * (b - 0.5)).collect();
            s.check(&s.decode(&noisy)).unwrap();
        }
    }

    #[test]
    fn labels_show_four_significant_digits() {
        let short = |x: f64| Value::Float(x).short();
        assert_eq!(short(0.027760388881424892), "0.02776");
        assert_eq!(short(3.0), "3");
        assert_eq!(short(123.456), "123.5");
        assert_eq!(short(3.1623e-5), "3.162e-5");
        assert_eq!(short(0.0), "0");
        assert_eq!(Value::Str("relu".into()).short(), "\"relu\"");
    }

    #[test]
    fn log_parameters_spread_evenly_in_log_space() {
        let s = space();
        let lr = &s.param("lr").unwrap().kind;
        assert!((lr.to_unit(1e-3) - 0.5).abs() < 1e-12);
        match lr.at_unit(0.5) {
            Value::Float(v) => assert!((v - 1e-3).abs() < 1e-15),
            other => panic!("{other:?}"),
        }
    }
}
