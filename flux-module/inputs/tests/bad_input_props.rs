//! Property tests: the trace readers and the config reader, fed valid inputs that were
//! then mutated (bytes and fields deleted, duplicated, swapped, replaced by huge,
//! negative or non-numeric values, random unicode, a BOM, CR line ends), never panic, and
//! every error they give names where the problem is: a trace error its file and line,
//! a config error its file and the key (or, for TOML syntax, the line).
//!
//! Pure random bytes rarely get past a header, so each case starts from a valid input
//! generated from the case's seed and applies a few mutations to it. The case count is
//! kept small enough for `cargo test` to stay fast.

use std::path::Path;

use ff_inputs::config::SECTION;
use ff_inputs::{Config, ConfigError, PreflightError, TraceError, open_trace, preflight};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::Config as ProptestConfig;

/// Values that break a field in every way a trace or config has been seen to.
const NASTY: &[&str] = &[
    "",
    "0",
    "-1",
    "-0",
    "1e300",
    "-1e300",
    "NaN",
    "inf",
    "-inf",
    "99999999999999999999",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "0x10",
    "1.5",
    ".",
    "\"",
    "\"\"",
    "'",
    ",",
    "|",
    ";",
    "#",
    "[",
    "]",
    "=",
    "\u{feff}",
    "\r",
    "\0",
    "é",
    "١٢",
    "🦀",
    "UNLIMITED",
    "99999-00:00:00",
    "00:00:99",
    "1-24:00:00",
    "::",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "+262143-01-01T00:00:00",
    "2019-13-01T00:00:00",
];

/// One way to damage a text.
#[derive(Debug, Clone)]
enum Mutation {
    /// Delete `len` bytes at a relative position (0..1 of the text).
    DeleteBytes { at: f64, len: usize },
    /// Insert a string at a relative position.
    Insert { at: f64, text: String },
    /// Duplicate a line.
    DuplicateLine { line: usize },
    /// Delete a line.
    DeleteLine { line: usize },
    /// Swap two lines.
    SwapLines { a: usize, b: usize },
    /// Replace field `field` of line `line` (split at the line's separator) by a value.
    ReplaceField { line: usize, field: usize, value: String },
    /// Swap two bytes.
    SwapBytes { a: f64, b: f64 },
}

fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(NASTY).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| x.to_string()),
        1 => proptest::collection::vec(any::<char>(), 0..6).prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (0.0..1.0, 1usize..8).prop_map(|(at, len)| Mutation::DeleteBytes { at, len }),
        1 => (0.0..1.0, any_value()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        1 => (0usize..40).prop_map(|line| Mutation::DuplicateLine { line }),
        1 => (0usize..40).prop_map(|line| Mutation::DeleteLine { line }),
        1 => (0usize..40, 0usize..40).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        // Most damage in real traces is one bad field: the likeliest mutation.
        4 => (0usize..40, 0usize..20, any_value()).prop_map(|(line, field, value)| Mutation::ReplaceField {
            line,
            field,
            value
        }),
        1 => (0.0..1.0, 0.0..1.0).prop_map(|(a, b)| Mutation::SwapBytes { a, b }),
    ]
}

/// `text` with `mutations` applied in order, as bytes (a byte mutation may split a
/// UTF-8 sequence: the readers must cope with that too).
fn mutate(text: &str, separator: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for mutation in mutations {
        let position = |at: f64, len: usize| ((at * len as f64) as usize).min(len);
        let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        let count = lines.len();
        match mutation {
            Mutation::DeleteBytes { at, len } => {
                let start = position(*at, bytes.len());
                bytes.drain(start..(start + len).min(bytes.len()));
                continue;
            }
            Mutation::Insert { at, text } => {
                let at = position(*at, bytes.len());
                bytes.splice(at..at, text.bytes());
                continue;
            }
            Mutation::SwapBytes { a, b } => {
                if !bytes.is_empty() {
                    let (a, b) = (position(*a, bytes.len() - 1), position(*b, bytes.len() - 1));
                    bytes.swap(a, b);
                }
                continue;
            }
            Mutation::DuplicateLine { line } => {
                let copy = lines[line % count].clone();
                lines.insert(line % count, copy);
            }
            Mutation::DeleteLine { line } => {
                lines.remove(line % count);
            }
            Mutation::SwapLines { a, b } => lines.swap(a % count, b % count),
            Mutation::ReplaceField { line, field, value } => {
                let text = String::from_utf8_lossy(&lines[line % count]).into_owned();
                let mut fields: Vec<String> = if separator == " " {
                    text.split_whitespace().map(str::to_string).collect()
                } else {
                    text.split(separator).map(str::to_string).collect()
                };
                if !fields.is_empty() {
                    let at = field % fields.len();
                    fields[at] = value.clone();
                }
                lines[line % count] = fields.join(separator).into_bytes();
            }
        }
        bytes = lines.join(&b'\n');
    }
    bytes
}

