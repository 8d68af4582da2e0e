//! The table of every config key this crate accepts: its value type, and whether the
//! rewrite acts on it or only accepts it (with the reason) so that configs written for
//! the Python implementation keep loading.
//!
//! The table is data so that the unknown-key check, the type check and the
//! "ignored key" warnings all come from one place.

/// The TOML value a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// A string naming a file or directory; relative paths resolve against the config's folder.
    Path,
    Bool,
    Str,
    PositiveInt,
    NonNegativeInt,
    /// An integer or a float.
    Float,
    NonNegativeFloat,
    PositiveFloat,
}

impl ValueKind {
    /// How an error message describes the expected value.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            ValueKind::Path => "a path string",
            ValueKind::Bool => "true or false",
            ValueKind::Str => "a string",
            ValueKind::PositiveInt => "a positive integer",
            ValueKind::NonNegativeInt => "a non-negative integer",
            ValueKind::Float => "a number",
            ValueKind::NonNegativeFloat => "a non-negative number",
            ValueKind::PositiveFloat => "a positive number",
        }
    }
}

/// What the rewrite does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyUse {
    Read,
    /// Accepted for compatibility and otherwise ignored, for the reason given.
    Ignored(&'static str),
}

#[derive(Debug)]
pub(crate) struct KeySpec {
    pub name: &'static str,
    pub kind: ValueKind,
    pub key_use: KeyUse,
}

const fn read(name: &'static str, kind: ValueKind) -> KeySpec {
    KeySpec { name, kind, key_use: KeyUse::Read }
}

const fn ignored(name: &'static str, kind: ValueKind, why: &'static str) -> KeySpec {
    KeySpec { name, kind, key_use: KeyUse::Ignored(why) }
}

const BROKER_LOG: &str = "the emulator logs through the Flux broker log";
const NO_OTEL_BRIDGE: &str =
    "spans are written to output/otel_spans.jsonl and exported by flux-fiction-otel-export; there is no datagram bridge";
const OTEL_FILES: &str = "the OpenTelemetry files are always written under output_dir";
const EXACT_CLOCK: &str = "the fake clock is set exactly to each step's simulated time";
const OLD_HARNESS: &str = "it was metadata of the Python harness; the run directory keeps a copy of the config";

use ValueKind::*;

pub(crate) const KEYS: &[KeySpec] = &[
    read("job_traces", Path),
    read("trace_format", Str),
    read("max_jobs", PositiveInt),
    read("swf_procs_per_node", PositiveInt),
    read("swf_epoch", Float),
    read("nnodes", NonNegativeInt),
    read("ncpus", PositiveInt),
    read("ngpus", NonNegativeInt),
    read("exclusive", Bool),
    read("whole_node_graph", Bool),
    read("config_json", Path),
    read("resource_file", Path),
    read("resource_R", Path),
    read("output_dir", Path),
    read("output_compression", Str),
    read("backend", Str),
    read("step_timeout", PositiveFloat),
    read("faketime", Bool),
    read("faketime_start_lead", NonNegativeFloat),
    read("content_gc_interval", NonNegativeFloat),
    read("rabbit_nodes_per_rack", PositiveInt),
    read("rabbit_shares_per_rack", PositiveInt),
    read("rabbit_share_gib", PositiveInt),
    read("rabbit_storage_emit_dw", Bool),
    read("rabbit_storage_name", Str),
    ignored("nsockets", PositiveInt, "cores are counted per node (ncpus)"),
    ignored("log_level", NonNegativeInt, BROKER_LOG),
    ignored("log_file", Path, BROKER_LOG),
    ignored("quiet", Bool, BROKER_LOG),
    ignored("batch_job_starts", Bool, "starts are always acknowledged at the step's simulated time"),
    ignored(
        "account_system_latency",
        Bool,
        "a job starts at the simulated time of the step its start arrives in, and runs for exactly its trace run time",
    ),
    ignored("jobtap_logging", Bool, "the jobtap plugin logs through the Flux broker log"),
    ignored("faketime_timestamp_file", Path, "the run script owns the faketime stamp file"),
    ignored("faketime_initial_epoch", Float, "the fake clock follows the trace's own epoch times"),
    ignored(
        "faketime_seed",
        Bool,
        "the run script seeds the fake clock faketime_start_lead seconds before the first submit",
    ),
    ignored("faketime_tolerance", NonNegativeFloat, EXACT_CLOCK),
    ignored("faketime_near_event_threshold", NonNegativeFloat, EXACT_CLOCK),
    read("otel_enabled", Bool),
    read("otel_endpoint", Str),
    read("otel_service_name", Str),
    ignored("otel_bridge_socket", Path, NO_OTEL_BRIDGE),
    ignored("otel_summary_file", Path, OTEL_FILES),
    ignored("otel_spans_file", Path, OTEL_FILES),
    ignored("otel_bridge_log_file", Path, NO_OTEL_BRIDGE),
    ignored("status_file", Path, "run artifacts are always written under output_dir"),
    ignored("summary_file", Path, "run artifacts are always written under output_dir"),
    ignored("source_config_file", Path, OLD_HARNESS),
    ignored("config_file", Path, OLD_HARNESS),
    ignored("raw_jobspec_file", Path, "jobspecs are always generated from the trace rows"),
];

pub(crate) fn lookup(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|spec| spec.name == name)
}

/// The known key closest to a misspelt one, if any is close enough to be a likely typo.
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|spec| (strsim::damerau_levenshtein(name, spec.name), spec.name))
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_unique() {
        for (i, spec) in KEYS.iter().enumerate() {
            assert!(KEYS[i + 1..].iter().all(|other| other.name != spec.name), "{} twice", spec.name);
        }
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(suggest("nnode"), Some("nnodes"));
        assert_eq!(suggest("job_trace"), Some("job_traces"));
        assert_eq!(suggest("scheduler_policy"), None);
    }
}
