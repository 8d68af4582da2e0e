//! Why a run directory could not be prepared; each message names the file involved.

use std::path::PathBuf;

use ff_inputs::{ConfigError, PreflightError, SystemError};

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Preflight(#[from] PreflightError),

    #[error(transparent)]
    System(#[from] SystemError),

    #[error("--pause-at {text}: {why}")]
    PauseAt { text: String, why: String },

    #[error("{}: the run directory already exists and is not an empty directory", path.display())]
    RunDirInUse { path: PathBuf },

    #[error("{}: cannot {action}: {source}", path.display())]
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
}

impl PrepareError {
    /// An `Io` error builder for `map_err`.
    pub fn io(path: &std::path::Path, action: &'static str) -> impl FnOnce(std::io::Error) -> PrepareError {
        let path = path.to_path_buf();
        move |source| PrepareError::Io { path, action, source }
    }
}