/// A valid sacct-style trace: `rows` jobs in submit order, in one of its spellings.
fn sacct_trace() -> impl Strategy<Value = String> {
    let row = (1u32..5, 1u32..40, 0u32..7200, 0u32..600, 0u32..4000, prop::bool::ANY);
    (proptest::collection::vec(row, 1..12), prop::bool::ANY, prop::bool::ANY).prop_map(|(rows, pipes, numeric)| {
        let sep = if pipes { "|" } else { "," };
        let mut text = String::from("# a trace\n");
        let columns = if numeric {
            ["JobID", "NNodes", "NCPUS", "Timelimit", "t_submit", "elapsed_s", "RabbitGiB"]
        } else {
            ["JobID", "NNodes", "NCPUS", "Timelimit", "Submit", "Elapsed", "RabbitGiB"]
        };
        text.push_str(&columns.join(sep));
        text.push('\n');
        let mut submit = 1_546_300_800u64;
        for (i, (nnodes, ncpus, limit, gap, run, unlimited)) in rows.into_iter().enumerate() {
            submit += u64::from(gap);
            let limit = if unlimited { "UNLIMITED".to_string() } else { hms(limit) };
            let (when, elapsed) = if numeric {
                (submit.to_string(), run.to_string())
            } else {
                let t = chrono::DateTime::from_timestamp(submit as i64, 0).unwrap();
                (t.format("%Y-%m-%dT%H:%M:%S").to_string(), hms(run))
            };
            let id = (i + 1).to_string();
            let fields = [id, nnodes.to_string(), ncpus.to_string(), limit, when, elapsed, String::new()];
            text.push_str(&fields.join(sep));
            text.push('\n');
        }
        text
    })
}

