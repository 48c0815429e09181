//! The names of a run's files beside the database, in one place.

use std::path::{Path, PathBuf};

/// A run's folder, `runs/<id>/` in a store, and the names of the files in it:
///
/// | file | written by |
/// |---|---|
/// | `activations.safetensors` | training: the probe activations (embeddings read them) |
/// | `final.safetensors` | training with `--checkpoints final`: the trained weights |
/// | `checkpoint-NNNN.safetensors` | training with `--checkpoints all`: the weights after epoch N (from 1, four digits) |
/// | `trajectory/checkpoint-NNNN.safetensors` | a replay of the run, for its training path |
/// | `landscape.npy` + `landscape.json` | `mosaic landscape`: a loss surface over random directions, and its sidecar |
/// | `trajectory.npy` + `trajectory.json` | `mosaic landscape --trajectory`: the surface over the path's plane |
///
/// Only names: nothing is created or read until asked ([`RunFiles::create`], [`RunFiles::epochs`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunFiles {
    dir: PathBuf,
}

impl RunFiles {
    /// The folder of all runs' folders, inside a store.
    pub const RUNS: &str = "runs";
    pub const ACTIVATIONS: &str = "activations.safetensors";
    pub const FINAL_WEIGHTS: &str = "final.safetensors";
    /// The folder inside a run's where a replay keeps its per-epoch checkpoints.
    pub const REPLAY: &str = "trajectory";
    pub const LANDSCAPE_NPY: &str = "landscape.npy";
    pub const LANDSCAPE_JSON: &str = "landscape.json";
    pub const TRAJECTORY_NPY: &str = "trajectory.npy";
    pub const TRAJECTORY_JSON: &str = "trajectory.json";
    /// In the activations file: the probe's labels (f32, one per probe point);
    /// beside them each hidden layer's output, `layer0`, `layer1`, … (f32,
    /// probe points x width), the last one what embeddings compare.
    pub const PROBE_LABELS: &str = "probe_labels";
    const EPOCH_PREFIX: &str = "checkpoint-";
    const EPOCH_SUFFIX: &str = ".safetensors";

    /// Run `run`'s files in the store at `store_root`: `store_root/runs/<run>/`.
    pub fn new(store_root: &Path, run: i64) -> RunFiles {
        RunFiles { dir: store_root.join(Self::RUNS).join(run.to_string()) }
    }

