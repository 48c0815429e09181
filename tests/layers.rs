//! The layer rule of ARCHITECTURE.md, checked against every crate's
//! Cargo.toml: a crate depends only on crates of lower layers, or on the
//! same-layer crates the table names.

use std::path::Path;

/// Each crate's layer and the crates of its own layer it may use (the
/// table in ARCHITECTURE.md).
const LAYERS: &[(&str, u32, &[&str])] = &[
    ("mosaic-core", 0, &[]),
    ("mosaic-protocol", 0, &["mosaic-core"]),
    ("mosaic-store", 1, &[]),
    ("mosaic-train", 2, &[]),
    ("mosaic-manifold", 2, &[]),
    ("mosaic-search", 2, &[]),
    ("mosaic-landscape", 2, &["mosaic-train", "mosaic-manifold"]),
    ("mosaic-compute", 3, &[]),
    ("mosaic-app", 4, &[]),
    // The Python bindings sit beside the view: anything below, never Bevy.
    ("mosaic-py", 4, &[]),
];

fn layer_of(name: &str) -> (u32, &'static [&'static str]) {
    LAYERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, l, same)| (*l, *same))
        .unwrap_or_else(|| panic!("crate {name} has no layer: add it to ARCHITECTURE.md's table and to LAYERS in tests/layers.rs"))
}

/// The workspace crates named under `[dependencies]` (not dev- or build-dependencies).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && line.starts_with("mosaic-") {
            out.push(line.split(['.', ' ', '=']).next().unwrap_or_default().to_string());
        }
    }
    out
}

#[test]
fn every_crate_depends_only_on_lower_layers_or_the_same_layer_crates_the_table_allows() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut checked = 0;
    let mut broken = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let name = manifest.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        let (layer, same) = layer_of(&name);
        for dep in dependencies(&text) {
            let (dep_layer, _) = layer_of(&dep);
            if dep_layer > layer || (dep_layer == layer && !same.contains(&dep.as_str())) {
                broken.push(format!("{name} (layer {layer}) -> {dep} (layer {dep_layer})"));
            }
        }
        checked += 1;
    }
    assert_eq!(checked, LAYERS.len(), "a crate in LAYERS is missing from crates/, or one was added");
    assert!(broken.is_empty(), "edges the layer rule forbids: {broken:?}");
}

#[test]
fn no_crate_below_the_view_links_bevy() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    for (name, layer, _) in LAYERS.iter().filter(|(_, layer, _)| *layer < 4) {
        let text = std::fs::read_to_string(crates.join(name).join("Cargo.toml")).unwrap();
        assert!(!text.lines().any(|l| l.trim_start().starts_with("bevy")), "{name} (layer {layer}) depends on Bevy");
    }
}

#[test]
fn the_view_speaks_the_protocol_and_never_links_training_the_store_or_the_service() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mosaic-app/Cargo.toml")).unwrap();
    let deps = dependencies(&manifest);
    for forbidden in ["mosaic-train", "mosaic-store", "mosaic-compute"] {
        assert!(!deps.iter().any(|d| d == forbidden), "mosaic-app depends on {forbidden}: it must receive SceneUpdates instead");
    }
    assert!(deps.iter().any(|d| d == "mosaic-protocol"), "mosaic-app speaks the protocol");
}
