//! `comparison.svg` and `comparison.html`: the headline metrics against the swept parameters,
//! self-contained like a run's `report.html` (inline SVG, no scripts, nothing fetched).
//!
//! One panel per metric. The x axis is the first parameter whose value differs between runs
//! (its values in order of appearance); every combination of the other differing parameters
//! is one line. Without differing parameters each run is its own x position.

use std::fmt::Write as _;

use crate::comparison::{PLOTTED, Row, format_number, param_columns};

const PANEL_WIDTH: f64 = 420.0;
const PANEL_HEIGHT: f64 = 250.0;
const COLUMNS: usize = 2;
const MARGIN_LEFT: f64 = 70.0;
const MARGIN_BOTTOM: f64 = 60.0;
const MARGIN_TOP: f64 = 30.0;
/// Gridlines above zero on a value axis, at most.
const MAX_TICKS: u32 = 5;
const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// How rows map onto the plot: x position labels, and for each series its label and points.
struct Layout {
    x_label: String,
    x_values: Vec<String>,
    series: Vec<(String, Vec<(usize, usize)>)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn param<'a>(row: &'a Row, key: &str) -> &'a str {
    row.params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn layout(rows: &[Row]) -> Layout {
    let varying: Vec<String> = param_columns(rows)
        .into_iter()
        .filter(|key| rows.iter().any(|row| param(row, key) != param(&rows[0], key)))
        .collect();
    let Some((x_key, others)) = varying.split_first() else {
        return Layout {
            x_label: "run".into(),
            x_values: rows.iter().map(|row| row.name.clone()).collect(),
            series: vec![("runs".into(), (0..rows.len()).map(|i| (i, i)).collect())],
        };
    };
    let mut x_values: Vec<String> = Vec::new();
    let mut series: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let x = param(row, x_key).to_string();
        let x_index = x_values.iter().position(|v| *v == x).unwrap_or_else(|| {
            x_values.push(x);
            x_values.len() - 1
        });
        // A parameter a run does not have is left out of its line's label.
        let label = others
            .iter()
            .filter(|key| !param(row, key).is_empty())
            .map(|key| format!("{key}={}", param(row, key)))
            .collect::<Vec<_>>()
            .join(" ");
        match series.iter_mut().find(|(l, _)| *l == label) {
            Some((_, points)) => points.push((x_index, index)),
            None => series.push((label, vec![(x_index, index)])),
        }
    }
    Layout { x_label: x_key.clone(), x_values, series }
}

/// The plot as a standalone SVG document.
pub fn render_svg(rows: &[Row]) -> String {
    let layout = layout(rows);
    let legend_height = 20.0 * layout.series.len() as f64 + 10.0;
    let panel_rows = PLOTTED.len().div_ceil(COLUMNS);
    let width = PANEL_WIDTH * COLUMNS as f64;
    let height = legend_height + PANEL_HEIGHT * panel_rows as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for (i, (label, _)) in layout.series.iter().enumerate() {
        let y = 15.0 + 20.0 * i as f64;
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            svg,
            "<line x1=\"10\" y1=\"{y}\" x2=\"30\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"2\"/>\
             <text x=\"36\" y=\"{}\">{}</text>",
            y + 4.0,
            escape(if label.is_empty() && layout.series.len() > 1 {
                "runs without these parameters"
            } else if label.is_empty() {
                "all runs"
            } else {
                label
            })
        );
    }
    for (panel, (_, title, value)) in PLOTTED.iter().enumerate() {
        let left = PANEL_WIDTH * (panel % COLUMNS) as f64;
        let top = legend_height + PANEL_HEIGHT * (panel / COLUMNS) as f64;
        let values: Vec<Option<f64>> = rows.iter().map(|row| row.metrics.as_ref().and_then(value)).collect();
        draw_panel(&mut svg, &layout, &values, title, left, top);
    }
    svg.push_str("</svg>\n");
    svg
}

fn draw_panel(svg: &mut String, layout: &Layout, values: &[Option<f64>], title: &str, left: f64, top: f64) {
    let (x0, x1) = (left + MARGIN_LEFT, left + PANEL_WIDTH - 20.0);
    let (y0, y1) = (top + PANEL_HEIGHT - MARGIN_BOTTOM, top + MARGIN_TOP);
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let (step, ticks) = value_axis(max);
    let top_value = step * f64::from(ticks);
    let slots = layout.x_values.len().max(1) as f64;
    let x_at = |i: usize| x0 + (x1 - x0) * (i as f64 + 0.5) / slots;
    let y_at = |v: f64| y0 - (y0 - y1) * v / top_value;
    let _ = writeln!(svg, "<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">{}</text>", x0, top + 18.0, escape(title));
    let _ = writeln!(
        svg,
        "<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"black\"/>\
         <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"black\"/>"
    );
    for tick in 0..=ticks {
        let v = step * f64::from(tick);
        let y = y_at(v);
        let _ = writeln!(
            svg,
            "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            x0 - 4.0,
            y + 4.0,
            format_number(v)
        );
    }
    for (i, label) in layout.x_values.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x_at(i),
            y0 + 15.0,
            escape(label)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
        (x0 + x1) / 2.0,
        y0 + 35.0,
        escape(&layout.x_label)
    );
    for (s, (_, points)) in layout.series.iter().enumerate() {
        let color = COLORS[s % COLORS.len()];
        let placed: Vec<(f64, f64)> =
            points.iter().filter_map(|&(x, row)| values[row].map(|v| (x_at(x), y_at(v)))).collect();
        if placed.len() > 1 {
            let path: Vec<String> = placed.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(svg, "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>", path.join(" "));
        }
        for (x, y) in placed {
            let _ = writeln!(svg, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{color}\"/>");
        }
    }
}

