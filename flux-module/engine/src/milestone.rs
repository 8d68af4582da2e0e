//! Milestones: where the replay is in its steps and barrier phases, for profiling.
//!
//! Only [`Engine::record_milestones`](crate::Engine::record_milestones) turns them on; the
//! engine then puts a [`Command::Milestone`](crate::Command::Milestone) in its command queue
//! whenever a barrier enters another phase, and one when a step ends. They sit in the
//! queue among the commands of the same moment, so the module sees a submission, a start
//! or a job's end inside the step and phase that caused it. The wall time of each is the
//! engine's monotonic `now` of the input that moved the barrier: a phase entered and left
//! within one input is still reported, with zero duration.

use ff_inputs::SimTime;

use crate::barrier::{BarrierPhase, StepBarrier};

/// The two parts of a step (see `engine.rs`), and the barrier of a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPart {
    Releases,
    Arrivals,
    /// Not a step: while paused, a job was ended from outside (e.g. `flux cancel`), and
    /// the barrier waits until the instance has reacted (the scheduler's passes over the
    /// freed resources or the shorter queue) before the pause holds again, at the same
    /// simulated time. `again`: another job ended after this barrier left the job-manager
    /// condition, so one more barrier follows.
    Settle { again: bool },
}

/// What a step barrier is waiting for, finer than [`BarrierPhase`]: the job-manager
/// condition is split into job-ingest's answers and the jobs' SCHED (after arrivals) or
/// INACTIVE (after releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    Ingest,
    Sched,
    Inactive,
    AllocQuery,
    SchedulerSync,
    Quiescent,
    Starts,
}

impl PhaseKind {
    pub(crate) fn of(part: StepPart, barrier: &StepBarrier) -> Self {
        match barrier.phase {
            BarrierPhase::JobManager if barrier.outstanding_submits > 0 => PhaseKind::Ingest,
            BarrierPhase::JobManager if matches!(part, StepPart::Releases | StepPart::Settle { .. }) => {
                PhaseKind::Inactive
            }
            BarrierPhase::JobManager => PhaseKind::Sched,
            BarrierPhase::AllocQueue => PhaseKind::AllocQuery,
            BarrierPhase::SchedulerSync => PhaseKind::SchedulerSync,
            BarrierPhase::Quiescent => PhaseKind::Quiescent,
            BarrierPhase::Starts { .. } => PhaseKind::Starts,
        }
    }

}

#[derive(Debug, Clone, PartialEq)]
pub enum Milestone {
    /// A barrier entered `phase`. `barrier` numbers the run's barriers from 1 (a step
    /// has one per released job and one for its arrivals), so a new barrier is told
    /// apart from its predecessor even when both are in the same phase.
    Phase { mono: f64, step: u64, time: SimTime, part: StepPart, barrier: u64, phase: PhaseKind },
    /// Step `step` is over (its barriers all passed).
    StepEnded { mono: f64, step: u64 },
}

/// The engine's side of milestone recording: the last phase reported.
#[derive(Debug, Default)]
pub(crate) struct MilestoneLog {
    last: Option<(u64, PhaseKind)>,
}

impl MilestoneLog {
    /// True when (barrier, phase) differs from the last one reported, which it becomes.
    pub(crate) fn is_new(&mut self, barrier: u64, phase: PhaseKind) -> bool {
        self.last.replace((barrier, phase)) != Some((barrier, phase))
    }
}
