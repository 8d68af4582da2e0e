//! The discrete-event clock: trace arrivals (streamed, one row of lookahead) and job
//! completions (a min-heap). All events at one simulated time form a step.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ff_inputs::{SimTime, TraceError, TraceJob};

pub type TraceRows = Box<dyn Iterator<Item = Result<TraceJob, TraceError>>>;

/// Trace rows in submit order, read lazily so a huge trace is never held in memory.
pub struct Arrivals {
    rows: TraceRows,
    next: Option<TraceJob>,
}

impl Arrivals {
    pub fn new(rows: TraceRows) -> Result<Self, TraceError> {
        let mut arrivals = Arrivals { rows, next: None };
        arrivals.next = arrivals.rows.next().transpose()?;
        Ok(arrivals)
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.next.as_ref().map(|j| j.submit)
    }

    /// Takes the next row if it is submitted at `t`.
    pub fn pop_at(&mut self, t: SimTime) -> Result<Option<TraceJob>, TraceError> {
        if self.peek_time() != Some(t) {
            return Ok(None);
        }
        let job = self.next.take();
        self.next = self.rows.next().transpose()?;
        Ok(job)
    }
}

/// Scheduled completions `(end, trace_idx)`. Entries of jobs that ended otherwise (canceled)
/// stay in the heap and are skipped when popped: cheaper than removing them.
#[derive(Default)]
pub struct Completions {
    heap: BinaryHeap<Reverse<(SimTime, u64)>>,
}

impl Completions {
    pub fn push(&mut self, end: SimTime, trace_idx: u64) {
        self.heap.push(Reverse((end, trace_idx)));
    }

    /// Earliest entry for which `is_live(end, trace_idx)` holds; stale entries are dropped.
    pub fn peek_live(&mut self, is_live: impl Fn(SimTime, u64) -> bool) -> Option<SimTime> {
        while let Some(Reverse((end, idx))) = self.heap.peek().copied() {
            if is_live(end, idx) {
                return Some(end);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns the earliest entry if it is due at `t`.
    pub fn pop_at(&mut self, t: SimTime) -> Option<u64> {
        match self.heap.peek() {
            Some(Reverse((end, idx))) if *end == t => {
                let idx = *idx;
                self.heap.pop();
                Some(idx)
            }
            _ => None,
        }
    }
}
