//! `report.html`: one self-contained page about a finished run, for a browser or a mail
//! attachment: what was run (trace, system, policy, the versions of flux-core, Fluxion and Flux
//! Fiction, simulated and wall time), the headline metrics of `summary.json`, utilization and
//! queue length over time (`utilization.svg`, inlined), the wait-time and bounded-slowdown
//! distributions (inline SVG histograms), the jobs that waited longest, and a per-node occupancy
//! heat strip (a canvas drawn by an inline script) with the way to open `pernode.json` in
//! Perfetto. Nothing is fetched: no external scripts, styles, fonts or images.
//!
//! It is built from the artifacts already on disk, after they are finished, so it can also be
//! made again offline from a run directory's `output/`. Its size does not grow with the number of
//! jobs: histograms are bucket counts, the table is capped, the heat strip is a fixed grid and the
//! utilization plot is bucketed when it is drawn.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use serde_json::Value;

use crate::atomic_file::write_atomically;
use crate::job_digest::{JobDigest, SLOWEST_SHOWN, digest_transitions};
use crate::occupancy_grid::{COLUMNS, OccupancyGrid};
use crate::report_text::{duration, escape, number, show, utc_time};

/// Written by flux-fiction-run before the replay starts: `{"flux_core", "fluxion",
/// "flux_fiction"}`, each a version string as the running instance reported it.
const VERSIONS_FILE: &str = "versions.json";

/// Writes `dir/report.html` from `summary.json`, [`VERSIONS_FILE`], `utilization.svg` and
/// `job_transitions.csv` in `dir`. A missing file leaves its part out (`summary.json` is needed);
/// a malformed one is an error naming it.
pub fn write_report_html(dir: &Path) -> io::Result<()> {
    let summary = read_json(&dir.join("summary.json"))?;
    let versions = optional(read_json(&dir.join(VERSIONS_FILE)))?.unwrap_or(Value::Null);
    let plot = optional(fs::read_to_string(dir.join("utilization.svg")))?;
    let f64_of = |key: &str| summary[key].as_f64();
    let grid = match (summary["system"]["nnodes"].as_u64(), f64_of("first_start"), f64_of("last_finish")) {
        (Some(nnodes), Some(start), Some(end)) => OccupancyGrid::new(u32::try_from(nnodes).unwrap_or(0), start, end),
        _ => None,
    };
    let jobs = optional(digest_transitions(&dir.join("job_transitions.csv"), grid))?;
    // Compressed when the run's `output_compression` said so (see `StreamFile`).
    let pernode = ["pernode.json.gz", "pernode.json"].into_iter().find(|name| dir.join(name).exists());
    let html = render(&summary, &versions, plot.as_deref(), jobs.as_ref(), pernode.unwrap_or("pernode.json"));
    write_atomically(&dir.join("report.html"), |out| out.write_all(html.as_bytes()))
}

fn read_json(path: &Path) -> io::Result<Value> {
    let text = fs::read(path)?;
    serde_json::from_slice(&text)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))
}

