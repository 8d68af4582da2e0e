//! The engine against a scripted instance on a virtual clock: a job-manager that accepts
//! submissions at once and an FCFS scheduler over whole nodes. The scheduler can be made
//! to answer its first probe *before* its scheduling pass (the race the scheduler sync
//! closes), or, with a queue depth, to stop a pass after that many allocations and run
//! the rest in a continuation pass just after it answers a probe (the race the confirming
//! probes close). Start requests always arrive after the probe reply (the scheduler
//! commits R before the job-manager sees the allocation).
//! A run can be paused: scripted user controls (step, resume, `flux cancel`) are applied
//! whenever the engine is paused and idle.

use std::collections::{HashMap, HashSet, VecDeque};

use emu_protocol::JobId;
use emu_protocol::jobtap::{JobResult as TapResult, Transition, WatchedState};
use emu_protocol::sched::{AllocQueryReply, ContinuationRule, QuiescentReply};
use emu_protocol::module::PauseState;
use ff_engine::{
    Command, Engine, EngineSettings, ExecResponse, Milestone, Now, PhaseKind, ResourceCounts, RunOutcome, StepPart,
    StepSample,
};
use ff_inputs::{RequestRules, SimDuration, SimTime, SystemSpec, TraceJob};
use ff_report::{JobRecord, JobResult};

const T0: i64 = 1_546_300_800;

fn job(idx: u64, submit_s: i64, nodes: u32, elapsed_s: i64, limit_s: Option<i64>) -> TraceJob {
    TraceJob {
        trace_idx: idx,
        line: idx + 2,
        trace_id: (idx + 1).to_string(),
        submit: SimTime::from_secs(T0 + submit_s),
        elapsed: SimDuration::from_secs(elapsed_s),
        time_limit: limit_s.map(SimDuration::from_secs),
        nnodes: nodes,
        cores_per_node: 16,
        gpus_per_node: 0,
        storage_gib: 0,
    }
}

#[derive(Default)]
struct Fake {
    nnodes: u32,
    /// Never allocate anything (a scheduler that is stuck).
    frozen: bool,
    /// Allocations per pass before a continuation pass is due; None: no limit, and no
    /// queue depth to report (a scheduler other than Fluxion).
    depth: Option<u64>,
    /// What the scheduler reports as the fewest allocations a continued pass makes
    /// (its queue depth for fcfs, 1 for the backfilling policies).
    min_allocations: u64,
    continuation: bool,
    /// Nodes no job holds, lowest rank first.
    free: std::collections::BTreeSet<u32>,
    ranks_of: HashMap<JobId, Vec<u32>>,
    next_id: u64,
    queue: VecDeque<JobId>,
    nodes_of: HashMap<JobId, u32>,
    idx_of: HashMap<JobId, u64>,
    allocated: HashSet<JobId>,
    timed_out: HashSet<JobId>,
    deferred_starts: Vec<JobId>,
    canceled: HashSet<JobId>,
    /// Pause before the first step (as `flux-fiction-ctl pause` during start-up).
    pause_first: bool,
    /// `--pause-at`, seconds after T0.
    pause_at: Option<i64>,
    /// What the user does at each pause, in order; the run must end before they run out.
    controls: VecDeque<Control>,
    dirty: bool,
    mono: f64,
    probes: u64,
    syncs: u64,
    /// Ask the engine for milestones.
    milestones: bool,
}

/// A user's action on a paused replay.
#[derive(Debug, Clone)]
enum Control {
    Step(u64),
    Resume,
    /// `flux cancel` of these jobs (by trace index) at once.
    Cancel(Vec<u64>),
}

/// What a paused replay showed: steps done, simulated time, and whether it was quiescent.
#[derive(Debug, Clone, PartialEq)]
struct Pause {
    steps: u64,
    sim_secs: Option<i64>,
    quiescent: bool,
}

struct Outcome {
    pauses: Vec<Pause>,
    records: Vec<JobRecord>,
    steps: Vec<StepSample>,
    clock: Vec<SimTime>,
    finished: RunOutcome,
    probes: u64,
    syncs: u64,
    probe_times: ff_report::ProbeTimes,
    milestones: Vec<Milestone>,
}

impl Fake {
    fn new(nnodes: u32) -> Self {
        let free = (0..nnodes).collect();
        Fake { nnodes, free, next_id: 100, depth: Some(32), min_allocations: 1, ..Fake::default() }
    }

