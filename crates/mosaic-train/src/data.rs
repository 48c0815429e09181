//! Data sets: built-in tasks generated from a seed (no downloads), user data
//! from CSV and MNIST-format IDX files, seeded splits and the probe set.

use std::path::Path;

use mosaic_core::TaskShape;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Labelled examples, features row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub name: String,
    /// `len() * dim` values, one row per example.
    pub features: Vec<f32>,
    pub labels: Vec<u32>,
    pub dim: usize,
    pub classes: usize,
    /// `(channels, height, width)` for image tasks; rows are then C*H*W, channel-major.
    pub image: Option<(usize, usize, usize)>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }

    pub fn shape(&self) -> TaskShape {
        TaskShape { input_dim: self.dim as u32, input_channels: self.image.map_or(1, |(c, _, _)| c as u32), classes: self.classes as u32 }
    }

    /// What a sweep was trained on, in words and a hash of every example:
    /// equal fingerprints mean equal data.
    pub fn fingerprint(&self) -> String {
        // FNV-1a over the feature bits and the labels.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
            }
        };
        self.features.iter().for_each(|v| eat(&v.to_bits().to_le_bytes()));
        self.labels.iter().for_each(|l| eat(&l.to_le_bytes()));
        format!("{}: {} examples x {} features, {} classes, hash {h:016x}", self.name, self.len(), self.dim, self.classes)
    }

    /// The examples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: indices.iter().flat_map(|&i| self.row(i).iter().copied()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            dim: self.dim,
            classes: self.classes,
            image: self.image,
        }
    }
}

/// Train / validation / test parts of a data set, and the probe inputs
/// every network of a sweep is measured on.
#[derive(Clone, Debug)]
pub struct Splits {
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
    /// The first `probe_size` test examples: fixed for the whole sweep.
    pub probe: Dataset,
}

/// Shuffles with `seed` and cuts 70 / 15 / 15; the probe set is the first
/// `probe_size` test examples (or all of them, if fewer).
pub fn split(data: &Dataset, seed: u64, probe_size: usize) -> Splits {
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5917_5917));
    let n_train = data.len() * 70 / 100;
    let n_val = data.len() * 15 / 100;
    let test = data.subset(&order[n_train + n_val..]);
    let probe_idx: Vec<usize> = (0..probe_size.min(test.len())).collect();
    Splits {
        train: data.subset(&order[..n_train]),
        validation: data.subset(&order[n_train..n_train + n_val]),
        probe: test.subset(&probe_idx),
        test,
    }
}

/// The built-in tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BuiltIn {
    /// Two interleaved spirals in the plane (2 classes).
    Spirals,
    /// Two interleaving half-circles (2 classes).
    Moons,
    /// A disc inside a ring (2 classes).
    Circles,
    /// `k` Gaussian blobs with centres on a circle (k classes).
    Blobs(u32),
    /// A 4x4 checkerboard on the unit square (2 classes).
    Checkerboard,
    /// 16x16 grey images of a square, a disc, a cross or a triangle at random
    /// position and size, with noise (4 classes); for the CNN family.
    Shapes,
}

impl BuiltIn {
    pub const ALL: [BuiltIn; 6] =
        [BuiltIn::Spirals, BuiltIn::Moons, BuiltIn::Circles, BuiltIn::Blobs(4), BuiltIn::Checkerboard, BuiltIn::Shapes];

    pub fn name(self) -> String {
        match self {
            BuiltIn::Spirals => "spirals".into(),
            BuiltIn::Moons => "moons".into(),
            BuiltIn::Circles => "circles".into(),
            BuiltIn::Blobs(k) => format!("blobs{k}"),
            BuiltIn::Checkerboard => "checkerboard".into(),
            BuiltIn::Shapes => "shapes".into(),
        }
    }

    /// Parses `spirals`, `moons`, `circles`, `blobs` (4 classes) or `blobsK`, `checkerboard`, `shapes`.
    pub fn parse(name: &str) -> Option<BuiltIn> {
        match name {
            "spirals" => Some(BuiltIn::Spirals),
            "moons" => Some(BuiltIn::Moons),
            "circles" => Some(BuiltIn::Circles),
            "blobs" => Some(BuiltIn::Blobs(4)),
            "checkerboard" => Some(BuiltIn::Checkerboard),
            "shapes" => Some(BuiltIn::Shapes),
            _ => name.strip_prefix("blobs")?.parse().ok().filter(|k| (2..=64).contains(k)).map(BuiltIn::Blobs),
        }
    }

    /// `n` examples with balanced classes; same seed, same data.
    pub fn generate(self, n: usize, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let classes = match self {
            BuiltIn::Blobs(k) => k.max(2) as usize,
            BuiltIn::Shapes => 4,
            _ => 2,
        };
        let mut features = Vec::with_capacity(n * 2);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = (i % classes) as u32;
            labels.push(label);
            match self {
                BuiltIn::Shapes => features.extend(shape_image(label, &mut rng)),
                _ => features.extend(planar_point(self, label, classes, &mut rng)),
            }
        }
        let (dim, image) = match self {
            BuiltIn::Shapes => (SHAPE_SIDE * SHAPE_SIDE, Some((1, SHAPE_SIDE, SHAPE_SIDE))),
            _ => (2, None),
        };
        Dataset { name: self.name(), features, labels, dim, classes, image }
    }
}

fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = rng.random::<f32>().max(f32::MIN_POSITIVE);
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

fn planar_point(kind: BuiltIn, label: u32, classes: usize, rng: &mut ChaCha8Rng) -> [f32; 2] {
    use std::f32::consts::{PI, TAU};
    let noise = |rng: &mut ChaCha8Rng, s: f32| [s * gaussian(rng), s * gaussian(rng)];
    match kind {
        BuiltIn::Spirals => {
            // Radius grows with angle over 1.75 turns; the second arm is the first rotated by pi.
            let t = rng.random::<f32>().sqrt();
            let angle = t * 1.75 * TAU + label as f32 * PI;
            let e = noise(rng, 0.03);
            [t * angle.cos() + e[0], t * angle.sin() + e[1]]
        }
        BuiltIn::Moons => {
            let a = rng.random::<f32>() * PI;
            let e = noise(rng, 0.08);
            if label == 0 { [a.cos() + e[0], a.sin() + e[1]] } else { [1.0 - a.cos() + e[0], 0.5 - a.sin() + e[1]] }
        }
        BuiltIn::Circles => {
            let a = rng.random::<f32>() * TAU;
            let r = if label == 0 { 0.5 } else { 1.0 } + 0.06 * gaussian(rng);
            [r * a.cos(), r * a.sin()]
        }
        BuiltIn::Blobs(_) => {
            let c = label as f32 * TAU / classes as f32;
            let e = noise(rng, 0.35);
            [2.0 * c.cos() + e[0], 2.0 * c.sin() + e[1]]
        }
        BuiltIn::Checkerboard => loop {
            // Rejection keeps the classes balanced: draw until the cell's colour matches.
            let (x, y) = (rng.random::<f32>(), rng.random::<f32>());
            let cell = ((x * 4.0) as u32 + (y * 4.0) as u32) % 2;
            if cell == label {
                break [2.0 * x - 1.0, 2.0 * y - 1.0];
            }
        },
        BuiltIn::Shapes => unreachable!("images are generated by shape_image"),
    }
}

/// Side of the synthetic images.
pub const SHAPE_SIDE: usize = 16;

/// A 16x16 image of shape `label` (0 square, 1 disc, 2 cross, 3 triangle).
fn shape_image(label: u32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let side = SHAPE_SIDE as f32;
    let size = rng.random_range(4.0f32..7.0);
    let cx = rng.random_range(size..side - size);
    let cy = rng.random_range(size..side - size);
    let mut img = Vec::with_capacity(SHAPE_SIDE * SHAPE_SIDE);
    for y in 0..SHAPE_SIDE {
        for x in 0..SHAPE_SIDE {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let inside = match label {
                0 => dx.abs() <= size * 0.8 && dy.abs() <= size * 0.8,
                1 => dx * dx + dy * dy <= size * size,
                2 => (dx.abs() <= size * 0.3 && dy.abs() <= size) || (dy.abs() <= size * 0.3 && dx.abs() <= size),
                _ => dy >= -size && dy <= size && dx.abs() <= (dy + size) * 0.5,
            };
            img.push(if inside { 1.0 } else { 0.0 } + 0.15 * gaussian(rng));
        }
    }
    img
}

/// Most classes a data set may have (labels are 0..k-1).
pub const MAX_CLASSES: usize = 65_536;

/// Problems reading user data, naming the file and where in it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Csv { path: String, line: usize, message: String },
    #[error("{path}: {message}")]
    Idx { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io { path: path.display().to_string(), source })
}

