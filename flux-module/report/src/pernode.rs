//! `pernode.json`: a Chrome/Perfetto trace with one lane per node and one slice per job on it,
//! to see at a glance how the scheduler packed jobs onto nodes (load it in ui.perfetto.dev or
//! chrome://tracing).
//!
//! Format: `{"traceEvents":[...],"displayTimeUnit":"ms"}`. Metadata names the process "Cluster"
//! and each lane `"node <n>"` the first time node n is used (sorted by node index); each
//! (job, node) is a complete event `ph:"X"` named `job<trace_idx>:<jobid>`, `ts`/`dur` in epoch
//! microseconds. Events are streamed as jobs finish; [`PerNodeTrace::finish`] closes the JSON.
//!
//! A system with rabbit storage also gets a process "Rabbit storage" with one counter track per
//! parent (rack): the GiB given to running jobs there, as it changes from step to step.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::{JobRecord, StorageCapacity, StreamFile};

/// The trace "process" of the nodes: the whole cluster.
const CLUSTER_PID: u32 = 1;
/// The trace "process" of the storage counters.
const STORAGE_PID: u32 = 2;

/// Streams `pernode.json`; see the module documentation.
pub struct PerNodeTrace {
    out: StreamFile,
    named_nodes: HashSet<u32>,
    /// Storage parent names, and the GiB in use under each as last written.
    storage: Vec<(String, Option<u64>)>,
}

#[derive(Serialize)]
struct OccupancyEvent<'a> {
    name: &'a str,
    cat: &'static str,
    ph: &'static str,
    pid: u32,
    tid: u32,
    ts: i64,
    dur: i64,
    args: OccupancyArgs<'a>,
}

#[derive(Serialize)]
struct OccupancyArgs<'a> {
    /// A string: Flux ids exceed the 2^53 integers a JavaScript viewer can hold.
    jobid: Option<String>,
    trace_idx: u64,
    trace_jobid: &'a str,
    nnodes: u32,
    result: &'static str,
}

impl PerNodeTrace {
    /// Creates (truncates) `path`, gzip-compressed if `gzip`, and opens the event list with the
    /// process metadata.
    pub fn create(path: impl AsRef<Path>, gzip: bool, storage: Option<&StorageCapacity>) -> io::Result<Self> {
        let mut out = StreamFile::create(path.as_ref(), gzip)?;
        out.write_all(b"{\"traceEvents\":[\n")?;
        let process_name = json!({
            "name": "process_name", "ph": "M", "pid": CLUSTER_PID, "args": {"name": "Cluster"}
        });
        serde_json::to_writer(&mut out, &process_name)?;
        let mut trace = PerNodeTrace {
            out,
            named_nodes: HashSet::new(),
            storage: Vec::new(),
        };
        if let Some(storage) = storage {
            trace.write_event(&json!({
                "name": "process_name", "ph": "M", "pid": STORAGE_PID, "args": {"name": "Rabbit storage"}
            }))?;
            trace.storage = storage.parents.iter().map(|(name, _)| (name.clone(), None)).collect();
        }
        Ok(trace)
    }

    /// Records the GiB in use under each storage parent at `t_us` (in the order of the
    /// capacity given at creation): one counter event per parent whose value changed.
    pub fn storage_sample(&mut self, t_us: i64, by_parent: &[u64]) -> io::Result<()> {
        for (i, &gib) in by_parent.iter().enumerate().take(self.storage.len()) {
            if self.storage[i].1 == Some(gib) {
                continue;
            }
            self.storage[i].1 = Some(gib);
            let counter = json!({
                "name": self.storage[i].0, "ph": "C", "pid": STORAGE_PID, "ts": t_us, "args": {"GiB": gib}
            });
            self.write_event(&counter)?;
        }
        Ok(())
    }

    /// Adds one slice per node the job ran on. Jobs that did not both start and finish, ran for
    /// no time, or have no nodes leave no trace.
    pub fn write(&mut self, job: &JobRecord) -> io::Result<()> {
        let Some((start, finish)) = job.run_interval() else {
            return Ok(());
        };
        if finish <= start {
            return Ok(());
        }
        let name = match job.jobid {
            Some(jobid) => format!("job{}:{jobid}", job.trace_idx),
            None => format!("job{}", job.trace_idx),
        };
        for &node in &job.nodelist {
            if self.named_nodes.insert(node) {
                self.write_node_metadata(node)?;
            }
            let event = OccupancyEvent {
                name: &name,
                cat: "occupancy",
                ph: "X",
                pid: CLUSTER_PID,
                tid: node,
                ts: start,
                dur: finish - start,
                args: OccupancyArgs {
                    jobid: job.jobid.map(|id| id.to_string()),
                    trace_idx: job.trace_idx,
                    trace_jobid: &job.trace_id,
                    nnodes: job.nnodes,
                    result: job.result.as_str(),
                },
            };
            self.write_event(&event)?;
        }
        Ok(())
    }

