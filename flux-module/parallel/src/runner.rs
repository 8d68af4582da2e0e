//! The scheduling loop: launches runs up to `max_concurrent`, follows them (child processes,
//! or Flux jobs), stops them on `fail_fast` or SIGINT/SIGTERM, and keeps
//! `parallel_status.json` current.
//!
//! A stop never leaves a run half-recorded: runs not yet launched become `skipped`, running
//! ones get SIGTERM (`flux-fiction-run` ends its instance and records the run as interrupted)
//! and, if still there after [`STOP_GRACE`], SIGKILL; the runner waits for every one of them
//! before it writes the final status.

use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::comparison::Metrics;
use crate::flux_jobs::{FluxJobs, JobState};
use crate::launch_config::{Tools, prepare_run};
use crate::local;
use crate::plan::{Plan, PlannedRun};
use crate::status::{RunState, StatusFile};

/// How often children are polled.
const POLL: Duration = Duration::from_millis(250);
/// How long a stopped run has to end by itself before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// How long `flux jobs` may keep failing before the runs it should report on are given up.
const LISTING_PATIENCE: Duration = Duration::from_secs(60);

pub enum Backend {
    Local,
    Flux(FluxJobs),
}

enum Handle {
    Local(Child),
    Flux(String),
}

/// What this runner knows of one run while it goes.
pub struct RunRecord {
    pub state: RunState,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub return_code: Option<i32>,
    pub failure_reason: Option<String>,
    pub flux_jobid: Option<String>,
    /// The run's `child/status.json`, as last read.
    pub child_status: Option<Value>,
    pub metrics: Option<Metrics>,
    handle: Option<Handle>,
    /// Why the run is being stopped, and when it gets SIGKILL.
    stopping: Option<(String, Instant)>,
}

pub struct Settings {
    pub max_concurrent: usize,
    pub fail_fast: bool,
    pub quiet: bool,
    pub summary_interval: f64,
}

/// Runs the plan; returns the records, in plan order, and the signal that stopped it, if any.
pub fn run_plan(
    plan: &Plan,
    settings: &Settings,
    backend: &Backend,
    tools: &Tools,
    status: &mut StatusFile,
    signal: &Arc<AtomicUsize>,
) -> (Vec<RunRecord>, Option<i32>) {
    let mut records: Vec<RunRecord> = plan
        .runs
        .iter()
        .map(|_| RunRecord {
            state: RunState::Queued,
            started_at: None,
            finished_at: None,
            return_code: None,
            failure_reason: None,
            flux_jobid: None,
            child_status: None,
            metrics: None,
            handle: None,
            stopping: None,
        })
        .collect();
    let mut stopped_by: Option<i32> = None;
    let mut stop_reason: Option<(String, String)> = None;
    let mut next_progress = Instant::now() + Duration::from_secs_f64(settings.summary_interval);
    let began = Instant::now();
    let mut listing_failing_since: Option<Instant> = None;
    loop {
        let received = signal.load(Ordering::Relaxed) as i32;
        if received != 0 && stopped_by.is_none() {
            stopped_by = Some(received);
            let name = if received == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
            let reason = format!("Interrupted by {name}");
            println!("Received {name}: stopping every run");
            stop_reason = Some((reason.clone(), reason));
            stop_all(plan, &mut records, backend, stop_reason.as_ref().expect("just set"));
        }

        if let Err(problem) = poll(plan, &mut records, backend, &mut listing_failing_since) {
            give_up(plan, &mut records, &problem);
            if stop_reason.is_none() {
                stop_reason = Some((format!("Skipped: {problem}"), format!("Stopped: {problem}")));
                stop_all(plan, &mut records, backend, stop_reason.as_ref().expect("just set"));
            }
        }

        if settings.fail_fast && stop_reason.is_none() && records.iter().any(|r| r.state == RunState::Failed) {
            stop_reason = Some((
                "Skipped because fail_fast stopped new launches after a prior failure".into(),
                "Terminated because fail_fast stopped the parallel run after a prior failure".into(),
            ));
            stop_all(plan, &mut records, backend, stop_reason.as_ref().expect("just set"));
        }

        while stop_reason.is_none() && records.iter().filter(|r| r.handle.is_some()).count() < settings.max_concurrent {
            let Some(index) = records.iter().position(|r| r.state == RunState::Queued) else { break };
            launch(&plan.runs[index], &mut records[index], backend, tools, settings.summary_interval);
        }

        for (run, record) in plan.runs.iter().zip(&mut records) {
            if let (Some(handle), Some((reason, deadline))) = (&record.handle, &record.stopping) {
                if Instant::now() >= *deadline {
                    println!("Killing  {}: still running {} s after it was asked to stop ({reason})", run.label(), STOP_GRACE.as_secs());
                    signal_run(backend, handle, true);
                    record.stopping = Some((reason.clone(), Instant::now() + STOP_GRACE));
                }
            }
        }

        let done = records.iter().all(|r| r.handle.is_none() && r.state != RunState::Queued);
        status.update(plan, &records, None);
        if !settings.quiet && (Instant::now() >= next_progress || done) {
            println!("{}", progress_line(&records, began.elapsed().as_secs_f64()));
            next_progress = Instant::now() + Duration::from_secs_f64(settings.summary_interval);
        }
        if done {
            break;
        }
        std::thread::sleep(POLL);
    }
    (records, stopped_by)
}

