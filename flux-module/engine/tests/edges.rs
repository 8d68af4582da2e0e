//! The engine's answers to the unusual: a scheduler without `sched.quiescent`, the wrong
//! machine, a wait that never ends, a job it did not submit, a cancel, a replay torn down.

use emu_protocol::JobId;
use emu_protocol::sched::{AllocQueryReply, ContinuationRule, QuiescentReply};
use ff_engine::{Command, Engine, EngineSettings, ExecResponse, ResourceCounts, RunOutcome};
use ff_inputs::{RequestRules, SimTime, SystemSpec};

mod common;
use common::{at, drain};

fn settings() -> EngineSettings {
    EngineSettings {
        requests: RequestRules::for_nodes(SystemSpec { nnodes: 2, cores_per_node: 4, gpus_per_node: 0 }, false),
        step_timeout: 10.0,
        jobs_total: 1,
    }
}

fn failure(cmds: &[Command]) -> Option<(String, String)> {
    cmds.iter().find_map(|c| match c {
        Command::Finished(RunOutcome::Failed { reason, diagnostic }) => Some((reason.clone(), diagnostic.clone())),
        _ => None,
    })
}

fn right_machine() -> ResourceCounts {
    ResourceCounts { nodes: 2, cores: 8, gpus: 0 }
}

#[test]
fn a_scheduler_without_quiescent_is_refused_before_any_submission() {
    let mut e = Engine::new(settings(), common::one_job(4, 0)).unwrap();
    e.start(at(0.0));
    e.handle_resources(Ok(right_machine()), at(0.1));
    e.handle_quiescent(Err("Unknown service method 'sched.quiescent'".into()), at(0.2));
    let cmds = drain(&mut e);
    assert!(!cmds.iter().any(|c| matches!(c, Command::Submit { .. })));
    let (reason, _) = failure(&cmds).expect("a failure");
    assert!(reason.contains("does not answer sched.quiescent"), "{reason}");
    assert!(e.is_over());
}

#[test]
fn a_scheduler_managing_another_machine_is_refused() {
    let mut e = Engine::new(settings(), common::one_job(4, 0)).unwrap();
    e.start(at(0.0));
    e.handle_resources(Ok(ResourceCounts { nodes: 1, cores: 2, gpus: 0 }), at(0.1));
    let (reason, _) = failure(&drain(&mut e)).expect("a failure");
    assert!(reason.contains("manages 1 nodes, 2 cores"), "{reason}");
}

/// An engine past its start-up checks (at 0.2 s), with the first step's submission out.
fn first_step() -> Engine {
    let mut e = Engine::new(settings(), common::one_job(4, 0)).unwrap();
    e.start(at(0.0));
    e.handle_resources(Ok(right_machine()), at(0.1));
    e.handle_quiescent(Ok(QuiescentReply { status: 0, alloc_current: 0 }), at(0.2));
    e.handle_continuation_rule(Ok(Some(ContinuationRule { queue_depth: 32, min_allocations: 1 })), at(0.2));
    drain(&mut e);
    e
}

#[test]
fn a_wait_past_the_step_timeout_fails_with_what_was_awaited() {
    let mut e = first_step();
    let deadline = e.deadline().expect("a step is waiting");
    assert!((deadline - 10.2).abs() < 1e-9, "{deadline}");
    e.handle_deadline(at(5.0));
    assert!(failure(&drain(&mut e)).is_none(), "too early to fail");
    e.handle_deadline(at(deadline));
    let (reason, diagnostic) = failure(&drain(&mut e)).expect("a failure");
    assert!(reason.contains("timed out after 10 s"), "{reason}");
    assert!(diagnostic.contains("submissions awaiting job-ingest: 1"), "{diagnostic}");
    assert!(diagnostic.contains("trace_idx=0 (line 2)"), "{diagnostic}");
}

/// Runs the single job up to its start, with the scheduler claiming one more allocation
/// than has started, so the step stays open; returns the engine and the job's id.
fn started() -> (Engine, JobId) {
    let mut e = first_step();
    let id = JobId(42);
    e.handle_submitted(0, Ok(id), at(0.3));
    let sched = emu_protocol::jobtap::Transition {
        id,
        state: emu_protocol::jobtap::WatchedState::Sched,
        t: 0.0,
        result: None,
        exception: None,
    };
    e.handle_transitions(&[sched], at(0.4));
    e.handle_alloc_query(Ok(AllocQueryReply { queue_length: 0, alloc_pending: 1, running: 0 }), at(0.42));
    e.handle_scheduler_sync(at(0.45));
    e.handle_quiescent(Ok(QuiescentReply { status: 0, alloc_current: 2 }), at(0.5));
    drain(&mut e);
    e.handle_start_request(id, Some(0), vec![1], at(0.6));
    (e, id)
}

