//! Standard Workload Format (Parallel Workloads Archive): one job per line, 18
//! whitespace-separated numbers, `;` comment lines (the header).
//!
//! Fields used (1-based): 1 job number, 2 submit time (seconds after the log's start),
//! 4 run time, 5 allocated processors, 8 requested processors (used when 5 is -1),
//! 9 requested time. Submit times become epoch times by adding `swf_epoch`, else the
//! header's `; UnixStartTime:`, else 2019-01-01T00:00:00Z. A job asks for
//! `ceil(processors / swf_procs_per_node)` whole nodes (all their cores, no GPUs).
//!
//! Time limit: the requested time when it is given and at least the run time; otherwise
//! (-1, 0, or less than the run time, which some logs record) the run time rounded up to
//! a whole minute, at least one minute, so the job is never killed before it ends.
//! Records with a negative run time or no processors (jobs cancelled before they
//! started) are skipped, with a warning, and get no trace index.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::file::TraceFile;
use super::warnings::TraceWarnings;
use super::{TraceError, TraceJob};
use crate::config::SwfOptions;
use crate::time::{LATEST_INPUT_SECS, SimDuration, SimTime};

/// 2019-01-01T00:00:00Z: the start of the sample sacct traces, used when an SWF log
/// says nothing about when it started.
const DEFAULT_EPOCH: SimTime = SimTime::from_secs(1_546_300_800);

const FIELD_NAMES: [&str; 18] = [
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user id",
    "group id",
    "executable number",
    "queue number",
    "partition number",
    "preceding job",
    "think time",
];
const SUBMIT: usize = 1;
const RUN_TIME: usize = 3;
const ALLOCATED_PROCS: usize = 4;
const REQUESTED_PROCS: usize = 7;
const REQUESTED_TIME: usize = 8;

pub(crate) struct SwfReader {
    path: PathBuf,
    file: TraceFile,
    buffer: String,
    line: u64,
    /// `swf_epoch` from the config; wins over the header.
    configured_epoch: Option<SimTime>,
    /// `; UnixStartTime:` from the header, once seen.
    header_epoch: Option<SimTime>,
    procs_per_node: u32,
    cores_per_node: u32,
    next_idx: u64,
    warnings: TraceWarnings,
}

impl SwfReader {
    /// `cores_per_node`: the system's, since SWF jobs take whole nodes.
    pub(crate) fn open(path: &Path, options: &SwfOptions, cores_per_node: u32) -> Result<SwfReader, TraceError> {
        let file = TraceFile::open(path)?;
        Ok(SwfReader {
            path: path.to_path_buf(),
            file,
            buffer: String::new(),
            line: 0,
            configured_epoch: options.epoch,
            header_epoch: None,
            procs_per_node: options.procs_per_node,
            cores_per_node,
            next_idx: 0,
            warnings: TraceWarnings::new(path),
        })
    }

    /// What submit offsets are added to, as far as the header has been read.
    pub(crate) fn epoch(&self) -> SimTime {
        self.configured_epoch.or(self.header_epoch).unwrap_or(DEFAULT_EPOCH)
    }

    pub(crate) fn warnings(&self) -> &TraceWarnings {
        &self.warnings
    }

    fn field_error(&self, field: usize, problem: String) -> TraceError {
        TraceError::Field {
            path: self.path.clone(),
            line: self.line,
            field: format!("field {} ({})", field + 1, FIELD_NAMES[field]),
            problem,
        }
    }

