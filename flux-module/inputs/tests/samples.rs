//! The sample traces shipped with the project load through the public API, from a TOML
//! config, and become jobspecs.

use std::path::{Path, PathBuf};

use ff_inputs::{Config, RequestRules, SimDuration, SimTime, jobspec_json, open_trace, preflight};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn config(trace: &str, system: &str) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = format!("[flux_fiction]\njob_traces = {:?}\n{system}", fixture(trace).display().to_string());
    std::fs::write(&path, text).unwrap();
    let cfg = Config::load(&path).unwrap();
    (dir, cfg)
}

const START: SimTime = SimTime::from_secs(1_546_300_800);

#[test]
fn every_sample_trace_replays_on_its_system() {
    for (trace, system, jobs, nnodes, cores, gpus) in [
        ("10-single-node.csv", "nnodes = 30\nncpus = 16\n", 10, 1, 16, 0),
        ("10-multi-node.csv", "nnodes = 30\nncpus = 16\n", 10, 10, 16, 0),
        ("10-gpu.csv", "nnodes = 4\nncpus = 36\nngpus = 2\n", 10, 1, 36, 2),
        ("10-gaps.csv", "nnodes = 30\nncpus = 16\n", 10, 1, 16, 0),
        ("10-backfill.csv", "nnodes = 30\nncpus = 16\n", 11, 30, 16, 0),
    ] {
        let (_dir, cfg) = config(trace, system);
        let summary = preflight(&cfg).unwrap_or_else(|e| panic!("{trace}: {e}"));
        assert_eq!(summary.jobs, jobs, "{trace}");
        assert_eq!(summary.first_submit, Some(START), "{trace}");
        assert_eq!(
            (summary.max_nnodes, summary.max_cores_per_node, summary.max_gpus_per_node),
            (nnodes, cores, gpus),
            "{trace}"
        );
        assert!(summary.warnings.is_empty(), "{trace}: {:?}", summary.warnings);
        for job in open_trace(&cfg).unwrap() {
            let job = job.unwrap();
            let jobspec: serde_json::Value = serde_json::from_str(&jobspec_json(&job, &RequestRules::new(&cfg))).unwrap();
            assert_eq!(jobspec["attributes"]["user"]["ff_trace_idx"], job.trace_idx);
        }
    }
}

#[test]
fn gaps_are_an_hour_apart() {
    let (_dir, cfg) = config("10-gaps.csv", "nnodes = 30\nncpus = 16\n");
    let submits: Vec<SimTime> = open_trace(&cfg).unwrap().map(|job| job.unwrap().submit).collect();
    assert_eq!(submits.len(), 10);
    for (i, submit) in submits.iter().enumerate() {
        assert_eq!(*submit, START + SimDuration::from_secs(3600 * i as i64));
    }
}

#[test]
fn the_backfill_trace_does_not_fit_a_smaller_system() {
    let (_dir, cfg) = config("10-backfill.csv", "nnodes = 20\nncpus = 16\n");
    let err = preflight(&cfg).unwrap_err().to_string();
    assert!(err.contains("10-backfill.csv:3: job 2 asks for nnodes=30"), "{err}");
}

/// `bytes` gzip-compressed into `dir/name`.
fn write_gzip(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    path
}

#[test]
fn every_sample_trace_reads_the_same_gzip_compressed() {
    for (trace, system) in [
        ("10-single-node.csv", "nnodes = 30\nncpus = 16\n"),
        ("10-gpu.csv", "nnodes = 4\nncpus = 36\nngpus = 2\n"),
        ("10-backfill.csv", "nnodes = 30\nncpus = 16\n"),
    ] {
        let (dir, plain) = config(trace, system);
        let gz = write_gzip(dir.path(), &format!("{trace}.gz"), &std::fs::read(fixture(trace)).unwrap());
        let config = dir.path().join("gz.toml");
        std::fs::write(&config, format!("job_traces = {:?}\n{system}", gz.display().to_string())).unwrap();
        let gzipped = Config::load(&config).unwrap();
        assert_eq!(gzipped.trace_format, plain.trace_format, "{trace}");
        let jobs = |cfg: &Config| open_trace(cfg).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(jobs(&gzipped), jobs(&plain), "{trace}");
        let (plain_summary, gz_summary) = (preflight(&plain).unwrap(), preflight(&gzipped).unwrap());
        assert_eq!(gz_summary, plain_summary, "{trace}");
    }
}

#[test]
fn a_gzip_swf_log_is_detected_by_its_name_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = "1 0 -1 600 16 -1 -1 16 3600 -1 1 -1 -1 -1 0 -1 -1 -1\n\
               2 60 -1 60 4 -1 -1 4 120 -1 1 -1 -1 -1 0 -1 -1 -1\n";
    std::fs::write(dir.path().join("log.swf"), log).unwrap();
    write_gzip(dir.path(), "log.swf.gz", log.as_bytes());
    let load = |trace: &str| {
        let config = dir.path().join("c.toml");
        std::fs::write(&config, format!("job_traces = \"{trace}\"\nnnodes = 16\nncpus = 4\nswf_epoch = 0\n")).unwrap();
        let cfg = Config::load(&config).unwrap();
        assert_eq!(cfg.trace_format, ff_inputs::TraceFormat::Swf, "{trace}");
        open_trace(&cfg).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
    };
    let jobs = load("log.swf.gz");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[1].submit, SimTime::from_secs(60));
    assert_eq!(jobs, load("log.swf"));
}
