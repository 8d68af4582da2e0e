//! The simulated machine: its per-node shape, its rabbit storage, and the RV1 `R` the
//! Flux instance is started with (synthesized from the config, or taken from the user's
//! resource file, with a Fluxion resource graph under `scheduling` when there is one).
//!
//! The instance is one broker that pretends to own every node of `R`; the scheduler
//! only ever sees this description, never the real host.

mod broker;
pub mod idset;
pub(crate) mod inference;
pub(crate) mod jgf;
mod node_shape;
pub(crate) mod rack_graph;
pub mod rv1;
mod storage;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Config, ResourceSource};
use crate::json_file::{JsonFileError, read_json};

pub use broker::broker_config;
pub use node_shape::{NodeLevel, NodeShape};
pub use rack_graph::{RackKeys, rack_layout};
pub use storage::{StorageLayout, StorageParent};

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

    /// The resource graph of a resource file cannot describe the instance's nodes.
    #[error("{}: {problem}", path.display())]
    Graph { path: PathBuf, problem: String },

    /// The user's Flux config (from `config_json`) cannot become the broker's TOML config.
    #[error("{}: {key}: {problem}", path.display())]
    FluxConfig { path: PathBuf, key: String, problem: String },
}

/// The RV1 `R` the instance's resource module is given, as JSON text. Fluxion schedules
/// on the graph under its `scheduling` key when there is one (as flux-core attaches a
/// `resource.scheduling` file), and on `R_lite` otherwise.
///
/// * no resource file: synthesized from `nnodes`, `ncpus`, `ngpus`;
/// * racks with storage (`rabbit_*` keys): the synthetic R with the rack graph attached,
///   written straight from typed data (see [`rack_graph::JgfDocument`]);
/// * an RV1 file: the file as it is;
/// * a JGF file: the whole file attached to an R whose `R_lite` lists the graph's nodes.
///
/// A graph whose SSDs are all marked down by an older tool gets them up
/// (see [`jgf::Graph::legacy_down_ssds`]; `Config::load` warns about it).
pub fn resource_r(cfg: &Config) -> Result<String, SystemError> {
    let mut r = match &cfg.resource {
        ResourceSource::Synthetic => rv1::synthetic(&cfg.scheduler_system()),
        ResourceSource::Racks(keys) => {
            /// The synthetic R's keys, then `scheduling`.
            #[derive(Serialize)]
            struct WithGraph<'a> {
                #[serde(flatten)]
                r: &'a Value,
                scheduling: rack_graph::JgfDocument,
            }
            let r = rv1::synthetic(&cfg.system);
            let with_graph = WithGraph { r: &r, scheduling: rack_graph::rack_graph(&cfg.system, keys) };
            return Ok(serde_json::to_string(&with_graph).expect("an R of plain numbers and strings serializes"));
        }
        ResourceSource::Rv1(path) => {
            let r = read_json(path)?;
            if !rv1::is_rv1(&r) {
                return Err(SystemError::NotRv1 { path: path.clone() });
            }
            r
        }
        ResourceSource::Jgf(path) => {
            let file = read_json(path)?;
            let graph_error = |problem| SystemError::Graph { path: path.clone(), problem };
            let graph = jgf::Graph::parse(&file["graph"]).map_err(graph_error)?;
            let mut r = rv1::from_graph(&graph).map_err(graph_error)?;
            r["scheduling"] = file;
            r
        }
    };
    if let Some(graph) = r.pointer_mut("/scheduling/graph") {
        let path = cfg.resource.path().expect("only a resource file has a graph here");
        let parsed = jgf::Graph::parse(graph).map_err(|problem| SystemError::Graph { path: path.to_path_buf(), problem })?;
        if parsed.legacy_down_ssds() > 0 {
            jgf::bring_ssds_up(graph);
        }
    }
    Ok(serde_json::to_string(&r).expect("a JSON value always serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{SMALL, config_for};
    use crate::trace::TraceFormat;
    use serde_json::json;
    use std::path::Path;

    /// The R of `cfg`, parsed.
    fn r_of(cfg: &Config) -> Value {
        serde_json::from_str(&resource_r(cfg).unwrap()).unwrap()
    }

    #[test]
    fn synthetic_and_file_backed_r() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config_for(&dir.path().join("t.csv"), TraceFormat::Sacct, SMALL);
        assert_eq!(r_of(&cfg)["execution"]["R_lite"][0]["rank"], "0-3");
        cfg.whole_node_graph = true;
        let coarse = r_of(&cfg);
        assert_eq!(coarse["execution"]["R_lite"][0]["rank"], "0-3");
        assert_eq!(coarse["execution"]["R_lite"][0]["children"], json!({"core": "0"}));
        cfg.whole_node_graph = false;

        let keys = RackKeys { nodes_per_rack: 2, shares_per_rack: 3, share_gib: 100 };
        cfg.resource = ResourceSource::Racks(keys);
        let r = r_of(&cfg);
        assert_eq!(r["execution"], rv1::synthetic(&cfg.system)["execution"]);
        assert_eq!(r["scheduling"], serde_json::to_value(rack_graph::rack_graph(&cfg.system, &keys)).unwrap());

        // A JGF file: R_lite lists its nodes; SSDs all marked down come up.
        let mut jgf = r["scheduling"].clone();
        for vertex in jgf["graph"]["nodes"].as_array_mut().unwrap() {
            vertex["metadata"]["status"] = 1.into();
        }
        let graph = dir.path().join("g.json");
        std::fs::write(&graph, jgf.to_string()).unwrap();
        cfg.resource = ResourceSource::Jgf(graph);
        let r = r_of(&cfg);
        assert_eq!(r["execution"]["R_lite"], json!([{"rank": "0-3", "children": {"core": "0-15"}}]));
        assert_eq!(r["execution"]["nodelist"], json!(["node0", "node1", "node2", "node3"]));
        let status = |kind: &str| {
            let vertices = r["scheduling"]["graph"]["nodes"].as_array().unwrap();
            vertices.iter().find(|v| v["metadata"]["type"] == kind).unwrap()["metadata"]["status"].clone()
        };
        assert_eq!((status("ssd"), status("node")), (json!(0), json!(1)));

        let rv1 = dir.path().join("R.json");
        let text = r#"{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-3"}}]}, "extra": 1}"#;
        std::fs::write(&rv1, text).unwrap();
        cfg.resource = ResourceSource::Rv1(rv1);
        assert_eq!(r_of(&cfg), serde_json::from_str::<Value>(text).unwrap());

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
             [kvs]\ncheckpoint-period = \"10s\"\n\n\
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

    #[test]
    fn storage_systems_get_the_allocated_graph_in_r() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config_for(&dir.path().join("t.csv"), TraceFormat::Sacct, SMALL);
        let keys = RackKeys { nodes_per_rack: 2, shares_per_rack: 3, share_gib: 100 };
        let graph = jgf::Graph::parse(&serde_json::to_value(rack_graph::rack_graph(&cfg.system, &keys)).unwrap()["graph"]).unwrap();
        cfg.storage = inference::infer(&graph).unwrap().storage;
        let text = broker_config(&cfg, Path::new("/r.json")).unwrap();
        assert!(text.contains("[sched-fluxion-resource]\nmatch-format = \"rv1\"\n"), "{text}");
        cfg.flux_config = json!({"sched-fluxion-resource": {"match-format": "rv1_nosched"}}).as_object().unwrap().clone();
        let text = broker_config(&cfg, Path::new("/r.json")).unwrap();
        assert!(text.contains("match-format = \"rv1_nosched\""), "the user's choice is kept: {text}");
    }
}
