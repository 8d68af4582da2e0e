//! The run directory's config.toml: the user's config with its input paths pointing at
//! the copies in the run directory, and `output_dir = "output"`. Every other key stays
//! as the user wrote it (comments and layout are not kept: the file is re-serialized).

use std::path::Path;

use ff_inputs::ConfigError;
use ff_inputs::config::SECTION;

use crate::error::PrepareError;

/// The config at `config_path` with each `(key, value)` of `replacements` set where the
/// key is present; `output_dir` is always set.
pub fn run_config(config_path: &Path, replacements: &[(&str, String)]) -> Result<String, PrepareError> {
    let text = std::fs::read_to_string(config_path)
        .map_err(|source| ConfigError::Read { path: config_path.to_path_buf(), source })?;
    let mut document: toml::Table =
        toml::from_str(&text).map_err(|source| ConfigError::Syntax { path: config_path.to_path_buf(), source })?;
    // Config::load accepted this file, so a present section is a table.
    let keys = match document.get_mut(SECTION).and_then(toml::Value::as_table_mut) {
        Some(section) => section,
        None => &mut document,
    };
    for (key, value) in replacements {
        if keys.contains_key(*key) || *key == "output_dir" {
            keys.insert((*key).to_string(), value.clone().into());
        }
    }
    Ok(toml::to_string(&document).expect("a parsed TOML table always serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_inputs_at_copies_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[flux_fiction]\njob_traces = \"/a/t.csv\"\nnnodes = 3 # nodes\nquiet = true\n").unwrap();
        let replacements = [
            ("job_traces", "inputs/t.csv".to_string()),
            ("config_json", "inputs/flux.json".to_string()),
            ("output_dir", "output".to_string()),
        ];
        let text = run_config(&path, &replacements).unwrap();
        assert_eq!(
            text,
            "[flux_fiction]\njob_traces = \"inputs/t.csv\"\nnnodes = 3\noutput_dir = \"output\"\nquiet = true\n"
        );

        std::fs::write(&path, "job_traces = \"t.csv\"\n").unwrap();
        assert_eq!(run_config(&path, &replacements).unwrap(), "job_traces = \"inputs/t.csv\"\noutput_dir = \"output\"\n");
    }
}
