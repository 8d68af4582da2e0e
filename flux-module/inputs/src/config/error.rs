//! Why a config file was rejected. Every message starts with the config file (and line,
//! when the problem has one) and names the key, so the user can go straight to it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },

    /// TOML syntax; the toml crate's message carries the line and column.
    #[error("{}: {source}", path.display())]
    Syntax { path: PathBuf, source: toml::de::Error },

    /// A key whose value is wrong, or whose value names a file that is wrong.
    #[error("{}:{line}: {section}{key}: {problem}", path.display())]
    Key { path: PathBuf, line: usize, section: &'static str, key: String, problem: String },

    /// A key that is required here but not set.
    #[error("{}: {section}{key}: {problem}", path.display())]
    Missing { path: PathBuf, section: &'static str, key: &'static str, problem: String },
}
