//! `eventlog.csv`: every job's eventlog entries as the job-manager posted them, one row per
//! entry: `jobid,name,timestamp,context`.
//!
//! Rows are appended in the order the entries reach the emulator (a job's own entries are in
//! eventlog order; jobs interleave) and flushed once per batch, so memory stays bounded by one
//! batch whatever the length of the run, and a run that dies keeps what it saw. `jobid` joins
//! with `job_transitions.csv`; `timestamp` is the instance's clock (simulated time under
//! faketime) in seconds; `context` is the entry's context object as JSON, `{}` when it has none.

use std::io;
use std::path::Path;

use crate::StreamFile;

/// Column names, in file order.
pub const EVENTLOG_HEADER: [&str; 4] = ["jobid", "name", "timestamp", "context"];

/// Streams `eventlog.csv` rows; see the module documentation.
pub struct EventlogWriter {
    csv: csv::Writer<StreamFile>,
    rows: u64,
}

impl EventlogWriter {
    /// Creates (truncates) `path`, gzip-compressed if `gzip`, and writes the header.
    pub fn create(path: impl AsRef<Path>, gzip: bool) -> io::Result<Self> {
        let mut csv = csv::Writer::from_writer(StreamFile::create(path.as_ref(), gzip)?);
        csv.write_record(EVENTLOG_HEADER)?;
        csv.flush()?;
        Ok(EventlogWriter { csv, rows: 0 })
    }

    /// Appends one entry (buffered until [`EventlogWriter::flush`]). `context` is JSON text.
    pub fn write(&mut self, jobid: u64, name: &str, timestamp: f64, context: Option<&str>) -> io::Result<()> {
        let (id, ts) = (jobid.to_string(), format!("{timestamp:.6}"));
        self.csv.write_record([id.as_str(), name, &ts, context.unwrap_or("{}")])?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the buffered rows to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.csv.flush()
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> io::Result<()> {
        self.csv.into_inner().map_err(csv::IntoInnerError::into_error)?.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_quote_the_context_and_default_it_to_an_empty_object() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eventlog.csv");
        let mut w = EventlogWriter::create(&path, false).unwrap();
        w.write(42, "submit", 1546300800.0, Some(r#"{"userid":1000,"urgency":16}"#)).unwrap();
        w.write(42, "clean", 1546300860.25, None).unwrap();
        w.flush().unwrap();
        assert_eq!(w.rows(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "jobid,name,timestamp,context\n\
             42,submit,1546300800.000000,\"{\"\"userid\"\":1000,\"\"urgency\"\":16}\"\n\
             42,clean,1546300860.250000,{}\n"
        );
        let mut r = csv::Reader::from_path(&path).unwrap();
        let first = r.records().next().unwrap().unwrap();
        let context: serde_json::Value = serde_json::from_str(&first[3]).unwrap();
        assert_eq!(context["urgency"], 16);
        w.finish().unwrap();
    }
}
