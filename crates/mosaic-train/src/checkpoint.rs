//! Weights and activations as safetensors files, readable from Python
//! (`safetensors.numpy.load_file`) and PyTorch.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

/// Named f32 arrays, in name order.
pub type Arrays = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// A parameter's dotted path (`blocks.0.layer.weight`) as a module walk
/// enters and leaves submodules. Enum variants (`Dense`, `Conv`) are left
/// out: the shapes say which kind a layer is, and the names stay like
/// PyTorch's. Saving and loading share it, so their names always agree.
#[derive(Default)]
struct ParamPath(Vec<String>);

impl ParamPath {
    fn enter(&mut self, name: &str, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.0.push(name.to_string());
        }
    }
    fn exit(&mut self, container_type: &str) {
        if !container_type.starts_with("Enum:") {
            self.0.pop();
        }
    }
    fn name(&self) -> String {
        self.0.join(".")
    }
}

/// Collects every float parameter under its path.
struct Collect {
    path: ParamPath,
    arrays: Arrays,
}

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, container_type: &str) {
        self.path.exit(container_type);
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let shape = value.dims().to_vec();
        let data = value.into_data().convert::<f32>().to_vec::<f32>().expect("converted to f32");
        self.arrays.insert(self.path.name(), (shape, data));
    }
}

/// Every float parameter of a module (trainable weights and norm statistics).
pub fn module_arrays<B: Backend, M: Module<B>>(module: &M) -> Arrays {
    let mut visitor = Collect { path: ParamPath::default(), arrays: Arrays::new() };
    module.visit(&mut visitor);
    visitor.arrays
}

/// What can go wrong reading weights.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a valid safetensors file: {message}")]
    Format { path: String, message: String },
    #[error("{path}: tensor `{name}` is {dtype}, expected F32 (save float32 weights)")]
    Dtype { path: String, name: String, dtype: String },
    /// The arrays do not fit the network (a missing array, another shape).
    #[error("the weights do not fit the network: {0}")]
    Mismatch(String),
}

/// Replaces every float parameter of a module by the array of the same
/// dotted path, the inverse of [`module_arrays`]. Fails, naming the path,
/// on a missing array or a shape that differs.
pub fn load_arrays<B: Backend, M: Module<B>>(module: M, arrays: &Arrays) -> Result<M, CheckpointError> {
    let mut mapper = Load { path: ParamPath::default(), arrays, error: None };
    let module = module.map(&mut mapper);
    match mapper.error {
        Some(e) => Err(CheckpointError::Mismatch(e)),
        None => Ok(module),
    }
}

struct Load<'a> {
    path: ParamPath,
    arrays: &'a Arrays,
    error: Option<String>,
}

impl<B: Backend> ModuleMapper<B> for Load<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, container_type: &str) {
        self.path.exit(container_type);
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let name = self.path.name();
        let expected = param.val().dims().to_vec();
        match self.arrays.get(&name) {
            Some((shape, data)) if *shape == expected => param.map(|t| {
                let loaded = Tensor::from_data(TensorData::new(data.clone(), shape.clone()), &t.device());
                if t.is_require_grad() { loaded.require_grad() } else { loaded }
            }),
            found => {
                let why = match found {
                    Some((shape, _)) => format!("`{name}` has shape {shape:?}, the network {expected:?}"),
                    None => format!("no array `{name}`"),
                };
                self.error.get_or_insert(why);
                param
            }
        }
    }
}

/// Serialises arrays to safetensors bytes.
pub fn to_safetensors(arrays: &Arrays) -> Vec<u8> {
    let bytes: Vec<(&String, Vec<usize>, Vec<u8>)> =
        arrays.iter().map(|(name, (shape, data))| (name, shape.clone(), data.iter().flat_map(|x| x.to_le_bytes()).collect())).collect();
    let views = bytes
        .iter()
        .map(|(name, shape, b)| (name.as_str(), TensorView::new(Dtype::F32, shape.clone(), b).expect("shape matches the data")));
    safetensors::serialize(views, None).expect("in-memory serialisation cannot fail")
}

/// Reads a safetensors file of f32 arrays.
pub fn read_safetensors(path: &Path) -> Result<Arrays, CheckpointError> {
    let shown = || path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io { path: shown(), source })?;
    let tensors =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| CheckpointError::Format { path: shown(), message: e.to_string() })?;
    let mut out = Arrays::new();
    for (name, view) in tensors.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(CheckpointError::Dtype { path: shown(), name, dtype: format!("{:?}", view.dtype()) });
        }
        let data = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(name, (view.shape().to_vec(), data));
    }
    Ok(out)
}
