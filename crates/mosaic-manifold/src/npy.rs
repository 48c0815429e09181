//! NumPy `.npy` files: 1-D and 2-D little-endian float32/float64 arrays in C
//! order, for interchange with the Python world (`np.save`, `np.load`).

use std::path::Path;

/// A 2-D array of f64, row-major (a 1-D file reads as one column).
#[derive(Clone, Debug, PartialEq)]
pub struct Array2 {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Array2 {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn to_rows(&self) -> Vec<Vec<f64>> {
        (0..self.rows).map(|i| self.row(i).to_vec()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a .npy file this tool reads: {message}")]
    Format { path: String, message: String },
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a 1-D or 2-D `<f4` or `<f8` array.
pub fn read(path: &Path) -> Result<Array2, NpyError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io { path: shown.clone(), source })?;
    let bad = |message: String| NpyError::Format { path: shown.clone(), message };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("it does not start with the .npy magic (save it with numpy.save)".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(bad(format!("unsupported format version {v}"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("truncated or unreadable header".into()))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}':"))? + key.len() + 3;
        Some(header[at..].trim_start())
    };
    let descr = field("descr").ok_or_else(|| bad("no dtype in the header".into()))?;
    let width = if descr.starts_with("'<f8'") {
        8
    } else if descr.starts_with("'<f4'") {
        4
    } else {
        return Err(bad(format!(
            "dtype {} is not float32 or float64 (convert with .astype(np.float64))",
            descr.split(',').next().unwrap_or("")
        )));
    };
    if field("fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad("Fortran order: save a C-ordered array (np.ascontiguousarray)".into()));
    }
    let shape_text = field("shape").ok_or_else(|| bad("no shape in the header".into()))?;
    let inner = shape_text.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or_else(|| bad("unreadable shape".into()))?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(format!("unreadable shape ({inner})"))))
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [n] => (*n, 1),
        [r, c] => (*r, *c),
        _ => return Err(bad(format!("{}-D array; expected a matrix (n x d)", dims.len()))),
    };
    let body = &bytes[start + header_len..];
    let needed = rows.checked_mul(cols).and_then(|v| v.checked_mul(width));
    if needed != Some(body.len()) {
        return Err(bad(format!("shape ({rows}, {cols}) does not match the {} bytes of data", body.len())));
    }
    let data = if width == 8 {
        body.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
    } else {
        body.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64).collect()
    };
    Ok(Array2 { rows, cols, data })
}

/// The bytes of a `.npy` (version 1.0) file holding a 2-D `<f8` array.
pub fn to_bytes(array: &Array2) -> Vec<u8> {
    shaped_bytes(&[array.rows, array.cols], &array.data)
}

/// The bytes of a `.npy` (version 1.0) file holding a `<f8` array of any shape.
pub fn shaped_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    // A 1-tuple needs its trailing comma in Python syntax.
    let tuple = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {tuple}, }}");
    // Pad with spaces so the data starts on a 64-byte boundary; end with a newline.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_it_reads() {
        let a = Array2 { rows: 3, cols: 2, data: vec![1.0, -2.5, 3.0, 4.0, f64::MAX, 1e-300] };
        let dir = std::env::temp_dir().join(format!("mosaic-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.npy");
        std::fs::write(&path, to_bytes(&a)).unwrap();
        assert_eq!(read(&path).unwrap(), a);
        assert_eq!((MAGIC.len() + 4 + u16::from_le_bytes([to_bytes(&a)[8], to_bytes(&a)[9]]) as usize) % 64, 0);
        // A vector reads back as one column.
        std::fs::write(&path, shaped_bytes(&[3], &[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(read(&path).unwrap(), Array2 { rows: 3, cols: 1, data: vec![1.0, 2.0, 3.0] });
    }
}