    fn number(&self, fields: &[&str], field: usize) -> Result<f64, TraceError> {
        match fields[field].parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(self.field_error(field, format!("expected a number, found \"{}\"", fields[field]))),
        }
    }

    fn integer(&self, fields: &[&str], field: usize) -> Result<i64, TraceError> {
        fields[field]
            .parse::<i64>()
            .map_err(|_| self.field_error(field, format!("expected an integer, found \"{}\"", fields[field])))
    }

    /// The job on the current line, or `None` for a record that is skipped.
    fn parse_record(&mut self) -> Result<Option<TraceJob>, TraceError> {
        let fields: Vec<&str> = self.buffer.split_whitespace().collect();
        if fields.len() != FIELD_NAMES.len() {
            return Err(TraceError::Row {
                path: self.path.clone(),
                line: self.line,
                problem: format!("expected {} fields, found {}", FIELD_NAMES.len(), fields.len()),
            });
        }
        let submit_offset = self.number(&fields, SUBMIT)?;
        if submit_offset < 0.0 {
            return Err(self.field_error(SUBMIT, format!("must not be negative, found {}", fields[SUBMIT])));
        }
        let run_time = self.number(&fields, RUN_TIME)?;
        let allocated = self.integer(&fields, ALLOCATED_PROCS)?;
        let procs = if allocated == -1 { self.integer(&fields, REQUESTED_PROCS)? } else { allocated };
        let requested_time = self.number(&fields, REQUESTED_TIME)?;
        let line = self.line;
        if run_time < 0.0 || procs <= 0 {
            let job = fields[0];
            self.warnings.add(line, || {
                format!("skipped job {job}: run time {run_time}, {procs} processors (cancelled before it started)")
            });
            return Ok(None);
        }

        let nnodes = u32::try_from((procs as u64).div_ceil(u64::from(self.procs_per_node)))
            .map_err(|_| self.field_error(ALLOCATED_PROCS, format!("{procs} processors is too many")))?;
        let seconds =
            |field: usize, secs: f64| SimDuration::from_input_secs(secs).map_err(|e| self.field_error(field, e));
        let offset = seconds(SUBMIT, submit_offset)?;
        let submit = self.epoch() + offset;
        if submit > SimTime::from_secs(LATEST_INPUT_SECS) {
            let problem = format!("{} s after the log's start {} is later than the end of 9999", offset, self.epoch());
            return Err(self.field_error(SUBMIT, problem));
        }
        let elapsed = seconds(RUN_TIME, run_time)?;
        // -1 (or 0) says the log does not know.
        let requested = if requested_time > 0.0 { seconds(REQUESTED_TIME, requested_time)? } else { SimDuration::ZERO };
        let time_limit = if requested > SimDuration::ZERO && requested >= elapsed {
            requested
        } else {
            let minutes = (elapsed.as_micros() as u64).div_ceil(60_000_000).max(1);
            SimDuration::from_secs(minutes as i64 * 60)
        };
        let trace_idx = self.next_idx;
        self.next_idx += 1;
        Ok(Some(TraceJob {
            trace_idx,
            line,
            trace_id: fields[0].to_string(),
            submit,
            elapsed,
            time_limit: Some(time_limit),
            nnodes,
            cores_per_node: self.cores_per_node,
            gpus_per_node: 0,
            // SWF has no field for storage.
            storage_gib: 0,
        }))
    }

    /// Reads `; UnixStartTime: N` from a header comment; other comments are notes for
    /// people (`; Computer:`, `; Note:`, keys of later SWF versions) and are skipped. A
    /// start time that is not epoch seconds is an error: every submit time depends on it.
    fn read_header_comment(&mut self) -> Result<(), TraceError> {
        let comment = self.buffer.trim_start().trim_start_matches(';').trim();
        let Some((_, value)) = comment.split_once(':').filter(|(key, _)| key.trim() == "UnixStartTime") else {
            return Ok(());
        };
        let value = value.trim();
        let start = value
            .parse::<f64>()
            .map_err(|_| format!("expected epoch seconds, found \"{value}\""))
            .and_then(SimTime::from_input_secs);
        match start {
            Ok(start) => {
                self.header_epoch = Some(start);
                Ok(())
            }
            Err(problem) => Err(TraceError::Field {
                path: self.path.clone(),
                line: self.line,
                field: "header UnixStartTime".to_string(),
                problem,
            }),
        }
    }
}

