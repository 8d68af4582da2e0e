//! The replay state machine: steps through simulated time and drives the step barrier.
//!
//! A step at simulated time `t` has two parts, each closed by a full barrier
//! (see `barrier.rs`):
//! 1. *releases*: jobs due to end at `t` are finished and released, one at a time in
//!    trace order, each followed by a barrier, so the scheduler reacts to the freed
//!    resources (starting queued jobs at `t`) before the next free arrives;
//! 2. *arrivals*: trace rows submitted at `t` are submitted, all in flight together.
//!
//! Doing it in this order makes the schedule independent of message timing: the scheduler
//! always sees frees before arrivals, as a textbook scheduler does, and it sees each free
//! on its own (Fluxion starts a scheduling pass per free message; were two frees sent
//! together, whether one pass saw both would depend on the machine's speed).
//! Starts are acknowledged when their request arrives, at the current simulated time.

use std::collections::{HashMap, HashSet};

use emu_protocol::JobId;
use emu_protocol::jobtap::{JobResult as TapResult, Transition, WatchedState};
use emu_protocol::module::PauseState;
use emu_protocol::sched::{AllocQueryReply, ContinuationRule, QuiescentReply};
use ff_inputs::{RequestRules, SimTime, TraceError};
use ff_report::{JobRecord, JobResult, ProbeTimes};

use crate::barrier::{BarrierPhase, StepBarrier};
use crate::clock::{Arrivals, Completions, TraceRows};
use crate::command::{Allocation, Command, ExecResponse, Now, ResourceCounts, RunOutcome, StepSample};
use crate::job::{ActiveJob, JobPhase};
use crate::milestone::{Milestone, MilestoneLog, PhaseKind, StepPart};
use crate::occupancy::Occupancy;
use crate::pause::PauseRule;
use crate::storage_use::StorageUse;

/// Signal numbers reported as the wait status of jobs the emulator "kills".
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;
/// How many jobs a diagnostic lists by name.
const DIAGNOSTIC_LIST: usize = 20;

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The system, and how trace rows become requests on it.
    pub requests: RequestRules,
    /// Wall-clock seconds one step (or the start-up checks) may take.
    pub step_timeout: f64,
    /// Rows in the trace (from the pre-flight pass), for progress reports.
    pub jobs_total: u64,
}

/// Counters for status reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    pub jobs_total: u64,
    pub submitted: u64,
    pub started: u64,
    pub finished: u64,
    /// Finished other than by completing.
    pub not_completed: u64,
    pub steps: u64,
    pub sim_time: Option<SimTime>,
    /// Busy node-microseconds so far, each node counted once however many jobs share it.
    pub node_micros: i128,
}

struct Step {
    time: SimTime,
    part: StepPart,
    barrier: StepBarrier,
    started_mono: f64,
}

enum Stage {
    /// Waiting for the scheduler's resource view.
    CheckingResources { since: f64 },
    /// Waiting for the first `sched.quiescent` answer.
    CheckingScheduler { since: f64 },
    /// Waiting for the scheduler's queue depths and policies.
    CheckingContinuationRule { since: f64 },
    Stepping(Box<Step>),
    /// Stopped at a step boundary by the user: no deadline, no clock movement.
    Paused,
    Over,
}

pub struct Engine {
    settings: EngineSettings,
    arrivals: Arrivals,
    completions: Completions,
    /// Jobs inside the instance, by trace index.
    active: HashMap<u64, ActiveJob>,
    by_id: HashMap<JobId, u64>,
    /// Transitions of ids whose submit response has not arrived yet.
    early: HashMap<JobId, Transition>,
    /// Every job with a start request whose INACTIVE has not been seen: what the
    /// scheduler counts as allocated once its frees have arrived.
    holding: HashSet<JobId>,
    occupancy: Occupancy,
    /// Rabbit storage given to running jobs, per parent.
    storage: StorageUse,
    /// When the scheduler continues a pass (from its queues' depths and policies); None
    /// when it could not be read (a scheduler other than Fluxion): any pass that
    /// allocates may then have a continuation.
    continuation: Option<ContinuationRule>,
    probe_times: ProbeTimes,
    stage: Stage,
    pause: PauseRule,
    now: Option<SimTime>,
    progress: Progress,
    commands: std::collections::VecDeque<Command>,
    /// Barriers begun so far (identifies each in milestones).
    barriers: u64,
    /// Set by `record_milestones`; None costs nothing.
    milestones: Option<MilestoneLog>,
    /// Why the replay was torn down (see `interrupt`): its jobs are gone from `active`, and
    /// any of them that shows up late (a submission answered, a start request) is ended.
    interrupted: Option<String>,
}

