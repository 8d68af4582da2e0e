//! Job records for tests: a job described in whole seconds of simulated time.

use crate::{JobRecord, JobResult};

pub(crate) const EPOCH_US: i64 = 1_546_300_800_000_000;

pub(crate) fn seconds(s: i64) -> i64 {
    EPOCH_US + s * 1_000_000
}

/// A completed job on nodes `0..nnodes`, submitted/started/finished at the given second offsets.
pub(crate) fn job(
    trace_idx: u64,
    nnodes: u32,
    cores: u64,
    submit: i64,
    start: i64,
    finish: i64,
) -> JobRecord {
    JobRecord {
        trace_idx,
        trace_id: format!("t{trace_idx}"),
        jobid: Some(trace_idx + 1),
        nnodes,
        cores,
        gpus: 0,
        submit: seconds(submit),
        start: Some(seconds(start)),
        finish: Some(seconds(finish)),
        real_submit: None,
        real_start: None,
        real_finish: None,
        nodelist: (0..nnodes).collect(),
        result: JobResult::Completed,
        note: None,
        time_limit: None,
        elapsed: (finish - start) * 1_000_000,
        storage_gib: 0,
        storage_given: Vec::new(),
    }
}

/// A job that never started: the run was aborted while it was pending.
pub(crate) fn not_run(trace_idx: u64, nnodes: u32, submit: i64) -> JobRecord {
    JobRecord {
        jobid: None,
        start: None,
        finish: None,
        nodelist: Vec::new(),
        result: JobResult::NotRun,
        ..job(trace_idx, nnodes, 0, submit, submit, submit)
    }
}
