//! Job traces: one [`TraceJob`] per row, streamed from the file in order so a
//! million-row trace is never held in memory.
//!
//! Two formats share one reader: sacct-style delimited text ([`sacct`]) and the
//! Standard Workload Format ([`swf`]). What both need — row order by submit time,
//! `max_jobs` — is checked here, once. Either may be gzip-compressed: every trace is
//! opened through [`file`], which decompresses as it reads.

mod error;
mod fields;
mod file;
mod sacct;
mod storage;
mod swf;
mod walltime;
mod warnings;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::time::{SimDuration, SimTime};

pub use error::TraceError;
use sacct::SacctReader;
use swf::SwfReader;

/// The file format of a job trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// Delimited text with a header row, as `sacct -P` prints it.
    Sacct,
    /// Standard Workload Format (Parallel Workloads Archive).
    Swf,
}

impl TraceFormat {
    /// SWF when the file name ends in `.swf` (`.swf.gz` for a gzip file) or its first
    /// non-blank line (decompressed) is a `;` comment, else sacct.
    pub fn detect(path: &Path) -> Result<TraceFormat, TraceError> {
        if file::name_inside_gz(path).extension().is_some_and(|ext| ext.eq_ignore_ascii_case("swf")) {
            return Ok(TraceFormat::Swf);
        }
        let mut file = file::TraceFile::open(path)?;
        let mut line = String::new();
        for number in 1.. {
            line.clear();
            match file.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(source) => return Err(TraceError::Read { path: path.to_path_buf(), line: number, source }),
            }
            let text = line.trim_start();
            if !text.is_empty() {
                return Ok(if text.starts_with(';') { TraceFormat::Swf } else { TraceFormat::Sacct });
            }
        }
        Ok(TraceFormat::Sacct)
    }
}

/// One job of the trace, ready to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceJob {
    /// 0-based index among the replayed rows (comments and skipped SWF records do not count).
    pub trace_idx: u64,
    /// 1-based line of the row in the trace file.
    pub line: u64,
    /// The row's own job id (sacct `JobID`, SWF job number); the trace index when absent.
    pub trace_id: String,
    pub submit: SimTime,
    /// How long the job runs once started.
    pub elapsed: SimDuration,
    /// The time limit the scheduler plans with; `None` = unlimited.
    pub time_limit: Option<SimDuration>,
    pub nnodes: u32,
    pub cores_per_node: u32,
    pub gpus_per_node: u32,
    /// Rabbit (near-node SSD) storage the job asks for, in whole GiB; 0 = none.
    pub storage_gib: u64,
}

enum RowSource {
    /// Boxed: its csv-core parser tables are large.
    Sacct(Box<SacctReader>),
    Swf(SwfReader),
}

/// Streams the jobs of a trace in file order. The first error ends the stream.
pub struct TraceReader {
    rows: RowSource,
    path: PathBuf,
    /// Jobs still to yield under `max_jobs`.
    remaining: Option<u64>,
    /// Submit time and line of the previous row.
    previous: Option<(SimTime, u64)>,
    finished: bool,
}

/// Opens `cfg.job_traces` in `cfg.trace_format`, yielding at most `cfg.max_jobs` jobs.
pub fn open_trace(cfg: &Config) -> Result<TraceReader, TraceError> {
    let path = &cfg.job_traces;
    let rows = match cfg.trace_format {
        TraceFormat::Sacct => RowSource::Sacct(Box::new(SacctReader::open(path, cfg.system.gpus_per_node > 0)?)),
        TraceFormat::Swf => RowSource::Swf(SwfReader::open(path, &cfg.swf, cfg.system.cores_per_node)?),
    };
    Ok(TraceReader { rows, path: path.clone(), remaining: cfg.max_jobs, previous: None, finished: false })
}

/// The whole epoch second a log of this trace's schedule counts its times from (the
/// `; UnixStartTime:` of `schedule.swf`), rounded down:
///
/// * SWF: the epoch the trace's own submit offsets were added to (`swf_epoch`, else the
///   log's `UnixStartTime`, else 2019-01-01T00:00:00Z), so a schedule's submit times are
///   the trace's own;
/// * sacct: the first job's submit time (0 when the trace has no job).
///
/// Reads the trace only up to its first job.
pub fn time_origin(cfg: &Config) -> Result<i64, TraceError> {
    let mut reader = open_trace(cfg)?;
    let first = reader.next().transpose()?;
    let origin = match &reader.rows {
        // The header, which may set the epoch, ends before the first job.
        RowSource::Swf(swf) => swf.epoch(),
        RowSource::Sacct(_) => first.map_or(SimTime(0), |job| job.submit),
    };
    Ok(origin.as_micros().div_euclid(1_000_000))
}

impl TraceReader {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adjustments made to rows read so far: the first 20 word for word, then a count.
    pub fn warnings(&self) -> Vec<String> {
        self.row_warnings().lines()
    }

    /// How many adjustments were made to rows read so far.
    pub fn warning_count(&self) -> u64 {
        self.row_warnings().total()
    }