    fn now(&mut self) -> Now {
        self.mono += 0.001;
        Now { mono: self.mono, real: 1.0e9 + self.mono }
    }

    /// One scheduling pass.
    fn schedule(&mut self) {
        self.dirty = false;
        self.continuation = false;
        if self.frozen {
            return;
        }
        let mut taken = 0;
        while let Some(&id) = self.queue.front() {
            if self.depth.is_some_and(|d| taken >= d) {
                self.continuation = true;
                break;
            }
            taken += 1;
            let n = self.nodes_of[&id];
            if n as usize > self.free.len() {
                break;
            }
            self.queue.pop_front();
            let ranks: Vec<u32> = self.free.iter().take(n as usize).copied().collect();
            for r in &ranks {
                self.free.remove(r);
            }
            self.ranks_of.insert(id, ranks);
            self.allocated.insert(id);
            self.deferred_starts.push(id);
        }
    }

    fn run(mut self, jobs: Vec<TraceJob>) -> Outcome {
        let settings = EngineSettings {
            requests: RequestRules::for_nodes(SystemSpec { nnodes: self.nnodes, cores_per_node: 16, gpus_per_node: 0 }, false),
            step_timeout: 60.0,
            jobs_total: jobs.len() as u64,
        };
        let rows = Box::new(jobs.into_iter().map(Ok));
        let mut engine = Engine::new(settings, rows).unwrap();
        if let Some(at) = self.pause_at {
            engine.pause_at(SimTime::from_secs(T0 + at));
        }
        if self.pause_first {
            engine.pause().unwrap();
        }
        if self.milestones {
            engine.record_milestones();
        }
        let mut milestones = Vec::new();
        // Whether the last milestone began an arrivals part (submissions belong there).
        let mut in_arrivals = false;
        let now = self.now();
        engine.start(now);
        let (mut records, mut steps, mut clock, mut pauses) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        loop {
            let Some(cmd) = engine.poll_command() else {
                assert_eq!(engine.pause_state(), PauseState::Paused, "engine went idle: {:?}", engine.progress());
                assert_eq!(engine.deadline(), None, "no step timeout while paused");
                let p = engine.progress();
                let quiescent = !self.dirty && self.deferred_starts.is_empty();
                pauses.push(Pause { steps: p.steps, sim_secs: p.sim_time.map(|t| t.0 / 1_000_000 - T0), quiescent });
                let control = self.controls.pop_front().expect("paused with no control left");
                self.apply(&mut engine, control);
                continue;
            };
            let now = self.now();
            match cmd {
                Command::SetClock(t) => clock.push(t),
                Command::HoldClock => assert_eq!(engine.pause_state(), PauseState::Paused),
                Command::QueryResources => engine.handle_resources(
                    Ok(ResourceCounts { nodes: self.nnodes.into(), cores: u64::from(self.nnodes) * 16, gpus: 0 }),
                    now,
                ),
                Command::Submit { trace_idx, jobspec } => {
                    assert!(!self.milestones || in_arrivals, "submission of {trace_idx} before its milestone");
                    let v: serde_json::Value = serde_json::from_str(&jobspec).unwrap();
                    let nodes = v["resources"][0]["count"].as_u64().unwrap() as u32;
                    assert_eq!(v["attributes"]["user"]["ff_trace_idx"].as_u64(), Some(trace_idx));
                    self.next_id += 1;
                    let id = JobId(self.next_id);
                    self.nodes_of.insert(id, nodes);
                    self.idx_of.insert(id, trace_idx);
                    // The SCHED transition may overtake the submit response.
                    let sched = Transition { id, state: WatchedState::Sched, t: now.real, result: None, exception: None };
                    if self.next_id % 2 == 0 {
                        engine.handle_transitions(&[sched], now);
                        engine.handle_submitted(trace_idx, Ok(id), now);
                    } else {
                        engine.handle_submitted(trace_idx, Ok(id), now);
                        engine.handle_transitions(&[sched], now);
                    }
                    self.queue.push_back(id);
                    self.dirty = true;
                }
                Command::Respond { id, response } => match response {
                    ExecResponse::Start | ExecResponse::Finish { .. } => {}
                    ExecResponse::Exception { kind, .. } => {
                        if kind == "timeout" {
                            self.timed_out.insert(id);
                        }
                    }
                    ExecResponse::Release => {
                        assert!(self.allocated.remove(&id), "released a job that holds nothing");
                        self.free.extend(self.ranks_of.remove(&id).unwrap_or_default());
                        self.dirty = true;
                        let result = if self.canceled.contains(&id) {
                            TapResult::Canceled
                        } else if self.timed_out.contains(&id) {
                            TapResult::Timeout
                        } else {
                            TapResult::Completed
                        };
                        let t = Transition {
                            id,
                            state: WatchedState::Inactive,
                            t: now.real,
                            result: Some(result),
                            exception: None,
                        };
                        engine.handle_transitions(&[t], now);
                    }
                },
                Command::QueryAllocQueue => engine.handle_alloc_query(
                    Ok(AllocQueryReply { queue_length: 0, alloc_pending: 0, running: self.allocated.len() as u64 }),
                    now,
                ),
                Command::SyncScheduler => {
                    self.syncs += 1;
                    // The scheduler's reactor went round once: its pass over new work began.
                    if self.dirty {
                        self.schedule();
                    }
                    engine.handle_scheduler_sync(now);
                }
                Command::QueryContinuationRule => {
                    let min_allocations = self.min_allocations;
                    let reply = self
                        .depth
                        .map(|queue_depth| Some(ContinuationRule { queue_depth, min_allocations }))
                        .ok_or_else(|| "Unknown service method".to_string());
                    engine.handle_continuation_rule(reply, now);
                }
                Command::ProbeQuiescent => {
                    self.probes += 1;
                    // A probe that overtakes the pass (no sync before it) sees a stale
                    // count, and so does one answered between a pass and its continuation.
                    let stale = self.dirty || self.continuation;
                    let reply = QuiescentReply { status: 0, alloc_current: self.allocated.len() as u64 };
                    if stale {
                        self.schedule();
                    }
                    engine.handle_quiescent(Ok(reply), now);
                    for id in std::mem::take(&mut self.deferred_starts) {
                        let now = self.now();
                        let ranks = self.ranks_of[&id].clone();
                        engine.handle_start_request(id, Some(self.idx_of[&id]), ranks, now);
                    }
                }
                Command::Cancel { id, .. } => panic!("job {id} canceled: only a replay torn down cancels"),
                Command::JobDone(r) => records.push(*r),
                Command::StepDone(s) => steps.push(s),
                Command::Milestone(m) => {
                    in_arrivals = matches!(m, Milestone::Phase { part: StepPart::Arrivals, .. });
                    milestones.push(m);
                }
                Command::Finished(finished) => {
                    records.sort_by_key(|r| r.trace_idx);
                    let probe_times = engine.probe_times().clone();
                    return Outcome {
                        pauses,
                        records,
                        steps,
                        clock,
                        finished,
                        probes: self.probes,
                        syncs: self.syncs,
                        probe_times,
                        milestones,
                    };
                }
            }
        }
    }

