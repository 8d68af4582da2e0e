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

use serde::Deserialize;
use serde_json::Value;

use crate::json_file::{read_json, read_json_as};
use crate::system::inference::{GraphFacts, infer};
use crate::system::jgf::{Graph, JgfGraph};
use crate::system::rack_graph::rack_layout;
use crate::system::{NodeShape, RackKeys, StorageLayout, SystemSpec, rv1};
use crate::time::{SimTime, show_secs};
use crate::trace::TraceFormat;

pub use error::ConfigError;
pub use settings::{SECTION, check_key};
use settings::Settings;

/// Where the instance's resources come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceSource {
    /// Built from `nnodes`, `ncpus` and `ngpus`.
    Synthetic,
    /// Built from those and the `rabbit_*` keys: racks of nodes and SSD shares.
    Racks(RackKeys),
    /// A full RV1 R object (`resource_R`, or a `resource_file` that is one), installed as is.
    Rv1(PathBuf),
    /// A JGF graph (`resource_file`), attached under `scheduling` of a synthetic R.
    Jgf(PathBuf),
}

impl ResourceSource {
    /// The resource file, if there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ResourceSource::Synthetic | ResourceSource::Racks(_) => None,
            ResourceSource::Rv1(path) | ResourceSource::Jgf(path) => Some(path),
        }
    }
}

/// `output_compression`: whether the artifacts that grow with every job (`pernode.json`,
/// `eventlog.csv`) are written gzip-compressed (as `pernode.json.gz`, `eventlog.csv.gz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputCompression {
    /// `"auto"` (default): compressed when the replay has more than [`Self::AUTO_GZIP_ABOVE_JOBS`] jobs.
    Auto,
    /// `"gzip"`: always compressed.
    Gzip,
    /// `"none"`: never compressed.
    None,
}

impl OutputCompression {
    /// Up to this many jobs the files stay plain (about 45 MB for 10,000 jobs of an archive log);
    /// beyond, they would grow by about 5 KB per job.
    pub const AUTO_GZIP_ABOVE_JOBS: u64 = 10_000;

    /// Whether a replay of `jobs` jobs writes the growing artifacts compressed.
    pub fn gzip(self, jobs: u64) -> bool {
        match self {
            OutputCompression::Auto => jobs > Self::AUTO_GZIP_ABOVE_JOBS,
            OutputCompression::Gzip => true,
            OutputCompression::None => false,
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
    /// The levels between a node and its cores and GPUs in the resource graph (none
    /// without a graph).
    pub node_shape: NodeShape,
    /// Where the rabbit storage is: from the resource graph, or from the `rabbit_*`
    /// keys; None for a system without storage.
    pub storage: Option<StorageLayout>,
    /// `rabbit_storage_emit_dw` (default false) and `rabbit_storage_name` (default
    /// `rabbit`): when set, a job with storage carries the `#DW jobdw` directive with
    /// this name, as flux-coral2 expects it.
    pub dw_name: Option<String>,
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
    /// `content_gc_interval` (seconds, default 30; 0 turns it off): how often, in
    /// wall-clock time, `flux gc` reclaims the KVS versions the content store keeps.
    pub content_gc_interval: f64,
    /// `max_jobs` (optional): replay only the first N jobs of the trace.
    pub max_jobs: Option<u64>,
    pub output_compression: OutputCompression,
    /// `otel_enabled`, `otel_endpoint`, `otel_service_name`: profiling with OpenTelemetry.
    pub otel: OtelSettings,
    /// Keys accepted but ignored, and why; one line each, naming file, line and key.
    pub warnings: Vec<String>,
}

/// The OpenTelemetry keys; `flux-fiction-run`'s `--otel*` options override them.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelSettings {
    /// `otel_enabled` (default false): record spans of the replay.
    pub enabled: bool,
    /// `otel_endpoint`: the collector's OTLP/HTTP traces URL (http://); None leaves the choice to the
    /// exporter (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else the local default).
    pub endpoint: Option<String>,
    /// `otel_service_name` (default `flux-fiction`): the spans' `service.name`.
    pub service_name: String,
}

impl Default for OtelSettings {
    fn default() -> Self {
        OtelSettings { enabled: false, endpoint: None, service_name: "flux-fiction".into() }
    }
}

const DEFAULT_STEP_TIMEOUT: f64 = 60.0;
/// The most `step_timeout`, `faketime_start_lead` and `content_gc_interval` may be: a day. A step that takes
/// longer is stuck, and larger values overflow the clocks they are added to.
const MAX_WAIT_SECONDS: f64 = 86_400.0;
const DEFAULT_FAKETIME_START_LEAD: f64 = 30.0;
const DEFAULT_CONTENT_GC_INTERVAL: f64 = 30.0;
const DEFAULT_OUTPUT_DIR: &str = "output";
/// `name=` of the `#DW jobdw` directive when `rabbit_storage_name` is not set.
const DEFAULT_DW_NAME: &str = "rabbit";

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
        let mut warnings = settings.take_warnings();