    fn row_warnings(&self) -> &warnings::TraceWarnings {
        match &self.rows {
            RowSource::Sacct(reader) => reader.warnings(),
            RowSource::Swf(reader) => reader.warnings(),
        }
    }

    fn check_order(&mut self, job: &TraceJob) -> Result<(), TraceError> {
        if let Some((previous, previous_line)) = self.previous.filter(|&(previous, _)| job.submit < previous) {
            return Err(TraceError::OutOfOrder {
                path: self.path.clone(),
                line: job.line,
                submit: job.submit,
                previous,
                previous_line,
            });
        }
        self.previous = Some((job.submit, job.line));
        Ok(())
    }
}

impl Iterator for TraceReader {
    type Item = Result<TraceJob, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished || self.remaining == Some(0) {
            return None;
        }
        let row = match &mut self.rows {
            RowSource::Sacct(reader) => reader.next(),
            RowSource::Swf(reader) => reader.next(),
        };
        let checked = row.map(|row| row.and_then(|job| self.check_order(&job).map(|()| job)));
        match &checked {
            Some(Ok(_)) => self.remaining = self.remaining.map(|n| n - 1),
            Some(Err(_)) | None => self.finished = true,
        }
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{SMALL, trace_file};

    fn trace(text: &str) -> (tempfile::NamedTempFile, Config) {
        trace_file(text, TraceFormat::Sacct, SMALL)
    }

    #[test]
    fn rows_going_back_in_time_are_an_error() {
        let (_file, cfg) = trace(
            "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n\
             1,1,16,00:10:00,2019-01-01T01:00:00,00:06:00\n\
             2,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n",
        );
        let mut reader = open_trace(&cfg).unwrap();
        assert!(reader.next().unwrap().is_ok());
        let err = reader.next().unwrap().unwrap_err().to_string();
        assert!(
            err.ends_with(":3: submit time 1546300800.000000 is earlier than 1546304400.000000 on line 2; \
                           the replay streams the trace, so rows must be in submit-time order"),
            "{err}"
        );
        assert!(reader.next().is_none());
    }

