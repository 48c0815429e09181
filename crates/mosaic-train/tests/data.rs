//! Data sets: generated deterministically, split reproducibly, and user files
//! read with errors that name the file, line or field.

use std::io::Write;

use mosaic_train::data::{BuiltIn, DataError, Named, load_csv, load_idx, load_named, split};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-data-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn built_in_tasks_are_seeded_balanced_and_finite() {
    for kind in BuiltIn::ALL {
        let a = kind.generate(400, 3);
        assert_eq!(a, kind.generate(400, 3), "{} is not deterministic", a.name);
        assert_ne!(a.features, kind.generate(400, 4).features, "{} ignores the seed", a.name);
        assert_eq!(a.len(), 400);
        assert_eq!(a.features.len(), 400 * a.dim);
        assert!(a.features.iter().all(|x| x.is_finite()));
        for c in 0..a.classes as u32 {
            assert_eq!(a.labels.iter().filter(|l| **l == c).count(), 400 / a.classes, "{} class {c}", a.name);
        }
        assert_eq!(BuiltIn::parse(&a.name), Some(kind));
    }
    assert_eq!(BuiltIn::parse("blobs7"), Some(BuiltIn::Blobs(7)));
    assert_eq!(BuiltIn::parse("mnist"), None);
}

#[test]
fn spiral_arms_are_mirror_images() {
    // Arm 1 is arm 0 rotated by pi: the class means sit on opposite sides of the origin.
    let d = BuiltIn::Spirals.generate(2000, 0);
    let mean = |c: u32| {
        let rows: Vec<&[f32]> = (0..d.len()).filter(|&i| d.labels[i] == c).map(|i| d.row(i)).collect();
        [rows.iter().map(|r| r[0]).sum::<f32>() / rows.len() as f32, rows.iter().map(|r| r[1]).sum::<f32>() / rows.len() as f32]
    };
    let (m0, m1) = (mean(0), mean(1));
    assert!((m0[0] + m1[0]).abs() < 0.05 && (m0[1] + m1[1]).abs() < 0.05, "{m0:?} {m1:?}");
}

#[test]
fn splits_partition_the_data_and_fix_the_probe_set() {
    let data = BuiltIn::Moons.generate(1000, 1);
    let s = split(&data, 9, 100);
    assert_eq!((s.train.len(), s.validation.len(), s.test.len(), s.probe.len()), (700, 150, 150, 100));
    assert_eq!(s.probe.features[..], s.test.features[..100 * 2]);
    let again = split(&data, 9, 100);
    assert_eq!(again.train, s.train);
    assert_ne!(split(&data, 10, 100).train, s.train);
    // Every example lands in exactly one part.
    let mut all: Vec<[u32; 2]> = [&s.train, &s.validation, &s.test]
        .iter()
        .flat_map(|d| (0..d.len()).map(|i| [d.row(i)[0].to_bits(), d.row(i)[1].to_bits()]))
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1000);
}

#[test]
fn csv_with_header_and_named_label() {
    let dir = scratch("csv");
    let path = dir.join("iris.csv");
    std::fs::write(&path, "a,b,species\n1.0,2.0,0\n3,4,1\n\n5,6,2\n").unwrap();
    let d = load_csv(&path, Some("species")).unwrap();
    assert_eq!((d.len(), d.dim, d.classes), (3, 2, 3));
    assert_eq!(d.row(2), &[5.0, 6.0]);
    assert_eq!(d.name, "iris");
    let first = dir.join("first.csv");
    std::fs::write(&first, "label,x\n1,0.5\n0,0.25\n").unwrap();
    let d = load_csv(&first, Some("label")).unwrap();
    assert_eq!(d.labels, vec![1, 0]);
    assert_eq!(d.row(1), &[0.25]);
}

