//! The experiment config (a TOML file, `[flux_fiction]` table): what to replay, on what
//! system, with which Flux config — resolved into the values the engine and the run
//! script use.
//!
//! Keys and meanings carry over from the Python implementation so existing configs keep
//! working; keys this rewrite does not act on are accepted, type-checked and reported
//! in [`Config::warnings`]. Relative paths resolve against the config file's folder.

mod error;
mod keys;
mod settings;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::json_file::read_json;
use crate::system::{SystemSpec, rv1};
use crate::time::SimTime;
use crate::trace::TraceFormat;

pub use error::ConfigError;
pub use settings::SECTION;
use settings::Settings;

/// Where the instance's resources come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceSource {
    /// Built from `nnodes`, `ncpus` and `ngpus`.
    Synthetic,
    /// A full RV1 R object (`resource_R`, or a `resource_file` that is one), installed as is.
    Rv1(PathBuf),
    /// A JGF graph (`resource_file`), attached under `scheduling` of a synthetic R.
    Jgf(PathBuf),
}

impl ResourceSource {
    /// The resource file, if there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ResourceSource::Synthetic => None,
            ResourceSource::Rv1(path) | ResourceSource::Jgf(path) => Some(path),
        }
    }
}

/// How SWF processors become nodes and SWF offsets become epoch times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SwfOptions {
    /// `swf_procs_per_node` (default 1): processors per node; a job's node count is
    /// `ceil(processors / procs_per_node)`.
    pub procs_per_node: u32,
    /// `swf_epoch` (epoch seconds, optional): added to every SWF submit offset. When unset,
    /// the log's `; UnixStartTime:` header is used, else 2019-01-01T00:00:00Z.
    pub epoch: Option<SimTime>,
}

/// A loaded and checked experiment config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file itself (absolute).
    pub config_path: PathBuf,
    /// `job_traces` (required): the job trace to replay.
    pub job_traces: PathBuf,
    /// `trace_format`: `"auto"` (default: a `.swf` file name, or a first non-blank line
    /// starting with `;`, means SWF; anything else is sacct), `"sacct"` or `"swf"`.
    /// Stored resolved.
    pub trace_format: TraceFormat,
    /// `nnodes`, `ncpus` (cores per node), `ngpus` (GPUs per node, default 0); or the shape
    /// of the RV1 resource file, which these keys must then agree with if given.
    pub system: SystemSpec,
    /// `exclusive` (default false): every job asks for whole nodes.
    pub exclusive: bool,
    /// `whole_node_graph` (default false): the scheduler's resource graph has one core per
    /// node and no GPUs, and every job asks for whole nodes of it; valid only with the
    /// synthetic system, and (checked by the pre-flight pass) when every job takes whole
    /// nodes of `system`, so the schedule is the same at a fraction of the matching cost.
    pub whole_node_graph: bool,
    /// `config_json`: the file the Flux config came from, if any.
    pub config_json: Option<PathBuf>,
    /// The Flux config object read from `config_json` (empty when unset).
    pub flux_config: serde_json::Map<String, Value>,
    /// `resource_file` (RV1 or JGF) or `resource_R` (RV1); at most one of them.
    pub resource: ResourceSource,
    /// `output_dir` (default `output` next to the config): the run's artifacts.
    pub output_dir: PathBuf,
    pub swf: SwfOptions,
    /// `step_timeout` (seconds, default 60): how long, in wall-clock time, one simulated
    /// step may take before the run is failed with a diagnostic instead of hanging.
    pub step_timeout: f64,
    /// `faketime` (default true): run the instance under libfaketime so Flux's own clock
    /// follows simulated time.
    pub faketime: bool,
    /// `faketime_start_lead` (seconds, default 30): the fake clock starts this long before
    /// the first submit, to absorb the instance's start-up.
    pub faketime_start_lead: f64,
    /// `max_jobs` (optional): replay only the first N jobs of the trace.
    pub max_jobs: Option<u64>,
    /// Keys accepted but ignored, and why; one line each, naming file, line and key.
    pub warnings: Vec<String>,
}

const DEFAULT_STEP_TIMEOUT: f64 = 60.0;
const DEFAULT_FAKETIME_START_LEAD: f64 = 30.0;
const DEFAULT_OUTPUT_DIR: &str = "output";