/// A value axis from 0 to `max` or a little above: a round step (1, 2 or 5 times a power of
/// ten) and how many of them (at most `MAX_TICKS`).
fn value_axis(max: f64) -> (f64, u32) {
    if !(max > 0.0 && max.is_finite()) {
        return (1.0, 1);
    }
    let rough = max / f64::from(MAX_TICKS);
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0, 20.0].iter().map(|m| m * magnitude).find(|&s| s >= rough).expect("20x covers 10x");
    let ticks = (max / step).ceil().max(1.0) as u32;
    (step, ticks)
}

/// The page: the study, a table of every run and the plot.
pub fn render_html(title: &str, rows: &[Row], svg: &str) -> String {
    let columns = param_columns(rows);
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title>\n<style>\
         body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} \
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} td:nth-child(2),th{{text-align:left}}\
         </style></head>\n<body><h1>{0}</h1>\n<p>{1} runs. Metrics from each run's <code>output/summary.json</code> \
         (p95 wait from <code>job_transitions.csv</code>); the same numbers are in <code>comparison.csv</code>.</p>\n\
         <table><tr><th>#</th><th>run</th><th>state</th>",
        escape(title),
        rows.len()
    );
    for column in columns.iter().map(String::as_str).chain(PLOTTED.iter().map(|(_, label, _)| *label)) {
        let _ = write!(html, "<th>{}</th>", escape(column));
    }
    html.push_str("</tr>\n");
    for row in rows {
        let _ = write!(html, "<tr><td>{}</td><td>{}</td><td>{}</td>", row.ordinal, escape(&row.name), escape(&row.state));
        for column in &columns {
            let _ = write!(html, "<td>{}</td>", escape(param(row, column)));
        }
        for (_, _, value) in PLOTTED {
            let cell = row.metrics.as_ref().and_then(value).map(format_number).unwrap_or_default();
            let _ = write!(html, "<td>{cell}</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n<h2>Metrics against the parameters</h2>\n");
    html.push_str(svg);
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ordinal: usize, policy: &str, load: &str) -> Row {
        Row {
            ordinal,
            name: format!("s_policy-{policy}_load-{load}"),
            state: "succeeded".into(),
            params: vec![("jobs".into(), "20".into()), ("policy".into(), policy.into()), ("load".into(), load.into())],
            metrics: None,
            run_dir: String::new(),
        }
    }

    #[test]
    fn the_first_varying_parameter_is_the_x_axis_and_the_others_make_the_lines() {
        let rows = [row(1, "fcfs", "0.5"), row(2, "fcfs", "0.9"), row(3, "easy", "0.5"), row(4, "easy", "0.9")];
        let layout = layout(&rows);
        assert_eq!(layout.x_label, "policy");
        assert_eq!(layout.x_values, ["fcfs", "easy"]);
        let series: Vec<(&str, &[(usize, usize)])> = layout.series.iter().map(|(l, p)| (l.as_str(), p.as_slice())).collect();
        assert_eq!(series, [("load=0.5", &[(0, 0), (1, 2)][..]), ("load=0.9", &[(0, 1), (1, 3)][..])]);
    }

    #[test]
    fn value_axes_step_in_round_numbers_up_to_the_largest_value() {
        assert_eq!(value_axis(562073.6), (200000.0, 3));
        assert_eq!(value_axis(90.77), (20.0, 5));
        assert_eq!(value_axis(17.27), (5.0, 4));
        assert_eq!(value_axis(100.0), (20.0, 5));
        assert_eq!(value_axis(0.0), (1.0, 1));
        for max in [0.003, 1.0, 7.5, 99.9, 1e9, 123456.789] {
            let (step, ticks) = value_axis(max);
            assert!(step * f64::from(ticks) >= max && ticks <= MAX_TICKS, "{max}: {step} x {ticks}");
        }
    }

    #[test]
    fn without_varying_parameters_each_run_is_a_point() {
        let rows = [row(1, "fcfs", "0.5")];
        let layout = layout(&rows);
        assert_eq!((layout.x_label.as_str(), layout.x_values.as_slice()), ("run", &["s_policy-fcfs_load-0.5".to_string()][..]));
        let svg = render_svg(&rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        let html = render_html("study <1>", &rows, &svg);
        assert!(html.contains("<title>study &lt;1&gt;</title>") && html.contains(&svg));
        assert!(!html.contains("<script") && !html.contains("src="), "nothing to fetch or run");
    }
}
