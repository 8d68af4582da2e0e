//! `report.html`: one self-contained page about a finished run, for a browser or a mail
//! attachment: what was run, the headline metrics of `summary.json`, the utilization plot
//! (`utilization.svg`, inlined) and the distribution of wait times (from the `WAIT` column of
//! `job_transitions.csv`, an inline SVG histogram). No scripts, styles from elsewhere or
//! images: nothing is fetched.
//!
//! It is built from the artifacts already on disk, after they are finished, so it can also be
//! made again offline from a run directory's `output/`. Reading `job_transitions.csv` keeps
//! only bucket counts: memory does not grow with the number of jobs.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use serde_json::Value;

use crate::atomic_file::write_atomically;

/// Wait-time buckets: upper bounds in seconds (inclusive) and their labels; the last is open.
const WAIT_BUCKETS: [(f64, &str); 8] = [
    (0.0, "0 s"),
    (60.0, "≤ 1 min"),
    (600.0, "≤ 10 min"),
    (3600.0, "≤ 1 h"),
    (6.0 * 3600.0, "≤ 6 h"),
    (86400.0, "≤ 1 d"),
    (7.0 * 86400.0, "≤ 1 wk"),
    (f64::INFINITY, "> 1 wk"),
];

/// Writes `dir/report.html` from `summary.json`, `utilization.svg` and `job_transitions.csv` in
/// `dir`. A missing plot or transitions file leaves its section out; `summary.json` is needed.
pub fn write_report_html(dir: &Path) -> io::Result<()> {
    let summary: Value = serde_json::from_slice(&fs::read(dir.join("summary.json"))?)?;
    let plot = fs::read_to_string(dir.join("utilization.svg")).ok();
    let waits = wait_histogram(&dir.join("job_transitions.csv")).ok();
    let html = render(&summary, plot.as_deref(), waits.as_ref());
    write_atomically(&dir.join("report.html"), |out| out.write_all(html.as_bytes()))
}

