//! `job_transitions.csv`: one row per job with its simulated and instance-clock transition times.
//!
//! Rows are appended as jobs finish, in completion order, and flushed one by one so that a run
//! that dies still leaves every finished job on disk. [`TransitionsWriter::finish`] then rewrites
//! the file ordered by `trace_idx`, the order of the earlier implementation, so runs diff cleanly.
//! The first ten columns are that implementation's; the rest are new. On a system with rabbit
//! storage two more follow: `STORAGE_GIB`, what the job asked for, and `STORAGE_GIVEN`, the
//! storage its R lists per parent (`rack0:906;rack1:906`).

use std::fs::{self, File};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::{JobRecord, StorageCapacity};
use crate::row_order::{RowSpan, rewrite_in_trace_order};
use crate::seconds::{format_micros_as_seconds, format_real_seconds};

/// Column names, in file order.
pub const TRANSITIONS_HEADER: [&str; 17] = [
    "trace_idx",
    "jobid",
    "nnodes",
    "SUBMIT",
    "START",
    "FINISH",
    "REAL_SUBMIT",
    "REAL_START",
    "REAL_FINISH",
    "NODELIST",
    "RESULT",
    "TRACE_JOBID",
    "NCORES",
    "NGPUS",
    "TIMELIMIT",
    "ELAPSED",
    "WAIT",
];

/// The columns a system with rabbit storage adds.
pub const STORAGE_COLUMNS: [&str; 2] = ["STORAGE_GIB", "STORAGE_GIVEN"];

/// Streams `job_transitions.csv` rows; see the module documentation.
pub struct TransitionsWriter {
    path: PathBuf,
    csv: csv::Writer<File>,
    /// The names of the storage parents, when the system has storage.
    storage_parents: Option<Vec<String>>,
}

impl TransitionsWriter {
    /// Creates (truncates) `path` and writes the header; `storage` adds the storage columns.
    pub fn create(path: impl AsRef<Path>, storage: Option<&StorageCapacity>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut csv = csv::Writer::from_writer(File::create(&path)?);
        let storage_columns = if storage.is_some() { &STORAGE_COLUMNS[..] } else { &[] };
        csv.write_record(TRANSITIONS_HEADER.iter().chain(storage_columns))?;
        csv.flush()?;
        let storage_parents = storage.map(|s| s.parents.iter().map(|(name, _)| name.clone()).collect());
        Ok(TransitionsWriter { path, csv, storage_parents })
    }

    /// Appends the row of one finished job and flushes it to the file.
    pub fn write(&mut self, job: &JobRecord) -> io::Result<()> {
        let mut row = transition_row(job).to_vec();
        if let Some(parents) = &self.storage_parents {
            row.push(job.storage_gib.to_string());
            row.push(storage_given(job, parents));
        }
        self.csv.write_record(row)?;
        self.csv.flush()
    }

    /// Rewrites the file ordered by `trace_idx` (ties keep completion order), atomically.
    pub fn finish(self) -> io::Result<()> {
        let TransitionsWriter { path, mut csv, .. } = self;
        csv.flush()?;
        drop(csv);
        let contents = fs::read(&path)?;
        let RowLayout { header, rows } = RowLayout::of(&contents)?;
        rewrite_in_trace_order(&path, &contents, header, rows)
    }
}

fn transition_row(job: &JobRecord) -> [String; 17] {
    let sim_time = |t: Option<i64>| t.map(format_micros_as_seconds).unwrap_or_default();
    let real_time = |t: Option<f64>| t.map(format_real_seconds).unwrap_or_default();
    let nodelist: Vec<String> = job.nodelist.iter().map(u32::to_string).collect();
    [
        job.trace_idx.to_string(),
        job.jobid.map(|id| id.to_string()).unwrap_or_default(),
        job.nnodes.to_string(),
        format_micros_as_seconds(job.submit),
        sim_time(job.start),
        sim_time(job.finish),
        real_time(job.real_submit),
        real_time(job.real_start),
        real_time(job.real_finish),
        nodelist.join(","),
        job.result.to_string(),
        job.trace_id.clone(),
        job.cores.to_string(),
        job.gpus.to_string(),
        sim_time(job.time_limit),
        format_micros_as_seconds(job.elapsed),
        sim_time(job.wait()),
    ]
}

/// `rack0:906;rack1:906`: the GiB given under each parent, by the parent's name.
fn storage_given(job: &JobRecord, parents: &[String]) -> String {
    let named = job.storage_given.iter().map(|grant| {
        let name = parents.get(grant.parent).map_or("?", String::as_str);
        format!("{name}:{}", grant.gib)
    });
    named.collect::<Vec<_>>().join(";")
}

/// Where the header and each row lie in the file's bytes (found by the CSV parser: a
/// quoted field may hold commas).
struct RowLayout {
    header: Range<usize>,
    rows: Vec<RowSpan>,
}

