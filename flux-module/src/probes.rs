//! The instance probes of the step barrier: `sched.resource-status` (what the scheduler
//! manages) and the qmanager's `stats-get` (its queue depths), each read once before the
//! first submission, then `job-manager.alloc-query`, the scheduler sync request and
//! `sched.quiescent` at every step. The engine never has two of one kind in flight; each
//! reply clears its slot and goes to the engine.

use std::cell::RefCell;
use std::rc::Weak;

use emu_protocol::sched::{
    ALLOC_QUERY_TOPIC, AllocQueryReply, QMANAGER_STATS_TOPIC, QUIESCENT_TOPIC, QmanagerStats, QuiescentReply,
};
use ff_engine::ResourceCounts;
use flux_bindings::handle::NODEID_ANY;
use flux_bindings::{Flux, Future, FutureRef};
use serde::de::DeserializeOwned;

use crate::replay::{Replay, then_on_replay};

const RESOURCE_STATUS_TOPIC: &str = "sched.resource-status";
/// Any request to the `sched` service is dispatched by the scheduler's reactor; this one
/// has no handler, so the answer (ENOSYS) costs the scheduler nothing but that dispatch.
const SYNC_TOPIC: &str = "sched.ff-emu-sync";

/// Futures of the probes in flight.
#[derive(Default)]
pub struct Probes {
    pub resources: Option<Future>,
    pub continuation_rule: Option<Future>,
    pub alloc_query: Option<Future>,
    pub quiescent: Option<Future>,
    pub sync: Option<Future>,
}

/// Decodes a reply, or says what was wrong with it.
fn decode<T: DeserializeOwned>(topic: &str, f: &FutureRef<'_>) -> Result<T, String> {
    match f.rpc_get() {
        Ok(Some(s)) => serde_json::from_str(s).map_err(|e| format!("{topic}: malformed reply ({e}): {s}")),
        Ok(None) => Err(format!("{topic}: empty reply")),
        Err(e) => Err(format!("{topic}: {e}")),
    }
}

fn send(
    h: Flux,
    topic: &str,
    weak: Weak<RefCell<Replay>>,
    body: impl FnMut(&mut Replay, FutureRef<'_>) + 'static,
) -> Result<Future, String> {
    let f = h.rpc(topic, None, NODEID_ANY, 0).map_err(|e| format!("{topic}: {e}"))?;
    then_on_replay(&f, weak, body).map_err(|e| format!("{topic}: {e}"))?;
    Ok(f)
}

/// Totals of the resources in the scheduler's `all` set.
pub fn resources(h: Flux, weak: Weak<RefCell<Replay>>) -> Result<Future, String> {
    send(h, RESOURCE_STATUS_TOPIC, weak, |r, f| {
        let reply = decode::<serde_json::Value>(RESOURCE_STATUS_TOPIC, &f).and_then(|v| {
            let all = v.get("all").ok_or_else(|| format!("{RESOURCE_STATUS_TOPIC}: reply has no 'all' set"))?;
            let (nodes, cores, gpus) = ff_inputs::system::rv1::totals(all)?;
            Ok(ResourceCounts { nodes, cores, gpus })
        });
        r.probes_mut().resources = None;
        let now = r.now();
        r.engine().handle_resources(reply, now);
    })
}

/// When the qmanager continues a scheduling pass, from its queues' depths and policies.
pub fn continuation_rule(h: Flux, weak: Weak<RefCell<Replay>>) -> Result<Future, String> {
    send(h, QMANAGER_STATS_TOPIC, weak, |r, f| {
        let reply = decode::<QmanagerStats>(QMANAGER_STATS_TOPIC, &f).map(|s| s.continuation_rule());
        r.probes_mut().continuation_rule = None;
        match &reply {
            Ok(Some(rule)) => tracing::info!(
                "scheduler queue depth {}: a pass past it is confirmed when it allocated {} or more jobs",
                rule.queue_depth,
                rule.min_allocations
            ),
            Ok(None) => tracing::warn!("{QMANAGER_STATS_TOPIC}: no queues reported"),
            Err(e) => tracing::warn!(
                "{e}: the barrier will confirm every scheduling pass that allocates (one more probe per step)"
            ),
        }
        let now = r.now();
        r.engine().handle_continuation_rule(reply, now);
    })
}

pub fn alloc_query(h: Flux, weak: Weak<RefCell<Replay>>) -> Result<Future, String> {
    send(h, ALLOC_QUERY_TOPIC, weak, |r, f| {
        let reply = decode::<AllocQueryReply>(ALLOC_QUERY_TOPIC, &f);
        r.probes_mut().alloc_query = None;
        let now = r.now();
        r.engine().handle_alloc_query(reply, now);
    })
}

pub fn quiescent(h: Flux, weak: Weak<RefCell<Replay>>) -> Result<Future, String> {
    send(h, QUIESCENT_TOPIC, weak, |r, f| {
        let reply = decode::<QuiescentReply>(QUIESCENT_TOPIC, &f);
        r.probes_mut().quiescent = None;
        let now = r.now();
        r.engine().handle_quiescent(reply, now);
    })
}

/// Any answer, success or error, means the scheduler's reactor dispatched the request.
pub fn sync(h: Flux, weak: Weak<RefCell<Replay>>) -> Result<Future, String> {
    send(h, SYNC_TOPIC, weak, |r, _| {
        r.probes_mut().sync = None;
        let now = r.now();
        r.engine().handle_scheduler_sync(now);
    })
}
