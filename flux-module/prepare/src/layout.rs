//! The run directory the run script starts the instance in:
//!
//! ```text
//! DIR/config.toml            the experiment config, pointing at the copies below
//! DIR/inputs/                copies of the trace, config_json and resource file
//! DIR/output/                the run's artifacts (output_dir)
//! DIR/instance/R.json        the resource set the instance pretends to own
//! DIR/instance/conf/flux.toml  the broker config (flux start -c DIR/instance/conf)
//! ```
//!
//! Everything that can fail because of the inputs is worked out before the directory is
//! touched, so a failed prepare leaves nothing half-made behind.

use std::fs;
use std::path::{Path, PathBuf};

use ff_engine::faketime_offset;
use ff_inputs::{Config, SimTime, broker_config, resource_r};

use crate::error::PrepareError;
use crate::rewrite;

const INPUTS: &str = "inputs";
const OUTPUT: &str = "output";
const R_FILE: &str = "instance/R.json";
const BROKER_CONFIG: &str = "instance/conf/flux.toml";
const CONFIG: &str = "config.toml";
/// The first libfaketime offset, with which `flux-fiction-run` starts the broker.
const FAKETIME_FILE: &str = "faketime";

/// One input file and the name of its copy under `inputs/`.
struct InputCopy {
    source: PathBuf,
    /// Relative to the run directory, as written into its config.toml.
    copy: String,
}

/// Lays out the run directory and returns its absolute path.
pub fn create(cfg: &Config, run_dir: &Path) -> Result<PathBuf, PrepareError> {
    let run_dir = std::path::absolute(run_dir).map_err(PrepareError::io(run_dir, "resolve the run directory"))?;
    let mut r_json = resource_r(cfg)?;
    r_json.push('\n');
    let r_path = run_dir.join(R_FILE);
    let flux_toml = broker_config(cfg, &r_path)?;

    let mut copies: Vec<InputCopy> = Vec::new();
    let mut copy_of = |source: &Path, key: &str| {
        let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| key.to_string());
        let taken = |name: &str| copies.iter().any(|c| c.copy == format!("{INPUTS}/{name}"));
        let name = if taken(&name) { format!("{key}-{name}") } else { name };
        let copy = format!("{INPUTS}/{name}");
        copies.push(InputCopy { source: source.to_path_buf(), copy: copy.clone() });
        copy
    };
    let mut replacements = vec![("job_traces", copy_of(&cfg.job_traces, "job_traces"))];
    if let Some(path) = &cfg.config_json {
        replacements.push(("config_json", copy_of(path, "config_json")));
    }
    if let Some(path) = cfg.resource.path() {
        let copy = copy_of(path, "resource");
        replacements.push(("resource_file", copy.clone()));
        replacements.push(("resource_R", copy));
    }
    replacements.push(("output_dir", OUTPUT.to_string()));
    let config_toml = rewrite::run_config(&cfg.config_path, &replacements)?;

    claim(&run_dir)?;
    for dir in [INPUTS, OUTPUT, "instance/conf"] {
        let path = run_dir.join(dir);
        fs::create_dir_all(&path).map_err(PrepareError::io(&path, "create directory"))?;
    }
    for InputCopy { source, copy } in &copies {
        fs::copy(source, run_dir.join(copy)).map_err(PrepareError::io(source, "copy into the run directory"))?;
    }
    write(&r_path, &r_json)?;
    write(&run_dir.join(BROKER_CONFIG), &flux_toml)?;
    write(&run_dir.join(CONFIG), &config_toml)?;
    Ok(run_dir)
}

/// Writes the libfaketime offset file so that the instance's clock reads `seed` now
/// (and runs on from there), and returns its path.
pub fn write_faketime_seed(run_dir: &Path, seed: SimTime) -> Result<PathBuf, PrepareError> {
    let path = run_dir.join(FAKETIME_FILE);
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default();
    write(&path, &format!("{}\n", faketime_offset(seed, real_now)))?;
    Ok(path)
}

/// Makes sure `run_dir` is a new or empty directory (creating it and its parents).
fn claim(run_dir: &Path) -> Result<(), PrepareError> {
    if run_dir.exists() {
        let empty = fs::read_dir(run_dir).map(|mut entries| entries.next().is_none()).unwrap_or(false);
        if !empty {
            return Err(PrepareError::RunDirInUse { path: run_dir.to_path_buf() });
        }
    }
    fs::create_dir_all(run_dir).map_err(PrepareError::io(run_dir, "create the run directory"))
}

fn write(path: &Path, text: &str) -> Result<(), PrepareError> {
    fs::write(path, text).map_err(PrepareError::io(path, "write"))
}
