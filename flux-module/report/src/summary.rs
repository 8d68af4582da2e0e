//! `summary.json`: run-wide metrics (job outcomes, makespan, utilization, wait, turnaround,
//! bounded slowdown, simulation speed) for comparing runs and policies at a glance.
//!
//! [`SummaryAccumulator`] folds jobs in as they finish with constant memory, so a trace of
//! millions of jobs costs nothing extra; [`SummaryAccumulator::finish`] adds the facts only the
//! engine knows ([`RunFacts`]) and [`write_summary`] writes the file with sorted keys, indent 2.

use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomically;
use crate::probe_times::ProbeTimes;
use crate::seconds::micros_to_seconds;
use crate::{JobRecord, JobResult, SystemCapacity};

/// Bump when a field changes meaning or disappears.
pub const SUMMARY_VERSION: u32 = 1;

/// Run-time floor of the bounded slowdown: jobs shorter than this count as this long, so a
/// one-second job that waited a minute does not dominate the mean.
pub const SLOWDOWN_TAU_SECONDS: f64 = 10.0;

/// What the engine knows about the run that job records do not carry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    /// Simulated steps the engine advanced through.
    pub steps: u64,
    /// Real time the replay took.
    pub wall_seconds: f64,
    /// Jobs in the trace; those never reported to the accumulator count as not run.
    pub jobs_total: u64,
    pub exit_code: i32,
    /// Scheduler policy (e.g. Fluxion match policy), when known.
    pub policy: Option<String>,
    pub trace_file: String,
    pub config_file: String,
    /// Whether the instance ran under libfaketime (then `REAL_*` times are fake time).
    pub faketime: bool,
    /// Peak resident memory of the broker process (all modules), when measured.
    pub broker_peak_rss_kb: Option<u64>,
    pub probes: ProbeTimes,
    /// Node-microseconds the run kept nodes busy, each node counted once however many
    /// jobs shared it. None: the jobs' own node-times are summed, which is the same when
    /// no two jobs share a node.
    pub busy_node_micros: Option<i128>,
}

/// Mean and maximum of a per-job quantity; both null when no job qualified.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanMax {
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

/// Bounded slowdown `max(1, (wait + run) / max(run, tau))` over jobs that started and finished.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundedSlowdown {
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub tau_seconds: f64,
}

/// Contents of `summary.json`. Times are epoch seconds, durations seconds, rounded to 6 decimals.
///
/// Fields are declared in alphabetical order because serde writes them in declaration order and
/// the file promises sorted keys (a test holds this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub bounded_slowdown: BoundedSlowdown,
    /// Peak resident memory of the broker process (all modules) over the run.
    pub broker_peak_rss_kb: Option<u64>,
    pub config_file: String,
    /// Null when the system has no cores or the makespan is zero.
    pub core_utilization_pct: Option<f64>,
    pub exit_code: i32,
    pub faketime: bool,
    /// Earliest start of any job; `last_finish` is the latest finish of a job that started.
    pub first_start: Option<f64>,
    pub first_submit: Option<f64>,
    pub gpu_utilization_pct: Option<f64>,
    pub jobs_canceled: u64,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub jobs_not_run: u64,
    pub jobs_timeout: u64,
    pub jobs_total: u64,
    pub last_finish: Option<f64>,
    /// Last finish − first start over jobs that started; 0 when none finished.
    pub makespan_seconds: f64,
    pub node_utilization_pct: Option<f64>,
    pub policy: Option<String>,
    /// `sched.quiescent` answer times by pending jobs.
    pub probes: ProbeTimes,
    /// Last job event (submit, start or finish) − first submit.
    pub sim_seconds: f64,
    /// Simulated seconds per wall-clock second; null when no wall time was measured.
    pub speedup: Option<f64>,
    pub steps: u64,
    /// GiB of rabbit storage given to jobs over capacity x makespan; null without storage.
    pub storage_utilization_pct: Option<f64>,
    pub system: SystemCapacity,
    pub trace_file: String,
    /// Over jobs that started and finished: finish − submit.
    pub turnaround_seconds: MeanMax,
    pub version: u32,
    /// Over jobs that started: start − submit.
    pub wait_seconds: MeanMax,
    pub wall_seconds: f64,
}

