//! sacct-style traces: delimited text with a header row, as `sacct -P -o ...` prints it
//! (`|`-delimited) or as hand-made CSV (`,`-delimited).
//!
//! The delimiter is `|` when the header line contains one. Spaces around fields are
//! ignored, `#` lines are comments wherever they appear (also before the header), and
//! columns are found by header name, case-insensitively; unknown columns (`ExitCode`,
//! `State`, ...) are ignored. Used columns:
//! `Submit` (naive ISO time, UTC) or `t_submit` (epoch seconds, preferred),
//! `Elapsed` or `elapsed_s` (seconds, preferred), `Timelimit`, `NNodes`,
//! `NCPUS` (cores of the whole job), `NGPUS` (GPUs of the whole job; required when the
//! system has GPUs), `JobID` (optional), and the rabbit storage column ([`storage`]).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::fields::FieldSplitter;
use super::storage;
use super::walltime::{Walltime, parse_walltime};
use super::file::TraceFile;
use super::warnings::TraceWarnings;
use super::{TraceError, TraceJob};
use crate::time::{SimDuration, SimTime, parse_iso_utc};

/// Where each used column sits in a row.
#[derive(Debug, Default)]
struct Columns {
    job_id: Option<usize>,
    submit: Option<usize>,
    t_submit: Option<usize>,
    elapsed: Option<usize>,
    elapsed_s: Option<usize>,
    timelimit: usize,
    nnodes: usize,
    ncpus: usize,
    ngpus: Option<usize>,
    storage: Option<usize>,
}

pub(crate) struct SacctReader {
    path: PathBuf,
    file: TraceFile,
    buffer: String,
    line: u64,
    fields: FieldSplitter,
    header: Vec<String>,
    columns: Columns,
    next_idx: u64,
    warnings: TraceWarnings,
}

impl SacctReader {
    /// Opens the trace and reads its header. `require_gpus`: the system has GPUs, so rows
    /// must say how many they use.
    pub(crate) fn open(path: &Path, require_gpus: bool) -> Result<SacctReader, TraceError> {
        let file = TraceFile::open(path)?;
        let mut reader = SacctReader {
            path: path.to_path_buf(),
            file,
            buffer: String::new(),
            line: 0,
            fields: FieldSplitter::new(b','),
            header: Vec::new(),
            columns: Columns::default(),
            next_idx: 0,
            warnings: TraceWarnings::new(path),
        };
        if !reader.next_data_line()? {
            return Err(TraceError::NoHeader { path: path.to_path_buf(), line: reader.line + 1 });
        }
        let delimiter = if reader.buffer.contains('|') { b'|' } else { b',' };
        reader.fields = FieldSplitter::new(delimiter);
        reader.fields.split(reader.buffer.trim_end_matches(['\r', '\n']));
        reader.header = reader.fields.iter().map(str::to_string).collect();
        reader.columns = Columns::find(&reader.header, path, reader.line, require_gpus)?;
        Ok(reader)
    }

    /// Reads up to the next line that is neither blank nor a `#` comment; false at the end.
    fn next_data_line(&mut self) -> Result<bool, TraceError> {
        loop {
            self.buffer.clear();
            match self.file.read_line(&mut self.buffer) {
                Ok(0) => return Ok(false),
                Ok(_) => self.line += 1,
                Err(source) => return Err(TraceError::Read { path: self.path.clone(), line: self.line + 1, source }),
            }
            let text = self.buffer.trim_start();
            if !text.is_empty() && !text.starts_with('#') {
                return Ok(true);
            }
        }
    }

    pub(crate) fn warnings(&self) -> &TraceWarnings {
        &self.warnings
    }

    fn field_error(&self, column: usize, problem: String) -> TraceError {
        TraceError::Field { path: self.path.clone(), line: self.line, field: self.header[column].clone(), problem }
    }