#[test]
fn malformed_csv_names_file_line_and_field() {
    let dir = scratch("badcsv");
    let path = dir.join("bad.csv");
    let cases = [
        ("x,y,label\n1,2,0\n3,oops,1\n", "bad.csv:3", "`oops` is not a number"),
        ("x,y,label\n1,2,0\n3,4\n", "bad.csv:3", "2 fields, expected 3"),
        ("x,y,label\n1,2,0\n3,4,cat\n", "bad.csv:3", "label `cat`"),
        ("x,y,label\n1,2,0\n3,inf,1\n", "bad.csv:3", "not finite"),
        ("x,y,label\n1,2,0\n", "bad.csv", "1 examples"),
        ("", "bad.csv", "empty"),
    ];
    for (text, place, what) in cases {
        std::fs::write(&path, text).unwrap();
        let err = load_csv(&path, None).unwrap_err().to_string();
        assert!(err.contains(place) && err.contains(what), "{text:?}: {err}");
    }
    std::fs::write(&path, "label\n0\n1\n").unwrap();
    let err = load_csv(&path, None).unwrap_err().to_string();
    assert!(err.contains("no feature columns"), "{err}");
    std::fs::write(&path, "x,label\n1,0\n2,4000000000\n").unwrap();
    let err = load_csv(&path, None).unwrap_err().to_string();
    assert!(err.contains("label 4000000000 (example 2)") && err.contains("at most 65536"), "{err}");
    std::fs::write(&path, "x,y,label\n1,2,0\n3,4,1\n").unwrap();
    let err = load_csv(&path, Some("class")).unwrap_err().to_string();
    assert!(err.contains("no column named `class`") && err.contains("x, y, label"), "{err}");
    assert!(matches!(load_csv(&dir.join("none.csv"), None), Err(DataError::Io { .. })));
}

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for v in [n, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend((0..n * rows * cols).map(|i| (i % 256) as u8));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend(labels);
    b
}

#[test]
fn idx_files_load_as_images() {
    let dir = scratch("idx");
    let (img, lbl) = (dir.join("img.idx"), dir.join("lbl.idx"));
    std::fs::write(&img, idx_images(3, 2, 2)).unwrap();
    std::fs::write(&lbl, idx_labels(&[0, 2, 1])).unwrap();
    let d = load_idx(&img, &lbl).unwrap();
    assert_eq!((d.len(), d.dim, d.classes, d.image), (3, 4, 3, Some((1, 2, 2))));
    assert_eq!(d.row(1), &[4.0 / 255.0, 5.0 / 255.0, 6.0 / 255.0, 7.0 / 255.0]);
}

#[test]
fn malformed_idx_files_say_what_is_wrong() {
    let dir = scratch("badidx");
    let (img, lbl) = (dir.join("img.idx"), dir.join("lbl.idx"));
    std::fs::write(&lbl, idx_labels(&[0, 1, 1])).unwrap();

    let mut truncated = idx_images(3, 2, 2);
    truncated.truncate(20);
    std::fs::write(&img, &truncated).unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("img.idx") && err.contains("truncated"), "{err}");

    // Issue 28, problem 9: extra bytes are not called truncation, and gzip is named.
    let mut longer = idx_images(3, 2, 2);
    longer.extend([1, 2, 3]);
    std::fs::write(&img, &longer).unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("3 bytes more than that") && !err.contains("truncated"), "{err}");
    // A damaged or cut-off .gz says so (issue 24: gzip is read, not refused).
    std::fs::write(&img, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("img.idx") && err.contains("gzip") && err.contains("damaged or cut off"), "{err}");
    let whole = gzip(&idx_images(3, 2, 2));
    std::fs::write(&img, &whole[..whole.len() / 2]).unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("damaged or cut off"), "{err}");

    std::fs::write(&img, b"PNG not idx at all").unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("img.idx") && err.contains("0x00000803"), "{err}");

    std::fs::write(&img, idx_images(2, 2, 2)).unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("lbl.idx") && err.contains("3 labels for 2 images"), "{err}");

    std::fs::write(&lbl, idx_images(2, 2, 2)).unwrap();
    let err = load_idx(&img, &lbl).unwrap_err().to_string();
    assert!(err.contains("lbl.idx") && err.contains("0x00000801"), "{err}");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Images whose pixel (0, 0) is the label's value; labels cycle through `classes`.
fn labelled_images(n: u32, classes: u32) -> (Vec<u8>, Vec<u8>) {
    let mut images = vec![0, 0, 8, 3];
    for v in [n, 2, 2] {
        images.extend(v.to_be_bytes());
    }
    let labels: Vec<u8> = (0..n).map(|i| (i % classes) as u8).collect();
    for l in &labels {
        images.extend([*l, 9, 9, 9]);
    }
    (images, idx_labels(&labels))
}