impl Engine {
    pub fn new(settings: EngineSettings, rows: TraceRows) -> Result<Self, TraceError> {
        let progress = Progress { jobs_total: settings.jobs_total, ..Progress::default() };
        let occupancy = Occupancy::new(settings.requests.system.nnodes);
        Ok(Engine {
            storage: StorageUse::new(settings.requests.storage.clone()),
            settings,
            arrivals: Arrivals::new(rows)?,
            completions: Completions::default(),
            active: HashMap::new(),
            by_id: HashMap::new(),
            early: HashMap::new(),
            holding: HashSet::new(),
            occupancy,
            continuation: None,
            probe_times: ProbeTimes::default(),
            stage: Stage::CheckingResources { since: f64::NAN },
            pause: PauseRule::default(),
            now: None,
            progress,
            commands: Default::default(),
            barriers: 0,
            milestones: None,
            interrupted: None,
        })
    }

    /// Begins the run: first the instance is checked, then the first step starts.
    pub fn start(&mut self, now: Now) {
        self.stage = Stage::CheckingResources { since: now.mono };
        self.commands.push_back(Command::QueryResources);
    }

    /// From now on, report steps and barrier phases as [`Command::Milestone`]s (profiling).
    pub fn record_milestones(&mut self) {
        self.milestones = Some(MilestoneLog::default());
    }

    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// Monotonic time by which the current wait must be over.
    pub fn deadline(&self) -> Option<f64> {
        let since = match &self.stage {
            Stage::CheckingResources { since }
            | Stage::CheckingScheduler { since }
            | Stage::CheckingContinuationRule { since } => *since,
            Stage::Stepping(step) => step.started_mono,
            Stage::Paused | Stage::Over => return None,
        };
        Some(since + self.settings.step_timeout)
    }

    /// Stops the replay before the first step later than `t` (`--pause-at`).
    pub fn pause_at(&mut self, t: SimTime) {
        self.pause = PauseRule::new(Some(t));
    }

    pub fn pause_state(&self) -> PauseState {
        match &self.stage {
            Stage::Paused => PauseState::Paused,
            Stage::Over => PauseState::Running,
            _ if self.pause.requested() => PauseState::Pausing,
            _ => PauseState::Running,
        }
    }

    // ---- the user's controls -------------------------------------------------------------

    /// Pauses at the next step boundary: the step under way (if any) completes first.
    pub fn pause(&mut self) -> Result<(), String> {
        self.check_not_over()?;
        self.pause.pause(self.progress.steps);
        Ok(())
    }

    /// Runs on from a pause (or cancels a pause not yet reached).
    pub fn resume(&mut self, now: Now) -> Result<(), String> {
        self.check_not_over()?;
        self.pause.resume();
        if matches!(self.stage, Stage::Paused) {
            self.at_boundary(now);
        }
        Ok(())
    }

    /// Runs exactly `n` more steps from a pause, then pauses again. Returns the step
    /// count at which it will stop.
    pub fn step(&mut self, n: u64, now: Now) -> Result<u64, String> {
        self.check_not_over()?;
        if n == 0 {
            return Err("the number of steps must be at least 1".into());
        }
        let settling = matches!(&self.stage, Stage::Stepping(s) if matches!(s.part, StepPart::Settle { .. }));
        if !matches!(self.stage, Stage::Paused) && !settling {
            return Err("the replay is not paused (pause it first)".into());
        }
        let target = self.pause.step(self.progress.steps, n);
        if matches!(self.stage, Stage::Paused) {
            self.at_boundary(now);
        }
        Ok(target)
    }

    fn check_not_over(&self) -> Result<(), String> {
        match self.stage {
            Stage::Over => Err("the replay is over".into()),
            _ => Ok(()),
        }
    }

    pub fn progress(&self) -> Progress {
        Progress { sim_time: self.now, node_micros: self.occupancy.node_micros(), ..self.progress }
    }


    /// How long the scheduler took to answer each step's probes.
    pub fn probe_times(&self) -> &ProbeTimes {
        &self.probe_times
    }

    pub fn is_over(&self) -> bool {
        matches!(self.stage, Stage::Over)
    }

    // ---- inputs -------------------------------------------------------------------------

    pub fn handle_resources(&mut self, reply: Result<ResourceCounts, String>, now: Now) {
        if !matches!(self.stage, Stage::CheckingResources { .. }) {
            return;
        }
        let seen = match reply {
            Ok(seen) => seen,
            Err(e) => return self.fail(format!("could not read the scheduler's resources: {e}"), String::new()),
        };
        let sys = &self.settings.requests.scheduler;
        let nodes = u64::from(sys.nnodes);
        let want = ResourceCounts {
            nodes,
            cores: nodes * u64::from(sys.cores_per_node),
            gpus: nodes * u64::from(sys.gpus_per_node),
        };
        if seen != want {
            return self.fail(
                format!(
                    "the scheduler manages {} nodes, {} cores, {} GPUs but the config describes {} nodes, {} cores, {} GPUs",
                    seen.nodes, seen.cores, seen.gpus, want.nodes, want.cores, want.gpus
                ),
                String::new(),
            );
        }
        self.stage = Stage::CheckingScheduler { since: now.mono };
        self.commands.push_back(Command::ProbeQuiescent);
    }

