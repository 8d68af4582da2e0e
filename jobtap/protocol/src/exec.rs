//! The exec service protocol of flux-core's job-manager (`src/modules/job-manager/start.c`).
//!
//! After `job-manager.exec-hello {"service": S}`, the job-manager sends `S.start` once per
//! job that the scheduler allocated, and expects a stream of responses on that one request:
//! `start`, then `finish`, then `release` with `final: true` (which ends the stream and lets
//! the job-manager send `sched.free`). An *error* response would tear the whole exec
//! interface down, so problems are reported with `exception` responses instead.
//! A fatal job exception (e.g. `flux cancel`) is announced with the `job-exception` event.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::JobId;

pub const HELLO_TOPIC: &str = "job-manager.exec-hello";
pub const EXCEPTION_EVENT: &str = "job-exception";
/// Name of the jobspec attribute (`attributes.user.<name>`) that ties a Flux job to its trace row.
pub const TRACE_ATTRIBUTE: &str = "ff_trace_idx";

#[derive(Debug, Serialize)]
pub struct Hello<'a> {
    pub service: &'a str,
}

/// `<service>.start` request. Only the fields the emulator reads are decoded.
#[derive(Debug, Deserialize)]
pub struct StartRequest {
    pub id: JobId,
    #[serde(default)]
    pub reattach: bool,
    pub jobspec: StartJobspec,
    #[serde(rename = "R")]
    pub r: ResourceSet,
}

#[derive(Debug, Default, Deserialize)]
pub struct StartJobspec {
    #[serde(default)]
    pub attributes: JobspecAttributes,
}

#[derive(Debug, Default, Deserialize)]
pub struct JobspecAttributes {
    #[serde(default)]
    pub user: serde_json::Map<String, Value>,
}

impl StartRequest {
    /// The trace row this job replays, if the emulator submitted it.
    pub fn trace_idx(&self) -> Option<u64> {
        self.jobspec.attributes.user.get(TRACE_ATTRIBUTE).and_then(Value::as_u64)
    }
}

