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
    /// The last `held_out` examples are the data set's official test set
    /// (Fashion-MNIST's `t10k` files); 0: none, and [`split`] cuts its own.
    pub held_out: usize,
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
        // Data without an official test set keeps the fingerprints it always had.
        let held_out = if self.held_out > 0 { format!(" ({} held out for testing)", self.held_out) } else { String::new() };
        format!("{}: {} examples x {} features, {} classes{held_out}, hash {h:016x}", self.name, self.len(), self.dim, self.classes)
    }

    /// The examples at `indices`, in that order (no official test part).
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: indices.iter().flat_map(|&i| self.row(i).iter().copied()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            dim: self.dim,
            classes: self.classes,
            image: self.image,
            held_out: 0,
        }
    }

    /// `n` examples drawn with `seed`, each class in the share it has here;
    /// an official test part gives its share of `n` and stays at the end.
    /// All of them when `n` is the whole set; more is an error.
    pub fn sample(&self, n: usize, seed: u64) -> Result<Dataset, String> {
        if n > self.len() {
            return Err(format!("asked for {n} examples but `{}` has {}: pass --examples {} or fewer", self.name, self.len(), self.len()));
        }
        if n == self.len() {
            return Ok(self.clone());
        }
        if n < 2 * self.classes {
            return Err(format!(
                "{n} examples cannot hold `{}`'s {} classes: pass --examples {} or more",
                self.name,
                self.classes,
                2 * self.classes
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5a3b_1e5a);
        let boundary = self.len() - self.held_out;
        // The test part's share, rounded, and never empty when there is one.
        let n_test = if self.held_out == 0 { 0 } else { (n * self.held_out).div_ceil(self.len()).clamp(self.classes.min(n / 2), n / 2) };
        let mut picked = stratified(&self.labels, 0..boundary, n - n_test, &mut rng);
        picked.extend(stratified(&self.labels, boundary..self.len(), n_test, &mut rng));
        Ok(Dataset { held_out: n_test, ..self.subset(&picked) })
    }
}

/// `m` of the examples in `range`, each class's count in proportion to its
/// count there (largest remainders), chosen at random within the class and
/// returned in their original order.
fn stratified(labels: &[u32], range: std::ops::Range<usize>, m: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let total = range.len();
    if m == 0 || total == 0 {
        return Vec::new();
    }
    let mut by_class: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for i in range {
        by_class.entry(labels[i]).or_default().push(i);
    }
    let mut quotas: Vec<(u32, usize, usize)> =
        by_class.iter().map(|(&c, members)| (c, members.len() * m / total, members.len() * m % total)).collect();
    let short = m - quotas.iter().map(|q| q.1).sum::<usize>();
    // Largest remainders first; ties to the smaller class label.
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_by_key(|&k| (std::cmp::Reverse(quotas[k].2), quotas[k].0));
    for &k in order.iter().take(short) {
        quotas[k].1 += 1;
    }
    let mut picked = Vec::with_capacity(m);
    for (class, quota, _) in quotas {
        let members = by_class.get_mut(&class).expect("class seen");
        members.shuffle(rng);
        picked.extend_from_slice(&members[..quota]);
    }
    picked.sort_unstable();
    picked
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
/// `probe_size` test examples (or all of them, if fewer). A data set with an
/// official test part tests on exactly that part and cuts validation from
/// the rest in the same 70 : 15 proportion.
pub fn split(data: &Dataset, seed: u64, probe_size: usize) -> Splits {
    let pool = data.len() - data.held_out;
    let mut order: Vec<usize> = (0..pool).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5917_5917));
    let (n_train, n_val) = if data.held_out > 0 { (pool * 70 / 85, pool - pool * 70 / 85) } else { (pool * 70 / 100, pool * 15 / 100) };
    if data.held_out > 0 {
        order.extend(pool..data.len());
    }
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
        Dataset { name: self.name(), features, labels, dim, classes, image, held_out: 0 }
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
    // One label everywhere (all 0, or all 7) is no classification task.
    if labels.iter().all(|&l| l == labels[0]) {
        return Err(DataError::Invalid { path, message: format!("every label is {}: need at least two classes", labels[0]) });
    }
    let name = Path::new(&path).file_stem().map_or("data".into(), |s| s.to_string_lossy().into_owned());
    Ok(Dataset { name, features, labels, dim, classes, image, held_out: 0 })
}

/// The bytes of a file, unpacked if it is gzip-compressed (as the MNIST
/// family's files are distributed).
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read(path)?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut unpacked = Vec::with_capacity(bytes.len() * 4);
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut unpacked).map_err(|e| DataError::Idx {
        path: path.display().to_string(),
        message: format!("a gzip file that does not unpack ({e}): it is damaged or cut off; fetch it again"),
    })?;
    Ok(unpacked)
}

