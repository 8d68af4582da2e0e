//! `schedule.swf`: the emulated schedule as a Standard Workload Format log (version 2.2 of
//! the Parallel Workloads Archive's definition), so that tools written for archive logs
//! can read what the emulated scheduler did, and compare it with the log it replayed.
//!
//! One record per job, 18 whitespace-separated integers, in trace order; `;` header
//! comments first. Like `job_transitions.csv` the records are appended as jobs finish and
//! flushed one by one, so a run that dies leaves every finished job on disk;
//! [`SwfScheduleWriter::finish`] then puts them in trace order (which is submit order).
//!
//! Fields (1-based; -1 is SWF's "not known"):
//!
//! | # | field | written |
//! |---|---|---|
//! | 1 | job number | trace index + 1 (the trace's own job ids are `TRACE_JOBID` in `job_transitions.csv`) |
//! | 2 | submit time | seconds since the header's `UnixStartTime` |
//! | 3 | wait time | start − submit; -1 if the job never started |
//! | 4 | run time | finish − start; -1 if it did not both start and finish |
//! | 5 | allocated processors | the cores it held (`NCORES`); -1 if it never started |
//! | 8 | requested processors | the cores it asked for (`NCORES`: Fluxion allocates exactly the request) |
//! | 9 | requested time | its time limit (`TIMELIMIT`); -1 when unlimited |
//! | 11 | status | see [`swf_status`] |
//! | 6, 7, 10, 12–18 | CPU time, memory, user, group, executable, queue, partition, preceding job, think time | -1 |
//!
//! SWF times are integers. Simulated times are rounded to the nearest second (halves up) as
//! instants, relative to `UnixStartTime`, and wait and run times are differences of the
//! rounded instants, so submit + wait + run is always the rounded finish time. Job numbers
//! are trace positions rather than the trace's ids because SWF numbers jobs from 1 without
//! gaps or repeats, which sacct ids (`123_4`, or none at all) and SWF logs with skipped
//! records do not guarantee.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::row_order::{RowSpan, rewrite_in_trace_order};
use crate::{JobRecord, JobResult, SystemCapacity};

const MICROS_PER_SECOND: i64 = 1_000_000;

/// What the header says about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwfHeader {
    /// The trace replayed (its file name).
    pub trace_name: String,
    /// Epoch second the submit times count from (`; UnixStartTime:`).
    pub unix_start_time: i64,
    pub system: SystemCapacity,
    /// The scheduler's queue policy, when known.
    pub policy: Option<String>,
}

/// SWF's status of a job that left the system with `result`: 1 completed; 0 failed, which
/// covers a job killed at its time limit (`timeout`) and one ended by an exception
/// (`failed`); 5 cancelled (`canceled`, running or pending); -1 for `not-run`, a job whose
/// fate the emulator never decided because the run was aborted first.
pub fn swf_status(result: JobResult) -> i32 {
    match result {
        JobResult::Completed => 1,
        JobResult::Timeout | JobResult::Failed => 0,
        JobResult::Canceled => 5,
        JobResult::NotRun => -1,
    }
}

/// Streams `schedule.swf` records; see the module documentation.
pub struct SwfScheduleWriter {
    path: PathBuf,
    file: File,
    /// `UnixStartTime` in µs.
    origin: i64,
    line: String,
}

impl SwfScheduleWriter {
    /// Creates (truncates) `path` and writes the header.
    pub fn create(path: impl AsRef<Path>, header: &SwfHeader) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::create(&path)?;
        file.write_all(header_text(header).as_bytes())?;
        let origin = header.unix_start_time.saturating_mul(MICROS_PER_SECOND);
        Ok(SwfScheduleWriter { path, file, origin, line: String::new() })
    }

    /// Appends the record of one finished job, on disk when this returns.
    pub fn write(&mut self, job: &JobRecord) -> io::Result<()> {
        self.line.clear();
        let fields = swf_record(job, self.origin);
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(' ');
            }
            self.line.push_str(&field.to_string());
        }
        self.line.push('\n');
        self.file.write_all(self.line.as_bytes())
    }

    /// Rewrites the file in trace order, atomically (nothing to do when jobs finished in
    /// trace order). Holds the file's bytes and one span per record meanwhile, as
    /// `job_transitions.csv` does.
    pub fn finish(self) -> io::Result<()> {
        let SwfScheduleWriter { path, file, .. } = self;
        drop(file);
        let contents = fs::read(&path)?;
        let (header, rows) = record_layout(&contents)?;
        rewrite_in_trace_order(&path, &contents, 0..header, rows)
    }
}