/// Jobs per [`WAIT_BUCKETS`] bucket (jobs that never started are not counted).
fn wait_histogram(transitions: &Path) -> io::Result<[u64; WAIT_BUCKETS.len()]> {
    let mut csv = csv::Reader::from_path(transitions)?;
    let column = csv
        .headers()?
        .iter()
        .position(|h| h == "WAIT")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "job_transitions.csv has no WAIT column"))?;
    let mut counts = [0u64; WAIT_BUCKETS.len()];
    for row in csv.records() {
        let Some(wait) = row?.get(column).and_then(|w| w.parse::<f64>().ok()) else { continue };
        let bucket = WAIT_BUCKETS.iter().position(|(bound, _)| wait <= *bound).unwrap_or(WAIT_BUCKETS.len() - 1);
        counts[bucket] += 1;
    }
    Ok(counts)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A summary value as text: numbers with at most 2 decimals, `null` as a dash.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "–".to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => format!("{:.2}", f).trim_end_matches('0').trim_end_matches('.').to_string(),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn render(summary: &Value, plot: Option<&str>, waits: Option<&[u64; WAIT_BUCKETS.len()]>) -> String {
    let s = |key: &str| show(&summary[key]);
    let system = &summary["system"];
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Flux Fiction run: {}</title>\n\
         <style>body{{font-family:sans-serif;max-width:1140px;margin:1em auto;padding:0 1em}}\
         table{{border-collapse:collapse}}td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}}\
         td.n{{text-align:right}}</style>\n</head>\n<body>\n<h1>Flux Fiction run</h1>\n",
        escape(&s("trace_file"))
    );
    h.push_str("<h2>What was run</h2>\n<table>\n");
    let jobs = format!("{} of {} completed", s("jobs_completed"), s("jobs_total"));
    let machine = format!(
        "{} nodes × {} cores × {} GPUs",
        show(&system["nnodes"]),
        show(&system["cores_per_node"]),
        show(&system["gpus_per_node"])
    );
    let time = if summary["faketime"] == Value::Bool(true) { "simulated" } else { "real" };
    for (k, v) in [
        ("trace", s("trace_file")),
        ("config", s("config_file")),
        ("system", machine),
        ("queue policy", s("policy")),
        ("time", time.to_string()),
        ("jobs", jobs),
        ("exit code", s("exit_code")),
    ] {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{}</td></tr>", escape(&v));
    }
    h.push_str("</table>\n<h2>Headline metrics</h2>\n<table>\n");
    let pair = |v: &Value| format!("{} / {}", show(&v["mean"]), show(&v["max"]));
    for (k, v) in [
        ("makespan (s)", s("makespan_seconds")),
        ("node utilization (%)", s("node_utilization_pct")),
        ("core utilization (%)", s("core_utilization_pct")),
        ("GPU utilization (%)", s("gpu_utilization_pct")),
        ("wait (s), mean / max", pair(&summary["wait_seconds"])),
        ("turnaround (s), mean / max", pair(&summary["turnaround_seconds"])),
        ("bounded slowdown, mean / max", pair(&summary["bounded_slowdown"])),
        ("jobs timeout / canceled / failed / not run", {
            let n = |k: &str| s(k);
            format!("{} / {} / {} / {}", n("jobs_timeout"), n("jobs_canceled"), n("jobs_failed"), n("jobs_not_run"))
        }),
        ("steps", s("steps")),
        ("wall time (s)", s("wall_seconds")),
        ("speed-up (simulated s per wall s)", s("speedup")),
        ("broker peak RSS (kB)", s("broker_peak_rss_kb")),
    ] {
        let _ = writeln!(h, "<tr><th>{k}</th><td class=\"n\">{}</td></tr>", escape(&v));
    }
    h.push_str("</table>\n");
    if let Some(svg) = plot {
        h.push_str("<h2>Utilization over time</h2>\n");
        // The plot is our own SVG file; only its XML declaration, if any, must go.
        let svg = svg.trim_start();
        let svg = if svg.starts_with("<?xml") { svg.split_once("?>").map_or(svg, |(_, rest)| rest) } else { svg };
        h.push_str(svg);
        h.push('\n');
    }
    if let Some(counts) = waits {
        h.push_str("<h2>Wait times</h2>\n");
        h.push_str(&wait_svg(counts));
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// A bar chart of jobs per wait-time bucket.
fn wait_svg(counts: &[u64; WAIT_BUCKETS.len()]) -> String {
    let (width, height, left, bottom, top) = (720.0, 300.0, 60.0, 40.0, 20.0);
    let most = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = (width - left - 10.0) / counts.len() as f64;
    let plot_h = height - bottom - top;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#000\"/>",
        y = height - bottom,
        x2 = width - 10.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">jobs</text>",
        top + plot_h / 2.0,
        top + plot_h / 2.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">wait (submission to start)</text>",
        left + (width - left) / 2.0,
        height - 4.0
    );
    for (i, (&n, (_, label))) in counts.iter().zip(WAIT_BUCKETS.iter()).enumerate() {
        let bar_h = plot_h * n as f64 / most;
        let x = left + i as f64 * slot + slot * 0.15;
        let y = height - bottom - bar_h;
        let mid = x + slot * 0.35;
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bar_h:.1}\" fill=\"#4a7ab5\"/>\
             <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>\
             <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            slot * 0.7,
            y - 4.0,
            height - bottom + 16.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_the_run_its_metrics_and_both_plots_and_fetches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let summary = serde_json::json!({
            "trace_file": "/runs/a<b>/inputs/w.swf", "config_file": "/runs/a/config.toml", "policy": "easy",
            "faketime": true, "system": {"nnodes": 16, "cores_per_node": 1, "gpus_per_node": 0},
            "jobs_total": 3, "jobs_completed": 3, "exit_code": 0, "makespan_seconds": 910345,
            "node_utilization_pct": 75.392605, "wait_seconds": {"mean": 40.5, "max": 90000},
            "gpu_utilization_pct": null
        });
        fs::write(dir.path().join("summary.json"), summary.to_string()).unwrap();
        fs::write(dir.path().join("utilization.svg"), "<svg id=\"util\"></svg>").unwrap();
        fs::write(dir.path().join("job_transitions.csv"), "trace_idx,WAIT\n0,0.000000\n1,30.5\n2,90000\n3,\n").unwrap();
        write_report_html(dir.path()).unwrap();
        let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("/runs/a&lt;b&gt;/inputs/w.swf"), "trace name escaped");
        assert!(html.contains("<td class=\"n\">75.39</td>"));
        assert!(html.contains("<td class=\"n\">40.5 / 90000</td>"));
        assert!(html.contains("<svg id=\"util\"></svg>"));
        // One job in "0 s", one in "≤ 1 min", one in "≤ 1 wk"; the job without a WAIT is left out.
        let bars: Vec<&str> = html.match_indices("text-anchor=\"middle\">1</text>").map(|(_, s)| s).collect();
        assert_eq!(bars.len(), 3, "{html}");
        for banned in ["<script", "src=", "href=", "@import", "url("] {
            assert!(!html.contains(banned), "{banned}");
        }
    }

    #[test]
    fn without_plot_or_transitions_the_page_still_has_the_summary() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("summary.json"), r#"{"jobs_total": 0, "jobs_completed": 0}"#).unwrap();
        write_report_html(dir.path()).unwrap();
        let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
        assert!(html.contains("0 of 0 completed") && !html.contains("<svg"));
    }
}