    /// Closes the JSON document and flushes it.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.write_all(b"\n],\"displayTimeUnit\":\"ms\"}\n")?;
        self.out.finish()
    }

    fn write_node_metadata(&mut self, node: u32) -> io::Result<()> {
        let thread_name = json!({
            "name": "thread_name", "ph": "M", "pid": CLUSTER_PID, "tid": node,
            "args": {"name": format!("node {node}")}
        });
        let sort_index = json!({
            "name": "thread_sort_index", "ph": "M", "pid": CLUSTER_PID, "tid": node,
            "args": {"sort_index": node}
        });
        self.write_event(&thread_name)?;
        self.write_event(&sort_index)
    }

    /// Every event follows the process metadata, so each is preceded by a separator.
    fn write_event(&mut self, event: &impl Serialize) -> io::Result<()> {
        self.out.write_all(b",\n")?;
        serde_json::to_writer(&mut self.out, event)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{EPOCH_US, job, not_run};
    use serde_json::Value;

    fn written_trace(jobs: &[JobRecord]) -> Value {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pernode.json");
        let mut trace = PerNodeTrace::create(&path, false, None).unwrap();
        jobs.iter().for_each(|job| trace.write(job).unwrap());
        trace.finish().unwrap();
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn one_slice_per_job_and_node() {
        let jobs = [
            JobRecord {
                nodelist: vec![3, 5],
                ..job(0, 2, 32, 0, 0, 60)
            },
            JobRecord {
                nodelist: vec![5],
                ..job(1, 1, 16, 0, 60, 90)
            },
            not_run(2, 1, 0),
            job(3, 1, 16, 0, 90, 90), // zero duration: skipped
        ];
        let trace = written_trace(&jobs);
        assert_eq!(trace["displayTimeUnit"], "ms");
        let events = trace["traceEvents"].as_array().unwrap();

        let metadata: Vec<(&str, Value)> = events
            .iter()
            .filter(|e| e["ph"] == "M")
            .map(|e| (e["name"].as_str().unwrap(), e["args"].clone()))
            .collect();
        assert_eq!(
            metadata,
            [
                ("process_name", json!({"name": "Cluster"})),
                ("thread_name", json!({"name": "node 3"})),
                ("thread_sort_index", json!({"sort_index": 3})),
                ("thread_name", json!({"name": "node 5"})),
                ("thread_sort_index", json!({"sort_index": 5})),
            ]
        );

        let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(slices.len(), 3);
        assert_eq!(
            *slices[0],
            json!({
                "name": "job0:1", "cat": "occupancy", "ph": "X", "pid": 1, "tid": 3,
                "ts": EPOCH_US, "dur": 60_000_000,
                "args": {"jobid": "1", "trace_idx": 0, "trace_jobid": "t0", "nnodes": 2, "result": "completed"}
            })
        );
        assert_eq!(
            (slices[1]["tid"].as_u64(), slices[2]["name"].as_str()),
            (Some(5), Some("job1:2"))
        );
        assert_eq!(slices[2]["ts"], EPOCH_US + 60_000_000);
    }

    #[test]
    fn storage_counters_per_rack_only_when_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pernode.json");
        let storage = StorageCapacity { parent_type: "rack".into(), parents: vec![("rack0".into(), 300), ("rack1".into(), 300)] };
        let mut trace = PerNodeTrace::create(&path, false, Some(&storage)).unwrap();
        trace.storage_sample(EPOCH_US, &[0, 0]).unwrap();
        trace.storage_sample(EPOCH_US + 10, &[200, 0]).unwrap();
        trace.storage_sample(EPOCH_US + 20, &[200, 100]).unwrap();
        trace.finish().unwrap();
        let trace: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let events = trace["traceEvents"].as_array().unwrap();
        assert_eq!(events[1], json!({"name": "process_name", "ph": "M", "pid": 2, "args": {"name": "Rabbit storage"}}));
        let counters: Vec<(i64, &str, u64)> = events
            .iter()
            .filter(|e| e["ph"] == "C")
            .map(|e| (e["ts"].as_i64().unwrap() - EPOCH_US, e["name"].as_str().unwrap(), e["args"]["GiB"].as_u64().unwrap()))
            .collect();
        assert_eq!(counters, [(0, "rack0", 0), (0, "rack1", 0), (10, "rack0", 200), (20, "rack1", 100)]);
    }

    #[test]
    fn empty_run_is_valid_json() {
        let trace = written_trace(&[]);
        assert_eq!(trace["traceEvents"].as_array().unwrap().len(), 1);
    }
}