    /// The value of `column` in the current row, parsed by `parse`.
    fn parse<T>(&self, column: usize, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, TraceError> {
        parse(self.fields.get(column)).map_err(|problem| self.field_error(column, problem))
    }

    /// `preferred` if the current row has a value there, else `fallback` if that column
    /// exists, else `preferred` (empty, so parsing it reports the missing value).
    fn first_filled(&self, preferred: Option<usize>, fallback: Option<usize>) -> Option<usize> {
        preferred.filter(|&c| !self.fields.get(c).is_empty()).or(fallback).or(preferred)
    }

    fn parse_row(&mut self) -> Result<TraceJob, TraceError> {
        let line = self.line;
        self.fields.split(self.buffer.trim_end_matches(['\r', '\n']));
        if self.fields.len() != self.header.len() {
            return Err(TraceError::Row {
                path: self.path.clone(),
                line,
                problem: format!("{} fields, but the header has {}", self.fields.len(), self.header.len()),
            });
        }
        let cols = &self.columns;
        let submit = match self.first_filled(cols.t_submit, cols.submit) {
            Some(c) if Some(c) == cols.t_submit => {
                self.parse(c, |s| parse_seconds(s).and_then(SimTime::from_input_secs))?
            }
            Some(c) => self.parse(c, parse_iso_utc)?,
            None => unreachable!("a submit column is required"),
        };
        let elapsed = match self.first_filled(cols.elapsed_s, cols.elapsed) {
            Some(c) if Some(c) == cols.elapsed_s => {
                self.parse(c, |s| parse_seconds(s).and_then(SimDuration::from_input_secs))?
            }
            Some(c) => self.parse(c, |s| match parse_walltime(s)? {
                Walltime::Limited(d) => Ok(d),
                Walltime::Unlimited => Err(format!("\"{s}\" is not a run time")),
            })?,
            None => unreachable!("a run-time column is required"),
        };
        // Slurm and Flux both read a zero limit as "no limit".
        let time_limit = match self.parse(cols.timelimit, parse_walltime)? {
            Walltime::Limited(d) if d > SimDuration::ZERO => Some(d),
            Walltime::Limited(_) | Walltime::Unlimited => None,
        };
        let nnodes = self.parse(cols.nnodes, |s| match parse_count(s)? {
            0 => Err("must be at least 1".to_string()),
            n => Ok(n),
        })?;
        let ncpus = self.parse(cols.ncpus, parse_count)?;
        let ngpus = match cols.ngpus {
            Some(c) if !self.fields.get(c).is_empty() => self.parse(c, parse_count)?,
            _ => 0,
        };
        let storage_gib = match cols.storage {
            Some(c) => {
                let request = self.parse(c, storage::parse_gib)?;
                if request.rounded_up {
                    let (column, value) = (&self.header[c], self.fields.get(c));
                    self.warnings.add(line, || {
                        format!("{column} {value}: asking for {} GiB (storage is allocated in whole GiB)", request.gib)
                    });
                }
                request.gib
            }
            None => 0,
        };
        let trace_idx = self.next_idx;
        let trace_id = match cols.job_id {
            Some(c) if !self.fields.get(c).is_empty() => self.fields.get(c).to_string(),
            _ => trace_idx.to_string(),
        };

        let cores_per_node = if ncpus < nnodes {
            self.warnings.add(line, || format!("NCPUS {ncpus} is less than NNodes {nnodes}: asking for 1 core per node"));
            1
        } else {
            let per_node = ncpus.div_ceil(nnodes);
            if ncpus % nnodes != 0 {
                self.warnings.add(line, || {
                    format!("NCPUS {ncpus} is not a multiple of NNodes {nnodes}: asking for {per_node} cores per node")
                });
            }
            per_node
        };
        let gpus_per_node = ngpus.div_ceil(nnodes);
        if ngpus % nnodes != 0 {
            self.warnings.add(line, || {
                format!("NGPUS {ngpus} is not a multiple of NNodes {nnodes}: asking for {gpus_per_node} GPUs per node")
            });
        }
        if let Some(limit) = time_limit.filter(|&limit| elapsed > limit) {
            self.warnings.add(line, || format!("run time {elapsed} s exceeds the time limit {limit} s"));
        }
        self.next_idx += 1;
        Ok(TraceJob {
            trace_idx,
            line,
            trace_id,
            submit,
            elapsed,
            time_limit,
            nnodes,
            cores_per_node,
            gpus_per_node,
            storage_gib,
        })
    }
}

impl Iterator for SacctReader {
    type Item = Result<TraceJob, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_data_line() {
            Ok(false) => None,
            Ok(true) => Some(self.parse_row()),
            Err(e) => Some(Err(e)),
        }
    }
}

