//! flux-fiction-otel-export: sends the spans of a replay to an OpenTelemetry collector.
//!
//! ff-emu writes a run's spans to `output/otel_spans.jsonl`, one OTLP
//! `ExportTraceServiceRequest` per line in the OTLP JSON encoding; this program POSTs
//! each line as it stands to an OTLP/HTTP traces endpoint (`Content-Type:
//! application/json`). `flux-fiction-run --otel` starts it beside the instance, outside
//! the broker and without libfaketime, with `--follow-pid` (the instance's process): it
//! sends lines as they appear and, once that process is gone, what is left, then exits.
//! Without `--follow-pid` it sends the file once (e.g. a finished run, to a collector
//! started later).
//!
//! The collector is optional: the first failure (unreachable, an HTTP error, a timeout)
//! is one warning line, and nothing more is sent; the file stays complete either way, and
//! the exit status is 0. Only bad arguments or an unreadable file exit non-zero.

mod lines;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use lines::LineFollower;

const PROG: &str = "flux-fiction-otel-export";
const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4318/v1/traces";
/// How often a followed file is read again.
const POLL: Duration = Duration::from_millis(200);
/// The longest one request may take (connect, send, answer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the rest may take to send once the followed process is gone, so that a
/// slow collector cannot hold up the end of `flux-fiction-run`.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(name = PROG, about = "Send a replay's otel_spans.jsonl to an OTLP/HTTP collector")]
struct Args {
    /// The spans file (one OTLP JSON ExportTraceServiceRequest per line).
    spans: PathBuf,
    /// The collector's OTLP/HTTP traces URL [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    /// else http://127.0.0.1:4318/v1/traces].
    #[arg(long)]
    endpoint: Option<String>,
    /// Follow the file while this process lives, then send the rest and exit.
    #[arg(long, value_name = "PID")]
    follow_pid: Option<u32>,
}

/// Where the requests go, and what was sent.
struct Exporter {
    agent: ureq::Agent,
    endpoint: String,
    requests: u64,
    spans: usize,
}

impl Exporter {
    fn new(endpoint: String) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .build();
        Exporter { agent: config.into(), endpoint, requests: 0, spans: 0 }
    }

    /// POSTs one request line; Err says why it was not accepted.
    fn send(&mut self, line: &str) -> Result<(), String> {
        let mut response = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json")
            .send(line)
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if !status.is_success() {
            let body = response.body_mut().read_to_string().unwrap_or_default();
            return Err(format!("the collector answered HTTP {status}: {}", body.trim()));
        }
        self.requests += 1;
        self.spans += span_count(line);
        Ok(())
    }
}

/// Spans in one request line (for the closing report only).
fn span_count(line: &str) -> usize {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { return 0 };
    let resource_spans = v["resourceSpans"].as_array().into_iter().flatten();
    let scope_spans = resource_spans.flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten());
    scope_spans.map(|s| s["spans"].as_array().map_or(0, Vec::len)).sum()
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn main() -> ExitCode {
    let args = Args::parse();
    let endpoint = args.endpoint.or_else(|| std::env::var(ENDPOINT_ENV).ok().filter(|e| !e.is_empty()));
    let endpoint = endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    if !endpoint.starts_with("http://") {
        eprintln!("{PROG}: error: the endpoint must be an http:// URL (no TLS), got '{endpoint}'");
        return ExitCode::from(2);
    }
    if args.follow_pid.is_none() && !args.spans.is_file() {
        eprintln!("{PROG}: error: {}: no such file", args.spans.display());
        return ExitCode::FAILURE;
    }
    let mut exporter = Exporter::new(endpoint);
    let mut follower = LineFollower::new(&args.spans);
    let mut draining_since = None;
    loop {
        // Checked before reading: whatever the process wrote before it ended is read below.
        let following = args.follow_pid.is_some_and(alive);
        if !following {
            draining_since.get_or_insert_with(Instant::now);
        }
        let lines = match follower.read_lines() {
            Ok(lines) => lines,
            Err(e) => {
                eprintln!("{PROG}: error: {}: {e}", args.spans.display());
                return ExitCode::FAILURE;
            }
        };
        for line in &lines {
            if draining_since.is_some_and(|t| t.elapsed() > DRAIN_LIMIT) {
                eprintln!(
                    "{PROG}: warning: the collector at {} is too slow: {} spans sent, the rest are only in {}",
                    exporter.endpoint,
                    exporter.spans,
                    args.spans.display()
                );
                return ExitCode::SUCCESS;
            }
            if let Err(e) = exporter.send(line) {
                eprintln!(
                    "{PROG}: warning: spans not exported to {} ({e}); they are all in {}",
                    exporter.endpoint,
                    args.spans.display()
                );
                return ExitCode::SUCCESS;
            }
        }
        if !following {
            break;
        }
        std::thread::sleep(POLL);
    }
    if follower.unfinished() > 0 {
        eprintln!("{PROG}: warning: {} ends in an unfinished line, not sent", args.spans.display());
    }
    eprintln!("{PROG}: {} spans in {} requests sent to {}", exporter.spans, exporter.requests, exporter.endpoint);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_counted_across_resources_and_scopes() {
        let line = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{},{}]},{"spans":[{}]}]},{"scopeSpans":[]}]}"#;
        assert_eq!(span_count(line), 3);
        assert_eq!(span_count("not json"), 0);
    }
}
