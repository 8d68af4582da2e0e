//! `utilization.csv` and `utilization.svg`: how busy the system was and how long the queue was,
//! step by step, to see where a policy leaves nodes idle or lets the queue build up. A system
//! with rabbit storage gets two more columns, `busy_storage_gib` and `storage_pct`, and a
//! storage line in the plot.
//!
//! The engine records one sample per simulated step, after that step's starts. Samples equal to
//! the previous one except for the time are not written: the file is a step function, a row marks
//! a change. [`UtilizationTimeline::finish`] reads the file back once to draw the plot, so memory
//! stays bounded however long the run.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::SystemCapacity;
use crate::atomic_file::write_atomically;
use crate::seconds::{format_micros_as_seconds, micros_to_seconds};
use crate::utilization_plot::{PlotSeries, PlotStep, render_utilization_svg};

const HEADER: [&str; 9] = [
    "time",
    "running",
    "pending",
    "busy_nodes",
    "busy_cores",
    "busy_gpus",
    "node_pct",
    "core_pct",
    "gpu_pct",
];

/// The columns a system with storage adds.
const STORAGE_HEADER: [&str; 2] = ["busy_storage_gib", "storage_pct"];

/// More steps than this are merged into time buckets (maximum per bucket) before plotting: an
/// SVG with millions of vertices is unreadable and slow, and peaks are what one looks for.
const MAX_PLOT_STEPS: u64 = 5_000;

/// What a sample records besides its time; two samples with equal occupancy make one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Occupancy {
    pub running_jobs: u64,
    pub pending_jobs: u64,
    pub busy_nodes: u64,
    pub busy_cores: u64,
    pub busy_gpus: u64,
    /// GiB of rabbit storage given to running jobs.
    pub busy_storage_gib: u64,
}

/// Streams `utilization.csv`; [`finish`](Self::finish) renders `utilization.svg` beside it.
pub struct UtilizationTimeline {
    csv_path: PathBuf,
    csv: csv::Writer<File>,
    system: SystemCapacity,
    previous: Option<Occupancy>,
    rows_written: u64,
    first_time: Option<i64>,
    /// Time of the latest sample, written or not: the plot extends to it.
    last_time: Option<i64>,
}

impl UtilizationTimeline {
    /// Creates (truncates) the CSV at `csv_path` and writes its header; the plot will be written
    /// to the same path with the extension `svg`.
    pub fn create(csv_path: impl AsRef<Path>, system: SystemCapacity) -> io::Result<Self> {
        let csv_path = csv_path.as_ref().to_path_buf();
        let mut csv = csv::Writer::from_writer(File::create(&csv_path)?);
        let storage_columns = if system.storage_gib > 0 { &STORAGE_HEADER[..] } else { &[] };
        csv.write_record(HEADER.iter().chain(storage_columns))?;
        Ok(UtilizationTimeline {
            csv_path,
            csv,
            system,
            previous: None,
            rows_written: 0,
            first_time: None,
            last_time: None,
        })
    }

    /// Records the state after one simulated step at `t_us` (epoch µs, non-decreasing).
    pub fn record(&mut self, t_us: i64, occupancy: Occupancy) -> io::Result<()> {
        self.first_time.get_or_insert(t_us);
        self.last_time = Some(t_us);
        if self.previous == Some(occupancy) {
            return Ok(());
        }
        self.previous = Some(occupancy);
        self.rows_written += 1;
        let mut row = vec![
            format_micros_as_seconds(t_us),
            occupancy.running_jobs.to_string(),
            occupancy.pending_jobs.to_string(),
            occupancy.busy_nodes.to_string(),
            occupancy.busy_cores.to_string(),
            occupancy.busy_gpus.to_string(),
            percent(occupancy.busy_nodes, u64::from(self.system.nnodes)),
            percent(occupancy.busy_cores, self.system.total_cores()),
            percent(occupancy.busy_gpus, self.system.total_gpus()),
        ];
        if self.system.storage_gib > 0 {
            row.push(occupancy.busy_storage_gib.to_string());
            row.push(percent(occupancy.busy_storage_gib, self.system.storage_gib));
        }
        self.csv.write_record(row)?;
        Ok(())
    }