impl Columns {
    fn find(header: &[String], path: &Path, line: u64, require_gpus: bool) -> Result<Columns, TraceError> {
        // A column read twice would leave the value to whichever comes first: refuse it.
        for name in USED {
            let mut same = header.iter().enumerate().filter(|(_, h)| h.eq_ignore_ascii_case(name)).map(|(i, _)| i + 1);
            if let (Some(first), Some(second)) = (same.next(), same.next()) {
                return Err(TraceError::Field {
                    path: path.to_path_buf(),
                    line,
                    field: name.to_string(),
                    problem: format!("columns {first} and {second} both have this name; keep one"),
                });
            }
        }
        let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let missing = |column: &str| TraceError::MissingColumn {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            found: header.join(", "),
        };
        let required = |name: &str| find(name).ok_or_else(|| missing(name));
        let columns = Columns {
            job_id: find("JobID"),
            submit: find("Submit"),
            t_submit: find("t_submit"),
            elapsed: find("Elapsed"),
            elapsed_s: find("elapsed_s"),
            timelimit: required("Timelimit")?,
            nnodes: required("NNodes")?,
            ncpus: required("NCPUS")?,
            ngpus: find("NGPUS"),
            storage: storage::find_column(header, path, line)?,
        };
        if columns.submit.is_none() && columns.t_submit.is_none() {
            return Err(missing("Submit (or t_submit)"));
        }
        if columns.elapsed.is_none() && columns.elapsed_s.is_none() {
            return Err(missing("Elapsed (or elapsed_s)"));
        }
        if require_gpus && columns.ngpus.is_none() {
            return Err(missing("NGPUS (required because the system has GPUs)"));
        }
        Ok(columns)
    }
}

/// The columns this reader uses (besides the storage column, see [`storage`]).
const USED: [&str; 9] =
    ["JobID", "Submit", "t_submit", "Elapsed", "elapsed_s", "Timelimit", "NNodes", "NCPUS", "NGPUS"];

/// Non-negative decimal seconds (`t_submit`, `elapsed_s`).
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok(secs),
        _ => Err(format!("expected non-negative seconds, found \"{text}\"")),
    }
}

fn parse_count(text: &str) -> Result<u32, String> {
    text.parse().map_err(|_| format!("expected a non-negative integer, found \"{text}\""))
}

#[cfg(test)]
mod tests {
    use crate::testing::{SMALL, trace_file};
    use crate::time::{SimDuration, SimTime};
    use crate::trace::{TraceFormat, TraceJob, open_trace};
    use crate::system::SystemSpec;

    fn read_on(system: SystemSpec, text: &str) -> (Vec<Result<TraceJob, String>>, Vec<String>) {
        let (_file, cfg) = trace_file(text, TraceFormat::Sacct, system);
        let mut reader = match open_trace(&cfg) {
            Ok(reader) => reader,
            Err(e) => return (vec![Err(e.to_string())], Vec::new()),
        };
        let rows = reader.by_ref().map(|row| row.map_err(|e| e.to_string())).collect();
        (rows, reader.warnings())
    }

    fn read(text: &str) -> (Vec<Result<TraceJob, String>>, Vec<String>) {
        read_on(SMALL, text)
    }

    fn only_error(text: &str) -> String {
        let (rows, _) = read(text);
        rows.into_iter().find_map(Result::err).expect("an error")
    }