impl Config {
    /// Reads, checks and resolves the config at `path`. Also reads the files it names that
    /// decide the system (`config_json`, the resource file, the trace's first line), so a
    /// config that loads is one the engine can start from.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let config_path = std::path::absolute(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let text = std::fs::read_to_string(&config_path)
            .map_err(|source| ConfigError::Read { path: config_path.clone(), source })?;
        let mut settings = Settings::parse(&config_path, &text)?;
        let warnings = settings.take_warnings();

        if let Some(backend) = settings.str("backend").filter(|&b| b != "flux") {
            return Err(settings.error("backend", format!("expected \"flux\" (the only backend), found \"{backend}\"")));
        }
        let job_traces = settings
            .path("job_traces")
            .ok_or_else(|| settings.error("job_traces", "required key is missing"))?
            .to_path_buf();
        let trace_format = resolve_trace_format(&settings, &job_traces)?;
        let (resource, resource_shape) = resolve_resource(&settings)?;
        let system = resolve_system(&settings, resource_shape, &resource)?;
        let config_json = settings.path("config_json").map(Path::to_path_buf);
        let flux_config = match &config_json {
            None => serde_json::Map::new(),
            Some(path) => match read_json(path).map_err(|e| settings.error("config_json", e.to_string()))? {
                Value::Object(map) => map,
                _ => {
                    let problem = format!("{}: expected a JSON object (the Flux config)", path.display());
                    return Err(settings.error("config_json", problem));
                }
            },
        };
        let output_dir = match settings.path("output_dir") {
            Some(dir) => dir.to_path_buf(),
            None => settings.file().parent().unwrap_or(Path::new("/")).join(DEFAULT_OUTPUT_DIR),
        };
        let whole_node_graph = settings.bool("whole_node_graph").unwrap_or(false);
        if whole_node_graph && resource != ResourceSource::Synthetic {
            return Err(settings.error(
                "whole_node_graph",
                "needs the synthetic system (nnodes, ncpus): a resource file's graph is loaded as it is".to_string(),
            ));
        }
        let swf = SwfOptions {
            procs_per_node: narrow(&settings, "swf_procs_per_node")?.unwrap_or(1),
            epoch: settings.float("swf_epoch").map(SimTime::from_secs_f64),
        };

        Ok(Config {
            config_path,
            job_traces,
            trace_format,
            system,
            exclusive: settings.bool("exclusive").unwrap_or(false),
            whole_node_graph,
            config_json,
            flux_config,
            resource,
            output_dir,
            swf,
            step_timeout: settings.float("step_timeout").unwrap_or(DEFAULT_STEP_TIMEOUT),
            faketime: settings.bool("faketime").unwrap_or(true),
            faketime_start_lead: settings.float("faketime_start_lead").unwrap_or(DEFAULT_FAKETIME_START_LEAD),
            max_jobs: settings.int("max_jobs"),
            warnings,
        })
    }
}

impl Config {
    /// The system the scheduler manages: `system`, or with `whole_node_graph` its nodes
    /// with one core each.
    pub fn scheduler_system(&self) -> SystemSpec {
        if self.whole_node_graph { self.system.whole_nodes() } else { self.system }
    }

    /// Whether every job asks the scheduler for whole nodes.
    pub fn whole_node_requests(&self) -> bool {
        self.exclusive || self.whole_node_graph
    }
}

/// An integer key that must fit a `u32` (node and core counts).
fn narrow(settings: &Settings, key: &'static str) -> Result<Option<u32>, ConfigError> {
    settings
        .int(key)
        .map(|n| u32::try_from(n).map_err(|_| settings.error(key, format!("{n} is too large"))))
        .transpose()
}

fn resolve_trace_format(settings: &Settings, job_traces: &Path) -> Result<TraceFormat, ConfigError> {
    match settings.str("trace_format").unwrap_or("auto") {
        "sacct" => Ok(TraceFormat::Sacct),
        "swf" => Ok(TraceFormat::Swf),
        "auto" => TraceFormat::detect(job_traces).map_err(|e| settings.error("job_traces", e.to_string())),
        other => Err(settings.error("trace_format", format!("expected \"auto\", \"sacct\" or \"swf\", found \"{other}\""))),
    }
}

