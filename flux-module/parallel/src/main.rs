//! `flux-fiction-run-parallel MANIFEST`: many replays from one manifest, each a normal
//! `flux-fiction-run` with its own run directory, faketime file and Flux instance; run here
//! as child processes, or with `--flux` as jobs of the Flux instance this is started in.
//! At the end, `comparison.csv` / `.html` / `.svg` set the runs' headline metrics side by side.
//!
//! Exit status: 0 every run succeeded, 1 some run failed, 2 the manifest or the command line
//! is wrong (nothing ran), 128 + N when stopped by signal N (SIGINT, SIGTERM).

mod comparison;
mod comparison_plot;
mod flux_jobs;
mod launch_config;
mod local;
mod manifest;
mod plan;
mod run_spec;
mod runner;
mod status;
mod sweep;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use clap::Parser;
use serde_json::{Value, json};

use comparison::Row;
use flux_jobs::FluxJobs;
use manifest::Manifest;
use plan::{Plan, Shard};
use runner::{Backend, RunRecord, Settings};
use status::{RunState, StatusFile};

/// Replay many Flux Fiction experiments from one manifest, locally or as Flux jobs.
#[derive(Debug, Parser)]
#[command(name = "flux-fiction-run-parallel", version)]
struct Args {
    /// The manifest (TOML): version = 1, [parallel], [[run]] and [[sweep]] entries.
    manifest: PathBuf,
    /// Runs replaying at once (default: the manifest's max_concurrent, else 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_concurrent: Option<u64>,
    /// After the first failed run, launch no more and stop those running.
    #[arg(long)]
    fail_fast: bool,
    /// Where the study's directory is made (default: the manifest's output_root).
    #[arg(long, value_name = "PATH")]
    output_root: Option<PathBuf>,
    /// Print the plan and stop.
    #[arg(long)]
    dry_run: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Run only the runs whose 0-based position is I modulo --shard-count.
    #[arg(long, value_name = "I", requires = "shard_count")]
    shard_index: Option<usize>,
    #[arg(long, value_name = "N", requires = "shard_index", value_parser = clap::value_parser!(u64).range(1..))]
    shard_count: Option<u64>,
    /// Seconds between progress lines (default: the manifest's summary_interval, else 5).
    #[arg(long, value_name = "SECONDS")]
    summary_interval: Option<f64>,
    /// Submit every run as a job of the enclosing Flux instance instead of running it here.
    #[arg(long)]
    flux: bool,
    /// With --flux: each run's job takes a whole node (a replay is one broker: it uses one node at most).
    #[arg(long, requires = "flux")]
    flux_whole_node: bool,
    /// With --flux: cores each run's job asks for (default: the manifest's flux_cores, else 1).
    #[arg(long, value_name = "N", requires = "flux", value_parser = clap::value_parser!(u64).range(1..))]
    flux_cores: Option<u64>,
}