/// A file that is not there is `None`; any other failure stays an error.
fn optional<T>(read: io::Result<T>) -> io::Result<Option<T>> {
    match read {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1140px;margin:1em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}\
td.n{text-align:right}.cards{display:flex;flex-wrap:wrap;gap:12px}\
.card{border:1px solid #ccd;border-radius:6px;padding:8px 16px;min-width:130px}\
.card .v{font-size:1.6em;font-weight:bold}.card .k{color:#555}\
.pair{display:flex;flex-wrap:wrap;gap:12px}.note{color:#555}";

fn render(summary: &Value, versions: &Value, plot: Option<&str>, jobs: Option<&JobDigest>, pernode: &str) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Flux Fiction run: {}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>Flux Fiction run</h1>",
        escape(&show(&summary["trace_file"]))
    );
    headline_cards(&mut h, summary);
    what_was_run(&mut h, summary, versions);
    metrics_table(&mut h, summary);
    if let Some(svg) = plot {
        h.push_str("<h2>Utilization and queue length over time</h2>\n");
        // The plot is our own SVG file; only its XML declaration, if any, must go.
        let svg = svg.trim_start();
        let svg = if svg.starts_with("<?xml") { svg.split_once("?>").map_or(svg, |(_, rest)| rest) } else { svg };
        h.push_str(svg);
        h.push('\n');
    }
    if let Some(jobs) = jobs {
        h.push_str("<h2>Wait and bounded slowdown</h2>\n<div class=\"pair\">\n");
        h.push_str(&jobs.waits.bar_chart_svg("wait (submission to start)"));
        let tau = show(&summary["bounded_slowdown"]["tau_seconds"]);
        h.push_str(&jobs.slowdowns.bar_chart_svg(&format!("bounded slowdown (run time at least {tau} s)")));
        h.push_str("</div>\n");
        slowest_table(&mut h, jobs);
        if let Some(grid) = &jobs.occupancy {
            occupancy_view(&mut h, summary, grid, pernode);
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The four numbers one looks at first.
fn headline_cards(h: &mut String, summary: &Value) {
    h.push_str("<div class=\"cards\">\n");
    let pct = |key: &str| match &summary[key] {
        Value::Null => "–".to_string(),
        v => format!("{} %", show(v)),
    };
    for (id, label, value) in [
        ("h-jobs", "jobs completed", format!("{} / {}", show(&summary["jobs_completed"]), show(&summary["jobs_total"]))),
        ("h-makespan", "makespan (s)", show(&summary["makespan_seconds"])),
        ("h-node-utilization", "node utilization", pct("node_utilization_pct")),
        ("h-mean-wait", "mean wait (s)", show(&summary["wait_seconds"]["mean"])),
        ("h-mean-slowdown", "mean bounded slowdown", show(&summary["bounded_slowdown"]["mean"])),
    ] {
        let _ = writeln!(
            h,
            "<div class=\"card\"><div class=\"v\" id=\"{id}\">{}</div><div class=\"k\">{label}</div></div>",
            escape(&value)
        );
    }
    h.push_str("</div>\n");
}

fn what_was_run(h: &mut String, summary: &Value, versions: &Value) {
    let s = |key: &str| show(&summary[key]);
    let system = &summary["system"];
    let mut machine = format!(
        "{} nodes × {} cores × {} GPUs",
        show(&system["nnodes"]),
        show(&system["cores_per_node"]),
        show(&system["gpus_per_node"])
    );
    if system["storage_gib"].as_u64().is_some_and(|gib| gib > 0) {
        let _ = write!(machine, ", {} GiB of rabbit storage", show(&system["storage_gib"]));
    }
    let version = |key: &str| versions[key].as_str().unwrap_or("unknown").to_string();
    let simulated = summary["sim_seconds"].as_f64().unwrap_or(0.0);
    let wall = summary["wall_seconds"].as_f64().unwrap_or(0.0);
    let clock = if summary["faketime"] == Value::Bool(true) { "simulated (libfaketime)" } else { "real" };
    h.push_str("<h2>What was run</h2>\n<table>\n");
    for (k, v) in [
        ("trace", s("trace_file")),
        ("config", s("config_file")),
        ("system", machine),
        ("queue policy", s("policy")),
        ("flux-core", version("flux_core")),
        ("Fluxion (flux-sched)", version("fluxion")),
        ("Flux Fiction", version("flux_fiction")),
        ("instance clock", clock.to_string()),
        ("simulated time", format!("{} ({} s), from {}", duration(simulated), number(simulated), utc_time(summary["first_submit"].as_f64()))),
        ("wall time", format!("{} ({} s), {}× real time", duration(wall), number(wall), s("speedup"))),
        ("jobs", format!("{} of {} completed", s("jobs_completed"), s("jobs_total"))),
        ("exit code", s("exit_code")),
    ] {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{}</td></tr>", escape(&v));
    }
    h.push_str("</table>\n");
}

fn metrics_table(h: &mut String, summary: &Value) {
    let s = |key: &str| show(&summary[key]);
    let pair = |v: &Value| format!("{} / {}", show(&v["mean"]), show(&v["max"]));
    h.push_str("<h2>Metrics</h2>\n<table>\n");
    for (k, v) in [
        ("makespan (s)", s("makespan_seconds")),
        ("node utilization (%)", s("node_utilization_pct")),
        ("core utilization (%)", s("core_utilization_pct")),
        ("GPU utilization (%)", s("gpu_utilization_pct")),
        ("storage utilization (%)", s("storage_utilization_pct")),
        ("wait (s), mean / max", pair(&summary["wait_seconds"])),
        ("turnaround (s), mean / max", pair(&summary["turnaround_seconds"])),
        ("bounded slowdown, mean / max", pair(&summary["bounded_slowdown"])),
        (
            "jobs timeout / canceled / failed / not run",
            format!("{} / {} / {} / {}", s("jobs_timeout"), s("jobs_canceled"), s("jobs_failed"), s("jobs_not_run")),
        ),
        ("steps", s("steps")),
        ("wall time (s)", s("wall_seconds")),
        ("speed-up (simulated s per wall s)", s("speedup")),
        ("broker peak RSS (kB)", s("broker_peak_rss_kb")),
    ] {
        let _ = writeln!(h, "<tr><th>{k}</th><td class=\"n\">{}</td></tr>", escape(&v));
    }
    h.push_str("</table>\n");
}

fn slowest_table(h: &mut String, jobs: &JobDigest) {
    if jobs.slowest.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<h2>Slowest-waiting jobs</h2>\n<p class=\"note\">The {} jobs that waited longest (of those that started); \
         all jobs are in job_transitions.csv.</p>\n<table id=\"slowest\">\n<tr><th>trace index</th><th>trace id</th>\
         <th>Flux job id</th><th>nodes</th><th>submitted</th><th>wait (s)</th><th>run (s)</th>\
         <th>bounded slowdown</th><th>result</th></tr>",
        jobs.slowest.len().min(SLOWEST_SHOWN)
    );
    let maybe = |x: Option<f64>| x.map_or_else(|| "–".to_string(), number);
    for job in &jobs.slowest {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            job.trace_idx,
            escape(&job.trace_id),
            escape(&job.jobid),
            escape(&job.nnodes),
            utc_time(Some(job.submit)),
            number(job.wait),
            maybe(job.run),
            maybe(job.slowdown),
            escape(&job.result)
        );
    }
    h.push_str("</table>\n");
}

/// Draws the grid on a canvas: one cell per row and time slice, darker when busier. Sets the
/// status line last, so a page whose script failed says so.
const OCCUPANCY_SCRIPT: &str = r##"(function () {
  var data = JSON.parse(document.getElementById("occupancy-data").textContent);
  var canvas = document.getElementById("occupancy");
  var ctx = canvas.getContext("2d");
  var left = 90, rowH = data.rowHeight, colW = (canvas.width - left) / data.cols;
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "middle";
  for (var r = 0; r < data.rows; r++) {
    for (var c = 0; c < data.cols; c++) {
      var busy = data.percent[r * data.cols + c] / 100;
      ctx.fillStyle = busy === 0 ? "#f2f2f2" : "hsl(212, 60%, " + (88 - 58 * busy) + "%)";
      ctx.fillRect(left + c * colW, r * rowH, Math.ceil(colW), rowH - (rowH > 6 ? 1 : 0));
    }
    if (rowH >= 10) {
      ctx.fillStyle = "#222";
      ctx.fillText(data.labels[r], 2, r * rowH + rowH / 2);
    }
  }
  document.getElementById("occupancy-status").textContent =
    "Drawn: " + data.rows + " rows × " + data.cols + " time slices.";
})();"##;

fn occupancy_view(h: &mut String, summary: &Value, grid: &OccupancyGrid, pernode: &str) {
    let rows = grid.rows();
    let row_height = (400 / rows).clamp(4, 20);
    let labels: Vec<String> = (0..rows)
        .map(|row| match grid.row_nodes(row) {
            (first, last) if first == last => format!("node {first}"),
            (first, last) => format!("nodes {first}–{last}"),
        })
        .collect();
    let data = serde_json::json!({
        "rows": rows, "cols": COLUMNS, "rowHeight": row_height, "labels": labels, "percent": grid.percent(),
    });
    let start = summary["first_start"].as_f64();
    let end = summary["last_finish"].as_f64();
    let slice = (end.unwrap_or(0.0) - start.unwrap_or(0.0)) / COLUMNS as f64;
    let _ = writeln!(
        h,
        "<h2>Per-node occupancy</h2>\n<p class=\"note\">How much of each time slice ({}) each {} ran jobs, \
         from the first start ({}) to the last finish ({}); darker is busier.</p>\n\
         <canvas id=\"occupancy\" width=\"1100\" height=\"{}\"></canvas>\n\
         <p id=\"occupancy-status\" class=\"note\">The per-node view needs JavaScript.</p>\n\
         <script type=\"application/json\" id=\"occupancy-data\">{data}</script>\n<script>{OCCUPANCY_SCRIPT}</script>\n\
         <p>Every job on every node is in <a href=\"{pernode}\">{pernode}</a>, a Chrome/Perfetto trace: \
         open <a href=\"https://ui.perfetto.dev\">ui.perfetto.dev</a>, choose “Open trace file” and pick \
         {pernode} (it is read in the browser, not uploaded), or load it in chrome://tracing.</p>",
        duration(slice),
        if grid.nnodes() as usize > rows { "group of nodes" } else { "node" },
        utc_time(start),
        utc_time(end),
        rows * row_height
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_dir(summary: Value, transitions: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("summary.json"), summary.to_string()).unwrap();
        if let Some(rows) = transitions {
            fs::write(dir.path().join("job_transitions.csv"), rows).unwrap();
        }
        dir
    }

    fn page(dir: &tempfile::TempDir) -> String {
        write_report_html(dir.path()).unwrap();
        fs::read_to_string(dir.path().join("report.html")).unwrap()
    }

    const TRANSITIONS: &str = "trace_idx,jobid,nnodes,SUBMIT,START,FINISH,NODELIST,RESULT,TRACE_JOBID,WAIT\n\
        0,11,1,1000,1000,1100,0,completed,j0,0.000000\n\
        1,12,2,1000,1030.5,1200,\"2,3\",completed,j<1>,30.500000\n\
        2,13,1,1000,91000,92000,1,timeout,j2,90000\n\
        3,,1,1000,,,,not-run,j3,\n";

    #[test]
    fn the_page_holds_the_run_its_metrics_plots_tables_and_fetches_nothing() {
        let dir = run_dir(
            serde_json::json!({
                "trace_file": "/runs/a<b>/inputs/w.swf", "config_file": "/runs/a/config.toml", "policy": "easy",
                "faketime": true, "system": {"nnodes": 16, "cores_per_node": 1, "gpus_per_node": 0},
                "jobs_total": 4, "jobs_completed": 2, "exit_code": 2, "makespan_seconds": 91000.0,
                "first_submit": 1000.0, "first_start": 1000.0, "last_finish": 92000.0, "sim_seconds": 91000.0,
                "wall_seconds": 9.5, "speedup": 9578.947368,
                "node_utilization_pct": 75.392605, "wait_seconds": {"mean": 30016.833333, "max": 90000.0},
                "bounded_slowdown": {"mean": 30.5, "max": 91.0, "tau_seconds": 10.0}, "gpu_utilization_pct": null
            }),
            Some(TRANSITIONS),
        );
        fs::write(dir.path().join("utilization.svg"), "<?xml version=\"1.0\"?>\n<svg id=\"util\"></svg>").unwrap();
        fs::write(dir.path().join("versions.json"), r#"{"flux_core": "0.88.0", "fluxion": "0.48.0", "flux_fiction": "0.1.0"}"#)
            .unwrap();
        let html = page(&dir);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("/runs/a&lt;b&gt;/inputs/w.swf"), "trace name escaped");
        for shown in [
            "id=\"h-jobs\">2 / 4<",
            "id=\"h-makespan\">91000<",
            "id=\"h-node-utilization\">75.39 %<",
            "id=\"h-mean-wait\">30016.83<",
            "<td class=\"n\">30016.83 / 90000</td>",
            "<tr><th>flux-core</th><td>0.88.0</td></tr>",
            "<tr><th>Fluxion (flux-sched)</th><td>0.48.0</td></tr>",
            "<td>1 d 01:16:40 (91000 s), from 1970-01-01 00:16:40 UTC</td>",
            "<td>00:00:10 (9.5 s), 9578.95× real time</td>",
            "\n<svg id=\"util\"></svg>",
        ] {
            assert!(html.contains(shown), "{shown} in {html}");
        }
        // Slowest first; the job that never started is not in the table.
        let table = &html[html.find("<table id=\"slowest\">").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
        assert_eq!(rows.len(), 3, "{table}");
        assert!(rows[0].starts_with("<td class=\"n\">2</td><td>j2</td><td>13</td>"), "{}", rows[0]);
        assert!(rows[1].contains("<td>j&lt;1&gt;</td>") && rows[1].contains("<td class=\"n\">30.5</td>"));
        // Two histograms, the occupancy grid's data for 16 nodes, drawn by the inline script.
        assert_eq!(html.matches("<svg").count(), 3);
        assert!(html.contains("\"rows\":16") && html.contains("id=\"occupancy-status\""));
        assert!(html.contains("<a href=\"pernode.json\">"));
        fs::write(dir.path().join("pernode.json.gz"), b"").unwrap();
        assert!(page(&dir).contains("<a href=\"pernode.json.gz\">"), "a compressed trace is the one linked");
        // Nothing fetched: no external script, style, font or image; the only links are anchors.
        for banned in ["src=", "@import", "url(", "<link", "<img", "<iframe"] {
            assert!(!html.contains(banned), "{banned}");
        }
    }

    #[test]
    fn without_versions_plot_or_transitions_the_page_still_has_the_summary() {
        let dir = run_dir(serde_json::json!({"jobs_total": 0, "jobs_completed": 0}), None);
        let html = page(&dir);
        assert!(html.contains("0 of 0 completed") && !html.contains("<svg") && !html.contains("<script"));
        assert!(html.contains("<tr><th>flux-core</th><td>unknown</td></tr>"));
    }

    #[test]
    fn a_broken_input_is_an_error_naming_it() {
        let dir = run_dir(serde_json::json!({"jobs_total": 1}), Some("trace_idx,WAIT\n0,1\n"));
        let error = write_report_html(dir.path()).unwrap_err().to_string();
        assert!(error.contains("job_transitions.csv: no column jobid"), "{error}");
        fs::write(dir.path().join("versions.json"), "{").unwrap();
        let error = write_report_html(dir.path()).unwrap_err().to_string();
        assert!(error.contains("versions.json: EOF"), "{error}");
    }

    #[test]
    fn the_page_stays_small_for_a_hundred_thousand_jobs() {
        let mut rows = String::from("trace_idx,jobid,nnodes,SUBMIT,START,FINISH,NODELIST,RESULT,TRACE_JOBID,WAIT\n");
        for i in 0..100_000u64 {
            let (start, node) = (i * 10, i % 2000);
            let _ = writeln!(rows, "{i},{i},1,0,{start},{},{node},completed,t{i},{start}", start + 600);
        }
        let summary = serde_json::json!({
            "system": {"nnodes": 2000}, "first_start": 0.0, "last_finish": 1_000_590.0, "jobs_total": 100_000,
        });
        let dir = run_dir(summary, Some(&rows));
        let html = page(&dir);
        assert!(html.len() < 100_000, "{} bytes", html.len());
        assert_eq!(html.matches("<tr><td").count(), SLOWEST_SHOWN);
        assert!(html.contains("\"rows\":63"), "2000 nodes in rows of 32");
    }
}
