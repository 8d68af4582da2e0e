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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueueStats {
    /// `fcfs`, `easy`, `conservative`, `hybrid`.
    pub policy: String,
    /// How many pending jobs one scheduling pass considers (`queue-depth`).
    pub queue_depth: u64,
}

/// When a scheduling pass may be continued by another in a later reactor iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContinuationRule {
    /// Only a queue with more pending jobs than this has passes that stop early.
    pub queue_depth: u64,
    /// Only a pass that allocated at least this many jobs is continued: an fcfs pass
    /// matches the first `queue_depth` jobs and is continued when all were allocated
    /// (queue_policy_fcfs_impl.hpp); a backfilling pass, when its last job was allocated
    /// or reserved (queue_policy_bf_base_impl.hpp, next_match_iter), and one that only
    /// reserved changes nothing for the next.
    pub min_allocations: u64,
}

impl QmanagerStats {
    /// The loosest rule over all queues, or None when no queue is reported.
    pub fn continuation_rule(&self) -> Option<ContinuationRule> {
        let queue_depth = self.queues.values().map(|q| q.queue_depth).min()?;
        let min_allocations = self
            .queues
            .values()
            .map(|q| if q.policy == "fcfs" { q.queue_depth } else { 1 })
            .min()?;
        Some(ContinuationRule { queue_depth, min_allocations })
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
    fn qmanager_stats_give_the_loosest_continuation_rule() {
        let rule = |json: &str| serde_json::from_str::<QmanagerStats>(json).unwrap().continuation_rule();
        let fcfs = r#"{"queues":{"default":{"policy":"fcfs","queue_depth":32,"max_queue_depth":1000000,
            "action_counts":{"pending":3,"running":2}}}}"#;
        assert_eq!(rule(fcfs), Some(ContinuationRule { queue_depth: 32, min_allocations: 32 }));
        let mixed = r#"{"queues":{"a":{"policy":"fcfs","queue_depth":16},"b":{"policy":"easy","queue_depth":64}}}"#;
        assert_eq!(rule(mixed), Some(ContinuationRule { queue_depth: 16, min_allocations: 1 }));
        assert_eq!(rule(r#"{"queues":{}}"#), None);
    }
}