fn hms(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// A valid SWF log: a header and `rows` records in submit order.
fn swf_trace() -> impl Strategy<Value = String> {
    let record = (0u32..600, -1i32..4000, -1i32..5, -1i32..8000);
    proptest::collection::vec(record, 1..12).prop_map(|records| {
        let mut text = String::from("; Version: 2.2\n; Computer: test\n; UnixStartTime: 1546300800\n;\n");
        let mut submit = 0u64;
        for (i, (gap, run, procs, requested)) in records.into_iter().enumerate() {
            submit += u64::from(gap);
            text.push_str(&format!(
                "{} {submit} -1 {run} {procs} -1 -1 {procs} {requested} -1 1 -1 -1 -1 0 -1 -1 -1\n",
                i + 1
            ));
        }
        text
    })
}

/// Writes `trace` and a config that replays it in `format` on 4 nodes of 64 cores.
fn experiment(dir: &Path, name: &str, trace: &[u8], format: &str) -> Config {
    let path = dir.join(name);
    std::fs::write(&path, trace).unwrap();
    let config = dir.join("config.toml");
    let text = format!(
        "[flux_fiction]\njob_traces = {:?}\ntrace_format = \"{format}\"\nnnodes = 4\nncpus = 64\n\
         rabbit_nodes_per_rack = 2\nrabbit_shares_per_rack = 2\nrabbit_share_gib = 100\n",
        path.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    Config::load(&config).unwrap()
}

/// The line a trace error names, checked against its message: `FILE:LINE: ...`.
fn named_line(error: &TraceError, path: &Path) -> u64 {
    let line = match error {
        TraceError::Read { line, .. }
        | TraceError::NoHeader { line, .. }
        | TraceError::MissingColumn { line, .. }
        | TraceError::Row { line, .. }
        | TraceError::Field { line, .. }
        | TraceError::OutOfOrder { line, .. } => *line,
        TraceError::Open { .. } => panic!("the trace exists, yet: {error}"),
    };
    let message = error.to_string();
    assert!(message.starts_with(&format!("{}:{line}: ", path.display())), "{message}");
    line
}

/// Reads the whole trace, and runs the pre-flight pass over it: no panic, errors name a
/// line within the file, and every job read has times the replay can add up.
fn check_trace(cfg: &Config, bytes: &[u8]) {
    let lines = bytes.split(|&b| b == b'\n').count() as u64;
    let path = cfg.job_traces.clone();
    match open_trace(cfg) {
        Err(error) => assert!(named_line(&error, &path) <= lines, "{error}"),
        Ok(reader) => {
            for row in reader {
                match row {
                    Ok(job) => {
                        assert!(job.line >= 1 && job.line <= lines, "{job:?}");
                        assert!(job.nnodes >= 1 && job.cores_per_node >= 1, "{job:?}");
                        assert!(job.submit.as_micros() >= 0 && job.elapsed.as_micros() >= 0, "{job:?}");
                        let end = job.submit + job.elapsed + job.time_limit.unwrap_or_default();
                        assert!(end.as_micros() < i64::MAX / 2, "{job:?}");
                    }
                    Err(error) => {
                        assert!(named_line(&error, &path) <= lines, "{error}");
                        break;
                    }
                }
            }
        }
    }
    match preflight(cfg) {
        Ok(summary) => assert!(summary.jobs > 0),
        Err(PreflightError::Trace(error)) => {
            named_line(&error, &path);
        }
        Err(error) => assert!(error.to_string().starts_with(&format!("{}:", path.display())), "{error}"),
    }
}

/// A valid config naming every key the reader acts on, one per line, with values
/// varied by the case.
fn config_text() -> impl Strategy<Value = String> {
    (1u32..64, 1u32..128, 0u32..4, prop::bool::ANY, 1u32..100, prop::bool::ANY).prop_map(
        |(nnodes, ncpus, ngpus, section, timeout, faketime)| {
            let mut text = String::from("# an experiment\n");
            if section {
                text.push_str(&format!("[{SECTION}]\n"));
            }
            text.push_str(&format!(
                "job_traces = \"t.csv\"\ntrace_format = \"sacct\"\nnnodes = {nnodes}\nncpus = {ncpus}\n\
                 ngpus = {ngpus}\nmax_jobs = 10\nexclusive = false\nwhole_node_graph = false\n\
                 config_json = \"flux.json\"\noutput_dir = \"out\"\nswf_procs_per_node = 2\n\
                 swf_epoch = 1546300800\nstep_timeout = {timeout}\nfaketime = {faketime}\n\
                 faketime_start_lead = 30.5\nrabbit_nodes_per_rack = 4\nrabbit_shares_per_rack = 2\n\
                 rabbit_share_gib = 100\nrabbit_storage_emit_dw = true\nrabbit_storage_name = \"r\"\n\
                 backend = \"flux\"\nquiet = true\n"
            ));
            text
        },
    )
}

/// Loads the config: no panic, and an error names the config file and the key, or, for
/// TOML syntax, the line.
fn check_config(dir: &Path, bytes: &[u8]) {
    let path = dir.join("config.toml");
    std::fs::write(&path, bytes).unwrap();
    let Err(error) = Config::load(&path) else {
        return;
    };
    let message = error.to_string();
    assert!(message.starts_with(&format!("{}", path.display())), "{message}");
    let lines = bytes.split(|&b| b == b'\n').count();
    match &error {
        ConfigError::Key { line, key, .. } => {
            assert!(*line >= 1 && *line <= lines && !key.is_empty(), "{message}");
            assert!(message.starts_with(&format!("{}:{line}: ", path.display())) && message.contains(key.as_str()));
        }
        ConfigError::Missing { key, .. } => assert!(message.contains(&format!(" {key}: ")), "{message}"),
        ConfigError::Syntax { .. } => assert!(message.contains("line "), "{message}"),
        // Not UTF-8: the file as a whole is unreadable.
        ConfigError::Read { source, .. } => assert_eq!(source.kind(), std::io::ErrorKind::InvalidData, "{message}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_sacct_traces_never_panic_and_errors_name_a_line(
        trace in sacct_trace(),
        mutations in proptest::collection::vec(mutation(), 1..4),
        separator in prop::bool::ANY,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let separator = if trace.contains('|') { "|" } else if separator { "," } else { ", " };
        let bytes = mutate(&trace, separator.trim(), &mutations);
        let cfg = experiment(dir.path(), "t.csv", &bytes, "sacct");
        check_trace(&cfg, &bytes);
    }

    #[test]
    fn mutated_swf_traces_never_panic_and_errors_name_a_line(
        trace in swf_trace(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = mutate(&trace, " ", &mutations);
        let cfg = experiment(dir.path(), "t.swf", &bytes, "swf");
        check_trace(&cfg, &bytes);
    }

    #[test]
    fn mutated_configs_never_panic_and_errors_name_the_key(
        text in config_text(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let trace = "NNodes,NCPUS,NGPUS,Timelimit,t_submit,elapsed_s\n1,1,0,60,1546300800,5\n";
        std::fs::write(dir.path().join("t.csv"), trace).unwrap();
        let flux = r#"{"sched-fluxion-qmanager": {"queue-policy": "easy"}}"#;
        std::fs::write(dir.path().join("flux.json"), flux).unwrap();
        let bytes = mutate(&text, " = ", &mutations);
        check_config(dir.path(), &bytes);
    }
}

#[test]
fn the_unmutated_inputs_are_valid() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let sacct = sacct_trace().new_tree(&mut runner).unwrap().current();
        preflight(&experiment(dir.path(), "t.csv", sacct.as_bytes(), "sacct")).unwrap();
        let swf = swf_trace().new_tree(&mut runner).unwrap().current();
        let cfg = experiment(dir.path(), "t.swf", swf.as_bytes(), "swf");
        // A log whose every record was cancelled has no job, which is an error of its own.
        match preflight(&cfg) {
            Ok(_) | Err(PreflightError::NoJobs { .. }) => {}
            Err(error) => panic!("{error}\n{swf}"),
        }
        std::fs::write(dir.path().join("t.csv"), &sacct).unwrap();
        std::fs::write(dir.path().join("flux.json"), "{}").unwrap();
        let config = config_text().new_tree(&mut runner).unwrap().current();
        std::fs::write(dir.path().join("config.toml"), &config).unwrap();
        Config::load(&dir.path().join("config.toml")).unwrap_or_else(|e| panic!("{e}\n{config}"));
    }
}