        if let Some(backend) = settings.str("backend").filter(|&b| b != "flux") {
            return Err(settings.error("backend", format!("expected \"flux\" (the only backend), found \"{backend}\"")));
        }
        let job_traces = settings
            .path("job_traces")
            .ok_or_else(|| settings.error("job_traces", "required key is missing"))?
            .to_path_buf();
        let trace_format = resolve_trace_format(&settings, &job_traces)?;
        let resolved = resolve_resource(&settings, &mut warnings)?;
        let system = resolve_system(&settings, &resolved)?;
        let ResolvedResource { source, graph, .. } = resolved;
        let racks = rack_keys(&settings)?;
        let whole_node_graph = settings.bool("whole_node_graph").unwrap_or(false);
        check_graph_size(&settings, &source, &system, racks.as_ref(), whole_node_graph)?;
        let (resource, node_shape, storage) = match (racks, graph) {
            (Some(_), _) if source != ResourceSource::Synthetic => {
                let problem = "the resource file describes the system and its storage: remove the rabbit_* keys";
                return Err(settings.error("rabbit_nodes_per_rack", problem));
            }
            (Some(keys), _) => (ResourceSource::Racks(keys), NodeShape::default(), Some(rack_layout(&system, &keys))),
            (None, Some(facts)) => (source, facts.node_shape, facts.storage),
            (None, None) => (source, NodeShape::default(), None),
        };
        let dw_name = settings
            .bool("rabbit_storage_emit_dw")
            .unwrap_or(false)
            .then(|| settings.str("rabbit_storage_name").unwrap_or(DEFAULT_DW_NAME).to_string());
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
        if whole_node_graph && resource != ResourceSource::Synthetic {
            let problem = match resource {
                ResourceSource::Racks(_) => "cannot be combined with the rabbit_* keys: their racks hold every core",
                _ => "needs the synthetic system (nnodes, ncpus): a resource file's graph is loaded as it is",
            };
            return Err(settings.error("whole_node_graph", problem));
        }
        let otel = resolve_otel(&settings)?;
        let swf = SwfOptions {
            procs_per_node: narrow(&settings, "swf_procs_per_node")?.unwrap_or(1),
            epoch: settings
                .float("swf_epoch")
                .map(|secs| SimTime::from_input_secs(secs).map_err(|problem| settings.error("swf_epoch", problem)))
                .transpose()?,
        };