/// Images and labels of one IDX pair, checked against each other.
struct IdxPair {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
}

fn read_idx_pair(images: &Path, labels: &Path) -> Result<IdxPair, DataError> {
    let (mut img_bytes, mut lbl_bytes) = (read_maybe_gz(images)?, read_maybe_gz(labels)?);
    let img_path = images.display().to_string();
    let lbl_path = labels.display().to_string();
    let idx_err = |path: &str, message: String| DataError::Idx { path: path.to_string(), message };
    let be = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;

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
    // Drop the headers in place: a second copy of 47 MB of pixels is not needed.
    img_bytes.drain(..16);
    lbl_bytes.drain(..8);
    Ok(IdxPair { pixels: img_bytes, labels: lbl_bytes, rows, cols })
}

fn scaled(pixels: &[u8]) -> impl Iterator<Item = f32> + '_ {
    pixels.iter().map(|&b| b as f32 / 255.0)
}

/// Reads MNIST-format IDX files, plain or gzip-compressed: images (magic
/// 0x00000803, u8, n x rows x cols) scaled to [0, 1], and labels (magic
/// 0x00000801, u8, n).
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let pair = read_idx_pair(images, labels)?;
    let features = scaled(&pair.pixels).collect();
    let labels = pair.labels.iter().map(|&b| b as u32).collect();
    finish_user_data(images.display().to_string(), features, labels, pair.rows * pair.cols, Some((1, pair.rows, pair.cols)))
}

/// The image sets of the MNIST family, read from their four standard files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    FashionMnist,
    Mnist,
    Kmnist,
}

impl Named {
    pub const ALL: [Named; 3] = [Named::FashionMnist, Named::Mnist, Named::Kmnist];

    pub fn name(self) -> &'static str {
        match self {
            Named::FashionMnist => "fashion-mnist",
            Named::Mnist => "mnist",
            Named::Kmnist => "kmnist",
        }
    }

    pub fn parse(name: &str) -> Option<Named> {
        Named::ALL.into_iter().find(|n| n.name() == name)
    }

    /// Where the files are when no folder is named: Debian's
    /// `dataset-fashion-mnist` package installs Fashion-MNIST there.
    pub fn default_dir(self) -> std::path::PathBuf {
        Path::new("/usr/share/datasets").join(self.name())
    }

    fn how_to_get(self) -> &'static str {
        match self {
            Named::FashionMnist => "install Debian's package (sudo apt install dataset-fashion-mnist) or pass --data-dir DIR",
            Named::Mnist | Named::Kmnist => {
                "download its four IDX files (train-images-idx3-ubyte.gz and the rest) into a folder and pass --data-dir DIR"
            }
        }
    }
}

/// One of the MNIST family from `dir` (default: [`Named::default_dir`]):
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
/// and `t10k-labels-idx1-ubyte`, each plain or `.gz`. The training files
/// come first and the `t10k` ones are its official test part (`held_out`).
pub fn load_named(set: Named, dir: Option<&Path>) -> Result<Dataset, DataError> {
    let dir = dir.map_or_else(|| set.default_dir(), Path::to_path_buf);
    let find = |stem: &str| -> Result<std::path::PathBuf, DataError> {
        [stem.to_string(), format!("{stem}.gz")].iter().map(|f| dir.join(f)).find(|p| p.is_file()).ok_or_else(|| DataError::Invalid {
            path: dir.display().to_string(),
            message: format!("no {stem} or {stem}.gz for {}: {}", set.name(), set.how_to_get()),
        })
    };
    let train = read_idx_pair(&find("train-images-idx3-ubyte")?, &find("train-labels-idx1-ubyte")?)?;
    let test_images = find("t10k-images-idx3-ubyte")?;
    let test = read_idx_pair(&test_images, &find("t10k-labels-idx1-ubyte")?)?;
    if (test.rows, test.cols) != (train.rows, train.cols) {
        return Err(DataError::Invalid {
            path: test_images.display().to_string(),
            message: format!("{}x{} test images but {}x{} training images", test.rows, test.cols, train.rows, train.cols),
        });
    }
    let features = scaled(&train.pixels).chain(scaled(&test.pixels)).collect();
    let labels = train.labels.iter().chain(&test.labels).map(|&b| b as u32).collect();
    let data = finish_user_data(dir.display().to_string(), features, labels, train.rows * train.cols, Some((1, train.rows, train.cols)))?;
    Ok(Dataset { name: set.name().to_string(), held_out: test.labels.len(), ..data })
}