    fn apply(&mut self, engine: &mut Engine, control: Control) {
        let now = self.now();
        match control {
            Control::Step(n) => {
                engine.step(n, now).unwrap();
            }
            Control::Resume => engine.resume(now).unwrap(),
            Control::Cancel(jobs) => {
                for idx in jobs {
                    let id = *self.idx_of.iter().find(|(_, i)| **i == idx).expect("a submitted job").0;
                    // The job-manager announces the exception first; a pending job then
                    // leaves the scheduler's queue (which makes it schedulable) and goes
                    // INACTIVE, a running one is ended by the exec service.
                    self.canceled.insert(id);
                    engine.handle_job_exception(id, "cancel", 0, now);
                    if let Some(pos) = self.queue.iter().position(|q| *q == id) {
                        self.queue.remove(pos);
                        self.dirty = true;
                        let t = Transition {
                            id,
                            state: WatchedState::Inactive,
                            t: now.real,
                            result: Some(TapResult::Canceled),
                            exception: Some("cancel".into()),
                        };
                        engine.handle_transitions(&[t], now);
                    }
                }
            }
        }
    }
}

fn starts(o: &Outcome) -> Vec<i64> {
    o.records.iter().map(|r| r.start.unwrap() / 1_000_000 - T0).collect()
}

fn ten_multi_node() -> Vec<TraceJob> {
    (0..10).map(|i| job(i, 0, 10, 360, Some(600))).collect()
}

#[test]
fn multi_node_trace_runs_in_waves_of_three() {
    let o = Fake::new(30).run(ten_multi_node());
    assert_eq!(o.finished, RunOutcome::Replayed { exit_code: 0 });
    assert_eq!(starts(&o), vec![0, 0, 0, 360, 360, 360, 720, 720, 720, 1080]);
    let last = o.records.iter().map(|r| r.finish.unwrap()).max().unwrap();
    assert_eq!(last / 1_000_000 - T0, 1440);
    assert!(o.records.iter().all(|r| r.result == JobResult::Completed));
}