    pub fn handle_submitted(&mut self, trace_idx: u64, result: Result<JobId, String>, now: Now) {
        if let Stage::Stepping(step) = &mut self.stage {
            step.barrier.outstanding_submits = step.barrier.outstanding_submits.saturating_sub(1);
        }
        let id = match result {
            Ok(id) => id,
            Err(e) => {
                if let Some(job) = self.active.remove(&trace_idx) {
                    self.record_done(job, JobResult::Failed, Some(format!("submission rejected: {e}")), None);
                }
                return self.advance_barrier(now);
            }
        };
        if let Some(note) = &self.interrupted {
            let note = note.clone();
            return self.commands.push_back(Command::Cancel { id, note });
        }
        let Some(job) = self.active.get_mut(&trace_idx) else { return };
        job.id = Some(id);
        job.real_submit = Some(now.real);
        if job.phase == JobPhase::Submitting {
            job.phase = JobPhase::Queued;
        }
        self.by_id.insert(id, trace_idx);
        self.progress.submitted += 1;
        match self.early.remove(&id) {
            Some(t) if t.state == WatchedState::Inactive => return self.apply_transition(&t, now),
            Some(_) => job.reached_sched = true,
            None => {}
        }
        if !job.reached_sched {
            if let Stage::Stepping(step) = &mut self.stage {
                step.barrier.awaiting_sched.insert(id);
            }
        }
        self.advance_barrier(now);
    }

    pub fn handle_transitions(&mut self, batch: &[Transition], now: Now) {
        for t in batch {
            self.apply_transition(t, now);
        }
    }

    pub fn handle_alloc_query(&mut self, reply: Result<AllocQueryReply, String>, now: Now) {
        let Stage::Stepping(step) = &mut self.stage else { return };
        if step.barrier.phase != BarrierPhase::AllocQueue {
            return;
        }
        match reply {
            Err(e) => self.fail(format!("job-manager.alloc-query failed: {e}"), String::new()),
            Ok(r) => {
                step.barrier.last_alloc_query = Some(r);
                if r.queue_length > 0 {
                    step.barrier.alloc_queries += 1;
                    self.commands.push_back(Command::QueryAllocQueue);
                } else {
                    step.barrier.phase = BarrierPhase::SchedulerSync;
                    self.commands.push_back(Command::SyncScheduler);
                }
                self.note_phase(now);
            }
        }
    }

    /// The scheduler answered the sync request. Only a timeout (the step's deadline) is a
    /// failure: an error reply proves the scheduler's reactor dispatched it just the same.
    pub fn handle_scheduler_sync(&mut self, now: Now) {
        let Stage::Stepping(step) = &mut self.stage else { return };
        if step.barrier.phase != BarrierPhase::SchedulerSync {
            return;
        }
        step.barrier.phase = BarrierPhase::Quiescent;
        step.barrier.probes += 1;
        step.barrier.probe_sent = now.mono;
        self.commands.push_back(Command::ProbeQuiescent);
        self.note_phase(now);
    }

    /// When the scheduler continues its passes (`Ok(None)`: it reports no queues). An
    /// error means the scheduler is not Fluxion's qmanager; the barrier then confirms
    /// after every pass that allocated something.
    pub fn handle_continuation_rule(&mut self, reply: Result<Option<ContinuationRule>, String>, now: Now) {
        if !matches!(self.stage, Stage::CheckingContinuationRule { .. }) {
            return;
        }
        self.continuation = reply.ok().flatten();
        self.at_boundary(now);
    }