fn launch(run: &PlannedRun, record: &mut RunRecord, backend: &Backend, tools: &Tools, progress_interval: f64) {
    println!("Launching {}", run.label());
    record.started_at = Some(crate::status::now_iso());
    let started = prepare_run(run, tools, progress_interval).and_then(|command| match backend {
        Backend::Local => local::start(&command, &run.log_file(), &run.run_root).map(Handle::Local),
        Backend::Flux(flux) => flux.submit(run, &command).map(Handle::Flux),
    });
    match started {
        Ok(handle) => {
            if let Handle::Flux(id) = &handle {
                println!("Submitted {} as Flux job {id}", run.label());
                record.flux_jobid = Some(id.clone());
            }
            record.state = RunState::Launching;
            record.handle = Some(handle);
        }
        Err(reason) => {
            println!("Launch failed {}: {reason}", run.label());
            record.state = RunState::Failed;
            record.finished_at = Some(crate::status::now_iso());
            record.failure_reason = Some(reason);
        }
    }
}

/// Collects runs that ended, and notes which have started replaying. Err: the runs can no
/// longer be followed (`flux jobs` has failed for `LISTING_PATIENCE`).
fn poll(
    plan: &Plan,
    records: &mut [RunRecord],
    backend: &Backend,
    listing_failing_since: &mut Option<Instant>,
) -> Result<(), String> {
    let ended: Vec<(usize, Option<i32>)> = match backend {
        Backend::Local => records
            .iter_mut()
            .enumerate()
            .filter_map(|(i, record)| match &mut record.handle {
                Some(Handle::Local(child)) => match local::poll(child) {
                    Ok(Some(code)) => Some((i, Some(code))),
                    Ok(None) => None,
                    Err(e) => {
                        eprintln!("flux-fiction-run-parallel: {e}");
                        None
                    }
                },
                _ => None,
            })
            .collect(),
        Backend::Flux(flux) => {
            let active: Vec<(usize, &str)> = records
                .iter()
                .enumerate()
                .filter_map(|(i, r)| match &r.handle {
                    Some(Handle::Flux(id)) => Some((i, id.as_str())),
                    _ => None,
                })
                .collect();
            let ids: Vec<&str> = active.iter().map(|&(_, id)| id).collect();
            match flux.states(&ids) {
                Ok(states) => {
                    *listing_failing_since = None;
                    active
                    .iter()
                    .zip(states)
                    .filter_map(|(&(i, _), state)| match state {
                        JobState::Ended(code) => Some((i, code)),
                        _ => None,
                    })
                    .collect()
                }
                Err(e) => {
                    // A passing failure of the instance's job listing: try again next poll.
                    eprintln!("flux-fiction-run-parallel: {e}");
                    let since = *listing_failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= LISTING_PATIENCE {
                        return Err(format!("flux jobs failed for {} s: {e}", LISTING_PATIENCE.as_secs()));
                    }
                    Vec::new()
                }
            }
        }
    };
    for (i, code) in ended {
        finish(&plan.runs[i], &mut records[i], code);
    }
    for (run, record) in plan.runs.iter().zip(records.iter_mut()) {
        if record.state == RunState::Launching || record.state == RunState::Running || record.child_status.is_none() {
            if let Ok(text) = std::fs::read_to_string(run.child_run_dir().join("status.json")) {
                if let Ok(child) = serde_json::from_str::<Value>(&text) {
                    if record.state == RunState::Launching && child["state"] == "running" {
                        record.state = RunState::Running;
                    }
                    record.child_status = Some(child);
                }
            }
        }
    }
    Ok(())
}

