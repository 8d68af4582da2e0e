//! `ff-emu.shutdown`: what the broker sends on `flux module remove` (this handler
//! overrides the built-in one, which only stops the reactor).
//!
//! A replay still running is interrupted first ([`Replay::interrupt`]: its artifacts are
//! written with every job finished so far, its running jobs are killed, its waiting ones
//! canceled). The module then stays up until every submission is answered (a job whose
//! answer comes late is canceled then) and no job holds or waits for resources
//! (`job-manager.alloc-query`), answering any start request that arrives meanwhile with
//! a refusal. Stopping at once would lose a start request already on its way: the
//! job-manager forgets it when the exec service goes away but does not act on the job
//! again, so a job canceled in that window would stay in CLEANUP for good (and `flux
//! queue idle`, which the instance's shutdown waits on, with it). After
//! [`DRAIN_TIMEOUT`] seconds (other jobs running in the instance, a scheduler that no
//! longer answers) it stops all the same.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use emu_protocol::module::MODULE_NAME;
use emu_protocol::sched::{ALLOC_QUERY_TOPIC, AllocQueryReply};
use flux_bindings::handle::NODEID_ANY;
use flux_bindings::watcher::reactor_time;
use flux_bindings::{Flux, Future, MsgHandler, MsgType, Timer};

use crate::replay::{Replay, with_replay};

/// Seconds the module waits for the instance to settle before it stops anyway.
pub const DRAIN_TIMEOUT: f64 = 5.0;
/// Seconds between two `job-manager.alloc-query` polls.
const POLL_INTERVAL: f64 = 0.02;

pub struct ShutdownService {
    _handler: MsgHandler,
    _drain: Rc<RefCell<Option<Drain>>>,
}

/// The wait for the instance to settle, once shutdown was asked for.
struct Drain {
    replay: Weak<RefCell<Replay>>,
    poll: Timer,
    query: Option<Future>,
    deadline: f64,
}

impl ShutdownService {
    pub fn new(h: Flux, replay: Option<Weak<RefCell<Replay>>>) -> flux_bindings::Result<Self> {
        let drain: Rc<RefCell<Option<Drain>>> = Rc::new(RefCell::new(None));
        let state = Rc::downgrade(&drain);
        let topic = format!("{MODULE_NAME}.shutdown");
        let handler = MsgHandler::new(h, MsgType::Request, &topic, move |h, _| {
            let Some(replay) = &replay else { return stop(h) };
            with_replay(replay, Replay::interrupt);
            if let Err(e) = begin_drain(h, &state, replay.clone()) {
                tracing::error!("cannot wait for the instance to settle: {e}");
                stop(h);
            }
        })?;
        Ok(ShutdownService { _handler: handler, _drain: drain })
    }
}

fn stop(h: Flux) {
    if let Err(e) = h.reactor_stop() {
        tracing::error!("cannot stop the reactor: {e}");
    }
}

fn begin_drain(
    h: Flux,
    state: &Weak<RefCell<Option<Drain>>>,
    replay: Weak<RefCell<Replay>>,
) -> flux_bindings::Result<()> {
    let Some(cell) = state.upgrade() else { return Ok(()) };
    if cell.borrow().is_some() {
        return Ok(()); // asked twice
    }
    let weak = state.clone();
    let poll = Timer::new(h, 0.0, POLL_INTERVAL, move || poll(h, &weak))?;
    poll.start();
    *cell.borrow_mut() = Some(Drain { replay, poll, query: None, deadline: reactor_time() + DRAIN_TIMEOUT });
    Ok(())
}

/// Sends the next alloc-query unless one is in flight; stops at the deadline.
fn poll(h: Flux, state: &Weak<RefCell<Option<Drain>>>) {
    let Some(cell) = state.upgrade() else { return };
    let mut guard = cell.borrow_mut();
    let Some(drain) = guard.as_mut() else { return };
    if reactor_time() >= drain.deadline {
        tracing::warn!("jobs still hold or wait for resources after {DRAIN_TIMEOUT} s; stopping anyway");
        drain.poll.stop();
        return stop(h);
    }
    if drain.query.is_some() {
        return;
    }
    let weak = state.clone();
    let sent = h.rpc(ALLOC_QUERY_TOPIC, None, NODEID_ANY, 0).and_then(|f| {
        f.then(None, move |f| {
            let reply = f.rpc_get().map_err(|e| e.to_string()).and_then(|s| {
                serde_json::from_str::<AllocQueryReply>(s.unwrap_or("")).map_err(|e| e.to_string())
            });
            let Some(cell) = weak.upgrade() else { return };
            let mut guard = cell.borrow_mut();
            let Some(drain) = guard.as_mut() else { return };
            drain.query = None;
            let submitting = drain.replay.upgrade().is_some_and(|r| r.borrow().submitting());
            match reply {
                Ok(r) if submitting || r.queue_length + r.alloc_pending + r.running > 0 => {}
                Ok(_) => {
                    drain.poll.stop();
                    stop(h);
                }
                Err(e) => {
                    tracing::warn!("{ALLOC_QUERY_TOPIC}: {e}; stopping without waiting");
                    drain.poll.stop();
                    stop(h);
                }
            }
        })?;
        Ok(f)
    });
    match sent {
        Ok(f) => drain.query = Some(f),
        Err(e) => {
            tracing::warn!("{ALLOC_QUERY_TOPIC}: {e}; stopping without waiting");
            drain.poll.stop();
            stop(h);
        }
    }
}
