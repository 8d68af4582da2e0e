//! The step barrier: when has the instance finished reacting to a step?
//!
//! A step's actions (releases or submissions) are done only when, in this order,
//! 1. every submission was answered by job-ingest, every submitted job reached SCHED and
//!    every released job reached INACTIVE (so its `sched.free` was sent) — the jobtap says so;
//! 2. `job-manager.alloc-query` shows no job waiting for its alloc request to be sent
//!    (the job-manager sends one per reactor iteration; a probe must not overtake them);
//! 3. the scheduler has answered a sync request sent after that: any request to the `sched`
//!    service is dispatched by the scheduler's own reactor, one message per iteration, so
//!    its answer proves the scheduler has gone through a full iteration after receiving
//!    the last alloc request, and has begun the scheduling pass that request calls for.
//!    Without it, the probe below can be dispatched in the very iteration before the
//!    scheduler starts that pass, and be answered "quiescent" with a stale count;
//! 4. `sched.quiescent` answers: no scheduling pass is running, `alloc_current` jobs hold
//!    resources;
//! 5. the exec service has received the start requests of all `alloc_current` jobs
//!    (the scheduler commits R to the KVS before the job-manager sees the allocation).
//!
//! This closes the race of the earlier implementation, whose plugin probed from the SCHED
//! callback, ahead of the alloc requests. Steps 2-5 are skipped after releases when no job
//! is waiting: freed resources alone never make a scheduler start anything.

use std::collections::HashSet;

use emu_protocol::JobId;
use emu_protocol::sched::{AllocQueryReply, QuiescentReply};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierPhase {
    /// Condition 1.
    JobManager,
    /// An alloc-query is in flight (condition 2).
    AllocQueue,
    /// The sync request is in flight (condition 3).
    SchedulerSync,
    /// The probe is in flight (condition 4).
    Quiescent,
    /// Condition 5: waiting until the emulator holds `alloc_current` jobs.
    Starts { alloc_current: u64 },
}

impl BarrierPhase {
    pub fn describe(&self) -> String {
        match self {
            BarrierPhase::JobManager => "waiting for the job-manager (submissions, SCHED, INACTIVE)".into(),
            BarrierPhase::AllocQueue => "waiting for job-manager.alloc-query".into(),
            BarrierPhase::SchedulerSync => "waiting for the scheduler to answer a sync request".into(),
            BarrierPhase::Quiescent => "waiting for sched.quiescent".into(),
            BarrierPhase::Starts { alloc_current } => {
                format!("waiting for start requests until {alloc_current} jobs hold resources")
            }
        }
    }
}

#[derive(Debug)]
pub struct StepBarrier {
    pub phase: BarrierPhase,
    pub outstanding_submits: usize,
    pub awaiting_sched: HashSet<JobId>,
    pub awaiting_inactive: HashSet<JobId>,
    pub last_alloc_query: Option<AllocQueryReply>,
    pub last_quiescent: Option<QuiescentReply>,
    pub alloc_queries: u64,
    pub probes: u64,
}

impl StepBarrier {
    pub fn new() -> Self {
        StepBarrier {
            phase: BarrierPhase::JobManager,
            outstanding_submits: 0,
            awaiting_sched: HashSet::new(),
            awaiting_inactive: HashSet::new(),
            last_alloc_query: None,
            last_quiescent: None,
            alloc_queries: 0,
            probes: 0,
        }
    }

    /// Condition 1 holds.
    pub fn job_manager_settled(&self) -> bool {
        self.outstanding_submits == 0 && self.awaiting_sched.is_empty() && self.awaiting_inactive.is_empty()
    }
}