/// Folds finished jobs into the numbers of a [`Summary`] in O(1) memory.
#[derive(Debug, Clone)]
pub struct SummaryAccumulator {
    system: SystemCapacity,
    jobs_reported: u64,
    completed: u64,
    timeout: u64,
    canceled: u64,
    failed: u64,
    not_run: u64,
    first_submit: Option<i64>,
    first_start: Option<i64>,
    last_finish: Option<i64>,
    last_event: Option<i64>,
    // Resource × µs products: i128 because a million cores over a year overflows i64.
    node_micros: i128,
    core_micros: i128,
    gpu_micros: i128,
    storage_micros: i128,
    wait: RunningMeanMax,
    turnaround: RunningMeanMax,
    slowdown: RunningMeanMax,
}

impl SummaryAccumulator {
    pub fn new(system: SystemCapacity) -> Self {
        SummaryAccumulator {
            system,
            jobs_reported: 0,
            completed: 0,
            timeout: 0,
            canceled: 0,
            failed: 0,
            not_run: 0,
            first_submit: None,
            first_start: None,
            last_finish: None,
            last_event: None,
            node_micros: 0,
            core_micros: 0,
            gpu_micros: 0,
            storage_micros: 0,
            wait: RunningMeanMax::default(),
            turnaround: RunningMeanMax::default(),
            slowdown: RunningMeanMax::default(),
        }
    }

    /// Counts one job; call once per job, in any order.
    pub fn add(&mut self, job: &JobRecord) {
        self.jobs_reported += 1;
        *match job.result {
            JobResult::Completed => &mut self.completed,
            JobResult::Timeout => &mut self.timeout,
            JobResult::Canceled => &mut self.canceled,
            JobResult::Failed => &mut self.failed,
            JobResult::NotRun => &mut self.not_run,
        } += 1;

        self.first_submit = earliest(self.first_submit, Some(job.submit));
        self.first_start = earliest(self.first_start, job.start);
        let last_event = [Some(job.submit), job.start, job.finish]
            .into_iter()
            .flatten()
            .max();
        self.last_event = latest(self.last_event, last_event);

        if let Some(wait) = job.wait() {
            self.wait.add(micros_to_seconds(wait));
        }
        if let Some((start, finish)) = job.run_interval() {
            // Only jobs that ran bound the makespan: a job canceled while pending held nothing.
            self.last_finish = latest(self.last_finish, Some(finish));
            let run = (finish - start).max(0);
            self.node_micros += i128::from(job.nnodes) * i128::from(run);
            self.core_micros += i128::from(job.cores) * i128::from(run);
            self.gpu_micros += i128::from(job.gpus) * i128::from(run);
            self.storage_micros += i128::from(job.storage_given_gib()) * i128::from(run);

            let wait_seconds = micros_to_seconds(start - job.submit);
            let run_seconds = micros_to_seconds(run);
            self.turnaround.add(wait_seconds + run_seconds);
            self.slowdown.add(bounded_slowdown(wait_seconds, run_seconds));
        }
    }