impl RowLayout {
    fn of(contents: &[u8]) -> io::Result<Self> {
        let mut reader = csv::Reader::from_reader(contents);
        reader.byte_headers()?;
        let header_end = offset(reader.position().byte())?;
        let mut rows = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut row_start = header_end;
        while reader.read_byte_record(&mut record)? {
            let row_end = offset(reader.position().byte())?;
            let trace_idx = std::str::from_utf8(&record[0])
                .ok()
                .and_then(|field| field.parse::<u64>().ok())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "bad trace_idx {:?} at byte {row_start}",
                            String::from_utf8_lossy(&record[0])
                        ),
                    )
                })?;
            rows.push(RowSpan {
                trace_idx,
                bytes: row_start..row_end,
            });
            row_start = row_end;
        }
        Ok(RowLayout {
            header: 0..header_end,
            rows,
        })
    }
}

fn offset(byte: u64) -> io::Result<usize> {
    usize::try_from(byte).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JobResult;
    use crate::test_support::{job, not_run, seconds};

    const HEADER_LINE: &str = "trace_idx,jobid,nnodes,SUBMIT,START,FINISH,REAL_SUBMIT,REAL_START,REAL_FINISH,NODELIST,RESULT,TRACE_JOBID,NCORES,NGPUS,TIMELIMIT,ELAPSED,WAIT\n";

    fn completed_job() -> JobRecord {
        JobRecord {
            trace_id: "1001".into(),
            jobid: Some(1),
            real_submit: Some(1_795_653_720.575_736),
            real_start: Some(1_795_653_721.078_421),
            real_finish: Some(1_795_653_721.078_624),
            nodelist: (20..30).collect(),
            time_limit: Some(600_000_000),
            elapsed: 480_000_000,
            ..job(0, 10, 160, 0, 0, 480)
        }
    }

    #[test]
    fn header_and_rows_are_formatted_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job_transitions.csv");
        let mut writer = TransitionsWriter::create(&path, None).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), HEADER_LINE);

        writer.write(&completed_job()).unwrap();
        let pending = JobRecord {
            trace_id: "x3".into(),
            submit: seconds(10) + 500_000,
            elapsed: 60_000_000,
            ..not_run(3, 2, 10)
        };
        writer.write(&pending).unwrap();
        let failed = JobRecord {
            result: JobResult::Failed,
            start: None,
            finish: Some(seconds(5)),
            nodelist: Vec::new(),
            gpus: 2,
            note: Some("alloc denied".into()),
            ..job(4, 1, 36, 5, 5, 5)
        };
        writer.write(&failed).unwrap();
        let single_node = JobRecord {
            nodelist: vec![7],
            ..job(5, 1, 16, 0, 30, 90)
        };
        writer.write(&single_node).unwrap();

        let expected = [
            HEADER_LINE,
            "0,1,10,1546300800.000000,1546300800.000000,1546301280.000000,1795653720.575736,1795653721.078421,1795653721.078624,\"20,21,22,23,24,25,26,27,28,29\",completed,1001,160,0,600.000000,480.000000,0.000000\n",
            "3,,2,1546300810.500000,,,,,,,not-run,x3,0,0,,60.000000,\n",
            "4,5,1,1546300805.000000,,1546300805.000000,,,,,failed,t4,36,2,,0.000000,\n",
            "5,6,1,1546300800.000000,1546300830.000000,1546300890.000000,,,,7,completed,t5,16,0,,60.000000,30.000000\n",
        ]
        .concat();
        // Rows are on disk before finish(): a run that dies keeps them.
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
        writer.finish().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
    }

    #[test]
    fn finish_sorts_by_trace_idx() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job_transitions.csv");
        let mut writer = TransitionsWriter::create(&path, None).unwrap();
        for trace_idx in [2, 10, 0, 1] {
            writer.write(&job(trace_idx, 3, 48, 0, 0, 60)).unwrap();
        }
        writer.finish().unwrap();

        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(reader.headers().unwrap(), TRANSITIONS_HEADER.as_slice());
        let order: Vec<String> = reader
            .records()
            .map(|row| row.unwrap()[0].to_string())
            .collect();
        assert_eq!(order, ["0", "1", "2", "10"]);
        // Quoted multi-node lists survive the byte-level reordering.
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("\"0,1,2\"").count(), 4);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn storage_systems_get_what_was_asked_and_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job_transitions.csv");
        let storage = StorageCapacity { parent_type: "rack".into(), parents: vec![("rack0".into(), 300), ("rack1".into(), 300)] };
        let mut writer = TransitionsWriter::create(&path, Some(&storage)).unwrap();
        let given = |parent, gib| crate::StorageGrant { parent, gib };
        let spanning = JobRecord { storage_gib: 250, storage_given: vec![given(0, 200), given(1, 100)], ..job(0, 2, 2, 0, 0, 60) };
        writer.write(&spanning).unwrap();
        writer.write(&job(1, 1, 1, 0, 0, 60)).unwrap();
        writer.finish().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("{},STORAGE_GIB,STORAGE_GIVEN", HEADER_LINE.trim_end()));
        assert!(lines[1].ends_with(",60.000000,0.000000,250,rack0:200;rack1:100"), "{}", lines[1]);
        assert!(lines[2].ends_with(",60.000000,0.000000,0,"), "{}", lines[2]);
    }

    #[test]
    fn empty_run_keeps_header_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job_transitions.csv");
        TransitionsWriter::create(&path, None).unwrap().finish().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), HEADER_LINE);
    }
}