    #[test]
    fn reads_a_plain_row() {
        let (rows, warnings) = read("JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n 1,2,32,00:10:00,2019-01-01T00:00:00,00:06:00\n");
        assert_eq!(
            rows,
            [Ok(TraceJob {
                trace_idx: 0,
                line: 2,
                trace_id: "1".into(),
                submit: SimTime::from_secs(1_546_300_800),
                elapsed: SimDuration::from_secs(360),
                time_limit: Some(SimDuration::from_secs(600)),
                nnodes: 2,
                cores_per_node: 16,
                gpus_per_node: 0,
                storage_gib: 0,
            })]
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn comments_anywhere_including_before_the_header() {
        let (rows, _) = read(
            "# made by hand\n\nJobID|NNodes|NCPUS|Timelimit|Submit|Elapsed\n# a comment\n7|1|4|UNLIMITED|2019-01-01T00:00:01.5|1-00:00:00\n",
        );
        let job = rows[0].as_ref().unwrap();
        assert_eq!((job.line, job.trace_id.as_str()), (5, "7"));
        assert_eq!(job.submit, SimTime::from_micros(1_546_300_801_500_000));
        assert_eq!(job.elapsed, SimDuration::from_secs(86_400));
        assert_eq!(job.time_limit, None);
    }

    #[test]
    fn pipe_delimited_sacct_output_with_exit_codes() {
        let (rows, _) = read(
            "JobID|State|NNodes|NCPUS|Timelimit|Submit|Elapsed|ExitCode\n\
             1234|COMPLETED| 1 |16|Partition_Limit|2019-01-01T00:00:00|05:00|0:0\n\
             1235|FAILED|2|32|00:00:00|2019-01-01T00:00:00|00:00|1:0\n",
        );
        let jobs: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(jobs[0].elapsed, SimDuration::from_secs(300));
        assert_eq!(jobs[0].time_limit, None);
        assert_eq!((jobs[1].trace_idx, jobs[1].nnodes, jobs[1].cores_per_node), (1, 2, 16));
        assert_eq!((jobs[1].elapsed, jobs[1].time_limit), (SimDuration::ZERO, None));
    }

    #[test]
    fn numeric_columns_are_preferred() {
        let (rows, _) = read(
            "NNodes,NCPUS,Timelimit,Submit,t_submit,Elapsed,elapsed_s\n\
             1,1,00:10:00,2019-01-01T00:00:00,1546300900.25,00:06:00,12.5\n\
             1,1,00:10:00,2019-01-01T00:30:00,,00:06:00,\n",
        );
        let jobs: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(jobs[0].submit, SimTime::from_micros(1_546_300_900_250_000));
        assert_eq!(jobs[0].elapsed, SimDuration::from_micros(12_500_000));
        assert_eq!(jobs[0].trace_id, "0");
        assert_eq!(jobs[1].submit, SimTime::from_secs(1_546_302_600));
        assert_eq!(jobs[1].elapsed, SimDuration::from_secs(360));
    }

    #[test]
    fn bad_values_name_file_line_and_column() {
        let header = "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n";
        let err = only_error(&format!("{header}1,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n2,1,16,00:10:00,2019-01-01T00:00:00,6 min\n"));
        assert!(err.ends_with(":3: Elapsed: \"6 min\": expected D-HH:MM:SS, HH:MM:SS or MM:SS (seconds may have a fraction) or UNLIMITED"), "{err}");
        let err = only_error(&format!("{header}1,1,16,INVALID,2019-01-01T00:00:00,00:06:00\n"));
        assert!(err.contains(":2: Timelimit: \"INVALID\""), "{err}");
        let err = only_error(&format!("{header}1,1,16,00:10:00,2019-01-01T00:00:00,UNLIMITED\n"));
        assert!(err.ends_with(":2: Elapsed: \"UNLIMITED\" is not a run time"), "{err}");
        let err = only_error(&format!("{header}1,1,16,00:10:00,yesterday,00:06:00\n"));
        assert!(err.contains(":2: Submit: expected a time like 2019-01-01T00:00:00, found \"yesterday\""), "{err}");
        let err = only_error(&format!("{header}1,1,16,00:10:00,2019-01-01T00:00:00\n"));
        assert!(err.ends_with(":2: 5 fields, but the header has 6"), "{err}");
    }

    #[test]
    fn zero_nodes_is_an_error_not_a_crash() {
        let err = only_error("JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n1,0,16,00:10:00,2019-01-01T00:00:00,00:06:00\n");
        assert!(err.ends_with(":2: NNodes: must be at least 1"), "{err}");
    }

    #[test]
    fn uneven_cores_round_up_with_a_warning() {
        let (rows, warnings) = read(
            "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n\
             1,2,17,00:10:00,2019-01-01T00:00:00,00:06:00\n\
             2,4,2,00:10:00,2019-01-01T00:00:00,00:06:00\n",
        );
        assert_eq!(rows[0].as_ref().unwrap().cores_per_node, 9);
        assert_eq!(rows[1].as_ref().unwrap().cores_per_node, 1);
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].ends_with(":2: NCPUS 17 is not a multiple of NNodes 2: asking for 9 cores per node"));
        assert!(warnings[1].ends_with(":3: NCPUS 2 is less than NNodes 4: asking for 1 core per node"));
    }