    #[test]
    fn max_jobs_stops_early() {
        let (_file, mut cfg) = trace(
            "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n\
             1,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n\
             2,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n\
             3,1,16,00:10:00,2019-01-01T00:00:00,bad\n",
        );
        cfg.max_jobs = Some(2);
        let jobs: Vec<_> = open_trace(&cfg).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[1].trace_idx, 1);
    }

    /// Reads `text` from `name` in `dir` as `format`, written plain or gzip-compressed.
    fn read_from(
        dir: &Path,
        name: &str,
        text: &str,
        compressed: bool,
        format: TraceFormat,
    ) -> (Vec<Result<TraceJob, String>>, u64) {
        let path = dir.join(name);
        let bytes = if compressed { crate::testing::gzip(text.as_bytes()) } else { text.as_bytes().to_vec() };
        std::fs::write(&path, bytes).unwrap();
        let cfg = crate::testing::config_for(&path, format, SMALL);
        let mut reader = open_trace(&cfg).unwrap();
        let rows = reader.by_ref().map(|row| row.map_err(|e| e.to_string())).collect();
        (rows, reader.warning_count())
    }

    /// `rows` sacct rows, one a minute, the one on line `bad_line` (if any) with a bad run time.
    fn sacct_rows(rows: u64, bad_line: Option<u64>) -> String {
        let mut text = String::from("JobID,NNodes,NCPUS,Timelimit,t_submit,Elapsed\n");
        for i in 0..rows {
            let elapsed = if Some(i + 2) == bad_line { "soon" } else { "00:06:00" };
            let (id, nnodes, ncpus, submit) = (1000 + i, 1 + i % 4, 1 + i % 64, 1_546_300_800 + 60 * i);
            text.push_str(&format!("{id},{nnodes},{ncpus},00:10:00,{submit},{elapsed}\n"));
        }
        text
    }

    #[test]
    fn gzip_traces_give_the_same_rows_as_plain_ones_in_both_formats() {
        let dir = tempfile::tempdir().unwrap();
        let swf = "; UnixStartTime: 1000\n\
                   1 0 -1 100 -1 -1 -1 8 3600 -1 1 -1 -1 -1 0 -1 -1 -1\n\
                   2 0 -1 -1 4 -1 -1 4 60 -1 5 -1 -1 -1 0 -1 -1 -1\n\
                   3 7.5 -1 10 2 -1 -1 2 60 -1 1 -1 -1 -1 0 -1 -1 -1\n";
        let sacct = sacct_rows(3000, None);
        for (name, text, format, jobs) in
            [("t.swf", swf, TraceFormat::Swf, 2), ("t.csv", sacct.as_str(), TraceFormat::Sacct, 3000)]
        {
            let (plain, plain_warnings) = read_from(dir.path(), name, text, false, format);
            let (gzipped, gz_warnings) = read_from(dir.path(), &format!("{name}.gz"), text, true, format);
            assert_eq!(plain.len(), jobs, "{name}");
            assert!(plain.iter().all(Result::is_ok), "{name}");
            assert_eq!(gzipped, plain, "{name}");
            assert_eq!(gz_warnings, plain_warnings, "{name}");
        }
    }

    #[test]
    fn a_bad_row_deep_in_a_gzip_trace_is_named_by_its_line() {
        let dir = tempfile::tempdir().unwrap();
        // Far past the first buffers of compressed and decompressed text.
        let (rows, _) = read_from(dir.path(), "t.csv.gz", &sacct_rows(5000, Some(4321)), true, TraceFormat::Sacct);
        assert_eq!(rows.len(), 4320);
        let err = rows.last().unwrap().as_ref().unwrap_err();
        let path = dir.path().join("t.csv.gz");
        assert_eq!(
            *err,
            format!(
                "{}:4321: Elapsed: \"soon\": expected D-HH:MM:SS, HH:MM:SS or MM:SS (seconds may have a fraction) \
                 or UNLIMITED",
                path.display()
            )
        );
    }

    #[test]
    fn a_truncated_gzip_trace_is_an_error_naming_the_file_and_the_line_reached() {
        let dir = tempfile::tempdir().unwrap();
        let whole = crate::testing::gzip(sacct_rows(5000, None).as_bytes());
        let path = dir.path().join("t.csv.gz");
        std::fs::write(&path, &whole[..whole.len() * 2 / 3]).unwrap();
        let cfg = crate::testing::config_for(&path, TraceFormat::Sacct, SMALL);
        let rows: Vec<_> = open_trace(&cfg).unwrap().collect();
        // Streamed: the rows before the cut come first, then the error, then nothing.
        let good = rows.iter().take_while(|row| row.is_ok()).count();
        assert!(good > 1000 && good < 5000, "{good} rows");
        assert_eq!(rows.len(), good + 1);
        let err = rows[good].as_ref().unwrap_err().to_string();
        // Line 1 is the header, so the row being read is on line good + 2.
        assert_eq!(
            err,
            format!(
                "{}:{}: cannot read the trace: the gzip data ends early: the file is truncated",
                path.display(),
                good + 2
            )
        );
        let err = crate::preflight(&cfg).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:", path.display())) && err.contains("truncated"), "{err}");
    }

    #[test]
    fn detection_sees_through_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let detect = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, crate::testing::gzip(text.as_bytes())).unwrap();
            TraceFormat::detect(&path).map_err(|e| e.to_string())
        };
        let record = "1 0 -1 1 1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1\n";
        assert_eq!(detect("x.swf.gz", record), Ok(TraceFormat::Swf));
        assert_eq!(detect("x.SWF.GZ", record), Ok(TraceFormat::Swf));
        assert_eq!(detect("log.gz", "\n; Version: 2\n"), Ok(TraceFormat::Swf));
        assert_eq!(detect("log", "; Version: 2\n"), Ok(TraceFormat::Swf));
        assert_eq!(detect("t.csv.gz", "JobID,NNodes\n"), Ok(TraceFormat::Sacct));
        let whole = crate::testing::gzip(" \n".repeat(50_000).as_bytes());
        let cut = dir.path().join("cut.gz");
        std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        let err = TraceFormat::detect(&cut).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:", cut.display())) && err.ends_with("the file is truncated"), "{err}");
    }

    #[test]
    fn time_origin_is_the_swf_epoch_or_the_first_sacct_submission() {
        let record = "1 5094 -1 1 1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1\n";
        let origin = |text: &str, format, epoch: Option<SimTime>| {
            let (_file, mut cfg) = trace_file(text, format, SMALL);
            cfg.swf.epoch = epoch;
            time_origin(&cfg).unwrap()
        };
        assert_eq!(origin(&format!("; UnixStartTime: 1000\n{record}"), TraceFormat::Swf, None), 1000);
        assert_eq!(origin(record, TraceFormat::Swf, Some(SimTime::from_micros(5_500_000))), 5);
        assert_eq!(origin(record, TraceFormat::Swf, None), 1_546_300_800);
        let sacct = "NNodes,NCPUS,Timelimit,t_submit,Elapsed\n1,1,00:10:00,1546300801.7,00:06:00\n";
        assert_eq!(origin(sacct, TraceFormat::Sacct, None), 1_546_300_801);
        assert_eq!(origin("NNodes,NCPUS,Timelimit,t_submit,Elapsed\n", TraceFormat::Sacct, None), 0);
    }

    #[test]
    fn detects_swf_by_name_or_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            TraceFormat::detect(&path).unwrap()
        };
        assert_eq!(write("a.SWF", "1 2 3"), TraceFormat::Swf);
        assert_eq!(write("b.log", "\n  ; Version: 2\n"), TraceFormat::Swf);
        assert_eq!(write("c.csv", "# comment\nJobID,NNodes\n"), TraceFormat::Sacct);
    }
}
