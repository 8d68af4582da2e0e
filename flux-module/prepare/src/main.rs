//! `flux-fiction-prepare CONFIG --run-dir DIR`: checks an experiment before any Flux
//! instance starts, and lays out the run directory the run script starts it in.
//!
//! Checking first (config, every trace row, every job fits the system) means a bad
//! experiment fails in a second with every problem listed, not hours into a replay.
//! The run directory holds copies of the inputs, so a run can be reproduced from it
//! alone. On success, `key=value` lines on stdout tell the run script what it needs.

mod error;
mod layout;
mod rewrite;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use ff_inputs::time::parse_iso_utc;
use ff_inputs::{Config, ResourceSource, SimDuration, SimTime, TraceSummary, preflight};

use error::PrepareError;

/// Validate a Flux Fiction experiment and lay out its run directory.
#[derive(Debug, Parser)]
#[command(name = "flux-fiction-prepare", version)]
struct Args {
    /// The experiment config (TOML).
    config: PathBuf,
    /// Directory to create for the run; must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    run_dir: PathBuf,
    /// Pause the replay after the last step at or before TIME: a UTC time as CSV traces
    /// write Submit (2022-03-14T00:00:40[.ffffff]), or seconds after the first
    /// submission (40, 40.5). Printed as `pause_at=` epoch seconds.
    #[arg(long, value_name = "TIME")]
    pause_at: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match prepare(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flux-fiction: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("flux-fiction: warning: {warning}");
    }
}

fn prepare(args: &Args) -> Result<(), PrepareError> {
    let cfg = Config::load(&args.config)?;
    warn(&cfg.warnings);
    let summary = preflight(&cfg)?;
    warn(&summary.warnings);
    let pause_at = args.pause_at.as_deref().map(|text| pause_time(text, summary.first_submit)).transpose()?;
    let run_dir = layout::create(&cfg, &args.run_dir)?;
    // What was read from a resource graph, or laid out from the rabbit_* keys, is worth
    // seeing before hours of replay depend on it.
    if cfg.storage.is_some() || !cfg.node_shape.levels.is_empty() || matches!(cfg.resource, ResourceSource::Jgf(_)) {
        eprintln!("flux-fiction: system: {}", cfg.system_description());
    }
    // The instance's clock starts stopped a little before the first submission, so that
    // nothing it does while starting up is stamped at or after a trace event.
    let seed = summary.first_submit.map(|t| t - SimDuration::from_secs_f64(cfg.faketime_start_lead));
    let faketime_file = match seed {
        Some(seed) => Some(layout::write_faketime_seed(&run_dir, seed)?),
        None => None,
    };
    print_facts(&cfg, &summary, faketime_file.as_deref(), pause_at);
    Ok(())
}

/// `--pause-at`: an ISO time, or seconds after the first submission.
fn pause_time(text: &str, first_submit: Option<SimTime>) -> Result<SimTime, PrepareError> {
    let bad = |why: String| PrepareError::PauseAt { text: text.to_string(), why };
    if let Ok(secs) = text.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return Err(bad("seconds after the first submission cannot be negative".into()));
        }
        let first = first_submit.ok_or_else(|| bad("the trace has no jobs".into()))?;
        return Ok(first + SimDuration::from_secs_f64(secs));
    }
    parse_iso_utc(text).map_err(|e| bad(format!("{e}, or seconds after the first submission")))
}

/// What the run script needs to start the instance, as shell-friendly `key=value` lines.
fn print_facts(cfg: &Config, summary: &TraceSummary, faketime_file: Option<&Path>, pause_at: Option<SimTime>) {
    let first_submit = summary.first_submit.map(|t| t.to_string()).unwrap_or_default();
    println!("jobs={}", summary.jobs);
    println!("first_submit={first_submit}");
    println!("nnodes={}", cfg.system.nnodes);
    println!("cores_per_node={}", cfg.system.cores_per_node);
    println!("gpus_per_node={}", cfg.system.gpus_per_node);
    println!("faketime={}", cfg.faketime);
    println!("faketime_start_lead={}", cfg.faketime_start_lead);
    println!("faketime_file={}", faketime_file.map(|p| p.display().to_string()).unwrap_or_default());
    println!("step_timeout={}", cfg.step_timeout);
    println!("content_gc_interval={}", cfg.content_gc_interval);
    println!("pause_at={}", pause_at.map(|t| t.to_string()).unwrap_or_default());
    // The inputs as the experiment names them (absolute); the run uses the copies in inputs/.
    // The Flux config and resource file are named when the instance cannot start.
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    println!("trace={}", absolute(&cfg.job_traces));
    println!("flux_config={}", cfg.config_json.as_deref().map(absolute).unwrap_or_default());
    println!("resource_file={}", cfg.resource.path().map(absolute).unwrap_or_default());
    // The run script's --otel options override these.
    println!("otel_enabled={}", cfg.otel.enabled);
    println!("otel_endpoint={}", cfg.otel.endpoint.as_deref().unwrap_or_default());
    println!("otel_service_name={}", cfg.otel.service_name);
}
