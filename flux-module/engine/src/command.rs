//! What the engine asks the broker module to do, and the small input types it is fed.

use emu_protocol::JobId;
use ff_inputs::SimTime;
use ff_report::JobRecord;

use crate::milestone::Milestone;

/// The two clocks the engine is told about on every input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// Monotonic wall-clock seconds: deadlines are measured on it.
    pub mono: f64,
    /// The instance's realtime clock (simulated when the broker runs under faketime),
    /// recorded in the REAL_* columns.
    pub real: f64,
}

/// A response on a job's exec start request (see `emu_protocol::exec`).
#[derive(Debug, Clone, PartialEq)]
pub enum ExecResponse {
    Start,
    /// A fatal exception of this type; `finish` and `release` still follow.
    Exception { kind: &'static str, note: String },
    /// wait(2) status: 0 = success, else the signal number that "killed" the job.
    Finish { status: i32 },
    /// Releases all of the job's resources and ends the start request's response stream.
    Release,
}

/// What the scheduler gave a job, as its R says (the exec start request carries it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Allocation {
    /// Broker ranks of its nodes.
    pub ranks: Vec<u32>,
    /// Its SSD shares, when Fluxion wrote the allocated graph into R.
    pub shares: Vec<AllocatedShare>,
}

/// One SSD share of an allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocatedShare {
    /// Its containment path in the resource graph, e.g. `/cluster0/rack1/ssd4`.
    pub path: String,
    pub gib: u64,
}

/// An allocation of nodes only.
impl From<Vec<u32>> for Allocation {
    fn from(ranks: Vec<u32>) -> Self {
        Allocation { ranks, shares: Vec::new() }
    }
}

/// Totals of the resources the scheduler manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceCounts {
    pub nodes: u64,
    pub cores: u64,
    pub gpus: u64,
}

/// Instance occupancy after a step, for the utilization timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSample {
    pub time: SimTime,
    pub running: u64,
    pub pending: u64,
    pub busy_nodes: u64,
    pub busy_cores: u64,
    pub busy_gpus: u64,
    pub busy_storage_gib: u64,
    /// GiB in use under each storage parent, in the layout's order (empty without storage).
    pub storage_by_parent: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Every event was replayed. `exit_code` is 0 when every job completed, 2 otherwise.
    Replayed { exit_code: i32 },
    /// The run was stopped: a barrier timed out, the scheduler misbehaved, or jobs can never run.
    Failed { reason: String, diagnostic: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Move the instance's clock to this simulated time before the step's actions reach it.
    SetClock(SimTime),
    /// The replay is paused: stop the instance's clock where it is (the next `SetClock`
    /// starts it again).
    HoldClock,
    /// Submit one jobspec through job-ingest; answer with `Engine::handle_submitted`.
    Submit { trace_idx: u64, jobspec: String },
    /// Respond on the stored start request of `id`. After `Release` the request can be dropped.
    Respond { id: JobId, response: ExecResponse },
    /// Send `job-manager.alloc-query`; answer with `Engine::handle_alloc_query`.
    QueryAllocQueue,
    /// Send any request to the `sched` service and wait for any answer (an error such as
    /// ENOSYS included); answer with `Engine::handle_scheduler_sync`.
    SyncScheduler,
    /// Send `sched.quiescent`; answer with `Engine::handle_quiescent`.
    ProbeQuiescent,
    /// Ask the scheduler for its queues' depths and policies (Fluxion's
    /// `sched-fluxion-qmanager.stats-get`); answer with `Engine::handle_continuation_rule`.
    QueryContinuationRule,
    /// Ask the scheduler which resources it manages; answer with `Engine::handle_resources`.
    QueryResources,
    /// Cancel a job of the replay waiting in the instance (`job-manager.raise`, as
    /// `flux cancel` does); no answer is awaited.
    Cancel { id: JobId, note: String },
    /// A job left the system; its record is final.
    JobDone(Box<JobRecord>),
    /// A step is complete.
    StepDone(StepSample),
    /// The run is over; no more commands follow.
    Finished(RunOutcome),
    /// Where the replay is, for profiling (only after `Engine::record_milestones`).
    Milestone(Milestone),
}
