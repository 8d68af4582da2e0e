//! Run artifacts of a Flux Fiction replay, written from plain job records.
//!
//! The replay engine hands this crate one [`JobRecord`] per job as it leaves the system and one
//! utilization sample per simulated step; each artifact has its own writer:
//!
//! * [`TransitionsWriter`]: `job_transitions.csv`, one row per job (streamed, sorted at the end),
//! * [`SummaryAccumulator`] and [`write_summary`]: `summary.json`, run-wide metrics in O(1) memory,
//! * [`UtilizationTimeline`]: `utilization.csv` per step and the `utilization.svg` plot,
//! * [`PerNodeTrace`]: `pernode.json`, a Chrome/Perfetto trace with one lane per node,
//! * [`SwfScheduleWriter`]: `schedule.swf`, the schedule as a Standard Workload Format log
//!   (streamed, sorted at the end),
//! * [`EventlogWriter`]: `eventlog.csv`, every job's eventlog entries (streamed),
//! * [`StreamFile`]: the streamed files that grow with every job, plain or gzip-compressed,
//! * [`write_report_html`]: `report.html`, one self-contained page built from the others.
//!
//! Nothing here links Flux or knows engine types: simulated times are `i64` microseconds of epoch
//! time, so the crate is tested with plain `cargo test` and can post-process runs offline.

mod atomic_file;
mod eventlog;
mod histogram;
mod job;
mod job_digest;
mod occupancy_grid;
mod pernode;
mod probe_times;
mod report_html;
mod report_text;
mod row_order;
mod seconds;
mod stream_file;
mod summary;
mod swf_schedule;
mod timeline;
mod transitions;
mod utilization_plot;

pub use atomic_file::write_atomically;
pub use eventlog::{EVENTLOG_HEADER, EventlogWriter};
pub use job::{JobRecord, JobResult, StorageCapacity, StorageGrant, SystemCapacity};
pub use pernode::PerNodeTrace;
pub use probe_times::{ProbeBucket, ProbeTimes};
pub use report_html::write_report_html;
pub use seconds::{format_micros_as_seconds, micros_to_seconds};
pub use stream_file::StreamFile;
pub use summary::{
    BoundedSlowdown, MeanMax, RunFacts, SLOWDOWN_TAU_SECONDS, SUMMARY_VERSION, Summary,
    SummaryAccumulator, write_summary,
};
pub use swf_schedule::{SwfHeader, SwfScheduleWriter, swf_record, swf_status};
pub use timeline::UtilizationTimeline;
pub use timeline::Occupancy;
pub use transitions::{STORAGE_COLUMNS, TRANSITIONS_HEADER, TransitionsWriter};

#[cfg(test)]
mod test_support;
