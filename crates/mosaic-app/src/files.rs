//! What can go wrong with the files the app reads and writes (sessions,
//! tours, screenshots, exports): each error names the file and the problem.

/// A file the app could not read, parse or write.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {what} {path}: {source}")]
    Read { what: &'static str, path: String, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    /// The text is not valid RON where the position says.
    #[error("{what} {origin}, line {line}, column {column}: {message}")]
    Syntax { what: &'static str, origin: String, line: usize, column: usize, message: String },
    /// It parses, but something in it is wrong (the line of the item at fault).
    #[error("{what} {origin}, line {line}: {message}")]
    Invalid { what: &'static str, origin: String, line: usize, message: String },
    /// There is nothing of this kind to write yet, and how to get some.
    #[error("{0}")]
    NothingToSave(&'static str),
    /// What was to be written could not be encoded (an image, a document).
    #[error("cannot encode {path}: {message}")]
    Encode { path: String, message: String },
}

impl FileError {
    /// A write that failed at `path`.
    pub fn write(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
        move |source| FileError::Write { path: path.display().to_string(), source }
    }

    /// A RON error in `what` read from `origin`.
    pub fn syntax(what: &'static str, origin: &str, e: ron::error::SpannedError) -> FileError {
        FileError::Syntax { what, origin: origin.to_string(), line: e.position.line, column: e.position.col, message: e.code.to_string() }
    }
}
