//! The emulated exec service: `ff-emu.start` requests from the job-manager.
//!
//! The module is the instance's exec service (`job-manager.exec-hello`, the last hello
//! wins over job-exec). It keeps each job's start request and answers on it as the
//! engine decides: `start`, later `finish` and `release` (which ends the request).
//! No real process runs and nothing is written to the KVS. An error response would tear
//! the exec interface down, so even a malformed request is answered with an exception.
//! Fatal job exceptions (e.g. `flux cancel` of a running job) arrive as `job-exception`
//! events, as they do for job-exec.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Weak;

use emu_protocol::JobId;
use emu_protocol::exec::{EXCEPTION_EVENT, ExceptionEvent, HELLO_TOPIC, Hello, StartRequest, StartResponse};
use emu_protocol::module::MODULE_NAME;
use ff_engine::ExecResponse;
use ff_inputs::system::idset;
use flux_bindings::handle::NODEID_ANY;
use flux_bindings::{Flux, Future, Msg, MsgHandler, MsgRef, MsgType};
use serde::Deserialize;

use crate::replay::{Replay, then_on_replay, with_replay};

pub struct ExecService {
    /// Start requests of jobs that have not been released yet.
    requests: HashMap<JobId, Msg>,
    _handlers: Vec<MsgHandler>,
    _subscription: Future,
    _hello: Future,
}

impl ExecService {
    pub fn register(h: Flux, weak: Weak<RefCell<Replay>>) -> flux_bindings::Result<Self> {
        let start = {
            let weak = weak.clone();
            MsgHandler::new(h, MsgType::Request, &format!("{MODULE_NAME}.start"), move |h, msg| {
                with_replay(&weak, |r| on_start_request(r, h, msg))
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

fn on_start_request(r: &mut Replay, h: Flux, msg: MsgRef<'_>) {
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
    if let Some(exec) = r.exec() {
        exec.requests.insert(request.id, msg.to_owned());
    }
    let now = r.now();
    r.engine().handle_start_request(request.id, request.trace_idx(), ranks, now);
}