    pub fn handle_quiescent(&mut self, reply: Result<QuiescentReply, String>, now: Now) {
        let reply = match reply {
            Ok(r) if r.status == 0 => Ok(r),
            Ok(r) => Err(format!("sched.quiescent answered status {}", r.status)),
            Err(e) => Err(e),
        };
        match &mut self.stage {
            Stage::CheckingScheduler { .. } => match reply {
                Ok(_) => {
                    self.stage = Stage::CheckingContinuationRule { since: now.mono };
                    self.commands.push_back(Command::QueryContinuationRule);
                }
                Err(e) => self.fail(
                    format!(
                        "the scheduler does not answer sched.quiescent ({e}); Flux Fiction needs a scheduler \
                         that implements it, such as Fluxion from TauferLab/flux-sched (branch master)"
                    ),
                    String::new(),
                ),
            },
            Stage::Stepping(step) => {
                if step.barrier.phase != BarrierPhase::Quiescent {
                    return;
                }
                let r = match reply {
                    Ok(r) => r,
                    Err(e) => return self.fail(format!("sched.quiescent failed: {e}"), self.diagnostic(now)),
                };
                let b = &step.barrier;
                self.probe_times.add(b.pending_bound, now.mono - b.probe_sent, b.confirmations > 0);
                // What the scheduler held before this part's passes: everything the
                // emulator holds, less the jobs it started in this part.
                let held_before = (self.holding.len() as u64).saturating_sub(step.barrier.started);
                let previous = step.barrier.last_quiescent.map_or(held_before, |q| q.alloc_current);
                step.barrier.last_quiescent = Some(r);
                let allocated = r.alloc_current.saturating_sub(previous);
                let may_continue = match self.continuation {
                    Some(rule) => step.barrier.pending_bound > rule.queue_depth && allocated >= rule.min_allocations,
                    None => allocated > 0,
                };
                if may_continue {
                    step.barrier.confirmations += 1;
                    step.barrier.phase = BarrierPhase::SchedulerSync;
                    self.commands.push_back(Command::SyncScheduler);
                    return self.note_phase(now);
                }
                step.barrier.phase = BarrierPhase::Starts { alloc_current: r.alloc_current };
                self.advance_barrier(now);
            }
            _ => {}
        }
    }

    /// An exec start request arrived. `trace_idx` comes from the jobspec's user attribute
    /// (None: not submitted by the emulator); `allocation` is what its R lists.
    pub fn handle_start_request(
        &mut self,
        id: JobId,
        trace_idx: Option<u64>,
        allocation: impl Into<Allocation>,
        now: Now,
    ) {
        let allocation = allocation.into();
        self.holding.insert(id);
        if let Stage::Stepping(step) = &mut self.stage {
            step.barrier.started += 1;
        }
        let sim_now = self.now.unwrap_or(SimTime(0));
        let job = trace_idx.and_then(|idx| self.active.get_mut(&idx));
        let Some(job) = job.filter(|j| matches!(j.phase, JobPhase::Queued | JobPhase::Submitting)) else {
            let note = match &self.interrupted {
                Some(reason) => reason.clone(),
                None => "ff-emu: this job was not submitted by the emulator; it cannot run here".to_string(),
            };
            self.refuse_start(id, &note);
            // It holds resources until released all the same: the barrier counts it.
            return self.advance_barrier(now);
        };
        let (end, timeout) = job.end_time(sim_now);
        job.phase = JobPhase::Running { start: sim_now, end, timeout };
        job.real_start = Some(now.real);
        job.nodelist = allocation.ranks;
        job.storage_given = self.storage.grants(&allocation.shares);
        self.storage.add(&job.storage_given);
        if job.id.is_none() {
            job.id = Some(id);
        }
        let idx = job.trace.trace_idx;
        self.by_id.insert(id, idx);
        self.occupancy.take(&job.nodelist, job.footprint());
        self.completions.push(end, idx);
        self.progress.started += 1;
        self.commands.push_back(Command::Respond { id, response: ExecResponse::Start });
        self.advance_barrier(now);
    }

    /// A `job-exception` event. A fatal one on a running job ends it now, as job-exec would.
    pub fn handle_job_exception(&mut self, id: JobId, kind: &str, severity: i32, now: Now) {
        if severity != 0 {
            return;
        }
        let Some(idx) = self.by_id.get(&id).copied() else { return };
        let Some(job) = self.active.get_mut(&idx) else { return };
        if !matches!(job.phase, JobPhase::Released { .. }) {
            // Ended from outside, pending or running.
            self.settle_if_paused(id, now);
        }
        let Some(job) = self.active.get_mut(&idx) else { return };
        let JobPhase::Running { start, .. } = job.phase else { return };
        let finish = self.now.unwrap_or(start);
        job.phase = JobPhase::Released { start, finish };
        let status = if kind == "timeout" { SIGKILL } else { SIGTERM };
        self.occupancy.give_back(&job.nodelist, job.footprint());
        self.storage.sub(&job.storage_given);
        self.commands.push_back(Command::Respond { id, response: ExecResponse::Finish { status } });
        self.commands.push_back(Command::Respond { id, response: ExecResponse::Release });
        self.advance_barrier(now);
    }

    /// Ends the run because of something outside the engine (a broken stream, an I/O error).
    pub fn abort(&mut self, reason: String, now: Now) {
        let diagnostic = self.diagnostic(now);
        self.fail(reason, diagnostic);
    }

