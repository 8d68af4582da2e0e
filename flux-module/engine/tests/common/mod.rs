//! What the engine tests driving it by hand share: one trace job, the clocks, the
//! commands it has queued.

use ff_engine::{Command, Engine, Now};
use ff_inputs::{SimDuration, SimTime, TraceJob};

pub type Rows = Box<dyn Iterator<Item = Result<TraceJob, ff_inputs::TraceError>>>;

/// One job of 1 node with `cores`, asking `storage_gib`, submitted at 1000 s, running 60 s
/// of a 120 s limit; trace line 2.
pub fn one_job(cores: u32, storage_gib: u64) -> Rows {
    Box::new(std::iter::once(Ok(TraceJob {
        trace_idx: 0,
        line: 2,
        trace_id: "1".into(),
        submit: SimTime::from_secs(1000),
        elapsed: SimDuration::from_secs(60),
        time_limit: Some(SimDuration::from_secs(120)),
        nnodes: 1,
        cores_per_node: cores,
        gpus_per_node: 0,
        storage_gib,
    })))
}

pub fn at(mono: f64) -> Now {
    Now { mono, real: 1.0e9 + mono }
}

pub fn drain(e: &mut Engine) -> Vec<Command> {
    std::iter::from_fn(|| e.poll_command()).collect()
}
