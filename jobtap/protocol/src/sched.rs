//! Scheduler-facing payloads: `sched.quiescent` (TauferLab Fluxion fork) and
//! `job-manager.alloc-query` (flux-core), the two probes of the step barrier.

use serde::Deserialize;

pub const QUIESCENT_TOPIC: &str = "sched.quiescent";
pub const ALLOC_QUERY_TOPIC: &str = "job-manager.alloc-query";

/// `sched.quiescent` response: the scheduler has no scheduling pass in progress, and
/// `alloc_current` jobs hold resources in its view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct QuiescentReply {
    pub status: i64,
    pub alloc_current: u64,
}

/// `job-manager.alloc-query` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AllocQueryReply {
    /// Jobs in SCHED whose alloc request the job-manager has not sent yet.
    pub queue_length: u64,
    /// Alloc requests sent and not yet answered.
    pub alloc_pending: u64,
    /// Jobs holding resources.
    pub running: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode() {
        let q: QuiescentReply = serde_json::from_str(r#"{"status":0,"alloc_current":3}"#).unwrap();
        assert_eq!(q, QuiescentReply { status: 0, alloc_current: 3 });
        let a: AllocQueryReply =
            serde_json::from_str(r#"{"queue_length":0,"alloc_pending":2,"running":5}"#).unwrap();
        assert_eq!(a.alloc_pending, 2);
    }
}