    /// The replay is torn down before its end (the module is removed, or the instance shuts
    /// down): the run ends as failed with `reason` (unless it already ended), and every job
    /// of the replay still in the instance is ended, so that a new replay there starts on an
    /// empty machine. A running job is killed as a cancel would (exception, finish, release);
    /// a waiting one is canceled, and so is one whose submission is answered later; a start
    /// request that arrives later is refused. Only the first call does anything.
    pub fn interrupt(&mut self, reason: String, now: Now) {
        if self.interrupted.is_some() {
            return;
        }
        self.abort(reason.clone(), now);
        let mut jobs: Vec<&ActiveJob> = self.active.values().collect();
        jobs.sort_by_key(|j| j.trace.trace_idx);
        for job in jobs {
            let Some(id) = job.id else { continue };
            match job.phase {
                JobPhase::Running { .. } => {
                    let note = reason.clone();
                    self.commands.push_back(Command::Respond {
                        id,
                        response: ExecResponse::Exception { kind: "cancel", note },
                    });
                    self.commands.push_back(Command::Respond { id, response: ExecResponse::Finish { status: SIGTERM } });
                    self.commands.push_back(Command::Respond { id, response: ExecResponse::Release });
                }
                JobPhase::Submitting | JobPhase::Queued => {
                    self.commands.push_back(Command::Cancel { id, note: reason.clone() })
                }
                JobPhase::Released { .. } => {}
            }
        }
        self.active.clear();
        self.by_id.clear();
        self.interrupted = Some(reason);
    }

    /// Called when `deadline()` has passed.
    pub fn handle_deadline(&mut self, now: Now) {
        match self.deadline() {
            Some(d) if now.mono >= d => {}
            _ => return,
        }
        let what = match &self.stage {
            Stage::CheckingResources { .. } => "the scheduler's resource view".to_string(),
            Stage::CheckingScheduler { .. } => "the first sched.quiescent answer".to_string(),
            Stage::CheckingContinuationRule { .. } => "the scheduler's queue depths and policies".to_string(),
            Stage::Stepping(step) => format!("step {} ({})", self.progress.steps, step.barrier.phase.describe()),
            Stage::Paused | Stage::Over => return,
        };
        let diagnostic = self.diagnostic(now);
        self.fail(
            format!("timed out after {} s waiting for {what}; see the diagnostic", self.settings.step_timeout),
            diagnostic,
        );
    }

    // ---- the step loop ------------------------------------------------------------------

    /// Between two steps (or before the first): pause if the user asked for it, else
    /// begin the next step.
    fn at_boundary(&mut self, now: Now) {
        let active = &self.active;
        let next_completion = self.completions.peek_live(|end, idx| {
            matches!(active.get(&idx).map(|j| j.phase), Some(JobPhase::Running { end: e, .. }) if e == end)
        });
        let next = match (self.arrivals.peek_time(), next_completion) {
            (Some(a), Some(c)) => a.min(c),
            (a, c) => match a.or(c) {
                Some(t) => t,
                None => return self.end_of_events(now),
            },
        };
        if self.pause.holds(self.progress.steps, next) {
            self.stage = Stage::Paused;
            self.commands.push_back(Command::HoldClock);
            return;
        }
        self.begin_step(next, now);
    }

    fn begin_step(&mut self, next: SimTime, now: Now) {
        self.now = Some(next);
        self.occupancy.advance_to(next);
        self.progress.steps += 1;
        self.commands.push_back(Command::SetClock(next));
        self.stage = Stage::Stepping(Box::new(Step {
            time: next,
            part: StepPart::Releases,
            barrier: StepBarrier::new(),
            started_mono: now.mono,
        }));
        self.release_next_or_submit(now);
    }

    /// Part 1 of a step: finish and release the next job due at `t`, if any.
    fn release_next(&mut self, t: SimTime) -> Option<JobId> {
        while let Some(idx) = self.completions.pop_at(t) {
            let Some(job) = self.active.get_mut(&idx) else { continue };
            let JobPhase::Running { start, end, timeout } = job.phase else { continue };
            if end != t {
                continue;
            }
            let Some(id) = job.id else { continue };
            job.phase = JobPhase::Released { start, finish: t };
            let footprint = job.footprint();
            self.storage.sub(&job.storage_given);
            if timeout {
                let limit = job.trace.time_limit.map(|l| l.as_secs_f64()).unwrap_or_default();
                let note = format!("emulated job reached its time limit of {limit} s");
                self.commands.push_back(Command::Respond {
                    id,
                    response: ExecResponse::Exception { kind: "timeout", note },
                });
            }
            let status = if timeout { SIGKILL } else { 0 };
            self.commands.push_back(Command::Respond { id, response: ExecResponse::Finish { status } });
            self.commands.push_back(Command::Respond { id, response: ExecResponse::Release });
            self.occupancy.give_back(&job.nodelist, footprint);
            return Some(id);
        }
        None
    }