/// Runs that can no longer be followed end as failed, with why.
fn give_up(plan: &Plan, records: &mut [RunRecord], problem: &str) {
    for (run, record) in plan.runs.iter().zip(records.iter_mut()) {
        if record.handle.take().is_some() {
            println!("Lost      {}: {problem}", run.label());
            record.state = RunState::Failed;
            record.finished_at = Some(crate::status::now_iso());
            record.failure_reason = Some(format!("lost track of the run: {problem}"));
        }
    }
}

fn finish(run: &PlannedRun, record: &mut RunRecord, code: Option<i32>) {
    record.handle = None;
    record.finished_at = Some(crate::status::now_iso());
    record.return_code = code;
    if let Ok(text) = std::fs::read_to_string(run.child_run_dir().join("status.json")) {
        record.child_status = serde_json::from_str(&text).ok();
    }
    let child_reason = record.child_status.as_ref().and_then(|s| s["failure_reason"].as_str()).map(str::to_string);
    // flux-fiction-run: 0 every job completed, 2 the replay finished but some jobs did not.
    let replayed = matches!(code, Some(0 | 2));
    if let Some((reason, _)) = record.stopping.take() {
        record.state = if replayed { RunState::Succeeded } else { RunState::Interrupted };
        record.failure_reason = (!replayed).then_some(reason);
    } else if replayed {
        record.state = RunState::Succeeded;
    } else {
        record.state = RunState::Failed;
        // Without a status.json (a config refused before the run directory was made), the
        // error is the last error line flux-fiction-run wrote, else its last line.
        let last_line = || {
            let log = std::fs::read_to_string(run.log_file()).unwrap_or_default();
            let mut lines = log.lines().rev().filter(|line| !line.trim().is_empty());
            let last = lines.clone().next();
            lines.find(|line| line.contains("error:")).or(last).map(str::to_string)
        };
        let how = match code {
            Some(code) => format!("flux-fiction-run exited with status {code}"),
            None => "the run's job ended without running".to_string(),
        };
        record.failure_reason = Some(child_reason.unwrap_or_else(|| match last_line() {
            Some(line) => format!("{how}: {line}"),
            None => format!("{how} (see {})", run.log_file().display()),
        }));
    }
    if replayed {
        record.metrics = Metrics::read(&run.child_run_dir().join("output"))
            .map_err(|e| eprintln!("flux-fiction-run-parallel: {}: no metrics: {e}", run.label()))
            .ok();
    }
    let rc = code.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
    println!("Finished  {} rc={rc} state={}", run.label(), record.state.as_str());
}

/// `(skip reason, terminate reason)`: queued runs are skipped, running ones stopped.
fn stop_all(plan: &Plan, records: &mut [RunRecord], backend: &Backend, reasons: &(String, String)) {
    for (run, record) in plan.runs.iter().zip(records.iter_mut()) {
        if record.state == RunState::Queued {
            record.state = RunState::Skipped;
            record.failure_reason = Some(reasons.0.clone());
        } else if let Some(handle) = &record.handle {
            if record.stopping.is_none() {
                println!("Stopping  {}: {}", run.label(), reasons.1);
                signal_run(backend, handle, false);
                record.stopping = Some((reasons.1.clone(), Instant::now() + STOP_GRACE));
            }
        }
    }
}

fn signal_run(backend: &Backend, handle: &Handle, kill: bool) {
    match (backend, handle) {
        (_, Handle::Local(child)) => local::signal(child, kill),
        (Backend::Flux(flux), Handle::Flux(id)) => flux.stop(id, kill),
        (Backend::Local, Handle::Flux(_)) => unreachable!("a Flux job is only started by the Flux backend"),
    }
}

fn progress_line(records: &[RunRecord], wall: f64) -> String {
    let count = |state: RunState| records.iter().filter(|r| r.state == state).count();
    let jobs = |key: &str| -> u64 {
        records
            .iter()
            .filter_map(|r| r.child_status.as_ref().and_then(|s| s["progress"][key].as_u64()))
            .sum()
    };
    format!(
        "Progress: queued={} launching={} running={} succeeded={} failed={} skipped={} interrupted={} jobs={}/{} wall={:.0}s",
        count(RunState::Queued),
        count(RunState::Launching),
        count(RunState::Running),
        count(RunState::Succeeded),
        count(RunState::Failed),
        count(RunState::Skipped),
        count(RunState::Interrupted),
        jobs("finished"),
        jobs("jobs_total"),
        wall
    )
}