/// The resource source, and the node shape when it is an RV1 R (which then defines the system).
fn resolve_resource(settings: &Settings) -> Result<(ResourceSource, Option<SystemSpec>), ConfigError> {
    let (key, path) = match (settings.path("resource_file"), settings.path("resource_R")) {
        (None, None) => return Ok((ResourceSource::Synthetic, None)),
        (Some(_), Some(_)) => return Err(settings.error("resource_R", "use only one of resource_file or resource_R")),
        (Some(path), None) => ("resource_file", path),
        (None, Some(path)) => ("resource_R", path),
    };
    let value = read_json(path).map_err(|e| settings.error(key, e.to_string()))?;
    if rv1::is_rv1(&value) {
        let shape = rv1::node_shape(&value).map_err(|e| settings.error(key, format!("{}: {e}", path.display())))?;
        Ok((ResourceSource::Rv1(path.to_path_buf()), Some(shape)))
    } else if key == "resource_file" && value.get("graph").is_some() {
        Ok((ResourceSource::Jgf(path.to_path_buf()), None))
    } else {
        let expected = if key == "resource_R" {
            "an RV1 R object (version 1 with execution.R_lite)"
        } else {
            "an RV1 R object (version 1 with execution.R_lite) or a JGF graph (top-level \"graph\")"
        };
        Err(settings.error(key, format!("{}: expected {expected}", path.display())))
    }
}

