//! Flux jobspec version 1 (RFC 25) for one trace job, from its [`JobRequest`]:
//!
//! * `node[n] > slot(task) > [levels >] core[, gpu]`: n nodes, each holding one task
//!   slot with the job's cores (and GPUs) per node, spread over the node's levels
//!   (sockets...) when the resource graph has them; with whole-node requests, every
//!   core and GPU the scheduler sees on a node, and `"exclusive": true`;
//! * with storage, that wrapped in `slot(rabbit)[bundles] > [node[...], ssd[GiB]]`: each
//!   bundle's nodes and its exclusive SSD storage, found under one parent (spec §4.3);
//!
//! plus the trace time limit as `attributes.system.duration`, the `#DW jobdw` directive
//! as `attributes.system.dw` when configured, and the trace index as a user attribute so
//! that the exec service can tell which row a started job replays.
//!
//! The command is never run (the exec service is emulated); it only has to be valid.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::request::{JobRequest, RequestRules};
use crate::trace::TraceJob;
use emu_protocol::exec::TRACE_ATTRIBUTE;

/// The command every emulated task pretends to run.
const COMMAND: &str = "ff-emu";

#[derive(Serialize)]
struct Jobspec {
    version: u32,
    resources: [Resource; 1],
    tasks: [Task; 1],
    attributes: Attributes,
}

/// One level of the resource request (RFC 14).
#[derive(Serialize)]
struct Resource {
    #[serde(rename = "type")]
    kind: String,
    count: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    exclusive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    with: Vec<Resource>,
}

impl Resource {
    fn new(kind: &str, count: u64) -> Self {
        Resource { kind: kind.to_string(), count, exclusive: false, label: None, with: Vec::new() }
    }

