//! Job traces: one [`TraceJob`] per row, streamed from the file in order so a
//! million-row trace is never held in memory.
//!
//! Two formats share one reader: sacct-style delimited text ([`sacct`]) and the
//! Standard Workload Format ([`swf`]). What both need — row order by submit time,
//! `max_jobs` — is checked here, once.

mod error;
mod fields;
mod sacct;
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
    /// SWF when the file name ends in `.swf` or its first non-blank line is a `;` comment,
    /// else sacct.
    pub fn detect(path: &Path) -> std::io::Result<TraceFormat> {
        if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("swf")) {
            return Ok(TraceFormat::Swf);
        }
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        for line in file.lines() {
            let line = line?;
            let line = line.trim_start();
            if !line.is_empty() {
                return Ok(if line.starts_with(';') { TraceFormat::Swf } else { TraceFormat::Sacct });
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