#[test]
fn a_start_is_acknowledged_at_the_step_time() {
    let (mut e, id) = started();
    let cmds = drain(&mut e);
    assert!(cmds.contains(&Command::Respond { id, response: ExecResponse::Start }));
    // The step waits for the second start the scheduler announced.
    assert_eq!(e.progress().sim_time, Some(SimTime::from_secs(1000)));
    assert!(!cmds.iter().any(|c| matches!(c, Command::SetClock(_))));
    e.handle_start_request(JobId(43), None, vec![0], at(0.7));
    let cmds = drain(&mut e);
    assert!(cmds.contains(&Command::SetClock(SimTime::from_secs(1060))), "{cmds:?}");
}

#[test]
fn a_job_the_emulator_did_not_submit_is_refused_but_released() {
    let (mut e, _) = started();
    drain(&mut e);
    let foreign = JobId(7);
    e.handle_start_request(foreign, None, vec![0], at(0.7));
    let cmds = drain(&mut e);
    assert!(matches!(
        &cmds[0],
        Command::Respond { id, response: ExecResponse::Exception { kind: "exec", .. } } if *id == foreign
    ));
    assert_eq!(cmds[2], Command::Respond { id: foreign, response: ExecResponse::Release });
}

#[test]
fn a_canceled_running_job_is_finished_and_released_at_once() {
    let (mut e, id) = started();
    drain(&mut e);
    e.handle_job_exception(id, "cancel", 1, at(0.7));
    assert!(drain(&mut e).is_empty(), "a non-fatal exception changes nothing");
    e.handle_job_exception(id, "cancel", 0, at(0.8));
    let cmds = drain(&mut e);
    assert_eq!(
        cmds,
        vec![
            Command::Respond { id, response: ExecResponse::Finish { status: 15 } },
            Command::Respond { id, response: ExecResponse::Release },
        ]
    );
}

#[test]
fn an_interrupted_replay_fails_and_kills_its_running_job() {
    let (mut e, id) = started();
    drain(&mut e);
    e.interrupt("interrupted: removed".into(), at(0.7));
    let cmds = drain(&mut e);
    let (reason, diagnostic) = failure(&cmds).expect("a failure");
    assert_eq!(reason, "interrupted: removed");
    assert!(diagnostic.contains("jobs holding resources (emulator's view): 1"), "{diagnostic}");
    let note = "interrupted: removed".to_string();
    assert_eq!(
        cmds[1..],
        [
            Command::Respond { id, response: ExecResponse::Exception { kind: "cancel", note } },
            Command::Respond { id, response: ExecResponse::Finish { status: 15 } },
            Command::Respond { id, response: ExecResponse::Release },
        ]
    );
    assert!(e.is_over());
}

#[test]
fn an_interrupted_replay_cancels_its_waiting_jobs_even_one_answered_later() {
    let mut e = first_step();
    e.handle_submitted(0, Ok(JobId(42)), at(0.3));
    drain(&mut e);
    e.interrupt("interrupted".into(), at(0.4));
    let cmds = drain(&mut e);
    assert_eq!(cmds[1..], [Command::Cancel { id: JobId(42), note: "interrupted".into() }]);

    // Its submission still in flight: canceled once job-ingest answers.
    let mut e = first_step();
    e.interrupt("interrupted".into(), at(0.3));
    assert_eq!(drain(&mut e).len(), 1, "only the failure: the job has no id yet");
    e.handle_submitted(0, Ok(JobId(42)), at(0.4));
    assert_eq!(drain(&mut e), [Command::Cancel { id: JobId(42), note: "interrupted".into() }]);
    // A start request already on its way when it was canceled is refused, not run.
    e.handle_start_request(JobId(42), Some(0), vec![0], at(0.5));
    let cmds = drain(&mut e);
    assert!(matches!(
        &cmds[0],
        Command::Respond { id: JobId(42), response: ExecResponse::Exception { kind: "exec", note } } if note == "interrupted"
    ));
    assert_eq!(cmds[2], Command::Respond { id: JobId(42), response: ExecResponse::Release });
}

#[test]
fn a_replay_that_already_failed_still_ends_its_jobs_when_torn_down() {
    let (mut e, id) = started();
    drain(&mut e);
    e.abort("the emu-jobtap stream ended".into(), at(0.7));
    assert!(failure(&drain(&mut e)).is_some());
    e.interrupt("interrupted".into(), at(0.8));
    let cmds = drain(&mut e);
    assert!(failure(&cmds).is_none(), "one outcome per run: {cmds:?}");
    assert_eq!(cmds.len(), 3, "{cmds:?}");
    assert_eq!(cmds[2], Command::Respond { id, response: ExecResponse::Release });
}