/// The 18 fields of `job`'s record; `origin` is `UnixStartTime` in µs.
pub fn swf_record(job: &JobRecord, origin: i64) -> [i64; 18] {
    let at = |t: i64| rounded_seconds(t - origin);
    let submit = at(job.submit);
    let start = job.start.map(at);
    let wait = start.map_or(-1, |start| start - submit);
    let run = match (start, job.finish) {
        (Some(start), Some(finish)) => at(finish) - start,
        _ => -1,
    };
    let cores = i64::try_from(job.cores).unwrap_or(i64::MAX);
    let allocated = if start.is_some() { cores } else { -1 };
    let requested_time = job.time_limit.map_or(-1, rounded_seconds);
    let trace_number = i64::try_from(job.trace_idx).map_or(i64::MAX, |idx| idx.saturating_add(1));
    [
        trace_number,
        submit,
        wait,
        run,
        allocated,
        -1,
        -1,
        cores,
        requested_time,
        -1,
        i64::from(swf_status(job.result)),
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
    ]
}

/// µs to whole seconds, to the nearest (halves up, negative values alike).
fn rounded_seconds(us: i64) -> i64 {
    us.saturating_add(MICROS_PER_SECOND / 2).div_euclid(MICROS_PER_SECOND)
}

fn header_text(header: &SwfHeader) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let SystemCapacity { nnodes, cores_per_node, gpus_per_node, .. } = header.system;
    let mut text = format!(
        "; Version: 2.2\n\
         ; Computer: Flux Fiction emulated system, {nnodes} nodes x {cores_per_node} cores x {gpus_per_node} GPUs\n\
         ; Conversion: Flux Fiction {version}, the schedule it emulated for the trace {trace}\n\
         ; Preemption: No\n\
         ; UnixStartTime: {start}\n\
         ; TimeZoneString: UTC\n\
         ; MaxNodes: {nnodes}\n\
         ; MaxProcs: {procs}\n",
        trace = header.trace_name,
        start = header.unix_start_time,
        procs = header.system.total_cores(),
    );
    if let Some(policy) = &header.policy {
        text.push_str(&format!("; Note: Scheduler: Fluxion, queue policy {policy}\n"));
    }
    text.push_str(
        "; Note: Job numbers are trace indices + 1; processors are cores; times are simulated\n\
         ; Note: seconds rounded to the nearest second. Status 1 completed, 0 failed or killed at\n\
         ; Note: its time limit, 5 canceled, -1 not run (the emulation was aborted first).\n",
    );
    text
}

