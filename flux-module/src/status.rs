//! `ff-emu.stats-get`: what `flux module stats ff-emu` shows (and what
//! `flux-fiction-run` polls for progress and the run's end).

use std::cell::RefCell;
use std::rc::Weak;

use emu_protocol::module::{MODULE_NAME, ModuleStatus};
use flux_bindings::{Flux, MsgHandler, MsgType};

use crate::replay::Replay;

pub struct StatusService {
    _handler: MsgHandler,
}

impl StatusService {
    /// Overrides the built-in `stats-get` method (an exact topic registered later wins).
    pub fn new(h: Flux, replay: Option<Weak<RefCell<Replay>>>) -> flux_bindings::Result<Self> {
        let topic = format!("{MODULE_NAME}.stats-get");
        let handler = MsgHandler::new(h, MsgType::Request, &topic, move |h, msg| {
            let status = match replay.as_ref().and_then(Weak::upgrade) {
                Some(r) => r.borrow().status(),
                None => ModuleStatus::idle(),
            };
            let json = serde_json::to_string(&status).expect("status serializes");
            if let Err(e) = msg.respond(h, Some(&json)) {
                tracing::warn!("stats-get: could not respond: {e}");
            }
        })?;
        Ok(StatusService { _handler: handler })
    }
}
