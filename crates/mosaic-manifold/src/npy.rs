//! NumPy `.npy` files: 1-D and 2-D float32/float64 arrays, for interchange
//! with the Python world (`np.save`, `np.load`). The format itself is npyz's;
//! this module says what a matrix is and names the fix when a file is not one.

use std::path::Path;

use npyz::{DType, Order, TypeChar, WriterBuilder};

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

/// Reads a 1-D or 2-D float32 or float64 array (either byte order; C or
/// Fortran order).
pub fn read(path: &Path) -> Result<Array2, NpyError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io { path: shown.clone(), source })?;
    let bad = |message: String| NpyError::Format { path: shown.clone(), message };
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err(bad("it does not start with the .npy magic (save it with numpy.save)".into()));
    }
    // A corrupt shape must not reach npyz, whose element count does not check for overflow.
    let body = bytes.len().saturating_sub(data_start(&bytes));
    if declared_elements(&bytes).is_none_or(|n| n > body as u64) {
        return Err(bad(format!("the header's shape does not match the {body} bytes of data")));
    }
    let file = npyz::NpyFile::new(&bytes[..]).map_err(|e| bad(format!("unreadable header: {e}")))?;
    let float_width = match file.dtype() {
        DType::Plain(ty) if ty.type_char() == TypeChar::Float && matches!(ty.size_field(), 4 | 8) => ty.size_field(),
        DType::Plain(ty) => return Err(bad(format!("dtype {ty} is not float32 or float64 (convert with .astype(np.float64))"))),
        _ => return Err(bad("a structured array, not a matrix of floats (save one plain float array)".into())),
    };
    let dims: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let (rows, cols) = match dims.as_slice() {
        [n] => (*n, 1),
        [r, c] => (*r, *c),
        _ => return Err(bad(format!("{}-D array; expected a matrix (n x d)", dims.len()))),
    };
    // The data must fill the shape exactly: checked before anything is
    // allocated, so a corrupt header cannot ask for more than the file holds.
    if rows.checked_mul(cols).and_then(|v| v.checked_mul(float_width as usize)) != Some(body) {
        return Err(bad(format!("shape ({rows}, {cols}) does not match the {body} bytes of data")));
    }
    let fortran = file.order() == Order::Fortran;
    let truncated = |e: std::io::Error| bad(format!("unreadable data: {e}"));
    let data: Vec<f64> = if float_width == 8 {
        file.into_vec::<f64>().map_err(truncated)?
    } else {
        file.into_vec::<f32>().map_err(truncated)?.into_iter().map(f64::from).collect()
    };
    // Column-major data (np.asfortranarray) is read into our row-major layout.
    let data = if fortran && cols > 1 { (0..rows * cols).map(|k| data[(k % cols) * rows + k / cols]).collect() } else { data };
    Ok(Array2 { rows, cols, data })
}

/// Where the data starts: after the magic, the version, the header's length
/// (2 bytes in version 1, 4 after) and the header.
fn data_start(bytes: &[u8]) -> usize {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    match at(6) {
        1 => 10 + u16::from_le_bytes([at(8), at(9)]) as usize,
        _ => 12 + u32::from_le_bytes([at(8), at(9), at(10), at(11)]) as usize,
    }
}

/// How many elements the header's `'shape': (..)` declares, if it reads as
/// one and the count fits a u64.
fn declared_elements(bytes: &[u8]) -> Option<u64> {
    let header = String::from_utf8_lossy(bytes.get(..data_start(bytes).min(bytes.len()))?);
    let shape = header.split("'shape':").nth(1)?.trim_start().strip_prefix('(')?.split(')').next()?;
    shape.split(',').map(str::trim).filter(|d| !d.is_empty()).try_fold(1u64, |n, d| n.checked_mul(d.parse().ok()?))
}

/// The bytes of a `.npy` file holding a 2-D `<f8` array.
pub fn to_bytes(array: &Array2) -> Vec<u8> {
    shaped_bytes(&[array.rows, array.cols], &array.data)
}

/// The bytes of a `.npy` file holding a `<f8` array of any shape (C order).
pub fn shaped_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut out = Vec::with_capacity(128 + 8 * data.len());
    // Writing to memory fails only if the shape and the data disagree: a bug of the caller.
    let mut writer = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut out).begin_nd().expect("a .npy header in memory");
    writer.extend(data.iter().copied()).expect("writing to memory");
    writer.finish().expect("as many values as the shape holds");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mosaic-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    /// A version 1.0 file as NumPy writes it, with any dtype, order and shape.
    fn npy_file(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn writes_what_it_reads() {
        let a = Array2 { rows: 3, cols: 2, data: vec![1.0, -2.5, 3.0, 4.0, f64::MAX, 1e-300] };
        let path = scratch("a.npy");
        std::fs::write(&path, to_bytes(&a)).unwrap();
        assert_eq!(read(&path).unwrap(), a);
        // The data starts on a 64-byte boundary, as NumPy writes it.
        let bytes = to_bytes(&a);
        assert_eq!((10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64, 0);
        // A vector reads back as one column.
        std::fs::write(&path, shaped_bytes(&[3], &[1.0, 2.0, 3.0])).unwrap();
        assert_eq!(read(&path).unwrap(), Array2 { rows: 3, cols: 1, data: vec![1.0, 2.0, 3.0] });
    }

    #[test]
    fn float32_big_endian_and_fortran_order_read_as_the_same_matrix() {
        let want = Array2 { rows: 2, cols: 3, data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0] };
        let le32: Vec<u8> = want.data.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
        let be64: Vec<u8> = want.data.iter().flat_map(|&v| v.to_be_bytes()).collect();
        // Column-major: the columns one after another.
        let columns: Vec<u8> = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let path = scratch("kinds.npy");
        for (descr, fortran, payload) in [("<f4", false, le32), (">f8", false, be64), ("<f8", true, columns)] {
            std::fs::write(&path, npy_file(descr, fortran, "(2, 3)", &payload)).unwrap();
            assert_eq!(read(&path).unwrap(), want, "{descr}, fortran {fortran}");
        }
    }

    #[test]
    fn files_that_are_not_a_float_matrix_are_refused_with_the_fix() {
        let path = scratch("bad.npy");
        let cases: [(Vec<u8>, &str); 6] = [
            (npy_file("<i8", false, "(2,)", &[0; 16]), "astype(np.float64)"),
            (npy_file("<f8", false, "(1, 1, 2)", &[0; 16]), "3-D array"),
            (npy_file("<f8", false, "(4, 4)", &[0; 16]), "does not match"),
            (npy_file("<f8", false, "(1, 1)", &[0; 16]), "does not match"),
            (npy_file("<f8", false, "(4611686018427387904, 4)", &[0; 16]), "does not match"),
            (b"col1,col2\n1,2\n".to_vec(), "numpy.save"),
        ];
        for (bytes, fix) in cases {
            std::fs::write(&path, bytes).unwrap();
            let err = read(&path).unwrap_err().to_string();
            assert!(err.contains(fix) && err.contains("bad.npy"), "{err}");
        }
    }
}
