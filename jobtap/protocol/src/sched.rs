//! Scheduler-facing payloads: `sched.quiescent` (TauferLab Fluxion fork) and
//! `job-manager.alloc-query` (flux-core), the two probes of the step barrier, and the
//! Fluxion qmanager's `stats-get`, read once for the queue depths the barrier needs.

use std::collections::BTreeMap;

use serde::Deserialize;

pub const QUIESCENT_TOPIC: &str = "sched.quiescent";
pub const ALLOC_QUERY_TOPIC: &str = "job-manager.alloc-query";
pub const QMANAGER_STATS_TOPIC: &str = "sched-fluxion-qmanager.stats-get";

/// `sched-fluxion-qmanager.stats-get` response, only the part the emulator reads
/// (qmanager_callbacks.cpp, jobmanager_stats_get_cb; queue_policy_base.hpp, to_json_value).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QmanagerStats {
    pub queues: BTreeMap<String, QueueStats>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct QueueStats {
    /// How many pending jobs one scheduling pass considers (`queue-depth`).
    pub queue_depth: u64,
}

impl QmanagerStats {
    /// The smallest queue depth of any queue: a scheduling pass can end early, and be
    /// continued in a later reactor iteration, only in a queue with more jobs than this.
    pub fn min_queue_depth(&self) -> Option<u64> {
        self.queues.values().map(|q| q.queue_depth).min()
    }
}

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

    #[test]
    fn qmanager_stats_give_the_smallest_queue_depth() {
        let s: QmanagerStats = serde_json::from_str(
            r#"{"queues":{"default":{"policy":"easy","queue_depth":32,"max_queue_depth":1000000,
                "action_counts":{"pending":3,"running":2}},"batch":{"queue_depth":8}}}"#,
        )
        .unwrap();
        assert_eq!(s.min_queue_depth(), Some(8));
        let none: QmanagerStats = serde_json::from_str(r#"{"queues":{}}"#).unwrap();
        assert_eq!(none.min_queue_depth(), None);
    }
}