    /// Releases the next job due now behind a fresh barrier, or, when none is left,
    /// moves on to the step's arrivals.
    fn release_next_or_submit(&mut self, now: Now) {
        let Stage::Stepping(step) = &mut self.stage else { return };
        let t = step.time;
        step.barrier = StepBarrier::new();
        self.barriers += 1;
        match self.release_next(t) {
            Some(id) => {
                if let Stage::Stepping(step) = &mut self.stage {
                    step.barrier.awaiting_inactive.insert(id);
                }
                self.advance_barrier(now);
            }
            None => self.submit_arrivals(now),
        }
    }

    /// Part 2 of a step: the submissions of every trace row due at `t`.
    fn submissions_due(&mut self, t: SimTime) -> Result<Vec<Command>, TraceError> {
        let mut submits = Vec::new();
        while let Some(trace) = self.arrivals.pop_at(t)? {
            let idx = trace.trace_idx;
            let jobspec = ff_inputs::jobspec_json(&trace, &self.settings.requests);
            let request = self.settings.requests.request(&trace);
            self.active.insert(idx, ActiveJob::new(trace, request));
            submits.push(Command::Submit { trace_idx: idx, jobspec });
        }
        Ok(submits)
    }

    /// Moves the barrier forward as far as the current facts allow.
    fn advance_barrier(&mut self, now: Now) {
        self.note_phase(now);
        let held = self.holding.len() as u64;
        let Stage::Stepping(step) = &mut self.stage else { return };
        match step.barrier.phase {
            BarrierPhase::JobManager if step.barrier.job_manager_settled() => {
                // Evaluated once per part, so a linear scan is fine.
                let waiting =
                    self.active.values().filter(|j| matches!(j.phase, JobPhase::Submitting | JobPhase::Queued)).count();
                if step.part != StepPart::Arrivals && waiting == 0 {
                    return self.finish_part(now);
                }
                // Jobs started in this part were pending when its passes began.
                step.barrier.pending_bound = waiting as u64 + step.barrier.started;
                step.barrier.phase = BarrierPhase::AllocQueue;
                step.barrier.alloc_queries += 1;
                self.commands.push_back(Command::QueryAllocQueue);
                self.note_phase(now);
            }
            BarrierPhase::Starts { alloc_current } if held >= alloc_current => self.finish_part(now),
            _ => {}
        }
    }

    fn finish_part(&mut self, now: Now) {
        let Stage::Stepping(step) = &mut self.stage else { return };
        match step.part {
            StepPart::Releases => self.release_next_or_submit(now),
            StepPart::Arrivals => self.end_step(now),
            StepPart::Settle { again: true } => {
                // Jobs ended during this barrier and still awaited stay awaited.
                let awaiting = std::mem::take(&mut step.barrier.awaiting_inactive);
                step.part = StepPart::Settle { again: false };
                step.barrier = StepBarrier::new();
                step.barrier.awaiting_inactive = awaiting;
                step.started_mono = now.mono;
                self.advance_barrier(now);
            }
            StepPart::Settle { again: false } => self.at_boundary(now),
        }
    }

    /// While paused, job `id` was ended from outside: wait for the instance to react
    /// (its INACTIVE, then the scheduler's passes) before the pause holds again.
    fn settle_if_paused(&mut self, id: JobId, now: Now) {
        match &mut self.stage {
            Stage::Paused => {
                let mut barrier = StepBarrier::new();
                barrier.awaiting_inactive.insert(id);
                self.stage = Stage::Stepping(Box::new(Step {
                    time: self.now.unwrap_or_default(),
                    part: StepPart::Settle { again: false },
                    barrier,
                    started_mono: now.mono,
                }));
            }
            Stage::Stepping(step) if matches!(step.part, StepPart::Settle { .. }) => {
                step.barrier.awaiting_inactive.insert(id);
                if step.barrier.phase != BarrierPhase::JobManager {
                    step.part = StepPart::Settle { again: true };
                }
            }
            _ => {}
        }
    }

    fn submit_arrivals(&mut self, now: Now) {
        let Stage::Stepping(step) = &mut self.stage else { return };
        let t = step.time;
        step.part = StepPart::Arrivals;
        step.barrier = StepBarrier::new();
        self.barriers += 1;
        match self.submissions_due(t) {
            Err(e) => self.fail(format!("trace error: {e}"), String::new()),
            Ok(submits) if submits.is_empty() => self.end_step(now),
            Ok(submits) => {
                if let Stage::Stepping(step) = &mut self.stage {
                    step.barrier.outstanding_submits = submits.len();
                }
                // A milestone goes before the commands of the phase it begins.
                self.note_phase(now);
                self.commands.extend(submits);
                self.advance_barrier(now);
            }
        }
    }