    #[test]
    fn missing_columns_are_named() {
        let err = only_error("JobID,NCPUS,Timelimit,Submit,Elapsed\n");
        assert!(err.ends_with(":1: header has no NNodes column (it has: JobID, NCPUS, Timelimit, Submit, Elapsed)"), "{err}");
        let gpus = SystemSpec { gpus_per_node: 4, ..SMALL };
        let (rows, _) = read_on(gpus, "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n");
        assert!(rows[0].as_ref().unwrap_err().contains("no NGPUS (required because the system has GPUs) column"));
        let (rows, _) = read("# only a comment\n");
        let err = rows[0].as_ref().unwrap_err();
        assert!(err.ends_with(":2: the file ends without a header line (expected e.g. JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed)"));
    }

    #[test]
    fn storage_requests_in_gib() {
        let (rows, warnings) = read(
            "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed,NGPUS, RabbitGiB\n\
             1,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,0,15000\n\
             2,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,0,8154 GiB\n\
             3,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,0,\n\
             4,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,0,0.5GiB\n",
        );
        let storage: Vec<u64> = rows.into_iter().map(|row| row.unwrap().storage_gib).collect();
        assert_eq!(storage, [15000, 8154, 0, 1]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].ends_with(":5: RabbitGiB 0.5GiB: asking for 1 GiB (storage is allocated in whole GiB)"));
    }

    #[test]
    fn bad_storage_values_and_gb_columns_name_file_line_and_column() {
        let header = "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed,SSD_GiB\n";
        let good = "1,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,10\n";
        let err = only_error(&format!("{header}{good}2,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,-3\n"));
        assert!(err.ends_with(":3: SSD_GiB: \"-3\": a storage request cannot be negative"), "{err}");
        let err = only_error(&format!("{header}{good}2,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,plenty\n"));
        assert!(err.ends_with(":3: SSD_GiB: expected GiB such as 15000 or 15000GiB, found \"plenty\""), "{err}");
        let err = only_error(&format!("{header}2,1,1,00:01:00,2020-01-22T08:06:46,00:01:00,15000GB\n"));
        assert!(err.ends_with(":2: SSD_GiB: expected GiB such as 15000 or 15000GiB, found \"15000GB\": storage must be given in GiB, not \"GB\""), "{err}");
        let err = only_error("# legacy\nJobID,NNodes,NCPUS,Timelimit,Submit,Elapsed,RabbitGB\n");
        assert!(err.ends_with(":2: RabbitGB: GB-named storage columns are no longer supported; give the request in GiB in a column such as RabbitGiB"), "{err}");
    }

    #[test]
    fn gpus_are_spread_over_nodes() {
        let gpus = SystemSpec { gpus_per_node: 4, ..SMALL };
        let (rows, warnings) = read_on(
            gpus,
            "NNodes,NCPUS,NGPUS,Timelimit,Submit,Elapsed\n2,32,3,00:10:00,2019-01-01T00:00:00,00:06:00\n1,1,,00:10:00,2019-01-01T00:00:00,00:06:00\n",
        );
        assert_eq!(rows[0].as_ref().unwrap().gpus_per_node, 2);
        assert_eq!(rows[1].as_ref().unwrap().gpus_per_node, 0);
        assert_eq!(warnings.len(), 1);
    }
}
