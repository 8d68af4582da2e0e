//! `parallel_status.json` (rewritten whole while the study runs: a temporary file renamed over
//! it) and `parallel_summary.json` (the final status, with the shortest and longest makespan).

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::comparison::Metrics;
use crate::plan::Plan;
use crate::runner::RunRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Queued,
    /// Started; its `flux-fiction-run` has not reported `running` yet.
    Launching,
    Running,
    Succeeded,
    Failed,
    Skipped,
    Interrupted,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Launching => "launching",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Skipped => "skipped",
            RunState::Interrupted => "interrupted",
        }
    }

    const ALL: [RunState; 7] = [
        RunState::Queued,
        RunState::Launching,
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Skipped,
        RunState::Interrupted,
    ];
}

/// UTC now, RFC 3339 to the second.
pub fn now_iso() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// `YYYYmmdd_HHMMSS` (UTC), for the study's directory name.
pub fn now_stamp() -> String {
    let iso = now_iso();
    let digits: String = iso.chars().filter(char::is_ascii_digit).collect();
    format!("{}_{}", &digits[..8], &digits[8..14])
}

pub struct StatusFile {
    path: PathBuf,
    /// The fields that do not change while the study runs.
    head: Map<String, Value>,
}

impl StatusFile {
    pub fn new(plan: &Plan, settings: Value) -> StatusFile {
        let mut head = Map::new();
        head.insert("version".into(), json!(1));
        head.insert("manifest_path".into(), json!(plan.manifest));
        head.insert("output_root".into(), json!(plan.root));
        head.insert("started_at".into(), json!(now_iso()));
        head.insert("shard_index".into(), json!(plan.shard.map(|s| s.index)));
        head.insert("shard_count".into(), json!(plan.shard.map(|s| s.count)));
        head.insert("total_runs".into(), json!(plan.runs.len()));
        head.insert("settings".into(), settings);
        StatusFile { path: plan.root.join("parallel_status.json"), head }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The status document; `final_state` once the study is over.
    pub fn document(&self, plan: &Plan, records: &[RunRecord], final_state: Option<&str>) -> Value {
        let mut doc = self.head.clone();
        doc.insert("state".into(), json!(final_state.unwrap_or("running")));
        doc.insert("updated_at".into(), json!(now_iso()));
        doc.insert("finished_at".into(), json!(final_state.map(|_| now_iso())));
        let counts: Map<String, Value> = RunState::ALL
            .iter()
            .map(|&state| (state.as_str().to_string(), json!(records.iter().filter(|r| r.state == state).count())))
            .collect();
        doc.insert("counts".into(), Value::Object(counts));
        let runs: Vec<Value> = plan
            .runs
            .iter()
            .zip(records)
            .map(|(run, record)| {
                json!({
                    "ordinal": run.ordinal,
                    "name": run.spec.name,
                    "slug": run.slug,
                    "state": record.state.as_str(),
                    "params": run.spec.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>(),
                    "run_root": run.run_root,
                    "child_run_dir": run.child_run_dir(),
                    "launch_config": run.launch_config(),
                    "log_file": run.log_file(),
                    "status_file": run.child_run_dir().join("status.json"),
                    "summary_file": run.child_run_dir().join("output/summary.json"),
                    "flux_jobid": record.flux_jobid,
                    "started_at": record.started_at,
                    "finished_at": record.finished_at,
                    "return_code": record.return_code,
                    "failure_reason": record.failure_reason,
                    "child_state": record.child_status.as_ref().map(|s| s["state"].clone()),
                    "progress": record.child_status.as_ref().map(|s| s["progress"].clone()),
                    "metrics": record.metrics.as_ref().map(metrics_json),
                })
            })
            .collect();
        doc.insert("runs".into(), Value::Array(runs));
        Value::Object(doc)
    }

    /// Rewrites `parallel_status.json`; a failure is reported, and the study goes on.
    pub fn update(&self, plan: &Plan, records: &[RunRecord], final_state: Option<&str>) {
        write_json(&self.path, &self.document(plan, records, final_state));
    }
}

pub fn metrics_json(m: &Metrics) -> Value {
    json!({
        "queue_policy": m.policy,
        "jobs_total": m.jobs_total,
        "jobs_completed": m.jobs_completed,
        "makespan_seconds": m.makespan_seconds,
        "node_utilization_pct": m.node_utilization_pct,
        "wait_mean_seconds": m.wait_mean_seconds,
        "wait_p95_seconds": m.wait_p95_seconds,
        "bounded_slowdown_mean": m.bounded_slowdown_mean,
        "bounded_slowdown_max": m.bounded_slowdown_max,
        "wall_seconds": m.wall_seconds,
    })
}

/// The succeeded runs with the shortest and longest makespan.
pub fn makespan_extremes(plan: &Plan, records: &[RunRecord]) -> Value {
    let finished: Vec<(&str, f64, &PathBuf)> = plan
        .runs
        .iter()
        .zip(records)
        .filter_map(|(run, r)| r.metrics.as_ref().map(|m| (run.spec.name.as_str(), m.makespan_seconds, &run.run_root)))
        .collect();
    let pick = |best: fn(f64, f64) -> bool| {
        finished
            .iter()
            .fold(None, |acc: Option<&(&str, f64, &PathBuf)>, item| match acc {
                Some(current) if !best(item.1, current.1) => Some(current),
                _ => Some(item),
            })
            .map(|(name, makespan, root)| json!({"name": name, "makespan_seconds": makespan, "run_root": root}))
    };
    match (pick(|a, b| a < b), pick(|a, b| a > b)) {
        (Some(shortest), Some(longest)) => json!({"shortest": shortest, "longest": longest}),
        _ => Value::Null,
    }
}

pub fn write_json(path: &std::path::Path, value: &Value) {
    let written = ff_report::write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        std::io::Write::write_all(out, b"\n")
    });
    if let Err(e) = written {
        eprintln!("flux-fiction-run-parallel: cannot write {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_digits() {
        let stamp = now_stamp();
        assert_eq!(stamp.len(), 15);
        assert_eq!(&stamp[8..9], "_");
        assert!(stamp.chars().filter(|&c| c != '_').all(|c| c.is_ascii_digit()), "{stamp}");
    }
}
