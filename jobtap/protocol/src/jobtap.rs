//! `job-manager.emu-jobtap.*`: what the jobtap plugin tells the module.
//!
//! The module opens one streaming `watch` request at the start of a replay. The plugin
//! answers it with batches of job transitions, at most one batch per job-manager reactor
//! iteration, so the module learns about every job without a round trip per job.
//! `status` returns the plugin's cumulative counters. A watcher that asks for them
//! ([`WatchRequest::events`]) also gets every job's eventlog entries in the batches.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::JobId;

/// Name the plugin registers under; services are `job-manager.<PLUGIN_NAME>.<method>`.
pub const PLUGIN_NAME: &str = "emu-jobtap";
/// Streaming request ([`WatchRequest`]): responses are [`TransitionBatch`]es until ENODATA.
pub const WATCH_METHOD: &str = "watch";
/// Ends the sender's open watch streams with ENODATA; answers `{}` unless sent without
/// expecting a response. A watcher that goes away without cancelling is dropped all the
/// same, when the broker sends [`DISCONNECT_METHOD`] on its behalf.
pub const WATCH_CANCEL_METHOD: &str = "watch-cancel";
/// Sent by the broker, not by clients: when a client (or module) goes away, the broker
/// sends a no-response request to every service it had sent requests to, its topic being
/// the request's topic with the last word replaced by `disconnect` (flux-core
/// `librouter/disconnect.c`). For `job-manager.emu-jobtap.watch` that is this method of
/// the plugin (the job-manager's own `job-manager.disconnect` never sees it).
pub const DISCONNECT_METHOD: &str = "disconnect";
/// Request `{}`, response [`JobtapStatus`].
pub const STATUS_METHOD: &str = "status";

pub fn topic(method: &str) -> String {
    format!("job-manager.{PLUGIN_NAME}.{method}")
}

/// The job states the module acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchedState {
    /// The job-manager has made the job eligible for scheduling; its alloc request follows.
    Sched,
    /// The job is done for good; for a job that held resources, `sched.free` was sent.
    Inactive,
}

/// How an inactive job ended (flux_job_result_t).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobResult {
    Completed,
    Failed,
    Canceled,
    Timeout,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub id: JobId,
    pub state: WatchedState,
    /// Timestamp of the event that caused the transition (the instance's clock).
    pub t: f64,
    /// Only for `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
    /// Only for `inactive` jobs that ended by a fatal exception: `"<type>: <note>"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
}

/// The `watch` request. `{}` (or no payload) asks for transitions only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WatchRequest {
    /// Also stream every job's eventlog entries ([`TransitionBatch::events`]).
    #[serde(default)]
    pub events: bool,
}

/// One entry of a job's eventlog, as the job-manager posted it. The plugin sees a job
/// only after its `submit` event is posted, so that entry is rebuilt from the job's
/// submit time, userid and urgency (the submit flags are not available to a plugin).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobEvent {
    pub id: JobId,
    pub name: String,
    /// The entry's timestamp (the instance's clock).
    pub t: f64,
    /// The entry's context object, passed through as it is; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Box<RawValue>>,
}

impl PartialEq for JobEvent {
    fn eq(&self, other: &Self) -> bool {
        let text = |c: &Option<Box<RawValue>>| c.as_ref().map(|c| c.get().to_owned());
        self.id == other.id
            && self.name == other.name
            && self.t == other.t
            && text(&self.context) == text(&other.context)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TransitionBatch {
    pub transitions: Vec<Transition>,
    /// Eventlog entries since the last batch, in the order they were posted; only for
    /// watchers that asked for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<JobEvent>,
}

/// Cumulative callback counts since the plugin was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransitionCounts {
    pub new: u64,
    pub sched: u64,
    pub alloc: u64,
    pub start: u64,
    pub inactive: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobtapStatus {
    pub counts: TransitionCounts,
    /// Open watch streams.
    pub watchers: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trips_and_omits_empty_fields() {
        let b = TransitionBatch {
            transitions: vec![
                Transition { id: JobId(7), state: WatchedState::Sched, t: 1.5, result: None, exception: None },
                Transition {
                    id: JobId(8),
                    state: WatchedState::Inactive,
                    t: 2.0,
                    result: Some(JobResult::Canceled),
                    exception: Some("cancel: by user".into()),
                },
            ],
            events: vec![],
        };
        let s = serde_json::to_string(&b).unwrap();
        assert!(s.starts_with(r#"{"transitions":[{"id":7,"state":"sched","t":1.5}"#), "{s}");
        assert!(!s.contains("events"), "{s}");
        assert_eq!(serde_json::from_str::<TransitionBatch>(&s).unwrap(), b);
    }

    #[test]
    fn events_carry_their_context_as_it_was_posted() {
        let context = RawValue::from_string(r#"{"status":0}"#.into()).unwrap();
        let b = TransitionBatch {
            transitions: vec![],
            events: vec![
                JobEvent { id: JobId(7), name: "finish".into(), t: 2.5, context: Some(context) },
                JobEvent { id: JobId(7), name: "clean".into(), t: 3.0, context: None },
            ],
        };
        let s = serde_json::to_string(&b).unwrap();
        let events = [r#"{"id":7,"name":"finish","t":2.5,"context":{"status":0}}"#, r#"{"id":7,"name":"clean","t":3.0}"#];
        assert_eq!(s, format!(r#"{{"transitions":[],"events":[{}]}}"#, events.join(",")));
        assert_eq!(serde_json::from_str::<TransitionBatch>(&s).unwrap(), b);
    }

    #[test]
    fn a_watch_request_without_fields_asks_for_transitions_only() {
        assert_eq!(serde_json::from_str::<WatchRequest>("{}").unwrap(), WatchRequest { events: false });
        assert!(serde_json::from_str::<WatchRequest>(r#"{"events":true}"#).unwrap().events);
    }

    #[test]
    fn topics_are_under_the_job_manager() {
        assert_eq!(topic(WATCH_METHOD), "job-manager.emu-jobtap.watch");
    }
}
