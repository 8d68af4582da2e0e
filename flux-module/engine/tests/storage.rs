//! Rabbit storage through the engine: the shares a job's R lists are held per rack while
//! it runs, shown in the step samples, and recorded with the job when it ends.

use emu_protocol::JobId;
use emu_protocol::jobtap::{JobResult, Transition, WatchedState};
use emu_protocol::sched::{AllocQueryReply, ContinuationRule, QuiescentReply};
use ff_engine::{AllocatedShare, Allocation, Command, Engine, EngineSettings, ResourceCounts, StepSample};
use ff_inputs::{RackKeys, RequestRules, SimTime, SystemSpec, rack_layout};
use ff_report::{JobRecord, StorageGrant};

mod common;
use common::{at, drain};

/// 2 racks of 2 nodes (1 core each) and 3 shares of 100 GiB.
fn settings() -> EngineSettings {
    let system = SystemSpec { nnodes: 4, cores_per_node: 1, gpus_per_node: 0 };
    let mut requests = RequestRules::for_nodes(system, false);
    requests.storage = Some(rack_layout(&system, &RackKeys { nodes_per_rack: 2, shares_per_rack: 3, share_gib: 100 }));
    EngineSettings { requests, step_timeout: 10.0, jobs_total: 1 }
}

fn transition(id: JobId, state: WatchedState) -> Transition {
    let result = (state == WatchedState::Inactive).then_some(JobResult::Completed);
    Transition { id, state, t: 0.0, result, exception: None }
}

#[test]
fn shares_are_held_per_rack_while_the_job_runs_and_recorded_when_it_ends() {
    let mut e = Engine::new(settings(), common::one_job(1, 150)).unwrap();
    e.start(at(0.0));
    e.handle_resources(Ok(ResourceCounts { nodes: 4, cores: 4, gpus: 0 }), at(0.1));
    e.handle_quiescent(Ok(QuiescentReply { status: 0, alloc_current: 0 }), at(0.2));
    e.handle_continuation_rule(Ok(Some(ContinuationRule { queue_depth: 32, min_allocations: 1 })), at(0.2));
    let submitted = drain(&mut e);
    let jobspec = submitted.iter().find_map(|c| match c {
        Command::Submit { jobspec, .. } => Some(jobspec.clone()),
        _ => None,
    });
    assert!(jobspec.unwrap().contains(r#"{"type":"ssd","count":150,"exclusive":true}"#));

    let id = JobId(42);
    e.handle_submitted(0, Ok(id), at(0.3));
    e.handle_transitions(&[transition(id, WatchedState::Sched)], at(0.4));
    e.handle_alloc_query(Ok(AllocQueryReply { queue_length: 0, alloc_pending: 1, running: 0 }), at(0.42));
    e.handle_scheduler_sync(at(0.45));
    e.handle_quiescent(Ok(QuiescentReply { status: 0, alloc_current: 1 }), at(0.5));
    // 150 GiB is two whole shares of rack1.
    let shares = ["/cluster0/rack1/ssd3", "/cluster0/rack1/ssd4"]
        .map(|path| AllocatedShare { path: path.to_string(), gib: 100 })
        .to_vec();
    e.handle_start_request(id, Some(0), Allocation { ranks: vec![3], shares }, at(0.6));
    let samples: Vec<StepSample> = drain(&mut e)
        .into_iter()
        .filter_map(|c| match c {
            Command::StepDone(sample) => Some(sample),
            _ => None,
        })
        .collect();
    assert_eq!((samples[0].busy_storage_gib, samples[0].storage_by_parent.clone()), (200, vec![0, 200]));

    // At 1060 the job ends; once INACTIVE, its record says what it was given.
    e.handle_transitions(&[transition(id, WatchedState::Inactive)], at(0.7));
    let cmds = drain(&mut e);
    let record: &JobRecord = cmds
        .iter()
        .find_map(|c| match c {
            Command::JobDone(record) => Some(record.as_ref()),
            _ => None,
        })
        .expect("the job's record");
    assert_eq!(record.storage_gib, 150);
    assert_eq!(record.storage_given, [StorageGrant { parent: 1, gib: 200 }]);
    assert_eq!(record.finish, Some(SimTime::from_secs(1060).0));
}