#[test]
fn the_clock_only_moves_forward_and_visits_each_event_time() {
    let o = Fake::new(30).run(ten_multi_node());
    let secs: Vec<i64> = o.clock.iter().map(|t| t.0 / 1_000_000 - T0).collect();
    assert_eq!(secs, vec![0, 360, 720, 1080, 1440]);
    assert_eq!(o.steps.len(), 5);
    assert_eq!(o.steps[0].busy_nodes, 30);
    assert_eq!(o.steps[0].pending, 7);
    assert_eq!(o.steps.last().unwrap().running, 0);
}

#[test]
fn a_job_past_its_limit_is_cut_at_the_limit_and_recorded_as_timeout() {
    let o = Fake::new(4).run(vec![job(0, 0, 1, 500, Some(300)), job(1, 10, 1, 20, None)]);
    assert_eq!(o.finished, RunOutcome::Replayed { exit_code: 2 });
    assert_eq!(o.records[0].result, JobResult::Timeout);
    assert_eq!(o.records[0].finish.unwrap() / 1_000_000 - T0, 300);
    assert_eq!(o.records[1].result, JobResult::Completed);
    assert_eq!(o.records[1].finish.unwrap() / 1_000_000 - T0, 30);
}

#[test]
fn gaps_between_jobs_mean_no_waiting() {
    let jobs = (0..10).map(|i| job(i, i as i64 * 3600, 1, 360, Some(600))).collect();
    let o = Fake::new(1).run(jobs);
    assert!(o.records.iter().all(|r| r.start == Some(r.submit)));
}

#[test]
fn zero_length_jobs_finish_at_their_start() {
    let o = Fake::new(1).run(vec![job(0, 0, 1, 0, None), job(1, 0, 1, 0, None)]);
    assert_eq!(o.finished, RunOutcome::Replayed { exit_code: 0 });
    assert_eq!(starts(&o), vec![0, 0]);
}