impl Iterator for SwfReader {
    type Item = Result<TraceJob, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buffer.clear();
            match self.file.read_line(&mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(source) => {
                    return Some(Err(TraceError::Read { path: self.path.clone(), line: self.line + 1, source }));
                }
            }
            let text = self.buffer.trim();
            if text.is_empty() {
                continue;
            }
            if text.starts_with(';') {
                // Only the header, before the first replayed job, describes the log.
                // (With swf_epoch set, the header's start time is not used.)
                if self.next_idx == 0 && self.configured_epoch.is_none() {
                    if let Err(e) = self.read_header_comment() {
                        return Some(Err(e));
                    }
                }
                continue;
            }
            match self.parse_record() {
                Ok(Some(job)) => return Some(Ok(job)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SwfOptions;
    use crate::system::SystemSpec;
    use crate::testing::trace_file;
    use crate::time::{SimDuration, SimTime};
    use crate::trace::{TraceFormat, TraceJob, open_trace};

    /// The first lines of lublin_256.swf (Parallel Workloads Archive format, no UnixStartTime).
    const LUBLIN_HEAD: &str = "\
; Version: 2
; Acknowledge: Uri Lublin, Hebrew University
; Information: http://www.cs.huji.ac.il/labs/parallel/workload
; MaxJobs: 10000
; MaxRecords: 10000
; MaxNodes: 256
; MaxRuntime: 162754
1    5094 -1   12072  16 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1
2    5170 -1       2   1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1
3    6742 -1   24089   1 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1
4    7287 -1    9053 128 -1 -1 -1 -1 -1 1 -1 -1 -1 0 -1 -1 -1
";

    const SYSTEM: SystemSpec = SystemSpec { nnodes: 256, cores_per_node: 4, gpus_per_node: 0 };

    fn read(text: &str, options: SwfOptions) -> (Vec<Result<TraceJob, String>>, Vec<String>) {
        let (_file, mut cfg) = trace_file(text, TraceFormat::Swf, SYSTEM);
        cfg.swf = options;
        let mut reader = open_trace(&cfg).unwrap();
        let rows = reader.by_ref().map(|row| row.map_err(|e| e.to_string())).collect();
        (rows, reader.warnings())
    }

    const ONE_PROC_PER_NODE: SwfOptions = SwfOptions { procs_per_node: 1, epoch: None };

    #[test]
    fn reads_the_lublin_log() {
        let (rows, warnings) = read(LUBLIN_HEAD, ONE_PROC_PER_NODE);
        let jobs: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert!(warnings.is_empty());
        assert_eq!(jobs.len(), 4);
        assert_eq!(
            jobs[0],
            TraceJob {
                trace_idx: 0,
                line: 8,
                trace_id: "1".into(),
                submit: SimTime::from_secs(1_546_300_800 + 5094),
                elapsed: SimDuration::from_secs(12_072),
                // Requested time is -1: the run time rounded up to a minute (201.2 -> 202 min).
                time_limit: Some(SimDuration::from_secs(202 * 60)),
                nnodes: 16,
                cores_per_node: 4,
                gpus_per_node: 0,
                storage_gib: 0,
            }
        );
        assert_eq!(jobs[1].time_limit, Some(SimDuration::from_secs(60)));
        assert_eq!((jobs[3].trace_id.as_str(), jobs[3].nnodes), ("4", 128));
    }

    #[test]
    fn processors_pack_into_nodes_and_epochs_apply() {
        let (rows, _) = read(LUBLIN_HEAD, SwfOptions { procs_per_node: 48, epoch: Some(SimTime::from_secs(0)) });
        let jobs: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(jobs.iter().map(|j| j.nnodes).collect::<Vec<_>>(), [1, 1, 1, 3]);
        assert_eq!(jobs[0].submit, SimTime::from_secs(5094));

        let with_header = format!("; UnixStartTime: 1000\n{LUBLIN_HEAD}");
        let (rows, _) = read(&with_header, ONE_PROC_PER_NODE);
        assert_eq!(rows[0].as_ref().unwrap().submit, SimTime::from_secs(6094));
    }

    #[test]
    fn requested_time_is_the_limit_when_it_covers_the_run() {
        let text = "1 0 -1 100 -1 -1 -1 8 3600 -1 1 -1 -1 -1 0 -1 -1 -1\n\
                    2 0 -1 100 4 -1 -1 8 50 -1 1 -1 -1 -1 0 -1 -1 -1\n";
        let (rows, _) = read(text, ONE_PROC_PER_NODE);
        let jobs: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!((jobs[0].nnodes, jobs[0].time_limit), (8, Some(SimDuration::from_secs(3600))));
        assert_eq!((jobs[1].nnodes, jobs[1].time_limit), (4, Some(SimDuration::from_secs(120))));
    }

    #[test]
    fn cancelled_records_are_skipped_and_counted() {
        let text = "1 0 -1 -1 4 -1 -1 4 60 -1 5 -1 -1 -1 0 -1 -1 -1\n\
                    2 5 -1 10 -1 -1 -1 -1 60 -1 5 -1 -1 -1 0 -1 -1 -1\n\
                    3 9 -1 10 2 -1 -1 2 60 -1 1 -1 -1 -1 0 -1 -1 -1\n";
        let (rows, warnings) = read(text, ONE_PROC_PER_NODE);
        let job = rows[0].as_ref().unwrap();
        assert_eq!((rows.len(), job.trace_idx, job.trace_id.as_str(), job.line), (1, 0, "3", 3));
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].ends_with(":1: skipped job 1: run time -1, 4 processors (cancelled before it started)"));
    }

    #[test]
    fn bad_records_name_line_and_field() {
        let (rows, _) = read("1 0 -1 10 2 -1\n", ONE_PROC_PER_NODE);
        assert!(rows[0].as_ref().unwrap_err().ends_with(":1: expected 18 fields, found 6"));
        let (rows, _) = read("; c\n1 0 -1 ten 2 -1 -1 2 60 -1 1 -1 -1 -1 0 -1 -1 -1\n", ONE_PROC_PER_NODE);
        assert!(rows[0].as_ref().unwrap_err().ends_with(":2: field 4 (run time): expected a number, found \"ten\""));
    }
}
