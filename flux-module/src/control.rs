//! `ff-emu.pause`, `ff-emu.resume`, `ff-emu.step`: the user's controls over a replay
//! (`flux-fiction-ctl`), handed to the engine, which pauses only between steps.
//!
//! The handlers keep libflux's default rolemask, which admits only the instance owner:
//! a guest cannot stop someone's replay. Each answers at once with a [`ControlReply`];
//! whether the pause has been reached shows in `flux module stats ff-emu` (`pause`).

use std::cell::RefCell;
use std::rc::Weak;

use emu_protocol::module::{ControlReply, PAUSE_TOPIC, RESUME_TOPIC, STEP_TOPIC, StepRequest};
use flux_bindings::{Flux, MsgHandler, MsgRef, MsgType};

use crate::replay::{Replay, with_replay};

pub struct ControlService {
    _handlers: Vec<MsgHandler>,
}

/// What one control request does to the replay: `Ok(pause_after)` or an error message.
type Action = fn(&mut Replay, &MsgRef<'_>) -> Result<Option<u64>, String>;

impl ControlService {
    pub fn new(h: Flux, replay: Option<Weak<RefCell<Replay>>>) -> flux_bindings::Result<Self> {
        let actions: [(&str, Action); 3] = [(PAUSE_TOPIC, pause), (RESUME_TOPIC, resume), (STEP_TOPIC, step)];
        let handlers = actions
            .into_iter()
            .map(|(topic, action)| {
                let replay = replay.clone();
                MsgHandler::new(h, MsgType::Request, topic, move |h, msg| serve(h, msg, replay.as_ref(), action))
            })
            .collect::<flux_bindings::Result<Vec<_>>>()?;
        Ok(ControlService { _handlers: handlers })
    }
}

fn serve(h: Flux, msg: MsgRef<'_>, replay: Option<&Weak<RefCell<Replay>>>, action: Action) {
    let mut answer = Err("ff-emu was loaded without a run directory: there is no replay to control".to_string());
    if let Some(weak) = replay {
        with_replay(weak, |r| {
            answer = action(r, &msg).map(|pause_after| ControlReply { steps: r.engine().progress().steps, pause_after })
        });
    }
    let sent = match answer {
        Ok(reply) => msg.respond(h, Some(&serde_json::to_string(&reply).expect("reply serializes"))),
        Err(e) => msg.respond_error(h, libc::EINVAL, Some(&e)),
    };
    if let Err(e) = sent {
        tracing::warn!("could not answer a control request: {e}");
    }
}

fn pause(r: &mut Replay, _: &MsgRef<'_>) -> Result<Option<u64>, String> {
    r.engine().pause()?;
    Ok(Some(r.engine().progress().steps))
}

fn resume(r: &mut Replay, _: &MsgRef<'_>) -> Result<Option<u64>, String> {
    let now = r.now();
    r.engine().resume(now)?;
    Ok(None)
}

fn step(r: &mut Replay, msg: &MsgRef<'_>) -> Result<Option<u64>, String> {
    let request: StepRequest = msg
        .request_decode()
        .ok()
        .flatten()
        .and_then(|payload| serde_json::from_str(payload).ok())
        .ok_or_else(|| format!("{STEP_TOPIC} needs a payload like {{\"n\": 1}}"))?;
    let now = r.now();
    r.engine().step(request.n, now).map(Some)
}