    /// Flushes the CSV and writes the plot (`<csv path>.svg`), atomically.
    pub fn finish(self) -> io::Result<()> {
        let UtilizationTimeline {
            csv_path,
            mut csv,
            system,
            rows_written,
            first_time,
            last_time,
            ..
        } = self;
        csv.flush()?;
        drop(csv);
        let (steps, span_seconds) = match (first_time, last_time) {
            (Some(first), Some(last)) => (
                plot_steps(&csv_path, first, last, rows_written)?,
                micros_to_seconds(last - first),
            ),
            _ => (Vec::new(), 0.0),
        };
        let series = PlotSeries { gpus: system.total_gpus() > 0, storage: system.storage_gib > 0 };
        let svg = render_utilization_svg(&steps, span_seconds, series)?;
        write_atomically(&csv_path.with_extension("svg"), |out| {
            out.write_all(svg.as_bytes())
        })
    }
}

/// `busy` as a percentage of `capacity`, six decimals; empty when there is no such resource.
fn percent(busy: u64, capacity: u64) -> String {
    if capacity == 0 {
        String::new()
    } else {
        format!("{:.6}", busy as f64 / capacity as f64 * 100.0)
    }
}

/// Reads the CSV back into plot steps (seconds since `first_us`), merging rows into at most
/// [`MAX_PLOT_STEPS`] equal time buckets when there are more rows than that.
fn plot_steps(
    csv_path: &Path,
    first_us: i64,
    last_us: i64,
    rows: u64,
) -> io::Result<Vec<PlotStep>> {
    let first_seconds = micros_to_seconds(first_us);
    let span_seconds = micros_to_seconds(last_us - first_us);
    let bucketing = rows > MAX_PLOT_STEPS;
    // `None` when every row is plotted as it is.
    let bucket_of = |seconds: f64| -> Option<u64> {
        if !bucketing {
            return None;
        }
        if span_seconds <= 0.0 {
            return Some(0);
        }
        Some(((seconds / span_seconds * MAX_PLOT_STEPS as f64) as u64).min(MAX_PLOT_STEPS - 1))
    };

    let mut steps: Vec<PlotStep> = Vec::with_capacity(rows.min(MAX_PLOT_STEPS) as usize);
    let mut last_bucket = None;
    let mut reader = csv::Reader::from_path(csv_path)?;
    for record in reader.records() {
        let record = record?;
        let field = |index: usize| -> io::Result<f64> {
            let text = &record[index];
            if text.is_empty() {
                return Ok(0.0);
            }
            text.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad number {text:?} in {}", csv_path.display()),
                )
            })
        };
        let step = PlotStep {
            seconds: field(0)? - first_seconds,
            pending_jobs: field(2)?,
            node_pct: field(6)?,
            core_pct: field(7)?,
            gpu_pct: field(8)?,
            storage_pct: if record.len() > 10 { field(10)? } else { 0.0 },
        };
        let bucket = bucket_of(step.seconds);
        match steps.last_mut() {
            // A bucket is drawn from its first row's time, with the peaks of all its rows.
            Some(last) if bucket.is_some() && bucket == last_bucket => last.merge_max(&step),
            _ => steps.push(step),
        }
        last_bucket = bucket;
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::seconds;
    use std::fs;

    const SYSTEM: SystemCapacity = SystemCapacity {
        nnodes: 4,
        cores_per_node: 8,
        gpus_per_node: 0,
        storage_gib: 0,
    };

    /// Running and pending jobs, busy nodes and cores, nothing else.
    fn busy(running_jobs: u64, pending_jobs: u64, busy_nodes: u64, busy_cores: u64) -> Occupancy {
        Occupancy { running_jobs, pending_jobs, busy_nodes, busy_cores, ..Occupancy::default() }
    }

    #[test]
    fn rows_formatted_and_repeats_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("utilization.csv");
        let mut timeline = UtilizationTimeline::create(&csv_path, SYSTEM).unwrap();
        timeline.record(seconds(0), busy(1, 3, 2, 16)).unwrap();
        timeline.record(seconds(10), busy(1, 3, 2, 16)).unwrap(); // same state: skipped
        timeline.record(seconds(20), busy(2, 2, 3, 20)).unwrap();
        timeline.record(seconds(30), busy(2, 2, 3, 20)).unwrap(); // skipped
        timeline.record(seconds(40), busy(0, 0, 0, 0)).unwrap();
        timeline.finish().unwrap();

        assert_eq!(
            fs::read_to_string(&csv_path).unwrap(),
            "time,running,pending,busy_nodes,busy_cores,busy_gpus,node_pct,core_pct,gpu_pct\n\
             1546300800.000000,1,3,2,16,0,50.000000,50.000000,\n\
             1546300820.000000,2,2,3,20,0,75.000000,62.500000,\n\
             1546300840.000000,0,0,0,0,0,0.000000,0.000000,\n"
        );
        let svg = fs::read_to_string(dir.path().join("utilization.svg")).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Node") && svg.contains("Core") && svg.contains("Pending"));
        assert!(!svg.contains("GPU"), "no GPUs in the system, no GPU series");
        assert!(svg.contains("(s)"), "a 40 s span is labelled in seconds");
    }

    #[test]
    fn storage_gets_its_columns_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("utilization.csv");
        let system = SystemCapacity { storage_gib: 600, ..SYSTEM };
        let mut timeline = UtilizationTimeline::create(&csv_path, system).unwrap();
        let storage = Occupancy { busy_storage_gib: 200, ..busy(1, 0, 2, 2) };
        timeline.record(seconds(0), storage).unwrap();
        timeline.record(seconds(5), busy(0, 0, 0, 0)).unwrap();
        timeline.finish().unwrap();
        assert_eq!(
            fs::read_to_string(&csv_path).unwrap(),
            "time,running,pending,busy_nodes,busy_cores,busy_gpus,node_pct,core_pct,gpu_pct,busy_storage_gib,storage_pct\n\
             1546300800.000000,1,0,2,2,0,50.000000,6.250000,,200,33.333333\n\
             1546300805.000000,0,0,0,0,0,0.000000,0.000000,,0,0.000000\n"
        );
        let svg = fs::read_to_string(dir.path().join("utilization.svg")).unwrap();
        assert!(svg.contains("Rabbit storage"), "{svg}");
    }

    #[test]
    fn empty_timeline_still_plots() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("utilization.csv");
        UtilizationTimeline::create(&csv_path, SYSTEM)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(fs::read_to_string(&csv_path).unwrap().lines().count(), 1);
        assert!(
            fs::read_to_string(dir.path().join("utilization.svg"))
                .unwrap()
                .starts_with("<svg")
        );
    }

    #[test]
    fn long_runs_are_bucketed_keeping_peaks() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("utilization.csv");
        let system = SystemCapacity {
            nnodes: 100,
            cores_per_node: 1,
            gpus_per_node: 1,
            storage_gib: 0,
        };
        let mut timeline = UtilizationTimeline::create(&csv_path, system).unwrap();
        let samples = 3 * MAX_PLOT_STEPS as i64;
        for step in 0..samples {
            // A single one-step peak of 100 busy nodes among alternating 10/20.
            let busy = if step == 7_777 {
                100
            } else {
                10 + 10 * (step as u64 % 2)
            };
            timeline
                .record(seconds(step), self::busy(busy, 0, busy, busy))
                .unwrap();
        }
        timeline.finish().unwrap();
        let steps =
            plot_steps(&csv_path, seconds(0), seconds(samples - 1), samples as u64).unwrap();
        assert!(steps.len() as u64 <= MAX_PLOT_STEPS, "{}", steps.len());
        assert!(
            steps.iter().any(|step| step.node_pct == 100.0),
            "the peak survives bucketing"
        );
        assert!(
            steps.iter().all(|step| step.node_pct >= 20.0),
            "buckets keep their maximum"
        );
        let svg = fs::read_to_string(dir.path().join("utilization.svg")).unwrap();
        assert!(svg.contains("GPU") && svg.contains("(h)"));
    }
}
