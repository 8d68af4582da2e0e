//! Artifacts written in completion order and put in trace order when the run ends
//! (`job_transitions.csv`, `schedule.swf`). Rows are moved verbatim, as byte ranges of one
//! copy of the file, so the reordering costs the file's size plus one small span per job,
//! not one allocation per field.

use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use crate::atomic_file::write_atomically;

/// One row of a file: the trace index it is ordered by and where its bytes lie.
pub(crate) struct RowSpan {
    pub(crate) trace_idx: u64,
    pub(crate) bytes: Range<usize>,
}

/// Rewrites `path`, whose bytes are `contents`, as `header` then `rows` ordered by trace
/// index (stable: equal indices, which should not happen, keep the order they finished in),
/// atomically. Leaves the file alone when the rows are in order already.
pub(crate) fn rewrite_in_trace_order(
    path: &Path,
    contents: &[u8],
    header: Range<usize>,
    mut rows: Vec<RowSpan>,
) -> io::Result<()> {
    if rows.is_sorted_by_key(|row| row.trace_idx) {
        return Ok(());
    }
    rows.sort_by_key(|row| row.trace_idx);
    write_atomically(path, |out| {
        out.write_all(&contents[header])?;
        rows.iter()
            .try_for_each(|row| out.write_all(&contents[row.bytes.clone()]))
    })
}