    fn slot(label: &'static str, count: u64, with: Vec<Resource>) -> Self {
        Resource { label: Some(label), with, ..Resource::new("slot", count) }
    }
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
    #[serde(skip_serializing_if = "Option::is_none")]
    dw: Option<String>,
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

/// The `resources` of a request: nodes with their task slot, inside rabbit bundles when
/// the job asks for storage.
fn resources(request: &JobRequest, rules: &RequestRules) -> Resource {
    let (cores, gpus) = if rules.whole_node_requests {
        (rules.scheduler.cores_per_node, rules.scheduler.gpus_per_node)
    } else {
        (request.cores_per_node, request.gpus_per_node)
    };
    let per_branch = |count: u32| u64::from(count.div_ceil(request.branches));
    let mut leaves = vec![Resource::new("core", per_branch(cores))];
    if gpus > 0 {
        leaves.push(Resource::new("gpu", per_branch(gpus)));
    }
    // Innermost level first, each wrapping what is inside it.
    let inside_slot = rules.node_shape.levels.iter().rev().fold(leaves, |inner, level| {
        vec![Resource { with: inner, ..Resource::new(&level.kind, level.count.into()) }]
    });
    let node = |count: u32| Resource {
        exclusive: rules.whole_node_requests,
        with: vec![Resource::slot("task", 1, inside_slot)],
        ..Resource::new("node", count.into())
    };
    match request.storage {
        None => node(request.nodes),
        Some(storage) => {
            let ssd = Resource { exclusive: true, ..Resource::new("ssd", storage.gib_per_bundle) };
            Resource::slot("rabbit", storage.bundles.into(), vec![node(storage.nodes_per_bundle), ssd])
        }
    }
}

/// The jobspec JSON of `job` under `rules`.
pub fn jobspec_json(job: &TraceJob, rules: &RequestRules) -> String {
    let duration = match job.time_limit {
        None => Duration::Whole(0),
        Some(limit) => match limit.as_whole_secs() {
            Some(secs) => Duration::Whole(secs),
            None => Duration::Fractional(limit.as_secs_f64()),
        },
    };
    let jobspec = Jobspec {
        version: 1,
        resources: [resources(&rules.request(job), rules)],
        tasks: [Task { command: [COMMAND], slot: "task", count: TaskCount { per_slot: 1 } }],
        attributes: Attributes {
            system: SystemAttributes { duration, dw: rules.dw_directive(job) },
            user: UserAttributes { trace_idx: job.trace_idx },
        },
    };
    serde_json::to_string(&jobspec).expect("a jobspec of plain numbers and strings always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::tests::{job, tuolumne};
    use crate::system::{NodeLevel, NodeShape, SystemSpec};
    use crate::time::SimDuration;
    use serde_json::{Value, json};

    fn rules(exclusive: bool) -> RequestRules {
        RequestRules::for_nodes(SystemSpec { nnodes: 30, cores_per_node: 96, gpus_per_node: 4 }, exclusive)
    }

    fn limited(mut job: TraceJob, limit: Option<SimDuration>) -> TraceJob {
        job.time_limit = limit;
        job
    }

    #[test]
    fn normal_job() {
        let json = jobspec_json(&limited(job(10, 16, 0, 0), Some(SimDuration::from_secs(600))), &rules(false));
        assert_eq!(
            json,
            r#"{"version":1,"resources":[{"type":"node","count":10,"with":[{"type":"slot","count":1,"label":"task","with":[{"type":"core","count":16}]}]}],"tasks":[{"command":["ff-emu"],"slot":"task","count":{"per_slot":1}}],"attributes":{"system":{"duration":600},"user":{"ff_trace_idx":7}}}"#
        );
    }

    #[test]
    fn exclusive_gpu_job_takes_whole_nodes() {
        let json = jobspec_json(&limited(job(2, 36, 2, 0), None), &rules(true));
        assert_eq!(
            json,
            r#"{"version":1,"resources":[{"type":"node","count":2,"exclusive":true,"with":[{"type":"slot","count":1,"label":"task","with":[{"type":"core","count":96},{"type":"gpu","count":4}]}]}],"tasks":[{"command":["ff-emu"],"slot":"task","count":{"per_slot":1}}],"attributes":{"system":{"duration":0},"user":{"ff_trace_idx":7}}}"#
        );
    }

    #[test]
    fn fractional_limits_stay_fractional() {
        let json = jobspec_json(&limited(job(1, 1, 1, 0), Some(SimDuration::from_micros(1_500_000))), &rules(false));
        assert!(json.contains(r#"{"type":"gpu","count":1}"#), "{json}");
        assert!(json.contains(r#""duration":1.5"#), "{json}");
    }

    #[test]
    fn sockets_wrap_the_leaves_inside_the_task_slot() {
        let mut rules = rules(false);
        rules.node_shape = NodeShape { levels: vec![NodeLevel { kind: "socket".into(), count: 2 }] };
        let jobspec: Value = serde_json::from_str(&jobspec_json(&job(2, 192 / 2, 4, 0), &rules)).unwrap();
        assert_eq!(
            jobspec["resources"],
            json!([{"type": "node", "count": 2, "with": [{"type": "slot", "count": 1, "label": "task", "with": [
                {"type": "socket", "count": 2, "with": [{"type": "core", "count": 48}, {"type": "gpu", "count": 2}]}
            ]}]}])
        );
    }

    /// Spec §4.3, pinned: 4 nodes and 8154 GiB on Tuolumne's racks is one bundle.
    #[test]
    fn tuolumne_8154_gib_on_4_nodes_is_one_bundle() {
        let jobspec: Value = serde_json::from_str(&jobspec_json(&job(4, 96, 0, 8154), &tuolumne(4))).unwrap();
        assert_eq!(
            jobspec["resources"],
            json!([{"type": "slot", "count": 1, "label": "rabbit", "with": [
                {"type": "node", "count": 4, "with": [{"type": "slot", "count": 1, "label": "task", "with": [{"type": "core", "count": 96}]}]},
                {"type": "ssd", "count": 8154, "exclusive": true}
            ]}])
        );
        assert_eq!(tuolumne(4).request(&job(4, 96, 0, 8154)).storage.unwrap().shares_per_bundle, 18);
    }

    /// Spec §4.3, pinned: 20000 GiB is more than a rack's 16308 GiB, so two bundles of 2
    /// nodes and 10000 GiB; with the DW directive, 5000 GiB per node.
    #[test]
    fn tuolumne_20000_gib_on_4_nodes_is_two_bundles() {
        let mut rules = tuolumne(4);
        rules.dw_name = Some("rabbitxfs".into());
        let jobspec: Value = serde_json::from_str(&jobspec_json(&job(4, 96, 0, 20_000), &rules)).unwrap();
        assert_eq!(
            jobspec["resources"],
            json!([{"type": "slot", "count": 2, "label": "rabbit", "with": [
                {"type": "node", "count": 2, "with": [{"type": "slot", "count": 1, "label": "task", "with": [{"type": "core", "count": 96}]}]},
                {"type": "ssd", "count": 10000, "exclusive": true}
            ]}])
        );
        assert_eq!(
            jobspec["attributes"]["system"],
            json!({"duration": 20, "dw": "#DW jobdw type=xfs capacity=5000GiB name=rabbitxfs"})
        );
    }
}