    fn end_step(&mut self, now: Now) {
        let Stage::Stepping(step) = &self.stage else { return };
        let running = self.active.values().filter(|j| matches!(j.phase, JobPhase::Running { .. })).count() as u64;
        let sample = StepSample {
            time: step.time,
            running,
            pending: self.active.len() as u64 - running,
            busy_nodes: self.occupancy.busy().nodes,
            busy_cores: self.occupancy.busy().cores,
            busy_gpus: self.occupancy.busy().gpus,
            busy_storage_gib: self.occupancy.busy().storage_gib,
            storage_by_parent: self.storage.by_parent().to_vec(),
        };
        self.commands.push_back(Command::StepDone(sample));
        if self.milestones.is_some() {
            let ended = Milestone::StepEnded { mono: now.mono, step: self.progress.steps };
            self.commands.push_back(Command::Milestone(ended));
        }
        self.early.clear();
        self.at_boundary(now);
    }

    fn end_of_events(&mut self, now: Now) {
        if self.active.is_empty() {
            let exit_code = if self.progress.not_completed == 0 { 0 } else { 2 };
            self.stage = Stage::Over;
            self.commands.push_back(Command::Finished(RunOutcome::Replayed { exit_code }));
            return;
        }
        let diagnostic = self.diagnostic(now);
        self.fail(
            format!(
                "no events remain but {} jobs never finished: the scheduler is quiescent and will not start them",
                self.active.len()
            ),
            diagnostic,
        );
    }

    // ---- jobs ---------------------------------------------------------------------------

    fn apply_transition(&mut self, t: &Transition, now: Now) {
        if t.state == WatchedState::Inactive {
            self.holding.remove(&t.id);
        }
        let Some(idx) = self.by_id.get(&t.id).copied() else {
            if self.has_outstanding_submits() {
                // The submit response may still be on its way; keep the furthest state.
                let keep = self.early.get(&t.id).is_none_or(|e| e.state != WatchedState::Inactive);
                if keep {
                    self.early.insert(t.id, t.clone());
                }
            }
            return self.advance_barrier(now);
        };
        if let Stage::Stepping(step) = &mut self.stage {
            step.barrier.awaiting_sched.remove(&t.id);
            if t.state == WatchedState::Inactive {
                step.barrier.awaiting_inactive.remove(&t.id);
            }
        }
        match t.state {
            WatchedState::Sched => {
                if let Some(job) = self.active.get_mut(&idx) {
                    job.reached_sched = true;
                }
            }
            WatchedState::Inactive => {
                self.by_id.remove(&t.id);
                if matches!(self.stage, Stage::Paused) {
                    // Ended from outside before its exception reached the engine.
                    self.settle_if_paused(t.id, now);
                    if let Stage::Stepping(step) = &mut self.stage {
                        step.barrier.awaiting_inactive.remove(&t.id);
                    }
                }
                if let Some(job) = self.active.remove(&idx) {
                    let result = match t.result {
                        Some(TapResult::Completed) | None => JobResult::Completed,
                        Some(TapResult::Timeout) => JobResult::Timeout,
                        Some(TapResult::Canceled) => JobResult::Canceled,
                        Some(TapResult::Failed) => JobResult::Failed,
                    };
                    if let JobPhase::Running { .. } = job.phase {
                        // Ended by something other than the emulator (e.g. an exception it
                        // did not see): its resources are gone all the same.
                        self.occupancy.give_back(&job.nodelist, job.footprint());
                        self.storage.sub(&job.storage_given);
                    }
                    self.record_done(job, result, t.exception.clone(), Some(t.t));
                }
            }
        }
        self.advance_barrier(now);
    }

    /// Reports the current barrier phase if it is not the one last reported.
    fn note_phase(&mut self, now: Now) {
        let (Some(log), Stage::Stepping(step)) = (&mut self.milestones, &self.stage) else { return };
        let phase = PhaseKind::of(step.part, &step.barrier);
        if log.is_new(self.barriers, phase) {
            let (step, time, part, barrier) = (self.progress.steps, step.time, step.part, self.barriers);
            let milestone = Milestone::Phase { mono: now.mono, step, time, part, barrier, phase };
            self.commands.push_back(Command::Milestone(milestone));
        }
    }

    fn has_outstanding_submits(&self) -> bool {
        matches!(&self.stage, Stage::Stepping(s) if s.barrier.outstanding_submits > 0)
    }

    fn refuse_start(&mut self, id: JobId, note: &str) {
        let note = note.to_string();
        self.commands.push_back(Command::Respond { id, response: ExecResponse::Exception { kind: "exec", note } });
        self.commands.push_back(Command::Respond { id, response: ExecResponse::Finish { status: 1 << 8 } });
        self.commands.push_back(Command::Respond { id, response: ExecResponse::Release });
    }

