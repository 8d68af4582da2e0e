//! The run's artifacts under `output/`, fed as jobs finish and steps complete, so a run
//! that dies part-way still leaves `job_transitions.csv` rows and the timeline behind.
//!
//! * `job_transitions.csv`: one row per job (sorted by trace index at the end),
//! * `pernode.json`: node occupancy (and storage per rack) as a Chrome/Perfetto trace,
//!   both it and `eventlog.csv` gzip-compressed (`.gz`) when `output_compression` says so,
//! * `utilization.csv` and `utilization.svg`: occupancy after every step,
//! * `schedule.swf`: the schedule as a Standard Workload Format log (sorted at the end),
//! * `eventlog.csv`: every job's eventlog entries, as emu-jobtap streams them (`eventlog=1`),
//! * `summary.json`: run-wide metrics,
//! * `report.html`: one page with the run, its metrics and plots, made from the files above,
//! * `failure.txt`: why a failed run stopped, and what the emulator knew then.

use std::path::{Path, PathBuf};

use emu_protocol::jobtap::JobEvent;
use ff_engine::{Progress, RunOutcome, StepSample};
use ff_inputs::Config;
use ff_report::{
    EventlogWriter, JobRecord, Occupancy, PerNodeTrace, ProbeTimes, RunFacts, StorageCapacity, SummaryAccumulator,
    SwfHeader, SwfScheduleWriter, SystemCapacity, TransitionsWriter, UtilizationTimeline, write_report_html,
    write_summary,
};

pub struct Artifacts {
    dir: PathBuf,
    transitions: TransitionsWriter,
    schedule: SwfScheduleWriter,
    eventlog: Option<EventlogWriter>,
    pernode: PerNodeTrace,
    /// The names of the two files `output_compression` may compress.
    eventlog_name: &'static str,
    pernode_name: &'static str,
    timeline: UtilizationTimeline,
    summary: SummaryAccumulator,
    facts: RunFacts,
}

const TRANSITIONS: &str = "job_transitions.csv";
const SCHEDULE: &str = "schedule.swf";
const EVENTLOG: &str = "eventlog.csv";
const PERNODE: &str = "pernode.json";
const EVENTLOG_GZ: &str = "eventlog.csv.gz";
const PERNODE_GZ: &str = "pernode.json.gz";
const UTILIZATION: &str = "utilization.csv";
const SUMMARY: &str = "summary.json";
const REPORT: &str = "report.html";
const FAILURE: &str = "failure.txt";

/// Fluxion's queue policy when the Flux config does not set one.
const DEFAULT_POLICY: &str = "fcfs";

/// Fluxion's queue policy in the run's Flux config.
pub fn queue_policy(cfg: &Config) -> &str {
    cfg.flux_config
        .get("sched-fluxion-qmanager")
        .and_then(|q| q.get("queue-policy"))
        .and_then(|p| p.as_str())
        .unwrap_or(DEFAULT_POLICY)
}

impl Artifacts {
    pub fn create(
        cfg: &Config,
        run_dir: &Path,
        jobs_total: u64,
        faketime: bool,
        eventlog: bool,
    ) -> std::io::Result<Self> {
        let dir = cfg.output_dir.clone();
        std::fs::create_dir_all(&dir)?;
        let storage = cfg.storage.as_ref().map(|layout| StorageCapacity {
            parent_type: layout.parent_type.clone(),
            parents: layout.parents.iter().map(|p| (p.name.clone(), p.gib())).collect(),
        });
        let capacity = SystemCapacity {
            nnodes: cfg.system.nnodes,
            cores_per_node: cfg.system.cores_per_node,
            gpus_per_node: cfg.system.gpus_per_node,
            storage_gib: storage.as_ref().map_or(0, StorageCapacity::total_gib),
        };
        let policy = queue_policy(cfg);
        let schedule = SwfHeader {
            trace_name: cfg.job_traces.file_name().unwrap_or_default().to_string_lossy().into_owned(),
            unix_start_time: ff_inputs::time_origin(cfg).map_err(std::io::Error::other)?,
            system: capacity,
            policy: Some(policy.to_string()),
        };
        let facts = RunFacts {
            jobs_total,
            policy: Some(policy.to_string()),
            trace_file: cfg.job_traces.display().to_string(),
            config_file: run_dir.join(crate::replay::RUN_CONFIG).display().to_string(),
            faketime,
            ..RunFacts::default()
        };
        let gzip = cfg.output_compression.gzip(jobs_total);
        let (eventlog_name, pernode_name) = if gzip { (EVENTLOG_GZ, PERNODE_GZ) } else { (EVENTLOG, PERNODE) };
        Ok(Artifacts {
            transitions: TransitionsWriter::create(dir.join(TRANSITIONS), storage.as_ref())?,
            schedule: SwfScheduleWriter::create(dir.join(SCHEDULE), &schedule)?,
            eventlog: eventlog.then(|| EventlogWriter::create(dir.join(eventlog_name), gzip)).transpose()?,
            pernode: PerNodeTrace::create(dir.join(pernode_name), gzip, storage.as_ref())?,
            eventlog_name,
            pernode_name,
            timeline: UtilizationTimeline::create(dir.join(UTILIZATION), capacity)?,
            summary: SummaryAccumulator::new(capacity),
            facts,
            dir,
        })
    }

