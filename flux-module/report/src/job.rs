//! The facts every artifact is built from: one record per job as it leaves the system, and the
//! size of the system those jobs are measured against.
//!
//! The engine fills a [`JobRecord`] once, when the job finishes (or when an aborted run gives up on
//! it), and hands the same record to every writer; writers never see engine types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a job left the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobResult {
    Completed,
    /// Killed at its time limit.
    Timeout,
    Canceled,
    /// Fatal exception, e.g. the scheduler denied the request.
    Failed,
    /// Never started and never ended: the run was aborted first.
    NotRun,
}

impl JobResult {
    /// The lower-case name written in `job_transitions.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobResult::Completed => "completed",
            JobResult::Timeout => "timeout",
            JobResult::Canceled => "canceled",
            JobResult::Failed => "failed",
            JobResult::NotRun => "not-run",
        }
    }
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One job as it left the system. Simulated times are epoch microseconds; `real_*` are readings of
/// the instance clock (fake time under libfaketime) in epoch seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Position of the job in the trace (0-based); artifacts are ordered by it.
    pub trace_idx: u64,
    /// The job's id as written in the trace.
    pub trace_id: String,
    /// Flux job id, once Flux accepted the submission.
    pub jobid: Option<u64>,
    pub nnodes: u32,
    /// Total cores allocated (all nodes).
    pub cores: u64,
    /// Total GPUs allocated (all nodes).
    pub gpus: u64,
    pub submit: i64,
    pub start: Option<i64>,
    pub finish: Option<i64>,
    pub real_submit: Option<f64>,
    pub real_start: Option<f64>,
    pub real_finish: Option<f64>,
    /// Node indices (broker ranks) the job ran on.
    pub nodelist: Vec<u32>,
    pub result: JobResult,
    /// Exception text, when the job ended by one.
    pub note: Option<String>,
    /// Trace time limit in µs; `None` is unlimited.
    pub time_limit: Option<i64>,
    /// Trace run time in µs.
    pub elapsed: i64,
    /// Rabbit storage the job asked for, GiB (0 for none).
    pub storage_gib: u64,
    /// The storage it was given, per parent; empty when it asked for none, never ran, or
    /// its R did not list its shares.
    pub storage_given: Vec<StorageGrant>,
}

/// Storage a job was given under one parent (rack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageGrant {
    /// The parent's index in the system's storage layout ([`StorageCapacity::parents`]).
    pub parent: usize,
    pub gib: u64,
}

/// The system's rabbit storage, as the artifacts name and measure it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageCapacity {
    /// The type of the parents holding the storage, e.g. `rack`.
    pub parent_type: String,
    /// Each parent's name and capacity (GiB), in layout order.
    pub parents: Vec<(String, u64)>,
}

impl StorageCapacity {
    pub fn total_gib(&self) -> u64 {
        self.parents.iter().map(|(_, gib)| gib).sum()
    }
}

impl JobRecord {
    /// GiB of storage it was given, in all parents.
    pub fn storage_given_gib(&self) -> u64 {
        self.storage_given.iter().map(|grant| grant.gib).sum()
    }

    /// Queue wait (start − submit) in µs, for jobs that started.
    pub fn wait(&self) -> Option<i64> {
        self.start.map(|start| start - self.submit)
    }

    /// `(start, finish)` for jobs that both started and finished: the interval they held resources.
    pub fn run_interval(&self) -> Option<(i64, i64)> {
        Some((self.start?, self.finish?))
    }
}

/// Size of the emulated system; every node is alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SystemCapacity {
    pub nnodes: u32,
    pub cores_per_node: u32,
    pub gpus_per_node: u32,
    /// Rabbit storage of the whole system, GiB (0 without storage).
    pub storage_gib: u64,
}

impl SystemCapacity {
    pub fn total_cores(&self) -> u64 {
        u64::from(self.nnodes) * u64::from(self.cores_per_node)
    }

    pub fn total_gpus(&self) -> u64 {
        u64::from(self.nnodes) * u64::from(self.gpus_per_node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_names() {
        let names: Vec<String> = [
            JobResult::Completed,
            JobResult::Timeout,
            JobResult::Canceled,
            JobResult::Failed,
            JobResult::NotRun,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            names,
            ["completed", "timeout", "canceled", "failed", "not-run"]
        );
    }

    #[test]
    fn capacity_totals() {
        let system = SystemCapacity {
            nnodes: 30,
            cores_per_node: 16,
            gpus_per_node: 4,
            storage_gib: 0,
        };
        assert_eq!((system.total_cores(), system.total_gpus()), (480, 120));
    }
}
