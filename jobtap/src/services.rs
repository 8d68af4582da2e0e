//! Requests ff-emu sends to the plugin (`job-manager.emu-jobtap.<method>`, owner only:
//! a guest's request is answered EPERM by libflux before it reaches a handler), and the
//! broker's `disconnect` for a client that went away.

use emu_protocol::jobtap::{
    DISCONNECT_METHOD, JobtapStatus, STATUS_METHOD, TransitionBatch, WATCH_CANCEL_METHOD, WATCH_METHOD, WatchRequest,
};
use flux_bindings::jobtap::{Plugin, State};

use crate::state::Emu;

pub fn register(p: Plugin, state: &State<Emu>) -> flux_bindings::Result<()> {
    let s = state.clone();
    p.service_register(WATCH_METHOD, 0, move |h, msg| {
        if !msg.is_streaming() {
            let _ = msg.respond_error(h, libc::EPROTO, Some("watch is a streaming request"));
            return;
        }
        let request = match msg.payload().map(|p| p.map(serde_json::from_str::<WatchRequest>)) {
            Ok(None) => WatchRequest::default(),
            Ok(Some(Ok(r))) => r,
            Ok(Some(Err(e))) => {
                let _ = msg.respond_error(h, libc::EPROTO, Some(&format!("malformed watch request: {e}")));
                return;
            }
            Err(e) => {
                let _ = msg.respond_error(h, libc::EPROTO, Some(&format!("cannot read the watch request: {e}")));
                return;
            }
        };
        // The empty first batch tells the module the plugin is loaded and listening.
        let handshake = serde_json::to_string(&TransitionBatch::default()).expect("batches serialize");
        if msg.respond(h, Some(&handshake)).is_ok() {
            s.with(|e| e.add_watcher(msg.to_owned(), request.events));
        }
    })?;
    let s = state.clone();
    p.service_register(WATCH_CANCEL_METHOD, 0, move |h, msg| {
        s.with(|e| e.end_streams_of(msg));
        // A no-response request (as ff-emu sends it) makes this a no-op.
        let _ = msg.respond(h, None);
    })?;
    // The client is gone: its streams are dropped without an answer (nobody would read it).
    let s = state.clone();
    p.service_register(DISCONNECT_METHOD, 0, move |_, msg| s.with(|e| e.drop_streams_of(msg)))?;
    let s = state.clone();
    p.service_register(STATUS_METHOD, 0, move |h, msg| {
        let status = s.with(|e| JobtapStatus { counts: e.counts, watchers: e.watcher_count() });
        let json = serde_json::to_string(&status).expect("status serializes");
        let _ = msg.respond(h, Some(&json));
    })
}
