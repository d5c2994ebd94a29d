//! Everything the builder can fail with, one variant per cause, each
//! naming the file or command it concerns so that a failed build says
//! where to look.

use std::path::PathBuf;

/// A failed build or scaffold.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read, written or listed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The manifest is not YAML, or not the shape the builder reads.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong, with the field's path.
        message: String,
    },
    /// A command the builder runs (cargo, ocb) could not start or failed.
    #[error("{command} failed: {message}")]
    Command {
        /// The command line, shortened to the program and its first words.
        command: String,
        /// Its exit status, or why it did not start.
        message: String,
    },
    /// A command's output is not what the builder expected.
    #[error("{what}: {message}")]
    Output {
        /// Which output.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The registered processors cannot be built into one collector.
    #[error("{0}")]
    Registry(String),
    /// The command line is wrong.
    #[error("{0}\n\n{usage}", usage = crate::USAGE)]
    Usage(String),
}

impl Error {
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// The builder's result type.
pub type Result<T> = std::result::Result<T, Error>;
