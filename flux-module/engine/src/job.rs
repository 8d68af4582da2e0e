//! One replayed job while it is inside the instance, from submission to INACTIVE.

use emu_protocol::JobId;
use ff_inputs::{JobRequest, SimTime, TraceJob};
use ff_report::StorageGrant;

/// Where a job is in its emulated life. Each state carries what is known only from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    /// The job-ingest submit request is in flight.
    Submitting,
    /// Accepted by job-ingest; waiting for the scheduler.
    Queued,
    /// Its start was acknowledged at `start`; it ends at `end` (a timeout when `timeout`).
    Running { start: SimTime, end: SimTime, timeout: bool },
    /// `finish` and `release` were sent at `finish`; waiting for INACTIVE.
    Released { start: SimTime, finish: SimTime },
}

#[derive(Debug, Clone)]
pub struct ActiveJob {
    pub trace: TraceJob,
    /// What it asked the scheduler for.
    pub request: JobRequest,
    pub id: Option<JobId>,
    pub phase: JobPhase,
    /// The job-manager has put it in SCHED (or further).
    pub reached_sched: bool,
    pub real_submit: Option<f64>,
    pub real_start: Option<f64>,
    /// Broker ranks of the nodes it was given.
    pub nodelist: Vec<u32>,
    /// The rabbit storage it was given, per parent (from its R).
    pub storage_given: Vec<StorageGrant>,
}

impl ActiveJob {
    pub fn new(trace: TraceJob, request: JobRequest) -> Self {
        ActiveJob {
            trace,
            request,
            id: None,
            phase: JobPhase::Submitting,
            reached_sched: false,
            real_submit: None,
            real_start: None,
            nodelist: Vec::new(),
            storage_given: Vec::new(),
        }
    }

    /// When a job started at `start` ends, and whether that is its time limit cutting it short.
    pub fn end_time(&self, start: SimTime) -> (SimTime, bool) {
        match self.trace.time_limit {
            Some(limit) if self.trace.elapsed > limit => (start + limit, true),
            _ => (start + self.trace.elapsed, false),
        }
    }
}

/// Resources a job holds while it runs, as the emulator accounts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Footprint {
    pub nodes: u64,
    pub cores: u64,
    pub gpus: u64,
    pub storage_gib: u64,
}

impl ActiveJob {
    /// What it holds while it runs: what it asked for (whole nodes when exclusive), and
    /// the storage its R lists.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            nodes: self.request.nodes.into(),
            cores: self.request.cores(),
            gpus: self.request.gpus(),
            storage_gib: self.storage_given.iter().map(|grant| grant.gib).sum(),
        }
    }
}
