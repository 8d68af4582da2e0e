//! `comparison.csv`: one row per run, its parameters and the headline metrics of its
//! `output/summary.json` (and the 95th percentile wait, from the `WAIT` column of its
//! `output/job_transitions.csv`, which the summary does not keep).

use std::path::Path;

use ff_report::Summary;

/// The headline metrics of one finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub policy: Option<String>,
    pub jobs_total: u64,
    pub jobs_completed: u64,
    pub makespan_seconds: f64,
    pub node_utilization_pct: Option<f64>,
    pub wait_mean_seconds: Option<f64>,
    pub wait_p95_seconds: Option<f64>,
    pub bounded_slowdown_mean: Option<f64>,
    pub bounded_slowdown_max: Option<f64>,
    pub wall_seconds: f64,
}

/// A plotted metric: its column name, its axis label, and how it is read from the metrics.
pub type PlottedMetric = (&'static str, &'static str, fn(&Metrics) -> Option<f64>);

/// The plotted metrics, in panel order.
pub const PLOTTED: [PlottedMetric; 7] = [
    ("makespan_seconds", "makespan (s)", |m| Some(m.makespan_seconds)),
    ("node_utilization_pct", "node utilization (%)", |m| m.node_utilization_pct),
    ("wait_mean_seconds", "mean wait (s)", |m| m.wait_mean_seconds),
    ("wait_p95_seconds", "p95 wait (s)", |m| m.wait_p95_seconds),
    ("bounded_slowdown_mean", "mean bounded slowdown", |m| m.bounded_slowdown_mean),
    ("bounded_slowdown_max", "max bounded slowdown", |m| m.bounded_slowdown_max),
    ("wall_seconds", "wall time (s)", |m| Some(m.wall_seconds)),
];

impl Metrics {
    /// Reads the metrics of the run whose artifacts are in `output` (a run's `output/`).
    pub fn read(output: &Path) -> Result<Metrics, String> {
        let path = output.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let summary: Summary = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let waits = read_waits(&output.join("job_transitions.csv"))?;
        Ok(Metrics {
            policy: summary.policy,
            jobs_total: summary.jobs_total,
            jobs_completed: summary.jobs_completed,
            makespan_seconds: summary.makespan_seconds,
            node_utilization_pct: summary.node_utilization_pct,
            wait_mean_seconds: summary.wait_seconds.mean,
            wait_p95_seconds: percentile(waits, 0.95),
            bounded_slowdown_mean: summary.bounded_slowdown.mean,
            bounded_slowdown_max: summary.bounded_slowdown.max,
            wall_seconds: summary.wall_seconds,
        })
    }
}

/// The `WAIT` of every job that started (empty for the others).
fn read_waits(path: &Path) -> Result<Vec<f64>, String> {
    let error = |e: csv::Error| format!("{}: {e}", path.display());
    let mut reader = csv::Reader::from_path(path).map_err(error)?;
    let column = reader
        .headers()
        .map_err(error)?
        .iter()
        .position(|name| name == "WAIT")
        .ok_or_else(|| format!("{}: no WAIT column", path.display()))?;
    let mut waits = Vec::new();
    for record in reader.records() {
        if let Some(wait) = record.map_err(error)?.get(column).and_then(|field| field.parse().ok()) {
            waits.push(wait);
        }
    }
    Ok(waits)
}

/// Nearest-rank percentile (`q` in 0..=1); None for no values.
fn percentile(mut values: Vec<f64>, q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank - 1])
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub ordinal: usize,
    pub name: String,
    pub state: String,
    pub params: Vec<(String, String)>,
    pub metrics: Option<Metrics>,
    pub run_dir: String,
}

/// The parameter columns: every parameter any run has, in order of first appearance.
pub fn param_columns(rows: &[Row]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for (key, _) in rows.iter().flat_map(|row| &row.params) {
        if !columns.contains(key) {
            columns.push(key.clone());
        }
    }
    columns
}

