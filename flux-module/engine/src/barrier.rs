//! The step barrier: when has the instance finished reacting to a step?
//!
//! A step's actions (releases or submissions) are done only when, in this order,
//! 1. every submission was answered by job-ingest, every submitted job reached SCHED and
//!    every released job reached INACTIVE (so its `sched.free` was sent) — the jobtap says so;
//! 2. `job-manager.alloc-query` shows no job waiting for its alloc request to be sent
//!    (the job-manager sends one per reactor iteration; a probe must not overtake them);
//! 3. `sched.quiescent` answers: no scheduling pass is running, `alloc_current` jobs hold
//!    resources;
//! 4. the exec service has received the start requests of all `alloc_current` jobs
//!    (the scheduler commits R to the KVS before the job-manager sees the allocation);
//! 5. a second `sched.quiescent` still reports no more allocations than the emulator holds.
//!    The first probe can be answered in the very reactor iteration before the scheduler
//!    begins its pass over requests it has already received; the confirming probe arrives
//!    at least one iteration later, so that pass has begun (and is waited for) or has ended.
//! This closes the race of the earlier implementation, whose plugin probed from the SCHED
//! callback, ahead of the alloc requests.

use std::collections::HashSet;

use emu_protocol::JobId;
use emu_protocol::sched::{AllocQueryReply, QuiescentReply};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierPhase {
    /// Condition 1.
    JobManager,
    /// An alloc-query is in flight (condition 2).
    AllocQueue,
    /// A probe is in flight (conditions 3 and 5).
    Quiescent { confirming: bool },
    /// Condition 4: waiting until the emulator holds `alloc_current` jobs.
    Starts { alloc_current: u64 },
}

impl BarrierPhase {
    pub fn describe(&self) -> String {
        match self {
            BarrierPhase::JobManager => "waiting for the job-manager (submissions, SCHED, INACTIVE)".into(),
            BarrierPhase::AllocQueue => "waiting for job-manager.alloc-query".into(),
            BarrierPhase::Quiescent { confirming: false } => "waiting for sched.quiescent".into(),
            BarrierPhase::Quiescent { confirming: true } => "waiting for the confirming sched.quiescent".into(),
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
