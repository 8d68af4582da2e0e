//! The simulated machine: its per-node shape, and the RV1 `R` the Flux instance is
//! started with (synthesized from the config, or taken from the user's resource file).
//!
//! The instance is one broker that pretends to own every node of `R`; the scheduler
//! only ever sees this description, never the real host.

mod broker;
pub mod idset;
pub mod rv1;

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

use crate::config::{Config, ResourceSource};
use crate::json_file::{JsonFileError, read_json};

pub use broker::broker_config;

/// A homogeneous system: how many nodes, and what each one holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemSpec {
    pub nnodes: u32,
    pub cores_per_node: u32,
    pub gpus_per_node: u32,
}

impl SystemSpec {
    /// The same nodes with one core and no GPUs each: what a job that takes whole nodes
    /// needs the scheduler to see.
    pub fn whole_nodes(&self) -> SystemSpec {
        SystemSpec { nnodes: self.nnodes, cores_per_node: 1, gpus_per_node: 0 }
    }
}

impl fmt::Display for SystemSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nnodes={} cores_per_node={} gpus_per_node={}",
            self.nnodes, self.cores_per_node, self.gpus_per_node
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error(transparent)]
    File(#[from] JsonFileError),

    #[error("{}: not an RV1 R object (needs version 1 and execution.R_lite)", path.display())]
    NotRv1 { path: PathBuf },

    /// The user's Flux config (from `config_json`) cannot become the broker's TOML config.
    #[error("{}: {key}: {problem}", path.display())]
    FluxConfig { path: PathBuf, key: String, problem: String },
}

/// The RV1 `R` the instance's resource module is given.
///
/// * no resource file: synthesized from `nnodes`, `ncpus`, `ngpus`;
/// * an RV1 file: the file as it is;
/// * a JGF file: the synthesized R with the whole file attached under `scheduling`, as
///   flux-core does for a `resource.scheduling` path, so Fluxion schedules on the graph.
pub fn resource_r(cfg: &Config) -> Result<Value, SystemError> {
    match &cfg.resource {
        ResourceSource::Synthetic => Ok(rv1::synthetic(&cfg.scheduler_system())),
        ResourceSource::Rv1(path) => {
            let r = read_json(path)?;
            if !rv1::is_rv1(&r) {
                return Err(SystemError::NotRv1 { path: path.clone() });
            }
            Ok(r)
        }
        ResourceSource::Jgf(path) => {
            let mut r = rv1::synthetic(&cfg.system);
            r["scheduling"] = read_json(path)?;
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{SMALL, config_for};
    use crate::trace::TraceFormat;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn synthetic_and_file_backed_r() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config_for(&dir.path().join("t.csv"), TraceFormat::Sacct, SMALL);
        assert_eq!(resource_r(&cfg).unwrap()["execution"]["R_lite"][0]["rank"], "0-3");
        cfg.whole_node_graph = true;
        let coarse = resource_r(&cfg).unwrap();
        assert_eq!(coarse["execution"]["R_lite"][0]["rank"], "0-3");
        assert_eq!(coarse["execution"]["R_lite"][0]["children"], json!({"core": "0"}));
        cfg.whole_node_graph = false;

        let graph = dir.path().join("g.json");
        std::fs::write(&graph, r#"{"graph": {"nodes": [], "edges": []}}"#).unwrap();
        cfg.resource = ResourceSource::Jgf(graph);
        let r = resource_r(&cfg).unwrap();
        assert_eq!(r["scheduling"], json!({"graph": {"nodes": [], "edges": []}}));
        assert_eq!(r["execution"]["R_lite"][0]["children"]["core"], "0-15");

        let rv1 = dir.path().join("R.json");
        let text = r#"{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-3"}}]}, "extra": 1}"#;
        std::fs::write(&rv1, text).unwrap();
        cfg.resource = ResourceSource::Rv1(rv1);
        assert_eq!(resource_r(&cfg).unwrap(), serde_json::from_str::<Value>(text).unwrap());

        cfg.resource = ResourceSource::Rv1(Path::new("/nonexistent/R.json").into());
        assert!(resource_r(&cfg).unwrap_err().to_string().starts_with("/nonexistent/R.json: cannot read"));
    }

    #[test]
    fn broker_config_points_the_resource_module_at_r() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config_for(&dir.path().join("t.csv"), TraceFormat::Sacct, SMALL);
        cfg.flux_config = json!({
            "sched-fluxion-qmanager": {"queue-policy": "easy"},
            "resource": {"exclude": "0"}
        })
        .as_object()
        .unwrap()
        .clone();
        let text = broker_config(&cfg, Path::new("/run/instance/R.json")).unwrap();
        assert_eq!(
            text,
            "[heartbeat]\nperiod = \"0.5s\"\n\n\
             [ingest]\nbatch-count = 1\n\n\
             [job-manager]\ninactive-num-limit = 1000\n\n\
             [modules.resource]\nargs = [\"noverify\", \"monitor-force-up\"]\n\n\
             [resource]\nexclude = \"0\"\nnoverify = true\npath = \"/run/instance/R.json\"\n\n\
             [sched-fluxion-qmanager]\nqueue-policy = \"easy\"\n"
        );

        cfg.flux_config = json!({"modules": {"resource": {"args": []}}}).as_object().unwrap().clone();
        let err = broker_config(&cfg, Path::new("/run/instance/R.json")).unwrap_err().to_string();
        assert!(err.contains("modules.resource.args"), "{err}");

        cfg.config_json = Some(dir.path().join("flux.json"));
        cfg.flux_config = json!({"resource": {"path": "/elsewhere/R.json"}}).as_object().unwrap().clone();
        let err = broker_config(&cfg, Path::new("/run/instance/R.json")).unwrap_err().to_string();
        assert!(err.contains("flux.json: resource.path: set to \"/elsewhere/R.json\""), "{err}");
    }
}