    /// Completes the summary with what only the engine knows.
    pub fn finish(&self, facts: RunFacts) -> Summary {
        let makespan = match (self.first_start, self.last_finish) {
            (Some(first_start), Some(last_finish)) => (last_finish - first_start).max(0),
            _ => 0,
        };
        let utilization = |resource_micros: i128, capacity: u64| {
            let available = i128::from(capacity) * i128::from(makespan);
            (available > 0).then(|| round6(resource_micros as f64 / available as f64 * 100.0))
        };
        let sim_seconds = match (self.first_submit, self.last_event) {
            (Some(first), Some(last)) => micros_to_seconds(last - first),
            _ => 0.0,
        };
        let unreported = facts.jobs_total.saturating_sub(self.jobs_reported);
        Summary {
            bounded_slowdown: BoundedSlowdown {
                max: self.slowdown.max(),
                mean: self.slowdown.mean(),
                tau_seconds: SLOWDOWN_TAU_SECONDS,
            },
            broker_peak_rss_kb: facts.broker_peak_rss_kb,
            config_file: facts.config_file,
            core_utilization_pct: utilization(self.core_micros, self.system.total_cores()),
            exit_code: facts.exit_code,
            faketime: facts.faketime,
            first_start: self.first_start.map(micros_to_seconds),
            first_submit: self.first_submit.map(micros_to_seconds),
            gpu_utilization_pct: utilization(self.gpu_micros, self.system.total_gpus()),
            jobs_canceled: self.canceled,
            jobs_completed: self.completed,
            jobs_failed: self.failed,
            jobs_not_run: self.not_run + unreported,
            jobs_timeout: self.timeout,
            // A trace count below what was reported would be an engine bug; never under-count.
            jobs_total: facts.jobs_total.max(self.jobs_reported),
            last_finish: self.last_finish.map(micros_to_seconds),
            makespan_seconds: micros_to_seconds(makespan),
            node_utilization_pct: utilization(
                facts.busy_node_micros.unwrap_or(self.node_micros),
                u64::from(self.system.nnodes),
            ),
            policy: facts.policy,
            probes: facts.probes,
            sim_seconds,
            speedup: (facts.wall_seconds > 0.0).then(|| round6(sim_seconds / facts.wall_seconds)),
            steps: facts.steps,
            storage_utilization_pct: utilization(self.storage_micros, self.system.storage_gib),
            system: self.system,
            trace_file: facts.trace_file,
            turnaround_seconds: self.turnaround.mean_max(),
            version: SUMMARY_VERSION,
            wait_seconds: self.wait.mean_max(),
            wall_seconds: facts.wall_seconds,
        }
    }
}

/// One job's bounded slowdown, `max(1, (wait + run) / max(run, tau))`, from its wait and run time in
/// seconds: the summary's mean and max and the report's distribution are both built from it.
pub(crate) fn bounded_slowdown(wait_seconds: f64, run_seconds: f64) -> f64 {
    ((wait_seconds + run_seconds) / run_seconds.max(SLOWDOWN_TAU_SECONDS)).max(1.0)
}

/// Writes `summary.json` (sorted keys, indent 2, trailing newline), atomically.
pub fn write_summary(path: impl AsRef<Path>, summary: &Summary) -> io::Result<()> {
    write_atomically(path.as_ref(), |out| {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        out.write_all(b"\n")
    })
}

/// Count, sum and maximum of a per-job quantity: its mean and max without keeping the values.
#[derive(Debug, Clone, Copy, Default)]
struct RunningMeanMax {
    count: u64,
    sum: f64,
    max: f64,
}

impl RunningMeanMax {
    fn add(&mut self, value: f64) {
        self.max = if self.count == 0 {
            value
        } else {
            self.max.max(value)
        };
        self.count += 1;
        self.sum += value;
    }

    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| round6(self.sum / self.count as f64))
    }

    fn max(&self) -> Option<f64> {
        (self.count > 0).then(|| round6(self.max))
    }

    fn mean_max(&self) -> MeanMax {
        MeanMax {
            max: self.max(),
            mean: self.mean(),
        }
    }
}

/// Six decimals, like every other number in the run directory; also keeps files diffable.
pub(crate) fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

