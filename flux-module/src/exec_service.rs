//! The emulated exec service: `ff-emu.start` requests from the job-manager.
//!
//! The module is the instance's exec service (`job-manager.exec-hello`, the last hello
//! wins over job-exec). It keeps each job's start request and answers on it as the
//! engine decides: `start`, later `finish` and `release` (which ends the request).
//! No real process runs and nothing is written to the KVS. An error response would tear
//! the exec interface down, so even a malformed request is answered with an exception.
//! Fatal job exceptions (e.g. `flux cancel` of a running job) arrive as `job-exception`
//! events, as they do for job-exec.
//!
//! On a system with rabbit storage the engine also needs the SSD shares a job was
//! given, which only the scheduler's own copy of R lists (the job-manager strips the
//! `scheduling` graph from the R it sends here): that copy is read with
//! `job-info.lookup` before the start is handed to the engine, so a step's barrier
//! (which waits for the engine to see every start) also waits for those lookups.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Weak;

use emu_protocol::JobId;
use emu_protocol::exec::{
    EXCEPTION_EVENT, ExceptionEvent, HELLO_TOPIC, Hello, ResourceSet, StartRequest, StartResponse,
};
use emu_protocol::job_info::{LOOKUP_TOPIC, LookupRequest, RLookupReply};
use emu_protocol::module::MODULE_NAME;
use ff_engine::{AllocatedShare, Allocation, ExecResponse};
use ff_inputs::system::idset;
use flux_bindings::handle::NODEID_ANY;
use flux_bindings::{Flux, Future, Msg, MsgHandler, MsgRef, MsgType};
use serde::Deserialize;

use crate::replay::{Replay, then_on_replay, with_replay};

pub struct ExecService {
    /// Start requests of jobs that have not been released yet.
    requests: HashMap<JobId, Msg>,
    /// Whether starts wait for the job's R from the KVS (systems with rabbit storage).
    look_up_storage: bool,
    /// Those lookups in flight.
    lookups: HashMap<JobId, Future>,
    _handlers: Vec<MsgHandler>,
    _subscription: Future,
    _hello: Future,
}

impl ExecService {
    /// `look_up_storage`: the system has rabbit storage, so each start waits for the
    /// job's R from the KVS, which lists the SSD shares it was given.
    pub fn register(h: Flux, weak: Weak<RefCell<Replay>>, look_up_storage: bool) -> flux_bindings::Result<Self> {
        let start = {
            let weak = weak.clone();
            MsgHandler::new(h, MsgType::Request, &format!("{MODULE_NAME}.start"), move |h, msg| {
                with_replay(&weak, |r| on_start_request(r, h, msg, weak.clone()))
            })?
        };
        // Sent when a running job's expiration changes; the emulator keeps the trace's
        // run time, so it only acknowledges (an error would raise an exception on the job).
        let expiration = MsgHandler::new(h, MsgType::Request, &format!("{MODULE_NAME}.expiration"), |h, msg| {
            if let Err(e) = msg.respond(h, None) {
                tracing::warn!("expiration: could not respond: {e}");
            }
        })?;
        let exception = {
            let weak = weak.clone();
            MsgHandler::new(h, MsgType::Event, EXCEPTION_EVENT, move |_, msg| {
                let event = msg.event_decode().ok().and_then(|(_, payload)| payload);
                match event.map(serde_json::from_str::<ExceptionEvent>) {
                    Some(Ok(ev)) => with_replay(&weak, |r| {
                        let now = r.now();
                        r.engine().handle_job_exception(ev.id, &ev.kind, ev.severity, now)
                    }),
                    _ => tracing::warn!("ignoring a malformed {EXCEPTION_EVENT} event"),
                }
            })?
        };
        let subscription = h.event_subscribe(EXCEPTION_EVENT)?;
        let hello_payload = serde_json::to_string(&Hello { service: MODULE_NAME }).expect("hello serializes");
        let hello = h.rpc(HELLO_TOPIC, Some(&hello_payload), NODEID_ANY, 0)?;
        then_on_replay(&hello, weak, |r, f| match f.rpc_get() {
            Ok(_) => r.exec_ready(),
            Err(e) => r.abort(format!("could not become the exec service ({HELLO_TOPIC}): {e}")),
        })?;
        Ok(ExecService {
            requests: HashMap::new(),
            look_up_storage,
            lookups: HashMap::new(),
            _handlers: vec![start, expiration, exception],
            _subscription: subscription,
            _hello: hello,
        })
    }