    /// The same names in any folder (a training's output folder outside a store, say).
    pub fn at(dir: impl Into<PathBuf>) -> RunFiles {
        RunFiles { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the folder (and its parents) if it does not exist.
    pub fn create(&self) -> std::io::Result<&Path> {
        std::fs::create_dir_all(&self.dir)?;
        Ok(&self.dir)
    }

    /// The probe activations: `activations.safetensors`.
    pub fn activations(&self) -> PathBuf {
        self.dir.join(Self::ACTIVATIONS)
    }

    /// The name of hidden layer `index` (0-based) in the activations file.
    pub fn layer_name(index: usize) -> String {
        format!("layer{index}")
    }

    /// The trained weights: `final.safetensors`.
    pub fn final_weights(&self) -> PathBuf {
        self.dir.join(Self::FINAL_WEIGHTS)
    }

    /// The weights after epoch `epoch` (1 is the first): `checkpoint-NNNN.safetensors`.
    pub fn epoch(&self, epoch: u32) -> PathBuf {
        self.dir.join(Self::epoch_name(epoch))
    }

    /// The file name of epoch `epoch`'s checkpoint: `checkpoint-0003.safetensors` for 3.
    pub fn epoch_name(epoch: u32) -> String {
        format!("{}{epoch:04}{}", Self::EPOCH_PREFIX, Self::EPOCH_SUFFIX)
    }

    /// The epoch of a checkpoint's file name, if `name` is one (`checkpoint-12.safetensors` is epoch 12 too).
    pub fn epoch_of(name: &str) -> Option<u32> {
        name.strip_prefix(Self::EPOCH_PREFIX)?.strip_suffix(Self::EPOCH_SUFFIX)?.parse().ok()
    }

    /// The per-epoch checkpoints in the folder, by epoch; none if the folder does not exist.
    pub fn epochs(&self) -> std::io::Result<Vec<(u32, PathBuf)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry?;
            if let Some(epoch) = Self::epoch_of(&entry.file_name().to_string_lossy()) {
                out.push((epoch, entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Where a replay of the run records its epochs: `trajectory/`, with the same names inside.
    pub fn replay(&self) -> RunFiles {
        RunFiles { dir: self.dir.join(Self::REPLAY) }
    }

    /// The loss surface over random directions: `landscape.npy`.
    pub fn landscape_npy(&self) -> PathBuf {
        self.dir.join(Self::LANDSCAPE_NPY)
    }

    /// `landscape.npy`'s sidecar (axes, directions): `landscape.json`.
    pub fn landscape_json(&self) -> PathBuf {
        self.dir.join(Self::LANDSCAPE_JSON)
    }

    /// The loss surface over the plane of the training path: `trajectory.npy`.
    pub fn trajectory_npy(&self) -> PathBuf {
        self.dir.join(Self::TRAJECTORY_NPY)
    }

    /// `trajectory.npy`'s sidecar (axes, the path): `trajectory.json`.
    pub fn trajectory_json(&self) -> PathBuf {
        self.dir.join(Self::TRAJECTORY_JSON)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_ones_runs_have_always_had() {
        let root = Path::new("/stores/demo");
        let files = RunFiles::new(root, 42);
        let dir = root.join("runs").join("42");
        assert_eq!(files.dir(), dir);
        assert_eq!(files.activations(), dir.join("activations.safetensors"));
        assert_eq!(files.final_weights(), dir.join("final.safetensors"));
        assert_eq!(files.epoch(3), dir.join("checkpoint-0003.safetensors"));
        assert_eq!(files.epoch(12345), dir.join("checkpoint-12345.safetensors"));
        assert_eq!(RunFiles::epoch_name(1), format!("checkpoint-{:04}.safetensors", 1));
        assert_eq!(files.replay().epoch(1), dir.join("trajectory").join("checkpoint-0001.safetensors"));
        assert_eq!(files.landscape_npy(), dir.join("landscape.npy"));
        assert_eq!(files.landscape_json(), dir.join("landscape.json"));
        assert_eq!(files.trajectory_npy(), dir.join("trajectory.npy"));
        assert_eq!(files.trajectory_json(), dir.join("trajectory.json"));
        // The sidecar is the surface's name with `.json`, as mosaic-landscape's sidecar_path makes it.
        assert_eq!(files.landscape_npy().with_extension("json"), files.landscape_json());
        assert_eq!(files.trajectory_npy().with_extension("json"), files.trajectory_json());
        assert_eq!(RunFiles::at("/tmp/out").final_weights(), Path::new("/tmp/out/final.safetensors"));
    }

    #[test]
    fn checkpoint_names_parse_back_to_their_epochs() {
        for epoch in [1, 9, 10, 999, 1000, 10_000] {
            assert_eq!(RunFiles::epoch_of(&RunFiles::epoch_name(epoch)), Some(epoch));
        }
        assert_eq!(RunFiles::epoch_of("checkpoint-7.safetensors"), Some(7));
        for other in
            ["final.safetensors", "activations.safetensors", "checkpoint-.safetensors", "checkpoint-0001.npy", "x-0001.safetensors"]
        {
            assert_eq!(RunFiles::epoch_of(other), None, "{other}");
        }
    }

    #[test]
    fn epochs_lists_checkpoints_in_order_and_nothing_for_a_missing_folder() {
        let dir = std::env::temp_dir().join(format!("mosaic-store-runfiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = RunFiles::at(&dir);
        assert!(files.epochs().unwrap().is_empty());
        files.create().unwrap();
        for name in
            ["checkpoint-0010.safetensors", "checkpoint-0002.safetensors", "final.safetensors", ".checkpoint-0003.safetensors.1-0.tmp"]
        {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        assert_eq!(files.epochs().unwrap(), [(2, files.epoch(2)), (10, files.epoch(10))]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