        Ok(Config {
            config_path,
            job_traces,
            trace_format,
            system,
            node_shape,
            storage,
            dw_name,
            exclusive: settings.bool("exclusive").unwrap_or(false),
            whole_node_graph,
            config_json,
            flux_config,
            resource,
            output_dir,
            swf,
            step_timeout: seconds_at_most(&settings, "step_timeout", MAX_WAIT_SECONDS)?.unwrap_or(DEFAULT_STEP_TIMEOUT),
            faketime: settings.bool("faketime").unwrap_or(true),
            faketime_start_lead: seconds_at_most(&settings, "faketime_start_lead", MAX_WAIT_SECONDS)?
                .unwrap_or(DEFAULT_FAKETIME_START_LEAD),
            content_gc_interval: seconds_at_most(&settings, "content_gc_interval", MAX_WAIT_SECONDS)?
                .unwrap_or(DEFAULT_CONTENT_GC_INTERVAL),
            max_jobs: settings.int("max_jobs"),
            output_compression: resolve_output_compression(&settings)?,
            otel,
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

    /// The system the instance will get, in one line: its nodes, what a node holds and
    /// its rabbit storage.
    pub fn system_description(&self) -> String {
        let SystemSpec { nnodes, cores_per_node, gpus_per_node } = self.system;
        let mut text = format!("{nnodes} nodes x {cores_per_node} cores x {gpus_per_node} GPUs ({})", self.node_shape);
        if let Some(storage) = &self.storage {
            text.push_str(&format!("; {storage}"));
        }
        text
    }
}

/// The most vertices the scheduler's resource graph may have. Fluxion took about 30 kB
/// of broker memory per vertex on a Tuolumne-size graph (see README, *Rabbit storage*),
/// so ten million would need some 300 GB; a count beyond that is a typo, which would
/// otherwise surface as an instance that never starts.
const MAX_GRAPH_VERTICES: u64 = 10_000_000;
/// The most rabbit storage a system may have in all, in GiB (a zettabyte).
const MAX_STORAGE_GIB: u64 = 1_000_000_000_000;

/// Refuses a system whose resource graph (a vertex per node, core and GPU, and per
/// rack and SSD share) is too large to build, and rack storage whose sizes overflow.
fn check_graph_size(
    settings: &Settings,
    source: &ResourceSource,
    system: &SystemSpec,
    racks: Option<&RackKeys>,
    whole_node_graph: bool,
) -> Result<(), ConfigError> {
    let scheduled = if whole_node_graph { system.whole_nodes() } else { *system };
    let per_node = 1 + u64::from(scheduled.cores_per_node) + u64::from(scheduled.gpus_per_node);
    let rack_count = racks.map_or(0, |keys| u64::from(system.nnodes.div_ceil(keys.nodes_per_rack)));
    let shares = racks.map_or(0, |keys| rack_count * u64::from(keys.shares_per_rack));
    let vertices = u64::from(scheduled.nnodes) * per_node + rack_count + shares;
    if vertices > MAX_GRAPH_VERTICES {
        let key = match source {
            ResourceSource::Rv1(_) | ResourceSource::Jgf(_) if settings.path("resource_R").is_some() => "resource_R",
            ResourceSource::Rv1(_) | ResourceSource::Jgf(_) => "resource_file",
            _ if shares > MAX_GRAPH_VERTICES / 2 => "rabbit_shares_per_rack",
            _ => "nnodes",
        };
        let problem = format!(
            "the system ({scheduled}{}) would give the scheduler a resource graph of {vertices} vertices; \
             at most {MAX_GRAPH_VERTICES} are supported",
            if shares > 0 { format!(", {shares} SSD shares") } else { String::new() }
        );
        return Err(settings.error(key, problem));
    }
    if let Some(keys) = racks {
        let total = u64::from(keys.shares_per_rack)
            .checked_mul(keys.share_gib)
            .and_then(|per_rack| per_rack.checked_mul(rack_count))
            .filter(|&total| total <= MAX_STORAGE_GIB);
        if total.is_none() {
            let problem = format!(
                "{} racks of {} shares of {} GiB exceed {MAX_STORAGE_GIB} GiB of storage in all",
                rack_count, keys.shares_per_rack, keys.share_gib
            );
            return Err(settings.error("rabbit_share_gib", problem));
        }
    }
    Ok(())
}

/// A number of seconds that must not exceed `max`.
fn seconds_at_most(settings: &Settings, key: &'static str, max: f64) -> Result<Option<f64>, ConfigError> {
    match settings.float(key) {
        Some(secs) if secs > max => {
            Err(settings.error(key, format!("{} s is too long: at most {max} s", show_secs(secs))))
        }
        secs => Ok(secs),
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

fn resolve_output_compression(settings: &Settings) -> Result<OutputCompression, ConfigError> {
    match settings.str("output_compression").unwrap_or("auto") {
        "auto" => Ok(OutputCompression::Auto),
        "gzip" => Ok(OutputCompression::Gzip),
        "none" => Ok(OutputCompression::None),
        other => Err(settings.error(
            "output_compression",
            format!("expected \"auto\", \"gzip\" or \"none\", found \"{other}\""),
        )),
    }
}

/// What the resource file (if any) says about the system.
struct ResolvedResource {
    source: ResourceSource,
    /// The node shape of an RV1 R's `R_lite`, which then defines the system.
    rv1_shape: Option<SystemSpec>,
    /// What its resource graph says: a JGF file's, or the `scheduling` graph of an R.
    graph: Option<GraphFacts>,
}

/// A resource file: an RV1 R (perhaps with a graph under `scheduling`) or a JGF graph.
/// Its graph is read typed, not as a JSON tree (see [`JgfGraph`]).
#[derive(Deserialize)]
struct ResourceFile {
    version: Option<Value>,
    execution: Option<Value>,
    scheduling: Option<SchedulingSection>,
    graph: Option<JgfGraph>,
}

#[derive(Deserialize)]
struct SchedulingSection {
    graph: Option<JgfGraph>,
}

/// Reads the resource file, if any, and its graph. A graph whose SSDs are all marked
/// down gets a warning: `resource_r` installs them up.
fn resolve_otel(settings: &Settings) -> Result<OtelSettings, ConfigError> {
    let endpoint = settings.str("otel_endpoint").map(str::to_string);
    if let Some(url) = endpoint.as_deref().filter(|u| !u.starts_with("http://")) {
        let problem = format!("expected an http:// URL (OTLP/HTTP, no TLS), found \"{url}\"");
        return Err(settings.error("otel_endpoint", problem));
    }
    let defaults = OtelSettings::default();
    let service_name = settings.str("otel_service_name").map_or(defaults.service_name, str::to_string);
    if service_name.trim().is_empty() {
        return Err(settings.error("otel_service_name", "must not be empty"));
    }
    Ok(OtelSettings { enabled: settings.bool("otel_enabled").unwrap_or(defaults.enabled), endpoint, service_name })
}

fn resolve_resource(settings: &Settings, warnings: &mut Vec<String>) -> Result<ResolvedResource, ConfigError> {
    let (key, path) = match (settings.path("resource_file"), settings.path("resource_R")) {
        (None, None) => return Ok(ResolvedResource { source: ResourceSource::Synthetic, rv1_shape: None, graph: None }),
        (Some(_), Some(_)) => return Err(settings.error("resource_R", "use only one of resource_file or resource_R")),
        (Some(path), None) => ("resource_file", path),
        (None, Some(path)) => ("resource_R", path),
    };
    let file: ResourceFile = read_json_as(path).map_err(|e| settings.error(key, e.to_string()))?;
    let file_error = |problem: String| settings.error(key, format!("{}: {problem}", path.display()));
    let rv1 = serde_json::json!({"version": file.version, "execution": file.execution});
    let (source, rv1_shape, graph) = if rv1::is_rv1(&rv1) {
        let shape = rv1::node_shape(&rv1).map_err(file_error)?;
        (ResourceSource::Rv1(path.to_path_buf()), Some(shape), file.scheduling.and_then(|s| s.graph))
    } else if key == "resource_file" && file.graph.is_some() {
        (ResourceSource::Jgf(path.to_path_buf()), None, file.graph)
    } else {
        let expected = if key == "resource_R" {
            "an RV1 R object (version 1 with execution.R_lite)"
        } else {
            "an RV1 R object (version 1 with execution.R_lite) or a JGF graph (top-level \"graph\")"
        };
        return Err(settings.error(key, format!("{}: expected {expected}", path.display())));
    };
    let graph = match graph {
        None => None,
        Some(jgf) => {
            let graph = Graph::from_jgf(jgf).map_err(|e| file_error(format!("resource graph: {e}")))?;
            let legacy = graph.legacy_down_ssds();
            if legacy > 0 {
                warnings.push(format!(
                    "{}: normalized {legacy} legacy SSD status values from 1 (down) to 0 (up) for Fluxion",
                    path.display()
                ));
            }
            Some(infer(&graph).map_err(|e| file_error(format!("resource graph: {e}")))?)
        }
    };
    Ok(ResolvedResource { source, rv1_shape, graph })
}

/// The system shape: from an RV1 resource file's R_lite, else from a JGF resource file's
/// graph (explicit keys must agree with either), else from the keys.
fn resolve_system(settings: &Settings, resolved: &ResolvedResource) -> Result<SystemSpec, ConfigError> {
    // nnodes = 0 was the Python default and means "not given".
    let nnodes = narrow(settings, "nnodes")?.filter(|&n| n > 0);
    let ncpus = narrow(settings, "ncpus")?;
    let ngpus = narrow(settings, "ngpus")?;
    if let Some(shape) = resolved.rv1_shape.or(resolved.graph.as_ref().map(|facts| facts.system)) {
        let path = resolved.source.path().expect("only a resource file has a shape");
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
    let required = |key| settings.error(key, "required (>= 1) unless resource_file or resource_R describes the nodes");
    Ok(SystemSpec {
        nnodes: nnodes.ok_or_else(|| required("nnodes"))?,
        cores_per_node: ncpus.ok_or_else(|| required("ncpus"))?,
        gpus_per_node: ngpus.unwrap_or(0),
    })
}

/// The `rabbit_*` keys of a synthetic storage system: all three, or none.
fn rack_keys(settings: &Settings) -> Result<Option<RackKeys>, ConfigError> {
    const KEYS: [&str; 3] = ["rabbit_nodes_per_rack", "rabbit_shares_per_rack", "rabbit_share_gib"];
    let values = KEYS.map(|key| settings.int(key));
    match values {
        [None, None, None] => Ok(None),
        [Some(nodes), Some(shares), Some(gib)] => {
            let narrow = |key, n: u64| u32::try_from(n).map_err(|_| settings.error(key, format!("{n} is too large")));
            Ok(Some(RackKeys {
                nodes_per_rack: narrow(KEYS[0], nodes)?,
                shares_per_rack: narrow(KEYS[1], shares)?,
                share_gib: gib,
            }))
        }
        _ => {
            let given = KEYS.iter().zip(values).find(|(_, v)| v.is_some()).map(|(k, _)| *k).unwrap_or(KEYS[0]);
            let missing: Vec<&str> = KEYS.iter().zip(values).filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
            Err(settings.error(
                given,
                format!("a synthetic system with rabbit storage also needs {}", missing.join(" and ")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::rack_graph::rack_graph;
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
        assert_eq!(cfg.content_gc_interval, 30.0);
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
    fn output_compression_defaults_to_gzip_only_past_ten_thousand_jobs() {
        let load = |line: &str| {
            let toml = format!("job_traces = \"t.csv\"\nnnodes = 2\nncpus = 16\n{line}");
            let (_dir, config) = experiment(&[("config.toml", &toml), ("t.csv", TRACE)]);
            Config::load(&config).map(|cfg| cfg.output_compression).map_err(|e| e.to_string())
        };
        let auto = load("").unwrap();
        assert_eq!((auto.gzip(10_000), auto.gzip(10_001)), (false, true));
        assert!(load("output_compression = \"gzip\"\n").unwrap().gzip(1));
        assert!(!load("output_compression = \"none\"\n").unwrap().gzip(100_000));
        let err = load("output_compression = \"zstd\"\n").unwrap_err();
        assert!(err.contains("config.toml:4: output_compression: expected \"auto\", \"gzip\" or \"none\""), "{err}");
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
    fn otel_keys_are_read_and_checked() {
        let base = "job_traces = \"t.csv\"\nnnodes = 1\nncpus = 1\n";
        let (_dir, config) = experiment(&[("config.toml", base), ("t.csv", TRACE)]);
        let otel = Config::load(&config).unwrap().otel;
        assert_eq!(otel, OtelSettings::default());
        assert_eq!(otel.service_name, "flux-fiction");

        let keys = "otel_enabled = true\notel_endpoint = \"http://h:4318/v1/traces\"\notel_service_name = \"ff\"\n";
        let text = format!("{base}{keys}otel_bridge_socket = \"/tmp/s\"\n");
        let (_dir, config) = experiment(&[("config.toml", &text), ("t.csv", TRACE)]);
        let cfg = Config::load(&config).unwrap();
        let endpoint = Some("http://h:4318/v1/traces".into());
        assert_eq!(cfg.otel, OtelSettings { enabled: true, endpoint, service_name: "ff".into() });
        assert_eq!(cfg.warnings.len(), 1, "{:?}", cfg.warnings);
        assert!(cfg.warnings[0].contains("otel_bridge_socket: ignored:"), "{:?}", cfg.warnings);

        let text = format!("{base}otel_endpoint = \"h:4318\"\n");
        let (_dir, config) = experiment(&[("config.toml", &text), ("t.csv", TRACE)]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:4: otel_endpoint: expected an http:// URL"), "{err}");
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

    /// A JGF file of 2 racks, each with 1 node of 4 cores and 2 shares of 10 GiB.
    fn small_jgf(ssd_status: Option<i64>) -> String {
        let system = SystemSpec { nnodes: 2, cores_per_node: 4, gpus_per_node: 0 };
        let mut jgf = serde_json::to_value(rack_graph(&system, &RackKeys { nodes_per_rack: 1, shares_per_rack: 2, share_gib: 10 })).unwrap();
        for vertex in jgf["graph"]["nodes"].as_array_mut().unwrap() {
            if let (Some(status), "ssd") = (ssd_status, vertex["metadata"]["type"].as_str().unwrap()) {
                vertex["metadata"]["status"] = status.into();
            }
        }
        jgf.to_string()
    }

    #[test]
    fn a_jgf_resource_file_defines_the_system_and_its_storage() {
        let jgf = small_jgf(None);
        let (dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nresource_file = \"g.json\"\nncpus = 4\n"),
            ("t.csv", TRACE),
            ("g.json", &jgf),
        ]);
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.resource, ResourceSource::Jgf(dir.path().join("g.json")));
        assert_eq!(cfg.system, SystemSpec { nnodes: 2, cores_per_node: 4, gpus_per_node: 0 });
        let storage = cfg.storage.as_ref().unwrap();
        assert_eq!((storage.parents.len(), storage.share_gib, storage.total_gib()), (2, 10, 40));
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        assert_eq!(
            cfg.system_description(),
            "2 nodes x 4 cores x 0 GPUs (node > cores, GPUs); \
             rabbit storage in 2 racks, 1 node and 2 SSD shares of 10 GiB (20 GiB) each, 40 GiB in all"
        );

        fs::write(&config, "job_traces = \"t.csv\"\nresource_file = \"g.json\"\nnnodes = 3\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("config.toml:3: nnodes: 3 disagrees with") && err.contains("2 nodes"), "{err}");

        fs::write(&config, "job_traces = \"t.csv\"\nresource_file = \"g.json\"\nrabbit_nodes_per_rack = 1\nrabbit_shares_per_rack = 1\nrabbit_share_gib = 1\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.ends_with("config.toml:3: rabbit_nodes_per_rack: the resource file describes the system and its storage: remove the rabbit_* keys"), "{err}");

        fs::write(dir.path().join("g.json"), small_jgf(Some(1))).unwrap();
        fs::write(&config, "job_traces = \"t.csv\"\nresource_file = \"g.json\"\n").unwrap();
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.warnings.len(), 1);
        assert!(cfg.warnings[0].ends_with("g.json: normalized 4 legacy SSD status values from 1 (down) to 0 (up) for Fluxion"));

        fs::write(&config, "job_traces = \"t.csv\"\nresource_file = \"g.json\"\nresource_R = \"g.json\"\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(err.contains("resource_R: use only one of resource_file or resource_R"), "{err}");
    }

    #[test]
    fn a_jgf_with_ssds_but_no_size_is_refused() {
        let jgf = small_jgf(None).replace("\"size\":10", "\"sizes\":10");
        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nresource_file = \"g.json\"\n"),
            ("t.csv", TRACE),
            ("g.json", &jgf),
        ]);
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(
            err.contains("config.toml:2: resource_file: ")
                && err.ends_with("g.json: resource graph: vertex \"7\" (ssd ssd0): an ssd without a size: give metadata.size, its capacity in GiB"),
            "{err}"
        );
    }

    #[test]
    fn three_keys_make_a_tuolumne_like_rack_system() {
        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nnnodes = 64\nncpus = 96\nngpus = 4\n\
                             rabbit_nodes_per_rack = 16\nrabbit_shares_per_rack = 36\nrabbit_share_gib = 453\n"),
            ("t.csv", "JobID,NNodes,NCPUS,NGPUS,Timelimit,Submit,Elapsed\n"),
        ]);
        let cfg = Config::load(&config).unwrap();
        let keys = RackKeys { nodes_per_rack: 16, shares_per_rack: 36, share_gib: 453 };
        assert_eq!(cfg.resource, ResourceSource::Racks(keys));
        let storage = cfg.storage.unwrap();
        assert_eq!(storage.parents.len(), 4);
        assert_eq!((storage.nodes_per_parent, storage.shares_per_parent, storage.share_gib), (16, 36, 453));
        assert_eq!(storage.parent_gib, 16_308);

        fs::write(&config, "job_traces = \"t.csv\"\nnnodes = 4\nncpus = 1\nrabbit_share_gib = 453\n").unwrap();
        let err = Config::load(&config).unwrap_err().to_string();
        assert!(
            err.ends_with("config.toml:4: rabbit_share_gib: a synthetic system with rabbit storage also needs \
                           rabbit_nodes_per_rack and rabbit_shares_per_rack"),
            "{err}"
        );
    }

    #[test]
    fn the_dw_directive_name_defaults_to_rabbit() {
        let (_dir, config) = experiment(&[
            ("config.toml", "job_traces = \"t.csv\"\nnnodes = 1\nncpus = 1\nrabbit_storage_emit_dw = true\n"),
            ("t.csv", TRACE),
        ]);
        assert_eq!(Config::load(&config).unwrap().dw_name.as_deref(), Some("rabbit"));
        fs::write(&config, "job_traces = \"t.csv\"\nnnodes = 1\nncpus = 1\nrabbit_storage_name = \"x\"\n").unwrap();
        assert_eq!(Config::load(&config).unwrap().dw_name, None, "only with rabbit_storage_emit_dw");
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
