//! Flux jobspec version 1 (RFC 25) for one trace job: `nnodes` nodes, each holding one
//! task slot with the job's cores (and GPUs) per node, the trace time limit as
//! `attributes.system.duration`, and the trace index as a user attribute so that the exec
//! service can tell which row a started job replays.
//!
//! The command is never run (the exec service is emulated); it only has to be valid.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::system::SystemSpec;
use crate::trace::TraceJob;
use emu_protocol::exec::TRACE_ATTRIBUTE;

/// The command every emulated task pretends to run.
const COMMAND: &str = "ff-emu";

#[derive(Serialize)]
struct Jobspec {
    version: u32,
    resources: [NodeRequest; 1],
    tasks: [Task; 1],
    attributes: Attributes,
}

#[derive(Serialize)]
struct NodeRequest {
    #[serde(rename = "type")]
    kind: &'static str,
    count: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    exclusive: bool,
    with: [Slot; 1],
}

#[derive(Serialize)]
struct Slot {
    #[serde(rename = "type")]
    kind: &'static str,
    count: u32,
    label: &'static str,
    with: Vec<Leaf>,
}

#[derive(Serialize)]
struct Leaf {
    #[serde(rename = "type")]
    kind: &'static str,
    count: u32,
}

#[derive(Serialize)]
struct Task {
    command: [&'static str; 1],
    slot: &'static str,
    count: TaskCount,
}

#[derive(Serialize)]
struct TaskCount {
    per_slot: u32,
}

#[derive(Serialize)]
struct Attributes {
    system: SystemAttributes,
    user: UserAttributes,
}

#[derive(Serialize)]
struct SystemAttributes {
    duration: Duration,
}

/// Seconds, written as an integer when whole (`600`, not `600.0`); 0 = unlimited.
#[derive(Serialize)]
#[serde(untagged)]
enum Duration {
    Whole(i64),
    Fractional(f64),
}

/// `{"<TRACE_ATTRIBUTE>": trace_idx}`: the key is a shared constant, so no derive.
struct UserAttributes {
    trace_idx: u64,
}

impl Serialize for UserAttributes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(TRACE_ATTRIBUTE, &self.trace_idx)?;
        map.end()
    }
}

/// The jobspec JSON of `job`. With `exclusive`, each node is requested whole: all of the
/// system's cores and GPUs per node, and `"exclusive": true`.
pub fn jobspec_json(job: &TraceJob, exclusive: bool, system: &SystemSpec) -> String {
    let (cores, gpus) = if exclusive {
        (system.cores_per_node, system.gpus_per_node)
    } else {
        (job.cores_per_node, job.gpus_per_node)
    };
    let mut leaves = vec![Leaf { kind: "core", count: cores }];
    if gpus > 0 {
        leaves.push(Leaf { kind: "gpu", count: gpus });
    }
    let duration = match job.time_limit {
        None => Duration::Whole(0),
        Some(limit) => match limit.as_whole_secs() {
            Some(secs) => Duration::Whole(secs),
            None => Duration::Fractional(limit.as_secs_f64()),
        },
    };
    let jobspec = Jobspec {
        version: 1,
        resources: [NodeRequest {
            kind: "node",
            count: job.nnodes,
            exclusive,
            with: [Slot { kind: "slot", count: 1, label: "task", with: leaves }],
        }],
        tasks: [Task { command: [COMMAND], slot: "task", count: TaskCount { per_slot: 1 } }],
        attributes: Attributes {
            system: SystemAttributes { duration },
            user: UserAttributes { trace_idx: job.trace_idx },
        },
    };
    serde_json::to_string(&jobspec).expect("a jobspec of plain numbers and strings always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{SimDuration, SimTime};

    fn job(nnodes: u32, cores: u32, gpus: u32, limit: Option<SimDuration>) -> TraceJob {
        TraceJob {
            trace_idx: 7,
            line: 9,
            trace_id: "8".into(),
            submit: SimTime::from_secs(1_546_300_800),
            elapsed: SimDuration::from_secs(360),
            time_limit: limit,
            nnodes,
            cores_per_node: cores,
            gpus_per_node: gpus,
            storage_gib: 0,
        }
    }

    const SYSTEM: SystemSpec = SystemSpec { nnodes: 30, cores_per_node: 96, gpus_per_node: 4 };

    #[test]
    fn normal_job() {
        let json = jobspec_json(&job(10, 16, 0, Some(SimDuration::from_secs(600))), false, &SYSTEM);
        assert_eq!(
            json,
            r#"{"version":1,"resources":[{"type":"node","count":10,"with":[{"type":"slot","count":1,"label":"task","with":[{"type":"core","count":16}]}]}],"tasks":[{"command":["ff-emu"],"slot":"task","count":{"per_slot":1}}],"attributes":{"system":{"duration":600},"user":{"ff_trace_idx":7}}}"#
        );
    }

    #[test]
    fn exclusive_gpu_job_takes_whole_nodes() {
        let json = jobspec_json(&job(2, 36, 2, None), true, &SYSTEM);
        assert_eq!(
            json,
            r#"{"version":1,"resources":[{"type":"node","count":2,"exclusive":true,"with":[{"type":"slot","count":1,"label":"task","with":[{"type":"core","count":96},{"type":"gpu","count":4}]}]}],"tasks":[{"command":["ff-emu"],"slot":"task","count":{"per_slot":1}}],"attributes":{"system":{"duration":0},"user":{"ff_trace_idx":7}}}"#
        );
    }

    #[test]
    fn fractional_limits_stay_fractional() {
        let json = jobspec_json(&job(1, 1, 1, Some(SimDuration::from_micros(1_500_000))), false, &SYSTEM);
        assert!(json.contains(r#"{"type":"gpu","count":1}"#), "{json}");
        assert!(json.contains(r#""duration":1.5"#), "{json}");
    }
}