/// Reads a CSV of numeric features and an integer class label. The first
/// line is a header if any of its fields is not a number. `label` names the
/// label column; by default it is the last one. Labels must be 0..k-1.
pub fn load_csv(path: &Path, label: Option<&str>) -> Result<Dataset, DataError> {
    let shown = path.display().to_string();
    let bytes = read(path)?;
    let text = String::from_utf8(bytes).map_err(|e| DataError::Invalid { path: shown.clone(), message: format!("not UTF-8 text: {e}") })?;
    let csv_err = |line: usize, message: String| DataError::Csv { path: shown.clone(), line, message };
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).peekable();
    let Some(&(_, first)) = lines.peek() else {
        return Err(DataError::Invalid { path: shown, message: "the file is empty".into() });
    };
    let first_fields: Vec<&str> = first.split(',').map(str::trim).collect();
    let has_header = first_fields.iter().any(|f| f.parse::<f64>().is_err());
    let columns = first_fields.len();
    let label_col = match (label, has_header) {
        (None, _) => columns - 1,
        (Some(name), true) => first_fields
            .iter()
            .position(|f| *f == name)
            .ok_or_else(|| csv_err(1, format!("no column named `{name}` in the header (columns: {})", first_fields.join(", "))))?,
        (Some(name), false) => name
            .parse::<usize>()
            .ok()
            .filter(|&i| i < columns)
            .ok_or_else(|| csv_err(1, format!("no header: name the label column by index 0..{}, not `{name}`", columns - 1)))?,
    };
    if has_header {
        lines.next();
    }
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for (i, line) in lines {
        let n = i + 1;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != columns {
            return Err(csv_err(n, format!("{} fields, expected {columns}", fields.len())));
        }
        for (j, f) in fields.iter().enumerate() {
            if j == label_col {
                let l = f.parse::<u32>().map_err(|_| csv_err(n, format!("label `{f}` is not a class number 0, 1, 2, …")))?;
                labels.push(l);
            } else {
                let v = f.parse::<f32>().map_err(|_| csv_err(n, format!("column {} value `{f}` is not a number", j + 1)))?;
                if !v.is_finite() {
                    return Err(csv_err(n, format!("column {} value `{f}` is not finite", j + 1)));
                }
                features.push(v);
            }
        }
    }
    finish_user_data(shown, features, labels, columns - 1, None)
}

fn finish_user_data(
    path: String,
    features: Vec<f32>,
    labels: Vec<u32>,
    dim: usize,
    image: Option<(usize, usize, usize)>,
) -> Result<Dataset, DataError> {
    if labels.len() < 2 {
        return Err(DataError::Invalid { path, message: format!("{} examples; need at least 2", labels.len()) });
    }
    if dim == 0 {
        return Err(DataError::Invalid { path, message: "no feature columns: the examples have nothing to learn from".into() });
    }
    let classes = *labels.iter().max().unwrap() as usize + 1;
    if classes > MAX_CLASSES {
        let (i, l) = labels.iter().enumerate().max_by_key(|(_, l)| **l).expect("labels exist");
        return Err(DataError::Invalid {
            path,
            message: format!("label {l} (example {}) implies {classes} classes; at most {MAX_CLASSES} are supported", i + 1),
        });
    }
    if classes < 2 {
        return Err(DataError::Invalid { path, message: "every label is 0: need at least two classes".into() });
    }
    let name = Path::new(&path).file_stem().map_or("data".into(), |s| s.to_string_lossy().into_owned());
    Ok(Dataset { name, features, labels, dim, classes, image })
}

/// Reads MNIST-format IDX files: images (magic 0x00000803, u8, n x rows x
/// cols) scaled to [0, 1], and labels (magic 0x00000801, u8, n).
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let (img_bytes, lbl_bytes) = (read(images)?, read(labels)?);
    let img_path = images.display().to_string();
    let lbl_path = labels.display().to_string();
    let idx_err = |path: &str, message: String| DataError::Idx { path: path.to_string(), message };
    let be = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;

    for (bytes, path) in [(&img_bytes, &img_path), (&lbl_bytes, &lbl_path)] {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(idx_err(path, format!("is gzip-compressed: unpack it first (gunzip -k {path}) and name the unpacked file")));
        }
    }
    if img_bytes.len() < 16 || be(&img_bytes, 0) != 0x0803 {
        return Err(idx_err(&img_path, "not an IDX image file (expected magic 0x00000803, unsigned bytes, 3 dimensions)".into()));
    }
    let (n, rows, cols) = (be(&img_bytes, 4), be(&img_bytes, 8), be(&img_bytes, 12));
    let expected = n.checked_mul(rows).and_then(|v| v.checked_mul(cols)).and_then(|v| v.checked_add(16));
    if expected != Some(img_bytes.len()) {
        // Shorter than the header promises is a cut-off file; longer is something else appended.
        let what = match expected {
            Some(e) if img_bytes.len() > e => format!("{} bytes more than that: not one IDX file?", img_bytes.len() - e),
            _ => "truncated?".to_string(),
        };
        return Err(idx_err(
            &img_path,
            format!("header says {n} images of {rows}x{cols} but the file has {} bytes ({what})", img_bytes.len()),
        ));
    }
    if lbl_bytes.len() < 8 || be(&lbl_bytes, 0) != 0x0801 {
        return Err(idx_err(&lbl_path, "not an IDX label file (expected magic 0x00000801, unsigned bytes, 1 dimension)".into()));
    }
    let n_labels = be(&lbl_bytes, 4);
    if n_labels + 8 != lbl_bytes.len() {
        return Err(idx_err(&lbl_path, format!("header says {n_labels} labels but the file has {} bytes", lbl_bytes.len())));
    }
    if n_labels != n {
        return Err(idx_err(&lbl_path, format!("{n_labels} labels for {n} images in {img_path}")));
    }
    let features = img_bytes[16..].iter().map(|&b| b as f32 / 255.0).collect();
    let labels = lbl_bytes[8..].iter().map(|&b| b as u32).collect();
    finish_user_data(img_path, features, labels, rows * cols, Some((1, rows, cols)))
}