/// The length of the header (the leading `;` lines) and where each record lies, with its
/// trace index (job number - 1).
fn record_layout(contents: &[u8]) -> io::Result<(usize, Vec<RowSpan>)> {
    let mut header = 0;
    let mut rows = Vec::new();
    let mut start = 0;
    for line in contents.split_inclusive(|&b| b == b'\n') {
        let end = start + line.len();
        if line.starts_with(b";") && rows.is_empty() {
            header = end;
        } else {
            let number = line.split(u8::is_ascii_whitespace).find(|field| !field.is_empty());
            let trace_idx = number
                .and_then(|field| std::str::from_utf8(field).ok())
                .and_then(|field| field.parse::<u64>().ok())
                .and_then(|number| number.checked_sub(1))
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("bad job number at byte {start}: {:?}", String::from_utf8_lossy(line)),
                    )
                })?;
            rows.push(RowSpan { trace_idx, bytes: start..end });
        }
        start = end;
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{EPOCH_US, job, not_run, seconds};

    const SYSTEM: SystemCapacity = SystemCapacity { nnodes: 16, cores_per_node: 8, gpus_per_node: 0, storage_gib: 0 };

    fn header() -> SwfHeader {
        SwfHeader {
            trace_name: "example-trace.csv".into(),
            unix_start_time: EPOCH_US / MICROS_PER_SECOND,
            system: SYSTEM,
            policy: Some("easy".into()),
        }
    }

    /// One job of every kind, finishing out of trace order.
    fn jobs() -> Vec<JobRecord> {
        vec![
            JobRecord { time_limit: Some(600_000_000), ..job(2, 2, 16, 10, 40, 100) },
            // Fractional times: submit 5.4 -> 5, start 9.5 -> 10, finish 20.49 -> 20.
            JobRecord {
                submit: seconds(5) + 400_000,
                start: Some(seconds(9) + 500_000),
                finish: Some(seconds(20) + 490_000),
                time_limit: Some(10_600_000),
                elapsed: 30_000_000,
                result: JobResult::Timeout,
                ..job(1, 1, 8, 0, 0, 0)
            },
            JobRecord { result: JobResult::Canceled, start: None, nodelist: Vec::new(), ..job(3, 4, 32, 50, 0, 60) },
            JobRecord { result: JobResult::Canceled, ..job(4, 1, 4, 60, 60, 65) },
            JobRecord { result: JobResult::Failed, start: None, nodelist: Vec::new(), ..job(5, 1, 8, 70, 0, 70) },
            JobRecord { cores: 8, ..not_run(6, 1, 80) },
            JobRecord { trace_id: "1001".into(), ..job(0, 16, 128, 0, 0, 3600) },
        ]
    }

    #[test]
    fn records_follow_the_job_records() {
        let origin = EPOCH_US;
        let fields: Vec<[i64; 18]> = jobs().iter().map(|job| swf_record(job, origin)).collect();
        let rest = [-1; 7];
        let expect = |head: [i64; 11]| -> [i64; 18] {
            let mut all = [0; 18];
            all[..11].copy_from_slice(&head);
            all[11..].copy_from_slice(&rest);
            all
        };
        assert_eq!(
            fields,
            [
                expect([3, 10, 30, 60, 16, -1, -1, 16, 600, -1, 1]),
                expect([2, 5, 5, 10, 8, -1, -1, 8, 11, -1, 0]),
                expect([4, 50, -1, -1, -1, -1, -1, 32, -1, -1, 5]),
                expect([5, 60, 0, 5, 4, -1, -1, 4, -1, -1, 5]),
                expect([6, 70, -1, -1, -1, -1, -1, 8, -1, -1, 0]),
                expect([7, 80, -1, -1, -1, -1, -1, 8, -1, -1, -1]),
                expect([1, 0, 0, 3600, 128, -1, -1, 128, -1, -1, 1]),
            ]
        );
        // Every record against its job: the rounded instants add up.
        for (job, record) in jobs().iter().zip(&fields) {
            let at = |t: i64| rounded_seconds(t - origin);
            assert_eq!(record[0] as u64, job.trace_idx + 1);
            assert_eq!(record[1], at(job.submit));
            if let (Some(start), Some(finish)) = (job.start, job.finish) {
                assert_eq!(record[1] + record[2], at(start));
                assert_eq!(record[1] + record[2] + record[3], at(finish));
                assert_eq!(record[4] as u64, job.cores);
            }
            assert_eq!(record[7] as u64, job.cores);
            assert_eq!(record[10], i64::from(swf_status(job.result)));
        }
    }

    #[test]
    fn rounding_is_to_the_nearest_second() {
        assert_eq!(
            [-1_500_000, -500_001, -500_000, 0, 499_999, 500_000, 1_499_999].map(rounded_seconds),
            [-1, -1, 0, 0, 0, 1, 1]
        );
    }

    #[test]
    fn status_of_every_result() {
        use JobResult::*;
        assert_eq!([Completed, Timeout, Canceled, Failed, NotRun].map(swf_status), [1, 0, 5, 0, -1]);
    }

    #[test]
    fn header_then_records_streamed_then_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule.swf");
        let mut writer = SwfScheduleWriter::create(&path, &header()).unwrap();
        let header_text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            header_text,
            format!(
                "; Version: 2.2\n\
                 ; Computer: Flux Fiction emulated system, 16 nodes x 8 cores x 0 GPUs\n\
                 ; Conversion: Flux Fiction {}, the schedule it emulated for the trace example-trace.csv\n\
                 ; Preemption: No\n\
                 ; UnixStartTime: 1546300800\n\
                 ; TimeZoneString: UTC\n\
                 ; MaxNodes: 16\n\
                 ; MaxProcs: 128\n\
                 ; Note: Scheduler: Fluxion, queue policy easy\n\
                 ; Note: Job numbers are trace indices + 1; processors are cores; times are simulated\n\
                 ; Note: seconds rounded to the nearest second. Status 1 completed, 0 failed or killed at\n\
                 ; Note: its time limit, 5 canceled, -1 not run (the emulation was aborted first).\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        for job in jobs() {
            writer.write(&job).unwrap();
        }
        // On disk before finish, in completion order.
        let streamed = fs::read_to_string(&path).unwrap();
        assert!(streamed.ends_with("\n1 0 0 3600 128 -1 -1 128 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n"), "{streamed}");
        writer.finish().unwrap();

        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&header_text));
        let numbers: Vec<&str> = text.lines().filter(|l| !l.starts_with(';')).map(|l| &l[..1]).collect();
        assert_eq!(numbers, ["1", "2", "3", "4", "5", "6", "7"]);
        assert_eq!(
            text.lines().nth(13).unwrap(),
            "2 5 5 10 8 -1 -1 8 11 -1 0 -1 -1 -1 -1 -1 -1 -1"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_schedule_reads_back_with_the_projects_swf_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule.swf");
        let mut writer = SwfScheduleWriter::create(&path, &header()).unwrap();
        for job in jobs() {
            writer.write(&job).unwrap();
        }
        writer.finish().unwrap();

        // The file's records, field by field, are those of the job records in trace order.
        let mut by_trace = jobs();
        by_trace.sort_by_key(|job| job.trace_idx);
        let text = fs::read_to_string(&path).unwrap();
        let records: Vec<Vec<i64>> = text
            .lines()
            .filter(|line| !line.starts_with(';'))
            .map(|line| line.split_whitespace().map(|field| field.parse().unwrap()).collect())
            .collect();
        let expected: Vec<Vec<i64>> = by_trace.iter().map(|job| swf_record(job, EPOCH_US).to_vec()).collect();
        assert_eq!(records, expected);

        // ff-inputs replays the jobs that ran (it skips records with no run time, as it does
        // archive logs' cancelled jobs), at their own submit times: it found UnixStartTime.
        let config = dir.path().join("config.toml");
        fs::write(&config, "job_traces = \"schedule.swf\"\nnnodes = 16\nncpus = 8\nswf_procs_per_node = 8\n").unwrap();
        let cfg = ff_inputs::Config::load(&config).unwrap();
        assert_eq!(cfg.trace_format, ff_inputs::TraceFormat::Swf);
        let mut reader = ff_inputs::open_trace(&cfg).unwrap();
        let replayed: Vec<ff_inputs::TraceJob> = reader.by_ref().collect::<Result<_, _>>().unwrap();
        let ran: Vec<&JobRecord> = by_trace.iter().filter(|job| job.start.is_some() && job.finish.is_some()).collect();
        assert_eq!(replayed.len(), ran.len());
        assert_eq!(reader.warning_count(), (by_trace.len() - ran.len()) as u64);
        for (read, job) in replayed.iter().zip(ran) {
            let record = swf_record(job, EPOCH_US);
            assert_eq!(read.trace_id, (job.trace_idx + 1).to_string());
            assert_eq!(read.submit.as_micros(), EPOCH_US + record[1] * MICROS_PER_SECOND);
            assert_eq!(read.elapsed.as_micros(), record[3] * MICROS_PER_SECOND);
            assert_eq!(u64::from(read.nnodes), job.cores.div_ceil(8));
        }
    }

    #[test]
    fn no_policy_no_policy_line_and_an_empty_run_keeps_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule.swf");
        let header = SwfHeader { policy: None, ..header() };
        SwfScheduleWriter::create(&path, &header).unwrap().finish().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("queue policy"), "{text}");
        assert!(text.lines().all(|l| l.starts_with(';')), "{text}");
    }
}