    fn record_done(&mut self, job: ActiveJob, result: JobResult, note: Option<String>, real_finish: Option<f64>) {
        let (start, finish) = match job.phase {
            JobPhase::Running { start, .. } => (Some(start), self.now),
            JobPhase::Released { start, finish } => (Some(start), Some(finish)),
            JobPhase::Submitting | JobPhase::Queued => (None, None),
        };
        let footprint = job.footprint();
        self.progress.finished += 1;
        if result != JobResult::Completed {
            self.progress.not_completed += 1;
        }
        let record = JobRecord {
            trace_idx: job.trace.trace_idx,
            trace_id: job.trace.trace_id.clone(),
            jobid: job.id.map(|id| id.0),
            nnodes: job.trace.nnodes,
            cores: footprint.cores,
            gpus: footprint.gpus,
            submit: job.trace.submit.0,
            start: start.map(|t| t.0),
            finish: finish.map(|t| t.0),
            real_submit: job.real_submit,
            real_start: job.real_start,
            real_finish: if start.is_some() { real_finish } else { None },
            nodelist: job.nodelist,
            result,
            note,
            time_limit: job.trace.time_limit.map(|l| l.0),
            elapsed: job.trace.elapsed.0,
            storage_gib: job.trace.storage_gib,
            storage_given: job.storage_given,
        };
        self.commands.push_back(Command::JobDone(Box::new(record)));
    }

    fn fail(&mut self, reason: String, diagnostic: String) {
        if matches!(self.stage, Stage::Over) {
            return;
        }
        self.stage = Stage::Over;
        self.commands.push_back(Command::Finished(RunOutcome::Failed { reason, diagnostic }));
    }

    /// What the engine knows about a stuck wait, for the failure report.
    fn diagnostic(&self, now: Now) -> String {
        use std::fmt::Write;
        let mut d = String::new();
        let sim = self.now.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(d, "simulated time: {sim}; steps: {}", self.progress.steps);
        if let Stage::Stepping(step) = &self.stage {
            let b = &step.barrier;
            let _ = writeln!(
                d,
                "step part: {:?}; barrier: {}; waited {:.1} s",
                step.part,
                b.phase.describe(),
                now.mono - step.started_mono
            );
            let _ = writeln!(d, "submissions awaiting job-ingest: {}", b.outstanding_submits);
            let _ = writeln!(d, "{}", list_ids("submitted jobs not yet in SCHED", &b.awaiting_sched, &self.by_id));
            let _ = writeln!(d, "{}", list_ids("released jobs not yet INACTIVE", &b.awaiting_inactive, &self.by_id));
            let _ = writeln!(d, "last job-manager.alloc-query: {:?}", b.last_alloc_query);
            let _ = writeln!(d, "last sched.quiescent: {:?}", b.last_quiescent);
            let _ = writeln!(
                d,
                "probes in this barrier: {} ({} confirming; continuation rule {:?}, pending at most {})",
                b.probes,
                b.confirmations,
                self.continuation,
                b.pending_bound
            );
        }
        let _ = writeln!(d, "jobs holding resources (emulator's view): {}", self.holding.len());
        let mut pending: Vec<&ActiveJob> =
            self.active.values().filter(|j| !matches!(j.phase, JobPhase::Running { .. })).collect();
        pending.sort_by_key(|j| j.trace.trace_idx);
        let _ = writeln!(d, "jobs in the instance: {} ({} not running)", self.active.len(), pending.len());
        for j in pending.iter().take(DIAGNOSTIC_LIST) {
            let id = j.id.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                d,
                "  trace_idx={} (line {}) jobid={id} phase={:?} in_sched={} nodes={} cores/node={} gpus/node={}",
                j.trace.trace_idx,
                j.trace.line,
                j.phase,
                j.reached_sched,
                j.trace.nnodes,
                j.trace.cores_per_node,
                j.trace.gpus_per_node
            );
        }
        if pending.len() > DIAGNOSTIC_LIST {
            let _ = writeln!(d, "  ... and {} more", pending.len() - DIAGNOSTIC_LIST);
        }
        d
    }
}

fn list_ids(what: &str, ids: &HashSet<JobId>, by_id: &HashMap<JobId, u64>) -> String {
    let mut v: Vec<_> = ids.iter().collect();
    v.sort();
    let shown: Vec<String> = v
        .iter()
        .take(DIAGNOSTIC_LIST)
        .map(|id| match by_id.get(id) {
            Some(idx) => format!("{id} (trace_idx {idx})"),
            None => id.to_string(),
        })
        .collect();
    let more = v.len().saturating_sub(DIAGNOSTIC_LIST);
    let tail = if more > 0 { format!(" ... and {more} more") } else { String::new() };
    format!("{what} ({}): {}{tail}", v.len(), shown.join(", "))
}


