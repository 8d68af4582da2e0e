//! The engine against a scripted instance on a virtual clock: a job-manager that accepts
//! submissions at once and an FCFS scheduler over whole nodes. The scheduler can be made
//! to answer its first probe *before* its scheduling pass (the race the scheduler sync
//! closes), or, with a queue depth, to stop a pass after that many allocations and run
//! the rest in a continuation pass just after it answers a probe (the race the confirming
//! probes close). Start requests always arrive after the probe reply (the scheduler
//! commits R before the job-manager sees the allocation).

use std::collections::{HashMap, HashSet, VecDeque};

use emu_protocol::JobId;
use emu_protocol::jobtap::{JobResult as TapResult, Transition, WatchedState};
use emu_protocol::sched::{AllocQueryReply, ContinuationRule, QuiescentReply};
use ff_engine::{Command, Engine, EngineSettings, ExecResponse, Now, ResourceCounts, RunOutcome, StepSample};
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
    dirty: bool,
    mono: f64,
    probes: u64,
    syncs: u64,
}

struct Outcome {
    records: Vec<JobRecord>,
    steps: Vec<StepSample>,
    clock: Vec<SimTime>,
    finished: RunOutcome,
    probes: u64,
    syncs: u64,
    probe_times: ff_report::ProbeTimes,
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
        let now = self.now();
        engine.start(now);
        let (mut records, mut steps, mut clock) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            let Some(cmd) = engine.poll_command() else {
                panic!("engine went idle without finishing; progress {:?}", engine.progress());
            };
            let now = self.now();
            match cmd {
                Command::SetClock(t) => clock.push(t),
                Command::QueryResources => engine.handle_resources(
                    Ok(ResourceCounts { nodes: self.nnodes.into(), cores: u64::from(self.nnodes) * 16, gpus: 0 }),
                    now,
                ),
                Command::Submit { trace_idx, jobspec } => {
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
                        let result =
                            if self.timed_out.contains(&id) { TapResult::Timeout } else { TapResult::Completed };
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
                Command::Finished(finished) => {
                    records.sort_by_key(|r| r.trace_idx);
                    let probe_times = engine.probe_times().clone();
                    return Outcome { records, steps, clock, finished, probes: self.probes, syncs: self.syncs, probe_times };
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
