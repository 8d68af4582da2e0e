//! Draws `utilization.svg`: node, core (and GPU, and rabbit storage) utilization as step lines on
//! a top panel, the pending-job count on a bottom panel, against time since the first sample.
//!
//! Only plotters' SVG backend is used, with its built-in text estimate instead of system fonts:
//! SVG text is laid out by the viewer, so the crate needs no font libraries to build or run.

use std::fmt::Display;
use std::io;

use plotters::prelude::*;

/// One step of the plot: values hold from `seconds` until the next step (or the end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PlotStep {
    /// Seconds since the first sample.
    pub seconds: f64,
    pub node_pct: f64,
    pub core_pct: f64,
    pub gpu_pct: f64,
    pub storage_pct: f64,
    pub pending_jobs: f64,
}

/// The optional lines of the top panel: only resources the system has are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlotSeries {
    pub gpus: bool,
    pub storage: bool,
}

impl PlotStep {
    /// Folds a later step of the same bucket in, keeping the bucket's start time and each peak.
    pub fn merge_max(&mut self, other: &PlotStep) {
        self.node_pct = self.node_pct.max(other.node_pct);
        self.core_pct = self.core_pct.max(other.core_pct);
        self.gpu_pct = self.gpu_pct.max(other.gpu_pct);
        self.storage_pct = self.storage_pct.max(other.storage_pct);
        self.pending_jobs = self.pending_jobs.max(other.pending_jobs);
    }
}

const WIDTH: u32 = 1100;
const PANEL_HEIGHT: u32 = 310;
const NODE_COLOR: RGBColor = RGBColor(31, 119, 180);
const CORE_COLOR: RGBColor = RGBColor(255, 127, 14);
const GPU_COLOR: RGBColor = RGBColor(44, 160, 44);
const STORAGE_COLOR: RGBColor = RGBColor(214, 39, 40);
const PENDING_COLOR: RGBColor = RGBColor(148, 103, 189);

/// The time unit of the x axis, picked by span as in the earlier implementation's plots.
struct TimeAxis {
    seconds_per_unit: f64,
    label: &'static str,
}

impl TimeAxis {
    fn for_span(span_seconds: f64) -> Self {
        let (seconds_per_unit, label) = if span_seconds < 120.0 {
            (1.0, "Time since first sample (s)")
        } else if span_seconds < 7200.0 {
            (60.0, "Time since first sample (min)")
        } else {
            (3600.0, "Time since first sample (h)")
        };
        TimeAxis {
            seconds_per_unit,
            label,
        }
    }
}

/// Renders the SVG document; `end_seconds` is where the last step ends.
pub(crate) fn render_utilization_svg(
    steps: &[PlotStep],
    end_seconds: f64,
    series: PlotSeries,
) -> io::Result<String> {
    let axis = TimeAxis::for_span(end_seconds);
    // A single instant still gets a visible, non-degenerate axis.
    let x_end = (end_seconds / axis.seconds_per_unit).max(1.0);
    let step_line = |value: fn(&PlotStep) -> f64| step_vertices(steps, end_seconds, &axis, value);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 2 * PANEL_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (upper, lower) = root.split_vertically(PANEL_HEIGHT);

        let mut utilization = ChartBuilder::on(&upper)
            .caption("Resource utilization", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..x_end, 0.0..105.0)
            .map_err(plot_error)?;
        utilization
            .configure_mesh()
            .x_desc(axis.label)
            .y_desc("Utilization (%)")
            .y_label_formatter(&|pct| format!("{pct:.0}"))
            .draw()
            .map_err(plot_error)?;
        // Node is drawn first and widest: where core utilization equals it, as it does for
        // whole-node jobs, node still shows as a border around the core line.
        let mut lines = vec![
            ("Node", NODE_COLOR, 5, step_line(|s| s.node_pct)),
            ("Core", CORE_COLOR, 2, step_line(|s| s.core_pct)),
        ];
        if series.gpus {
            lines.push(("GPU", GPU_COLOR, 2, step_line(|s| s.gpu_pct)));
        }
        if series.storage {
            lines.push(("Rabbit storage", STORAGE_COLOR, 2, step_line(|s| s.storage_pct)));
        }
        for (label, color, width, vertices) in lines {
            utilization
                .draw_series(LineSeries::new(vertices, color.stroke_width(width)))
                .map_err(plot_error)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(width))
                });
        }
        utilization
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;

        let pending_max = steps.iter().map(|s| s.pending_jobs).fold(0.0, f64::max);
        let mut queue = ChartBuilder::on(&lower)
            .caption("Pending jobs", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..x_end, 0.0..(pending_max * 1.05).max(1.0))
            .map_err(plot_error)?;
        queue
            .configure_mesh()
            .x_desc(axis.label)
            .y_desc("Jobs")
            .y_label_formatter(&|jobs| format!("{jobs:.0}"))
            .draw()
            .map_err(plot_error)?;
        queue
            .draw_series(LineSeries::new(
                step_line(|s| s.pending_jobs),
                PENDING_COLOR.stroke_width(2),
            ))
            .map_err(plot_error)?;

        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Staircase vertices: each value is held flat until the next step's time, the last until `end`.
fn step_vertices(
    steps: &[PlotStep],
    end_seconds: f64,
    axis: &TimeAxis,
    value: fn(&PlotStep) -> f64,
) -> Vec<(f64, f64)> {
    let ends = steps
        .iter()
        .skip(1)
        .map(|next| next.seconds)
        .chain([end_seconds]);
    steps
        .iter()
        .zip(ends)
        .flat_map(|(step, until)| {
            let y = value(step);
            [
                (step.seconds / axis.seconds_per_unit, y),
                (until / axis.seconds_per_unit, y),
            ]
        })
        .collect()
}

fn plot_error(error: impl Display) -> io::Error {
    io::Error::other(format!("rendering utilization plot: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(seconds: f64, node_pct: f64) -> PlotStep {
        PlotStep {
            seconds,
            node_pct,
            core_pct: 0.0,
            gpu_pct: 0.0,
            storage_pct: 0.0,
            pending_jobs: 0.0,
        }
    }

    #[test]
    fn staircase_holds_each_value_until_the_next_step() {
        let axis = TimeAxis::for_span(30.0);
        let vertices = step_vertices(&[step(0.0, 50.0), step(10.0, 75.0)], 30.0, &axis, |s| {
            s.node_pct
        });
        assert_eq!(
            vertices,
            [(0.0, 50.0), (10.0, 50.0), (10.0, 75.0), (30.0, 75.0)]
        );
    }

    #[test]
    fn axis_unit_follows_span() {
        assert_eq!(TimeAxis::for_span(119.0).seconds_per_unit, 1.0);
        assert_eq!(TimeAxis::for_span(120.0).seconds_per_unit, 60.0);
        assert_eq!(TimeAxis::for_span(7200.0).seconds_per_unit, 3600.0);
    }
}