pub fn write_csv(path: &Path, rows: &[Row]) -> Result<(), String> {
    let error = |e: csv::Error| format!("{}: {e}", path.display());
    let columns = param_columns(rows);
    let mut out = csv::Writer::from_path(path).map_err(error)?;
    let mut header: Vec<&str> = vec!["ordinal", "name", "state"];
    header.extend(columns.iter().map(String::as_str));
    header.extend(["queue_policy", "jobs_total", "jobs_completed"]);
    header.extend(PLOTTED.iter().map(|(name, _, _)| *name));
    header.push("run_dir");
    out.write_record(&header).map_err(error)?;
    for row in rows {
        let mut record = vec![row.ordinal.to_string(), row.name.clone(), row.state.clone()];
        for column in &columns {
            record.push(row.params.iter().rev().find(|(k, _)| k == column).map(|(_, v)| v.clone()).unwrap_or_default());
        }
        let number = |value: Option<f64>| value.map(format_number).unwrap_or_default();
        match &row.metrics {
            Some(m) => {
                record.extend([m.policy.clone().unwrap_or_default(), m.jobs_total.to_string(), m.jobs_completed.to_string()]);
                record.extend(PLOTTED.iter().map(|(_, _, value)| number(value(m))));
            }
            None => record.extend(std::iter::repeat_n(String::new(), 3 + PLOTTED.len())),
        }
        record.push(row.run_dir.clone());
        out.write_record(&record).map_err(error)?;
    }
    out.flush().map_err(|e| format!("{}: {e}", path.display()))
}

/// Numbers to 6 decimals at most, without trailing zeros (as summary.json rounds them).
pub fn format_number(x: f64) -> String {
    let text = format!("{x:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(makespan: f64) -> Metrics {
        Metrics {
            policy: Some("easy".into()),
            jobs_total: 5,
            jobs_completed: 5,
            makespan_seconds: makespan,
            node_utilization_pct: Some(50.0),
            wait_mean_seconds: Some(10.5),
            wait_p95_seconds: Some(20.0),
            bounded_slowdown_mean: Some(1.25),
            bounded_slowdown_max: Some(3.0),
            wall_seconds: 1.5,
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(vec![], 0.95), None);
        assert_eq!(percentile(vec![3.0], 0.95), Some(3.0));
        let values: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        assert_eq!(percentile(values.clone(), 0.95), Some(19.0));
        assert_eq!(percentile(values, 0.5), Some(10.0));
    }

    #[test]
    fn rows_have_every_parameter_column_and_blank_metrics_for_runs_without_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![
            Row {
                ordinal: 1,
                name: "a".into(),
                state: "succeeded".into(),
                params: vec![("policy".into(), "easy".into())],
                metrics: Some(metrics(100.0)),
                run_dir: "/r/a".into(),
            },
            Row {
                ordinal: 2,
                name: "b".into(),
                state: "failed".into(),
                params: vec![("load".into(), "0.5".into())],
                metrics: None,
                run_dir: "/r/b".into(),
            },
        ];
        let path = dir.path().join("comparison.csv");
        write_csv(&path, &rows).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ordinal,name,state,policy,load,queue_policy,jobs_total,jobs_completed,makespan_seconds,node_utilization_pct,\
             wait_mean_seconds,wait_p95_seconds,bounded_slowdown_mean,bounded_slowdown_max,wall_seconds,run_dir"
        );
        assert_eq!(lines[1], "1,a,succeeded,easy,,easy,5,5,100,50,10.5,20,1.25,3,1.5,/r/a");
        assert_eq!(lines[2], "2,b,failed,,0.5,,,,,,,,,,,/r/b");
    }

    #[test]
    fn metrics_come_from_summary_json_and_the_wait_column() {
        let dir = tempfile::tempdir().unwrap();
        let system = ff_report::SystemCapacity { nnodes: 1, cores_per_node: 1, gpus_per_node: 0, storage_gib: 0 };
        let facts = ff_report::RunFacts {
            policy: Some("fcfs".into()),
            wall_seconds: 0.5,
            jobs_total: 3,
            ..Default::default()
        };
        let summary = ff_report::SummaryAccumulator::new(system).finish(facts);
        ff_report::write_summary(dir.path().join("summary.json"), &summary).unwrap();
        std::fs::write(dir.path().join("job_transitions.csv"), "trace_idx,WAIT\n0,0\n1,5\n2,\n").unwrap();
        let metrics = Metrics::read(dir.path()).unwrap();
        assert_eq!(metrics.policy.as_deref(), Some("fcfs"));
        assert_eq!((metrics.jobs_total, metrics.jobs_completed, metrics.wall_seconds), (3, 0, 0.5));
        assert_eq!((metrics.wait_mean_seconds, metrics.wait_p95_seconds), (None, Some(5.0)));
    }
}