/// RFC 20 R (version 1), reduced to what the emulator records.
#[derive(Debug, Default, Deserialize)]
pub struct ResourceSet {
    #[serde(default)]
    pub execution: Execution,
    /// The allocated part of Fluxion's resource graph (JGF), when Fluxion writes it
    /// (`match-format = "rv1"`): the only place R names a job's SSD storage.
    #[serde(default)]
    pub scheduling: Option<Scheduling>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Scheduling {
    #[serde(default)]
    pub graph: AllocatedGraph,
}

#[derive(Debug, Default, Deserialize)]
pub struct AllocatedGraph {
    #[serde(default)]
    pub nodes: Vec<AllocatedVertex>,
}

#[derive(Debug, Deserialize)]
pub struct AllocatedVertex {
    pub metadata: AllocatedMetadata,
}

/// The fields of a graph vertex the emulator reads; Fluxion writes more.
#[derive(Debug, Deserialize)]
pub struct AllocatedMetadata {
    #[serde(rename = "type")]
    pub kind: String,
    /// Fluxion's default when a vertex has none.
    #[serde(default = "one")]
    pub size: u64,
    #[serde(default)]
    pub paths: serde_json::Map<String, Value>,
}

fn one() -> u64 {
    1
}

impl ResourceSet {
    /// The `ssd` vertices of the allocated graph: each one's containment path and size.
    pub fn ssd_shares(&self) -> impl Iterator<Item = (&str, u64)> {
        let vertices = self.scheduling.iter().flat_map(|s| &s.graph.nodes);
        vertices.filter(|v| v.metadata.kind == "ssd").map(|v| {
            let path = v.metadata.paths.get("containment").and_then(Value::as_str).unwrap_or("");
            (path, v.metadata.size)
        })
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Execution {
    #[serde(rename = "R_lite", default)]
    pub r_lite: Vec<RLiteEntry>,
}

#[derive(Debug, Deserialize)]
pub struct RLiteEntry {
    /// An RFC 22 idset of broker ranks, e.g. `"0-3,7"`.
    pub rank: String,
    #[serde(default)]
    pub children: serde_json::Map<String, Value>,
}

/// Responses on a start request.
#[derive(Debug, Serialize)]
pub struct StartResponse<'a> {
    pub id: JobId,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub data: ResponseData<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ResponseData<'a> {
    Empty {},
    Finish { status: i32 },
    Release { ranks: &'a str, #[serde(rename = "final")] is_final: bool },
    Exception { severity: i32, #[serde(rename = "type")] kind: &'a str, note: &'a str },
}

impl<'a> StartResponse<'a> {
    pub fn start(id: JobId) -> Self {
        StartResponse { id, kind: "start", data: ResponseData::Empty {} }
    }
    /// `status` is a wait(2) status: 0 = success, a signal number = killed by it.
    pub fn finish(id: JobId, status: i32) -> Self {
        StartResponse { id, kind: "finish", data: ResponseData::Finish { status } }
    }
    pub fn release_all(id: JobId) -> Self {
        StartResponse { id, kind: "release", data: ResponseData::Release { ranks: "all", is_final: true } }
    }
    /// A fatal (severity 0) exception of `kind`, e.g. `timeout` or `exec`.
    pub fn fatal_exception(id: JobId, kind: &'a str, note: &'a str) -> Self {
        StartResponse { id, kind: "exception", data: ResponseData::Exception { severity: 0, kind, note } }
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("start responses always serialize")
    }
}

/// `job-exception` event payload (`job-manager/raise.c`).
#[derive(Debug, Deserialize)]
pub struct ExceptionEvent {
    pub id: JobId,
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_match_the_job_manager_format() {
        let id = JobId(42);
        assert_eq!(StartResponse::start(id).to_json(), r#"{"id":42,"type":"start","data":{}}"#);
        assert_eq!(StartResponse::finish(id, 0).to_json(), r#"{"id":42,"type":"finish","data":{"status":0}}"#);
        assert_eq!(
            StartResponse::release_all(id).to_json(),
            r#"{"id":42,"type":"release","data":{"ranks":"all","final":true}}"#
        );
        assert_eq!(
            StartResponse::fatal_exception(id, "timeout", "limit").to_json(),
            r#"{"id":42,"type":"exception","data":{"severity":0,"type":"timeout","note":"limit"}}"#
        );
    }

    #[test]
    fn start_request_decodes_trace_index_and_ranks() {
        let s = r#"{"id":6039797760,"userid":0,"reattach":false,
            "jobspec":{"attributes":{"system":{"duration":60},"user":{"ff_trace_idx":3}}},
            "R":{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-15"}}],"nodelist":["node[0-1]"]}}}"#;
        let r: StartRequest = serde_json::from_str(s).unwrap();
        assert_eq!(r.id, JobId(6039797760));
        assert_eq!(r.trace_idx(), Some(3));
        assert_eq!(r.r.execution.r_lite[0].rank, "0-1");
    }

    #[test]
    fn ssd_shares_come_from_the_allocated_graph() {
        let s = r#"{"id":1,"jobspec":{},"R":{"version":1,"execution":{"R_lite":[{"rank":"2-3","children":{"core":"1"}}]},
            "scheduling":{"graph":{"nodes":[
                {"id":"13","metadata":{"type":"ssd","id":4,"rank":-1,"exclusive":true,"size":100,"paths":{"containment":"/cluster0/rack1/ssd4"}}},
                {"id":"17","metadata":{"type":"core","id":1,"rank":2,"exclusive":true,"paths":{"containment":"/cluster0/rack1/node2/core1"}}},
                {"id":"14","metadata":{"type":"ssd","id":5,"rank":-1,"exclusive":true,"size":100,"paths":{"containment":"/cluster0/rack1/ssd5"}}}],
                "edges":[{"source":"11","target":"13"}]}}}}"#;
        let r: StartRequest = serde_json::from_str(s).unwrap();
        let shares: Vec<(&str, u64)> = r.r.ssd_shares().collect();
        assert_eq!(shares, [("/cluster0/rack1/ssd4", 100), ("/cluster0/rack1/ssd5", 100)]);
        let plain: StartRequest = serde_json::from_str(r#"{"id":1,"jobspec":{},"R":{}}"#).unwrap();
        assert_eq!(plain.r.ssd_shares().count(), 0);
    }

    #[test]
    fn foreign_job_has_no_trace_index() {
        let s = r#"{"id":1,"jobspec":{},"R":{}}"#;
        let r: StartRequest = serde_json::from_str(s).unwrap();
        assert_eq!(r.trace_idx(), None);
    }
}
