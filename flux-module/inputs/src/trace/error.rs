//! Why a trace row (or the whole trace) was rejected. Every message starts with
//! `file:line` and names the column or field, so a bad row in a million-row trace is
//! found without searching.

use std::path::PathBuf;

use crate::time::SimTime;

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{}: cannot read the trace: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },

    #[error("{}:{line}: cannot read the trace: {source}", path.display())]
    Read { path: PathBuf, line: u64, source: std::io::Error },

    /// The file ends (on `line`, one past its last line) before a header line.
    #[error(
        "{}:{line}: the file ends without a header line (expected e.g. JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed)",
        path.display()
    )]
    NoHeader { path: PathBuf, line: u64 },

    #[error("{}:{line}: header has no {column} column (it has: {found})", path.display())]
    MissingColumn { path: PathBuf, line: u64, column: String, found: String },

    /// A row whose shape is wrong (field count).
    #[error("{}:{line}: {problem}", path.display())]
    Row { path: PathBuf, line: u64, problem: String },

    /// A value that cannot be used; `field` is the column name (sacct) or field name (SWF).
    #[error("{}:{line}: {field}: {problem}", path.display())]
    Field { path: PathBuf, line: u64, field: String, problem: String },

    #[error(
        "{}:{line}: submit time {submit} is earlier than {previous} on line {previous_line}; \
         the replay streams the trace, so rows must be in submit-time order",
        path.display()
    )]
    OutOfOrder { path: PathBuf, line: u64, submit: SimTime, previous: SimTime, previous_line: u64 },
}