fn earliest(current: Option<i64>, candidate: Option<i64>) -> Option<i64> {
    match (current, candidate) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(current: Option<i64>, candidate: Option<i64>) -> Option<i64> {
    current.max(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{EPOCH_US, job, not_run};

    fn system(nnodes: u32, cores_per_node: u32) -> SystemCapacity {
        SystemCapacity {
            nnodes,
            cores_per_node,
            gpus_per_node: 0,
            storage_gib: 0,
        }
    }

    fn summarize(system: SystemCapacity, jobs: &[JobRecord], facts: RunFacts) -> Summary {
        let mut accumulator = SummaryAccumulator::new(system);
        jobs.iter().for_each(|job| accumulator.add(job));
        accumulator.finish(facts)
    }

    #[test]
    fn ten_jobs_in_waves_of_three() {
        let starts = [0, 0, 0, 360, 360, 360, 720, 720, 720, 1080];
        let jobs: Vec<JobRecord> = starts
            .iter()
            .enumerate()
            .map(|(idx, &start)| job(idx as u64, 10, 160, 0, start, start + 360))
            .collect();
        let facts = RunFacts {
            jobs_total: 10,
            steps: 8,
            wall_seconds: 2.0,
            ..RunFacts::default()
        };
        let summary = summarize(system(30, 16), &jobs, facts);

        assert_eq!(summary.makespan_seconds, 1440.0);
        assert_eq!(summary.node_utilization_pct, Some(83.333333));
        assert_eq!(summary.core_utilization_pct, Some(83.333333));
        assert_eq!(summary.gpu_utilization_pct, None);
        assert_eq!(summary.jobs_completed, 10);
        assert_eq!(summary.jobs_not_run, 0);
        assert_eq!(
            summary.wait_seconds,
            MeanMax {
                max: Some(1080.0),
                mean: Some(432.0)
            }
        );
        assert_eq!(
            summary.turnaround_seconds,
            MeanMax {
                max: Some(1440.0),
                mean: Some(792.0)
            }
        );
        assert_eq!(summary.first_submit, Some(micros_to_seconds(EPOCH_US)));
        assert_eq!(
            summary.last_finish,
            Some(micros_to_seconds(EPOCH_US) + 1440.0)
        );
        assert_eq!(summary.sim_seconds, 1440.0);
        assert_eq!(summary.speedup, Some(720.0));
    }

    #[test]
    fn back_to_back_jobs_fill_one_node() {
        let jobs: Vec<JobRecord> = (0..10)
            .map(|idx| job(idx, 1, 16, 0, idx as i64 * 100, (idx as i64 + 1) * 100))
            .collect();
        let summary = summarize(system(1, 16), &jobs, RunFacts::default());
        assert_eq!(summary.makespan_seconds, 1000.0);
        assert_eq!(summary.node_utilization_pct, Some(100.0));
        assert_eq!(summary.core_utilization_pct, Some(100.0));
    }

    #[test]
    fn bounded_slowdown_by_hand() {
        let jobs = [
            // wait 100, run 5 (below tau): (100 + 5) / 10 = 10.5
            job(0, 1, 1, 0, 100, 105),
            // no wait: (0 + 50) / 50 = 1
            job(1, 1, 1, 0, 0, 50),
            // wait 30, run 60: 90 / 60 = 1.5
            job(2, 1, 1, 0, 30, 90),
            // no wait, run 2: 2 / 10 = 0.2, bounded below by 1
            job(3, 1, 1, 0, 0, 2),
        ];
        let summary = summarize(system(4, 1), &jobs, RunFacts::default());
        assert_eq!(
            summary.bounded_slowdown,
            BoundedSlowdown {
                max: Some(10.5),
                mean: Some(3.5),
                tau_seconds: 10.0
            }
        );
    }

    #[test]
    fn outcomes_and_unreported_jobs() {
        let jobs = [
            job(0, 1, 1, 0, 0, 10),
            JobRecord {
                result: JobResult::Timeout,
                ..job(1, 1, 1, 0, 0, 20)
            },
            // Canceled while pending, after the last running job ended: not in the makespan.
            JobRecord {
                result: JobResult::Canceled,
                start: None,
                ..job(2, 1, 1, 0, 0, 25)
            },
            JobRecord {
                result: JobResult::Failed,
                start: None,
                ..job(3, 1, 1, 0, 0, 0)
            },
            not_run(4, 1, 30),
        ];
        let facts = RunFacts {
            jobs_total: 7,
            exit_code: 1,
            ..RunFacts::default()
        };
        let summary = summarize(system(2, 1), &jobs, facts);
        assert_eq!(
            (
                summary.jobs_completed,
                summary.jobs_timeout,
                summary.jobs_canceled
            ),
            (1, 1, 1)
        );
        // One reported not-run plus two the engine never reported.
        assert_eq!(
            (
                summary.jobs_failed,
                summary.jobs_not_run,
                summary.jobs_total
            ),
            (1, 3, 7)
        );
        // Wait and turnaround only over jobs that started.
        assert_eq!(
            summary.wait_seconds,
            MeanMax {
                max: Some(0.0),
                mean: Some(0.0)
            }
        );
        assert_eq!(
            summary.turnaround_seconds,
            MeanMax {
                max: Some(20.0),
                mean: Some(15.0)
            }
        );
        assert_eq!(summary.makespan_seconds, 20.0);
        assert_eq!(
            summary.last_finish,
            Some(micros_to_seconds(EPOCH_US) + 20.0)
        );
        // The last event is the not-run job's submission at 30 s.
        assert_eq!(summary.sim_seconds, 30.0);
        assert_eq!(summary.exit_code, 1);
    }

    #[test]
    fn empty_run() {
        let facts = RunFacts {
            jobs_total: 3,
            ..RunFacts::default()
        };
        let summary = summarize(system(4, 8), &[], facts);
        assert_eq!(summary.makespan_seconds, 0.0);
        assert_eq!(summary.node_utilization_pct, None);
        assert_eq!(
            summary.wait_seconds,
            MeanMax {
                max: None,
                mean: None
            }
        );
        assert_eq!(summary.bounded_slowdown.mean, None);
        assert_eq!(
            (
                summary.first_submit,
                summary.first_start,
                summary.last_finish
            ),
            (None, None, None)
        );
        assert_eq!((summary.sim_seconds, summary.speedup), (0.0, None));
        assert_eq!((summary.jobs_total, summary.jobs_not_run), (3, 3));
    }

    #[test]
    fn storage_utilization_counts_what_jobs_were_given() {
        let with_storage = SystemCapacity { storage_gib: 600, ..system(2, 1) };
        let given = |parent, gib| crate::StorageGrant { parent, gib };
        let jobs = [
            // 300 GiB (of 250 asked) for the whole 100 s; 100 GiB for half of it.
            JobRecord { storage_gib: 250, storage_given: vec![given(0, 200), given(1, 100)], ..job(0, 1, 1, 0, 0, 100) },
            JobRecord { storage_gib: 100, storage_given: vec![given(1, 100)], ..job(1, 1, 1, 0, 50, 100) },
        ];
        let summary = summarize(with_storage, &jobs, RunFacts::default());
        assert_eq!(summary.storage_utilization_pct, Some(58.333333));
        assert_eq!(summarize(system(2, 1), &jobs, RunFacts::default()).storage_utilization_pct, None);
    }

    #[test]
    fn written_with_sorted_keys_and_indent_two() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.json");
        let facts = RunFacts {
            jobs_total: 1,
            policy: Some("lonodex".into()),
            trace_file: "trace.csv".into(),
            config_file: "run.toml".into(),
            faketime: true,
            ..RunFacts::default()
        };
        let summary = summarize(system(1, 16), &[job(0, 1, 16, 0, 0, 60)], facts);
        write_summary(&path, &summary).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\n  \"bounded_slowdown\": {\n    \"max\": 1.0,"),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
        let top_level_keys: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("  \""))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        let mut sorted = top_level_keys.clone();
        sorted.sort_unstable();
        assert_eq!(top_level_keys, sorted);
        assert_eq!(top_level_keys.len(), 30);

        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["version"], 1);
        assert_eq!(parsed["policy"], "lonodex");
        assert_eq!(parsed["gpu_utilization_pct"], serde_json::Value::Null);
        assert_eq!(parsed["storage_utilization_pct"], serde_json::Value::Null);
        assert_eq!(parsed["system"]["cores_per_node"], 16);
        let round_trip: Summary = serde_json::from_str(&text).unwrap();
        assert_eq!(round_trip, summary);
    }
}