#[test]
fn jobs_the_scheduler_never_starts_end_the_run_with_a_diagnostic() {
    let mut fake = Fake::new(2);
    fake.frozen = true;
    let o = fake.run(vec![job(0, 0, 1, 10, None)]);
    match o.finished {
        RunOutcome::Failed { reason, diagnostic } => {
            assert!(reason.contains("1 jobs never finished"), "{reason}");
            assert!(diagnostic.contains("trace_idx=0 (line 2)"), "{diagnostic}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn continuation_passes_are_waited_out_before_the_clock_moves() {
    // 30 one-node jobs arrive together on 40 nodes; the scheduler allocates 8 per pass.
    let jobs: Vec<TraceJob> = (0..30).map(|i| job(i, 0, 1, 100, None)).collect();
    let mut fake = Fake::new(40);
    fake.depth = Some(8);
    let o = fake.run(jobs.clone());
    assert_eq!(o.finished, RunOutcome::Replayed { exit_code: 0 });
    assert_eq!(starts(&o), vec![0; 30]);
    // Answers 8, 16, 24, 30 each differ from the one before; 30 again ends the round.
    assert_eq!(o.probes, 1 + 5);
    assert_eq!(o.syncs, 5);
    // The start-up probe is not a step's; the four after the first confirm it. All were
    // sent with 30 jobs pending at most.
    assert_eq!((o.probe_times.count, o.probe_times.confirming), (5, 4));
    assert_eq!(o.probe_times.by_pending.iter().map(|b| (b.pending_max, b.count)).collect::<Vec<_>>(), [(32, 5)]);

    // Told that only passes allocating a whole depth are continued (fcfs), the round
    // ends at the pass that allocated 6, one probe sooner, with the same schedule.
    let mut fcfs = Fake::new(40);
    fcfs.depth = Some(8);
    fcfs.min_allocations = 8;
    let o = fcfs.run(jobs.clone());
    assert_eq!(starts(&o), vec![0; 30]);
    assert_eq!(o.probes, 1 + 4);

    // Were the answers between passes taken as final, jobs would start a step late.
    let mut unlimited = Fake::new(40);
    unlimited.depth = None;
    let o = unlimited.run(jobs);
    assert_eq!(starts(&o), vec![0; 30]);
}

#[test]
fn shallow_queues_and_passes_that_allocate_nothing_need_no_confirming_probe() {
    // Nine jobs never exceed the depth; the ninth waits for a free.
    let jobs: Vec<TraceJob> = (0..9).map(|i| job(i, 0, 1, 100, None)).collect();
    let mut fake = Fake::new(8);
    fake.depth = Some(16);
    let o = fake.run(jobs);
    assert_eq!(starts(&o), [vec![0; 8], vec![100]].concat());
    // Arrivals at 0, then the first release at 100 (the ninth job waits): one probe each.
    assert_eq!(o.syncs, 2);
    assert_eq!(o.probes, 1 + 2);

    // Past the depth, a pass that allocates is confirmed once; the continuation
    // allocates nothing (the ninth job does not fit), which ends the round.
    let jobs: Vec<TraceJob> = (0..9).map(|i| job(i, 0, 1, 100, None)).collect();
    let mut fake = Fake::new(8);
    fake.depth = Some(8);
    let o = fake.run(jobs);
    assert_eq!(starts(&o), [vec![0; 8], vec![100]].concat());
    assert_eq!(o.syncs, 3);
}

#[test]
fn every_probe_follows_a_scheduler_sync_and_idle_releases_skip_the_probe() {
    let o = Fake::new(30).run(ten_multi_node());
    // Barriers: the arrivals at t0; each of the three releases at +360 and at +720 (jobs
    // still wait); the first release at +1080 (job 10 waits, and starts); the other two
    // releases at +1080 and the one at +1440 have nobody waiting and need none.
    assert_eq!(o.syncs, 1 + 3 + 3 + 1);
    // Plus the start-up check that the scheduler answers at all.
    assert_eq!(o.probes, 1 + 8);
    assert_eq!(starts(&o), vec![0, 0, 0, 360, 360, 360, 720, 720, 720, 1080]);
}

fn results(o: &Outcome) -> Vec<(Option<i64>, Option<i64>, JobResult)> {
    let secs = |t: Option<i64>| t.map(|t| t / 1_000_000 - T0);
    o.records.iter().map(|r| (secs(r.start), secs(r.finish), r.result)).collect()
}

#[test]
fn pause_step_and_resume_stop_between_steps_and_keep_the_schedule() {
    let plain = Fake::new(30).run(ten_multi_node());
    let mut fake = Fake::new(30);
    fake.pause_first = true;
    fake.controls = [Control::Step(1), Control::Step(2), Control::Resume].into();
    let o = fake.run(ten_multi_node());
    // Paused before the first step, after one, after three; simulated time stood at the
    // last step's time and the scheduler was quiescent each time.
    let pause = |steps, sim_secs| Pause { steps, sim_secs, quiescent: true };
    assert_eq!(o.pauses, vec![pause(0, None), pause(1, Some(0)), pause(3, Some(720))]);
    assert_eq!(o.finished, RunOutcome::Replayed { exit_code: 0 });
    assert_eq!(results(&o), results(&plain));
    assert_eq!(o.clock, plain.clock);
}

#[test]
fn pause_at_stops_after_the_last_step_at_or_before_that_time() {
    let mut fake = Fake::new(30);
    fake.pause_at = Some(400);
    fake.controls = [Control::Resume].into();
    let o = fake.run(ten_multi_node());
    assert_eq!(o.pauses, vec![Pause { steps: 2, sim_secs: Some(360), quiescent: true }]);
    let mut exact = Fake::new(30);
    exact.pause_at = Some(360);
    exact.controls = [Control::Resume].into();
    assert_eq!(exact.run(ten_multi_node()).pauses, o.pauses);
}

#[test]
fn jobs_canceled_while_paused_end_there_and_free_their_nodes_at_that_time() {
    // Paused after the step at 0: jobs 0-2 run, 3-9 wait. Canceling running job 1 frees
    // 10 nodes at 0, where job 3 starts before the pause holds again; pending job 5
    // never runs. Both cancels arrive together, so the second lands in the first's
    // barrier and a second barrier follows.
    let mut fake = Fake::new(30);
    fake.pause_at = Some(0);
    fake.controls = [Control::Cancel(vec![5, 1]), Control::Resume].into();
    let o = fake.run(ten_multi_node());
    let pause = |sim| Pause { steps: 1, sim_secs: Some(sim), quiescent: true };
    assert_eq!(o.pauses, vec![pause(0), pause(0)]);
    assert_eq!(o.finished, RunOutcome::Replayed { exit_code: 2 });
    let done = |s, f| (Some(s), Some(f), JobResult::Completed);
    assert_eq!(
        results(&o),
        vec![
            done(0, 360),
            (Some(0), Some(0), JobResult::Canceled),
            done(0, 360),
            done(0, 360),
            done(360, 720),
            (None, None, JobResult::Canceled),
            done(360, 720),
            done(360, 720),
            done(720, 1080),
            done(720, 1080),
        ]
    );
}

#[test]
fn controls_are_refused_when_they_cannot_apply() {
    let settings = EngineSettings {
        requests: RequestRules::for_nodes(SystemSpec { nnodes: 30, cores_per_node: 16, gpus_per_node: 0 }, false),
        step_timeout: 60.0,
        jobs_total: 10,
    };
    let mut e = Engine::new(settings, Box::new(ten_multi_node().into_iter().map(Ok))).unwrap();
    let now = Now { mono: 0.0, real: 1.0e9 };
    e.start(now);
    assert_eq!(e.step(1, now).unwrap_err(), "the replay is not paused (pause it first)");
    e.pause().unwrap();
    assert_eq!(e.pause_state(), PauseState::Pausing);
    assert!(e.step(0, now).unwrap_err().contains("at least 1"));
    e.resume(now).unwrap();
    assert_eq!(e.pause_state(), PauseState::Running);
    e.abort("stop".into(), now);
    assert_eq!(e.pause().unwrap_err(), "the replay is over");
    assert_eq!(e.resume(now).unwrap_err(), "the replay is over");
}

/// One barrier seen through milestones: its step, step part and phases in order.
type BarrierSeen = (u64, StepPart, Vec<PhaseKind>);

/// The phases each barrier went through, in order, and the steps that ended.
fn barrier_phases(milestones: &[Milestone]) -> (Vec<BarrierSeen>, Vec<u64>) {
    let (mut barriers, mut ended) = (Vec::<BarrierSeen>::new(), Vec::new());
    let mut last: Option<u64> = None;
    for m in milestones {
        match *m {
            Milestone::Phase { step, part, barrier, phase, .. } => {
                if last != Some(barrier) {
                    barriers.push((step, part, Vec::new()));
                    last = Some(barrier);
                }
                barriers.last_mut().unwrap().2.push(phase);
            }
            Milestone::StepEnded { step, .. } => ended.push(step),
        }
    }
    (barriers, ended)
}

#[test]
fn milestones_follow_every_barrier_phase_and_change_nothing() {
    let plain = Fake::new(30).run(ten_multi_node());
    assert!(plain.milestones.is_empty(), "milestones without asking for them");
    let o = Fake { milestones: true, ..Fake::new(30) }.run(ten_multi_node());
    // The fake's clock ticks per command, so only the wall times may differ.
    let schedule = |o: &Outcome| -> Vec<_> {
        o.records.iter().map(|r| (r.trace_idx, r.start, r.finish, r.nodelist.clone(), r.result)).collect()
    };
    assert_eq!((schedule(&o), &o.steps, o.probes), (schedule(&plain), &plain.steps, plain.probes));

    let monos: Vec<f64> = o
        .milestones
        .iter()
        .map(|m| match *m {
            Milestone::Phase { mono, .. } | Milestone::StepEnded { mono, .. } => mono,
        })
        .collect();
    assert!(monos.windows(2).all(|w| w[0] <= w[1]), "wall times go back: {monos:?}");

    use PhaseKind::*;
    let (barriers, ended) = barrier_phases(&o.milestones);
    assert_eq!(ended, (1..=o.steps.len() as u64).collect::<Vec<_>>());
    // Step 1: the ten arrivals; the scheduler starts three jobs.
    let full_arrivals = vec![Ingest, Sched, AllocQuery, SchedulerSync, Quiescent, Starts];
    assert_eq!(barriers[0], (1, StepPart::Arrivals, full_arrivals));
    // Step 2 (+360): three releases; after each, jobs wait, so the scheduler is probed.
    let full_release = vec![Inactive, AllocQuery, SchedulerSync, Quiescent, Starts];
    for b in &barriers[1..4] {
        assert_eq!(b, &(2, StepPart::Releases, full_release.clone()));
    }
    // The last step (+1440): nobody waits, the release needs only its INACTIVE.
    assert_eq!(barriers.last().unwrap(), &(o.steps.len() as u64, StepPart::Releases, vec![Inactive]));
}