#[test]
fn gzipped_idx_files_read_as_the_plain_ones() {
    let dir = scratch("gzidx");
    let (img, lbl) = (dir.join("img.idx"), dir.join("lbl.idx"));
    std::fs::write(&img, idx_images(3, 2, 2)).unwrap();
    std::fs::write(&lbl, idx_labels(&[0, 2, 1])).unwrap();
    let plain = load_idx(&img, &lbl).unwrap();
    let (img_gz, lbl_gz) = (dir.join("img.idx.gz"), dir.join("lbl.idx.gz"));
    std::fs::write(&img_gz, gzip(&idx_images(3, 2, 2))).unwrap();
    std::fs::write(&lbl_gz, gzip(&idx_labels(&[0, 2, 1]))).unwrap();
    let unpacked = load_idx(&img_gz, &lbl_gz).unwrap();
    assert_eq!((unpacked.features, unpacked.labels, unpacked.image), (plain.features, plain.labels, plain.image));
}

#[test]
fn the_mnist_family_loads_its_four_files_with_the_official_test_split() {
    let dir = scratch("named");
    let (train_img, train_lbl) = labelled_images(60, 3);
    let (test_img, test_lbl) = labelled_images(12, 3);
    // Compressed and plain files mix, as a user may have unpacked some.
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gzip(&train_img)).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), &train_lbl).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte.gz"), gzip(&test_img)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), gzip(&test_lbl)).unwrap();
    let data = load_named(Named::Kmnist, Some(&dir)).unwrap();
    assert_eq!((data.name.as_str(), data.len(), data.held_out, data.classes, data.image), ("kmnist", 72, 12, 3, Some((1, 2, 2))));
    assert!(data.fingerprint().contains("12 held out for testing"), "{}", data.fingerprint());

    // The test part is exactly the t10k files; validation comes from the training files.
    let s = split(&data, 3, 5);
    assert_eq!((s.train.len(), s.validation.len(), s.test.len(), s.probe.len()), (49, 11, 12, 5));
    assert_eq!(s.test.features, data.features[60 * 4..]);

    // A stratified subset keeps the class shares and the official test part's share.
    let sub = data.sample(36, 1).unwrap();
    assert_eq!((sub.len(), sub.held_out), (36, 6));
    for c in 0..3 {
        assert_eq!(sub.labels.iter().filter(|&&l| l == c).count(), 12, "class {c}");
        assert_eq!(sub.labels[30..].iter().filter(|&&l| l == c).count(), 2, "class {c} in the test part");
    }
    // Every example is still its own image (pixel (0, 0) is its label).
    assert!((0..sub.len()).all(|i| sub.row(i)[0] == sub.labels[i] as f32 / 255.0));
    assert_eq!(sub, data.sample(36, 1).unwrap(), "same seed, same subset");
    assert_ne!(sub.features, data.sample(36, 2).unwrap().features);
    assert_eq!(data.sample(72, 1).unwrap(), data);
    let err = data.sample(100, 1).unwrap_err();
    assert!(err.contains("asked for 100 examples") && err.contains("has 72") && err.contains("--examples 72"), "{err}");

    // A missing file names the folder, the file and how to get the set.
    std::fs::remove_file(dir.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let err = load_named(Named::FashionMnist, Some(&dir)).unwrap_err().to_string();
    assert!(
        err.contains("t10k-images-idx3-ubyte")
            && err.contains(&dir.display().to_string())
            && err.contains("apt install dataset-fashion-mnist"),
        "{err}"
    );
    assert_eq!(Named::parse("fashion-mnist"), Some(Named::FashionMnist));
    assert_eq!(Named::FashionMnist.default_dir(), std::path::Path::new("/usr/share/datasets/fashion-mnist"));
}

#[test]
fn subsets_of_generated_and_csv_data_are_stratified() {
    let data = BuiltIn::Blobs(4).generate(400, 2);
    let sub = data.sample(100, 5).unwrap();
    assert_eq!((sub.len(), sub.held_out), (100, 0));
    for c in 0..4 {
        assert_eq!(sub.labels.iter().filter(|&&l| l == c).count(), 25);
    }
    let err = data.sample(5, 5).unwrap_err();
    assert!(err.contains("cannot hold") && err.contains("4 classes"), "{err}");
}

#[test]
fn one_label_everywhere_is_refused_whatever_the_label() {
    // Issue 28, problem 5: all-7 labels trained an 8-class task to 100 %.
    let dir = scratch("onelabel");
    let path = dir.join("sevens.csv");
    std::fs::write(&path, "x,label\n1,7\n2,7\n3,7\n").unwrap();
    let err = load_csv(&path, None).unwrap_err().to_string();
    assert!(err.contains("every label is 7") && err.contains("at least two classes"), "{err}");
}