    pub fn job_done(&mut self, record: &JobRecord) -> std::io::Result<()> {
        self.summary.add(record);
        self.transitions.write(record).map_err(self.naming(TRANSITIONS))?;
        self.schedule.write(record).map_err(self.naming(SCHEDULE))?;
        self.pernode.write(record).map_err(self.naming(self.pernode_name))
    }

    /// Turns an I/O error on output file `name` into one that names its path: a full disk
    /// or a file-size limit must say which file could not be written.
    fn naming(&self, name: &str) -> impl FnOnce(std::io::Error) -> std::io::Error + use<> {
        let path = self.dir.join(name);
        move |e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    }

    pub fn has_eventlog(&self) -> bool {
        self.eventlog.is_some()
    }

    /// One batch of eventlog entries from emu-jobtap, written through to the file.
    pub fn job_events(&mut self, events: &[JobEvent]) -> std::io::Result<()> {
        let named = self.naming(self.eventlog_name);
        let Some(eventlog) = self.eventlog.as_mut() else { return Ok(()) };
        let written: std::io::Result<()> = events
            .iter()
            .try_for_each(|e| eventlog.write(e.id.0, &e.name, e.t, e.context.as_deref().map(|c| c.get())));
        written.and_then(|()| eventlog.flush()).map_err(named)
    }

    pub fn step(&mut self, s: &StepSample) -> std::io::Result<()> {
        let occupancy = Occupancy {
            running_jobs: s.running,
            pending_jobs: s.pending,
            busy_nodes: s.busy_nodes,
            busy_cores: s.busy_cores,
            busy_gpus: s.busy_gpus,
            busy_storage_gib: s.busy_storage_gib,
        };
        self.timeline.record(s.time.0, occupancy).map_err(self.naming(UTILIZATION))?;
        self.pernode.storage_sample(s.time.0, &s.storage_by_parent).map_err(self.naming(self.pernode_name))
    }

    pub fn finish(
        self,
        outcome: &RunOutcome,
        progress: &Progress,
        probes: &ProbeTimes,
        wall_seconds: f64,
    ) -> std::io::Result<()> {
        // Every file gets its chance (on a full disk, the small ones may still fit); the
        // errors are reported together, each naming its file.
        let mut errors = Vec::new();
        let mut attempt = |name: &str, written: std::io::Result<()>| {
            if let Err(e) = written {
                errors.push(format!("{}: {e}", self.dir.join(name).display()));
            }
        };
        let exit_code = match outcome {
            RunOutcome::Replayed { exit_code } => *exit_code,
            RunOutcome::Failed { reason, diagnostic } => {
                attempt(FAILURE, std::fs::write(self.dir.join(FAILURE), format!("{reason}\n\n{diagnostic}")));
                1
            }
        };
        attempt(TRANSITIONS, self.transitions.finish());
        attempt(SCHEDULE, self.schedule.finish());
        if let Some(eventlog) = self.eventlog {
            attempt(self.eventlog_name, eventlog.finish());
        }
        attempt(self.pernode_name, self.pernode.finish());
        attempt(UTILIZATION, self.timeline.finish());
        let facts = RunFacts {
            steps: progress.steps,
            probes: probes.clone(),
            busy_node_micros: Some(progress.node_micros),
            wall_seconds,
            exit_code,
            broker_peak_rss_kb: broker_peak_rss_kb(),
            ..self.facts
        };
        attempt(SUMMARY, write_summary(self.dir.join(SUMMARY), &self.summary.finish(facts)));
        attempt(REPORT, write_report_html(&self.dir));
        if errors.is_empty() { Ok(()) } else { Err(std::io::Error::other(errors.join("; "))) }
    }
}

/// The broker's peak resident memory: this module runs inside the broker process.
fn broker_peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
