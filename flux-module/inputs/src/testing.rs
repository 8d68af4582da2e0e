//! Helpers for unit tests: a config pointing at a trace written to a temporary file,
//! without going through a TOML file.

use std::path::Path;

use crate::config::{Config, OutputCompression, ResourceSource, SwfOptions};
use crate::system::SystemSpec;
use crate::trace::TraceFormat;

/// A config that replays `path` in `format` on `system`, with every other key at its default.
pub(crate) fn config_for(path: &Path, format: TraceFormat, system: SystemSpec) -> Config {
    Config {
        config_path: path.with_file_name("config.toml"),
        job_traces: path.to_path_buf(),
        trace_format: format,
        system,
        node_shape: Default::default(),
        storage: None,
        dw_name: None,
        exclusive: false,
        whole_node_graph: false,
        config_json: None,
        flux_config: Default::default(),
        resource: ResourceSource::Synthetic,
        output_dir: path.with_file_name("output"),
        swf: SwfOptions { procs_per_node: 1, epoch: None },
        step_timeout: 60.0,
        faketime: true,
        faketime_start_lead: 30.0,
        content_gc_interval: 30.0,
        max_jobs: None,
        output_compression: OutputCompression::Auto,
        otel: Default::default(),
        warnings: Vec::new(),
    }
}

/// `text` written to a temporary file (kept alive by the returned handle) and a config for it.
pub(crate) fn trace_file(text: &str, format: TraceFormat, system: SystemSpec) -> (tempfile::NamedTempFile, Config) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    let cfg = config_for(file.path(), format, system);
    (file, cfg)
}

/// `bytes` compressed as one gzip member.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// 4 nodes of 16 cores, no GPUs.
pub(crate) const SMALL: SystemSpec = SystemSpec { nnodes: 4, cores_per_node: 16, gpus_per_node: 0 };
