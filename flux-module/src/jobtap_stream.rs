//! The stream of job transitions from `emu-jobtap` (`job-manager.emu-jobtap.watch`).
//!
//! The plugin answers the request at once with an empty batch (the handshake: it is
//! loaded and listening), then with one batch per job-manager reactor iteration that saw
//! transitions. The stream ends with ENODATA when the module cancels it or the plugin
//! is removed; the latter, mid-run, fails the run. With `eventlog=1` the module asks for
//! every job's eventlog entries too, which go to `eventlog.csv`.

use std::cell::RefCell;
use std::rc::Weak;

use emu_protocol::jobtap::{PLUGIN_NAME, TransitionBatch, WATCH_CANCEL_METHOD, WATCH_METHOD, WatchRequest, topic};
use flux_bindings::handle::{NODEID_ANY, RPC_NORESPONSE, RPC_STREAMING};
use flux_bindings::{Flux, Future};

use crate::replay::{Replay, with_replay};

pub struct JobtapStream {
    future: Future,
}

impl JobtapStream {
    pub fn open(h: Flux, weak: Weak<RefCell<Replay>>, events: bool) -> flux_bindings::Result<Self> {
        let request = serde_json::to_string(&WatchRequest { events }).expect("requests serialize");
        let future = h.rpc(&topic(WATCH_METHOD), Some(&request), NODEID_ANY, RPC_STREAMING)?;
        let mut handshaken = false;
        future.then(None, move |mut f| {
            let batch = f.rpc_get().map(|s| s.map(serde_json::from_str::<TransitionBatch>));
            with_replay(&weak, |r| match batch {
                Ok(Some(Ok(batch))) if handshaken => {
                    if !batch.events.is_empty() {
                        r.job_events(&batch.events);
                    }
                    let now = r.now();
                    r.engine().handle_transitions(&batch.transitions, now)
                }
                Ok(Some(Ok(_))) => {
                    handshaken = true;
                    r.jobtap_ready();
                }
                Ok(Some(Err(e))) => r.abort(format!("{PLUGIN_NAME} sent a malformed batch: {e}")),
                Ok(None) => r.abort(format!("{PLUGIN_NAME} sent an empty response")),
                Err(e) if e.errnum == libc::ENOSYS => r.abort(format!(
                    "{PLUGIN_NAME} is not loaded in the job-manager ({e}); load it first with \
                     'flux jobtap load /path/to/emu-jobtap.so'"
                )),
                Err(e) => r.abort(format!("the {PLUGIN_NAME} stream ended: {e}")),
            });
            f.reset();
        })?;
        Ok(JobtapStream { future })
    }

    /// Asks the plugin to end the stream (it answers ENODATA, which a finished run ignores).
    pub fn cancel(&self, h: Flux) {
        let _ = &self.future;
        if let Err(e) = h.rpc(&topic(WATCH_CANCEL_METHOD), Some("{}"), NODEID_ANY, RPC_NORESPONSE) {
            tracing::debug!("could not cancel the {PLUGIN_NAME} stream: {e}");
        }
    }
}
