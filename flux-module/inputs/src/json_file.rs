//! Reading a JSON input file (Flux config, RV1 R, JGF graph) with errors that name it.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum JsonFileError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },

    /// serde_json's message carries the line and column.
    #[error("{}: invalid JSON: {source}", path.display())]
    Parse { path: PathBuf, source: serde_json::Error },
}

pub(crate) fn read_json(path: &Path) -> Result<Value, JsonFileError> {
    read_json_as(path)
}

/// Reads a JSON file into `T`, without a JSON tree in between.
pub(crate) fn read_json_as<T: DeserializeOwned>(path: &Path) -> Result<T, JsonFileError> {
    let bytes = std::fs::read(path).map_err(|source| JsonFileError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes)
        .map_err(|source| JsonFileError::Parse { path: path.to_path_buf(), source })
}
