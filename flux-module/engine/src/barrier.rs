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
//!
//! **Continuation passes.** Fluxion's qmanager considers at most `queue-depth` pending
//! jobs per pass. When a pass stops at that depth with jobs left and its last match
//! scheduled something, it ends with the loop inactive but the queue still schedulable,
//! and the next pass starts in a *later* reactor iteration (queue_policy_bf_base_impl.hpp
//! `next_match_iter`; queue_policy_fcfs_impl.hpp likewise after a full multi-match). The
//! fork answers a waiting `sched.quiescent` from a prepare watcher, which runs in that
//! later iteration before the check watcher starts the continuation, so one answer can
//! fall between two passes of one scheduling round. Step 4 is therefore repeated
//! (sync, then probe) until two answers in a row report the same `alloc_current`:
//! * An answer given between passes comes from `quiescent_prep_cb` in the prepare phase
//!   of an iteration whose own prepare watcher (`prep_watcher_cb`) sees the queue
//!   schedulable and starts the idle watcher, so `check_watcher_cb` of that same
//!   iteration starts the continuation (the loop is active from then until its last match
//!   answer). An answer given directly by `quiescent_request_cb` comes from a message
//!   dispatch, and the qmanager's handle dispatches one message per iteration
//!   (flux-core `dispatch.c`, `handle_cb`): nothing else of that iteration can make the
//!   queue schedulable, so no continuation is pending then.
//! * The next probe is sent only after the sync request sent after that answer was
//!   answered; the sync is dispatched in that iteration at the earliest, so the probe is
//!   dispatched in a later one, when the continuation is running (the probe waits for
//!   its end) or over. Its `alloc_current` then includes everything the continuation
//!   allocated. These arguments rest on the order of the phases of one libev iteration
//!   (prepare, poll, check) and one dispatch per iteration, not on the order of
//!   watchers within a phase.
//! * A continuation that allocates nothing changes nothing that the next one would see:
//!   each pass drops and remakes its reservations and walks the same queue from the head,
//!   so the next would allocate nothing either. Equal counts therefore end the round.
//!   Rejected jobs (unsatisfiable requests) would change the queue without changing the
//!   count; the pre-flight check refuses such jobs before a run starts.
//!
//! A continuation is only possible when more jobs were pending than the smallest queue
//! depth, and only after a pass allocated something (a whole queue depth of jobs under
//! fcfs); the qmanager's `stats-get`, read once, gives each queue's depth and policy. A
//! confirming round is sent only then: shallow queues cost nothing, and deep queues one
//! sync and one probe more per step in which a pass may have been continued.

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
    /// The probe is in flight (condition 4), the first or a confirming one.
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
    /// Probes sent to confirm that no continuation pass followed the previous answer.
    pub confirmations: u64,
    /// Start requests received since this barrier began: jobs the scheduler allocated in
    /// this part, which `alloc_current` counts on top of what was held before.
    pub started: u64,
    /// Jobs that may have been pending in the scheduler when its passes of this part began.
    pub pending_bound: u64,
    /// Monotonic time the probe in flight was sent.
    pub probe_sent: f64,
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
            confirmations: 0,
            started: 0,
            pending_bound: 0,
            probe_sent: f64::NAN,
        }
    }

    /// Condition 1 holds.
    pub fn job_manager_settled(&self) -> bool {
        self.outstanding_submits == 0 && self.awaiting_sched.is_empty() && self.awaiting_inactive.is_empty()
    }
}
