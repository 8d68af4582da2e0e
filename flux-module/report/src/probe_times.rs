//! How long the scheduler took to answer `sched.quiescent`, by how many jobs were pending.
//!
//! The TauferLab fork logs every queued job each time it answers a probe, so a probe's
//! cost grows with the queue; this is where a deep-queue replay's time per step shows.
//! Buckets are powers of two of the pending count (at most 1, 2, 4, ...), so the report
//! stays a few lines long whatever the run's length.

use serde::{Deserialize, Serialize};

use crate::summary::round6;

/// Probes answered during a replay (`summary.json` `probes`). Fields in alphabetical
/// order, as `summary.json` promises sorted keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeTimes {
    pub by_pending: Vec<ProbeBucket>,
    /// Probes that only confirmed that no continuation pass followed the previous answer.
    pub confirming: u64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeBucket {
    pub count: u64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Probes sent while at most this many jobs were pending (and more than the bucket before).
    pub pending_max: u64,
    pub total_ms: f64,
}

impl ProbeTimes {
    /// One probe, answered `seconds` after it was sent while at most `pending` jobs waited.
    pub fn add(&mut self, pending: u64, seconds: f64, confirming: bool) {
        self.count += 1;
        self.confirming += u64::from(confirming);
        let pending_max = pending.max(1).next_power_of_two();
        let at = match self.by_pending.binary_search_by_key(&pending_max, |b| b.pending_max) {
            Ok(at) => at,
            Err(at) => {
                let empty = ProbeBucket { count: 0, max_ms: 0.0, mean_ms: 0.0, pending_max, total_ms: 0.0 };
                self.by_pending.insert(at, empty);
                at
            }
        };
        let bucket = &mut self.by_pending[at];
        let ms = seconds * 1e3;
        bucket.count += 1;
        bucket.total_ms = round6(bucket.total_ms + ms);
        bucket.max_ms = round6(bucket.max_ms.max(ms));
        bucket.mean_ms = round6(bucket.total_ms / bucket.count as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_fall_into_power_of_two_buckets_by_pending_jobs() {
        let mut p = ProbeTimes::default();
        p.add(0, 0.001, false);
        p.add(1, 0.003, false);
        p.add(300, 0.010, true);
        p.add(257, 0.020, false);
        assert_eq!((p.count, p.confirming), (4, 1));
        let buckets: Vec<_> = p.by_pending.iter().map(|b| (b.pending_max, b.count, b.mean_ms, b.max_ms)).collect();
        assert_eq!(buckets, vec![(1, 2, 2.0, 3.0), (512, 2, 15.0, 20.0)]);
    }
}