/// The system shape: from an RV1 resource file (explicit keys must agree), else from the keys.
fn resolve_system(
    settings: &Settings,
    resource_shape: Option<SystemSpec>,
    resource: &ResourceSource,
) -> Result<SystemSpec, ConfigError> {
    // nnodes = 0 was the Python default and means "not given".
    let nnodes = narrow(settings, "nnodes")?.filter(|&n| n > 0);
    let ncpus = narrow(settings, "ncpus")?;
    let ngpus = narrow(settings, "ngpus")?;
    if let Some(shape) = resource_shape {
        let path = resource.path().expect("only a resource file has a shape");
        for (key, given, derived, what) in [
            ("nnodes", nnodes, shape.nnodes, "nodes"),
            ("ncpus", ncpus, shape.cores_per_node, "cores per node"),
            ("ngpus", ngpus, shape.gpus_per_node, "GPUs per node"),
        ] {
            if let Some(given) = given.filter(|&g| g != derived) {
                let problem = format!("{given} disagrees with {}, which has {derived} {what}", path.display());
                return Err(settings.error(key, problem));
            }
        }
        return Ok(shape);
    }
    let required = |key| {
        settings.error(key, "required (>= 1) unless resource_file or resource_R is an RV1 R describing the nodes")
    };
    Ok(SystemSpec {
        nnodes: nnodes.ok_or_else(|| required("nnodes"))?,
        cores_per_node: ncpus.ok_or_else(|| required("ncpus"))?,
        gpus_per_node: ngpus.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A folder with the given files; returns it and the path of `config.toml` in it.
    fn experiment(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let config = dir.path().join("config.toml");
        (dir, config)
    }

    const TRACE: &str = "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n1,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n";

    #[test]
    fn resolves_relative_paths_against_the_config_folder() {
        let (dir, config) = experiment(&[
            ("config.toml", "[flux_fiction]\njob_traces = \"traces/t.csv\"\nnnodes = 2\nncpus = 16\nconfig_json = \"flux.json\"\n"),
            ("traces/t.csv", TRACE),
            ("flux.json", r#"{"sched-fluxion-qmanager": {"queue-policy": "easy"}}"#),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.job_traces, dir.path().join("traces/t.csv"));
        assert_eq!(cfg.output_dir, dir.path().join("output"));
        assert_eq!(cfg.trace_format, TraceFormat::Sacct);
        assert_eq!(cfg.system, SystemSpec { nnodes: 2, cores_per_node: 16, gpus_per_node: 0 });
        assert_eq!(cfg.flux_config["sched-fluxion-qmanager"]["queue-policy"], "easy");
        assert_eq!(cfg.resource, ResourceSource::Synthetic);
        assert_eq!((cfg.step_timeout, cfg.faketime, cfg.faketime_start_lead), (60.0, true, 30.0));
        assert!(cfg.warnings.is_empty());
    }

    #[test]
    fn a_whole_node_graph_has_one_core_per_node_and_needs_the_synthetic_system() {
        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nnnodes = 3\nncpus = 16\nngpus = 2\nwhole_node_graph = true\n"),
            ("t.csv", "JobID,NNodes,NCPUS,NGPUS,Timelimit,Submit,Elapsed\n1,1,16,2,00:10:00,2019-01-01T00:00:00,00:06:00\n"),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.system, SystemSpec { nnodes: 3, cores_per_node: 16, gpus_per_node: 2 });
        assert_eq!(cfg.scheduler_system(), SystemSpec { nnodes: 3, cores_per_node: 1, gpus_per_node: 0 });
        assert!(cfg.whole_node_requests());

        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nresource_file = \"R.json\"\nwhole_node_graph = true\n"),
            ("t.csv", TRACE),
            ("R.json", r#"{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-3"}}]}}"#),
        ]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:3: whole_node_graph: needs the synthetic system"), "{err}");
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let (_dir, config) = experiment(&[("config.toml", "[flux_fiction]\njob_traces = \"t.csv\"\nnnode = 2\n")]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:3: [flux_fiction] nnode: unknown key (did you mean 'nnodes'?)"), "{err}");
    }

    #[test]
    fn missing_trace_and_counts_are_named() {
        let (_dir, config) = experiment(&[("config.toml", "nnodes = 2\nncpus = 1\n")]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.ends_with("config.toml: job_traces: required key is missing"), "{err}");

        let (_dir, config) = experiment(&[("config.toml", "job_traces = \"t.csv\"\nncpus = 1\n"), ("t.csv", TRACE)]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml: nnodes: required (>= 1)"), "{err}");

        let (_dir, config) = experiment(&[("config.toml", "job_traces = \"nope.csv\"\nnnodes = 1\nncpus = 1\n")]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:1: job_traces:") && err.contains("nope.csv: cannot read"), "{err}");
    }

    #[test]
    fn ignored_keys_load_with_warnings() {
        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nnnodes = 1\nncpus = 1\nnsockets = 2\nquiet = true\nlog_level = 10\n"),
            ("t.csv", TRACE),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.warnings.len(), 3);
        assert!(cfg.warnings[0].contains("config.toml:6: log_level: ignored:"), "{:?}", cfg.warnings);
    }

    #[test]
    fn backend_must_be_flux() {
        let (_dir, config) = experiment(&[("config.toml", "job_traces = \"t.csv\"\nbackend = \"mock\"\n")]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:2: backend: expected \"flux\""), "{err}");
    }

    const R: &str = r#"{"version": 1, "execution": {"R_lite": [{"rank": "0-7", "children": {"core": "0-95", "gpu": "0-3"}}]}}"#;

    #[test]
    fn an_rv1_resource_file_defines_the_system() {
        let (dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nresource_R = \"R.json\"\nncpus = 96\n"),
            ("t.csv", TRACE),
            ("R.json", R),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.system, SystemSpec { nnodes: 8, cores_per_node: 96, gpus_per_node: 4 });
        assert_eq!(cfg.resource, ResourceSource::Rv1(dir.path().join("R.json")));

        fs::write(&config, "job_traces = \"t.csv\"\nresource_file = \"R.json\"\nnnodes = 9\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:3: nnodes: 9 disagrees with") && err.contains("8 nodes"), "{err}");
    }

    #[test]
    fn a_jgf_resource_file_needs_the_counts() {
        let (dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nresource_file = \"g.json\"\nnnodes = 2\nncpus = 4\n"),
            ("t.csv", TRACE),
            ("g.json", r#"{"graph": {"nodes": [], "edges": []}}"#),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.resource, ResourceSource::Jgf(dir.path().join("g.json")));
        assert_eq!(cfg.system.nnodes, 2);

        fs::write(&config, "job_traces = \"t.csv\"\nresource_file = \"g.json\"\nresource_R = \"g.json\"\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("resource_R: use only one of resource_file or resource_R"), "{err}");
    }

    #[test]
    fn trace_format_is_detected_or_forced() {
        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"log.txt\"\nnnodes = 1\nncpus = 1\nswf_epoch = 0\nmax_jobs = 5\n"),
            ("log.txt", "\n; Version: 2\n1 0 -1 1 1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1\n"),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.trace_format, TraceFormat::Swf);
        assert_eq!(cfg.swf.epoch, Some(SimTime(0)));
        assert_eq!(cfg.max_jobs, Some(5));

        fs::write(&config, "job_traces = \"log.txt\"\nnnodes = 1\nncpus = 1\ntrace_format = \"csv\"\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:4: trace_format: expected \"auto\", \"sacct\" or \"swf\""), "{err}");
    }
}