/// A problem with the manifest or the command line: nothing ran.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ERROR: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let manifest = Manifest::load(&args.manifest).map_err(|e| e.0)?;
    let shard = match (args.shard_index, args.shard_count) {
        (Some(index), Some(count)) if index < count as usize => Some(Shard { index, count: count as usize }),
        (Some(index), Some(count)) => return Err(format!("--shard-index {index} must be below --shard-count {count}")),
        _ => None,
    };
    if args.summary_interval.is_some_and(|s| !(s > 0.0 && s.is_finite())) {
        return Err("--summary-interval needs a positive number of seconds".into());
    }
    let parallel = &manifest.parallel;
    let settings = Settings {
        max_concurrent: args.max_concurrent.map(|n| n as usize).unwrap_or(parallel.max_concurrent),
        fail_fast: args.fail_fast || parallel.fail_fast,
        quiet: parallel.quiet,
        summary_interval: args.summary_interval.unwrap_or(parallel.summary_interval),
    };
    let backend = if args.flux {
        if std::env::var_os("FLUX_URI").is_none() {
            return Err("--flux: not inside a Flux instance (FLUX_URI is not set): start the runner in one \
                        (flux alloc, flux batch, or flux start)"
                .into());
        }
        Backend::Flux(FluxJobs {
            flux: flux_jobs::find_flux()?,
            whole_node: args.flux_whole_node || parallel.flux_whole_node,
            cores: args.flux_cores.unwrap_or(parallel.flux_cores),
        })
    } else {
        Backend::Local
    };
    let output_root = match &args.output_root {
        Some(root) => std::path::absolute(root).map_err(|e| format!("--output-root {}: {e}", root.display()))?,
        None => parallel.output_root.clone(),
    };
    let plan = Plan::resolve(&manifest, &output_root, shard, &status::now_stamp());
    let settings_json = settings_json(&settings, &backend);
    let mode = match &backend {
        Backend::Local => format!("local, {} at once", settings.max_concurrent),
        Backend::Flux(_) => format!("as Flux jobs, {} at once", settings.max_concurrent),
    };
    if args.json {
        println!("{:#}", plan.to_json(&settings_json));
    } else {
        print!("{}", plan.to_text(&mode));
    }
    if args.dry_run {
        // With --json, standard output stays one JSON document.
        if args.json {
            eprintln!("Dry run requested; not launching child runs.");
        } else {
            println!("Dry run requested; not launching child runs.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let tools = tools::find_tools()?;
    std::fs::create_dir_all(&plan.root).map_err(|e| format!("cannot create {}: {e}", plan.root.display()))?;
    std::fs::copy(&manifest.path, plan.root.join("manifest.snapshot.toml"))
        .map_err(|e| format!("cannot copy the manifest into {}: {e}", plan.root.display()))?;
    status::write_json(&plan.root.join("plan.json"), &plan.to_json(&settings_json));

    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let mut status = StatusFile::new(&plan, settings_json);
    let (records, stopped_by) = runner::run_plan(&plan, &settings, &backend, &tools, &mut status, &signal);

    let any_failed = records.iter().any(|r| r.state == RunState::Failed);
    let final_state = match (stopped_by, any_failed) {
        (Some(_), _) => "interrupted",
        (None, true) => "failed",
        (None, false) => "succeeded",
    };
    status.update(&plan, &records, Some(final_state));
    let mut summary = status.document(&plan, &records, Some(final_state));
    summary["makespan_extremes"] = status::makespan_extremes(&plan, &records);
    status::write_json(&plan.root.join("parallel_summary.json"), &summary);
    write_comparison(&plan, &records)?;
    print_final(&plan, &records, &summary);
    println!("Parallel status: {}", status.path().display());
    println!("Parallel summary: {}", plan.root.join("parallel_summary.json").display());
    println!("Comparison: {}", plan.root.join("comparison.html").display());
    println!("Manifest snapshot: {}", plan.root.join("manifest.snapshot.toml").display());
    let code = match stopped_by {
        Some(sig) => 128 + sig as u8,
        None => u8::from(any_failed),
    };
    println!("Return code: {code}");
    Ok(ExitCode::from(code))
}

fn settings_json(settings: &Settings, backend: &Backend) -> Value {
    let (mode, whole_node, cores) = match backend {
        Backend::Local => ("local", None, None),
        Backend::Flux(flux) => ("flux", Some(flux.whole_node), Some(flux.cores)),
    };
    json!({
        "mode": mode,
        "max_concurrent": settings.max_concurrent,
        "fail_fast": settings.fail_fast,
        "progress_mode": if settings.quiet { "quiet" } else { "summary" },
        "summary_interval": settings.summary_interval,
        "flux_whole_node": whole_node,
        "flux_cores": cores,
    })
}

fn write_comparison(plan: &Plan, records: &[RunRecord]) -> Result<(), String> {
    let rows: Vec<Row> = plan
        .runs
        .iter()
        .zip(records)
        .map(|(run, record)| Row {
            ordinal: run.ordinal,
            name: run.spec.name.clone(),
            state: record.state.as_str().to_string(),
            params: run.spec.params.clone(),
            metrics: record.metrics.clone(),
            run_dir: run.child_run_dir().to_string_lossy().into_owned(),
        })
        .collect();
    comparison::write_csv(&plan.root.join("comparison.csv"), &rows)?;
    let svg = comparison_plot::render_svg(&rows);
    let title = format!("Flux Fiction study {}", file_name(&plan.manifest));
    write_text(&plan.root.join("comparison.svg"), &svg)?;
    write_text(&plan.root.join("comparison.html"), &comparison_plot::render_html(&title, &rows, &svg))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn print_final(plan: &Plan, records: &[RunRecord], summary: &Value) {
    println!("Final run summary:");
    for (run, record) in plan.runs.iter().zip(records) {
        let rc = record.return_code.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
        let progress = record.child_status.as_ref().map(|s| &s["progress"]);
        let jobs = progress
            .map(|p| format!("{}/{}", p["finished"].as_u64().unwrap_or(0), p["jobs_total"].as_u64().unwrap_or(0)))
            .unwrap_or_else(|| "-".into());
        let makespan = record.metrics.as_ref().map(|m| format!("{}s", m.makespan_seconds)).unwrap_or_else(|| "-".into());
        let wall = progress
            .and_then(|p| p["wall_seconds"].as_f64())
            .map(|w| format!("{w}s"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{} state={} rc={rc} jobs={jobs} makespan={makespan} wall={wall} run_root={}",
            run.label(),
            record.state.as_str(),
            run.run_root.display()
        );
        if let Some(reason) = &record.failure_reason {
            println!("       reason: {}", reason.lines().next().unwrap_or(""));
        }
    }
    if let Some(extremes) = summary["makespan_extremes"].as_object() {
        let show = |which: &str| {
            let e = &extremes[which];
            format!("{} ({}s)", e["name"].as_str().unwrap_or(""), e["makespan_seconds"])
        };
        println!("Shortest makespan: {}", show("shortest"));
        println!("Longest makespan:  {}", show("longest"));
    }
}