    /// Answers on the stored start request of `id`; `Release` ends it.
    pub fn respond(&mut self, h: Flux, id: JobId, response: &ExecResponse) {
        let payload = match response {
            ExecResponse::Start => StartResponse::start(id),
            ExecResponse::Exception { kind, note } => StartResponse::fatal_exception(id, kind, note),
            ExecResponse::Finish { status } => StartResponse::finish(id, *status),
            ExecResponse::Release => StartResponse::release_all(id),
        }
        .to_json();
        let request = if matches!(response, ExecResponse::Release) {
            self.requests.remove(&id)
        } else {
            self.requests.get(&id).cloned()
        };
        match request {
            Some(msg) => {
                if let Err(e) = msg.respond(h, Some(&payload)) {
                    tracing::error!("job {id}: could not answer its start request: {e}");
                }
            }
            None => tracing::error!("job {id}: no start request to answer with {payload}"),
        }
    }
}

/// Only the id, for answering a start request that does not decode otherwise.
#[derive(Deserialize)]
struct JustId {
    id: JobId,
}

fn on_start_request(r: &mut Replay, h: Flux, msg: MsgRef<'_>, weak: Weak<RefCell<Replay>>) {
    let payload = msg.request_decode().ok().flatten().unwrap_or("");
    let request: StartRequest = match serde_json::from_str(payload) {
        Ok(request) => request,
        Err(e) => {
            tracing::error!("malformed {MODULE_NAME}.start request ({e}): {payload}");
            if let Ok(JustId { id }) = serde_json::from_str(payload) {
                let note = format!("ff-emu: malformed start request: {e}");
                let owned = msg.to_owned();
                for response in [
                    StartResponse::fatal_exception(id, "exec", &note),
                    StartResponse::finish(id, 1 << 8),
                    StartResponse::release_all(id),
                ] {
                    let _ = owned.respond(h, Some(&response.to_json()));
                }
            }
            return;
        }
    };
    let ranks: Vec<u32> = request
        .r
        .execution
        .r_lite
        .iter()
        .flat_map(|entry| idset::expand(&entry.rank).unwrap_or_default())
        .collect();
    let (id, trace_idx) = (request.id, request.trace_idx());
    let Some(exec) = r.exec() else { return };
    exec.requests.insert(id, msg.to_owned());
    if !exec.look_up_storage {
        let now = r.now();
        r.engine().handle_start_request(id, trace_idx, Allocation { ranks, shares: shares(&request.r) }, now);
        return;
    }
    // The closure may run at most once, but is FnMut: it hands over a copy.
    let looked_up_ranks = ranks.clone();
    let sent = h.rpc(LOOKUP_TOPIC, Some(&LookupRequest::r(id).to_json()), NODEID_ANY, 0).and_then(|f| {
        then_on_replay(&f, weak, move |r, f| {
            let shares = match f.rpc_get().map_err(|e| e.to_string()).and_then(|reply| {
                let reply = reply.unwrap_or("");
                serde_json::from_str::<RLookupReply>(reply).map_err(|e| format!("malformed reply ({e})"))
            }) {
                Ok(reply) => shares(&reply.r),
                Err(e) => {
                    tracing::warn!("job {id}: {LOOKUP_TOPIC} of its R failed: {e}; its storage is not known");
                    Vec::new()
                }
            };
            if let Some(exec) = r.exec() {
                exec.lookups.remove(&id);
            }
            let now = r.now();
            r.engine().handle_start_request(id, trace_idx, Allocation { ranks: looked_up_ranks.clone(), shares }, now);
        })?;
        Ok(f)
    });
    match sent {
        Ok(f) => {
            if let Some(exec) = r.exec() {
                exec.lookups.insert(id, f);
            }
        }
        Err(e) => {
            tracing::warn!("job {id}: cannot send {LOOKUP_TOPIC}: {e}; its storage is not known");
            let now = r.now();
            r.engine().handle_start_request(id, trace_idx, Allocation { ranks, shares: Vec::new() }, now);
        }
    }
}

/// The SSD shares listed in the allocated graph of `r`.
fn shares(r: &ResourceSet) -> Vec<AllocatedShare> {
    r.ssd_shares().map(|(path, gib)| AllocatedShare { path: path.to_string(), gib }).collect()
}
