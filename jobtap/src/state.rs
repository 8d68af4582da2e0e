//! The plugin's state: counters, open watch streams, and the batch being collected.

use emu_protocol::jobtap::{JobEvent, Transition, TransitionBatch, TransitionCounts};
use flux_bindings::{Flux, Msg, MsgRef, Watcher};

pub struct Emu {
    h: Flux,
    pub counts: TransitionCounts,
    /// Open `watch` requests; each gets every batch.
    watchers: Vec<Watch>,
    /// Transitions since the last flush; only collected while someone watches.
    pending: Vec<Transition>,
    /// Eventlog entries since the last flush; only collected while someone asked for them.
    pending_events: Vec<JobEvent>,
    flusher: Option<Watcher>,
}

/// An open `watch` request and whether it asked for eventlog entries.
struct Watch {
    msg: Msg,
    events: bool,
}

impl Emu {
    pub fn new(h: Flux) -> Self {
        Emu {
            h,
            counts: TransitionCounts::default(),
            watchers: Vec::new(),
            pending: Vec::new(),
            pending_events: Vec::new(),
            flusher: None,
        }
    }

    pub fn set_flusher(&mut self, w: Watcher) {
        self.flusher = Some(w);
    }

    pub fn watcher_count(&self) -> u32 {
        self.watchers.len() as u32
    }

    pub fn record(&mut self, t: Transition) {
        if !self.watchers.is_empty() {
            self.pending.push(t);
        }
    }

    /// Whether job events are worth reading: someone asked for them.
    pub fn wants_events(&self) -> bool {
        self.watchers.iter().any(|w| w.events)
    }

    pub fn record_event(&mut self, e: JobEvent) {
        if self.wants_events() {
            self.pending_events.push(e);
        }
    }

    pub fn add_watcher(&mut self, msg: Msg, events: bool) {
        self.watchers.push(Watch { msg, events });
    }

    /// Sends the collected batch to every watcher; one that cannot be answered is dropped.
    pub fn flush(&mut self) {
        if self.pending.is_empty() && self.pending_events.is_empty() {
            return;
        }
        let batch = TransitionBatch {
            transitions: std::mem::take(&mut self.pending),
            events: std::mem::take(&mut self.pending_events),
        };
        let json = serde_json::to_string(&batch).expect("batches serialize");
        let h = self.h;
        self.watchers.retain(|w| match w.msg.respond(h, Some(&json)) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("dropping a watcher that cannot be answered: {e}");
                false
            }
        });
    }

    /// Ends the watch streams opened by the sender of `cancel` with ENODATA (the RFC 6
    /// end of a stream); other watchers keep theirs.
    pub fn end_streams_of(&mut self, cancel: MsgRef<'_>) {
        let h = self.h;
        self.remove_streams_of(cancel, |w| {
            let _ = w.msg.respond_error(h, libc::ENODATA, None);
        });
    }

    /// Forgets the watch streams of a client that disconnected (`disconnect` from the broker).
    pub fn drop_streams_of(&mut self, disconnect: MsgRef<'_>) {
        self.remove_streams_of(disconnect, |_| {});
    }

    /// Removes the watchers opened by the sender of `msg`, calling `end` on each; what was
    /// collected for nobody is discarded.
    fn remove_streams_of(&mut self, msg: MsgRef<'_>, mut end: impl FnMut(&Watch)) {
        self.watchers.retain(|w| {
            if !msg.same_sender(&w.msg) {
                return true;
            }
            end(w);
            false
        });
        if self.watchers.is_empty() {
            self.pending.clear();
        }
        if !self.wants_events() {
            self.pending_events.clear();
        }
    }

    /// Ends every watch stream with ENODATA.
    fn end_streams(&mut self) {
        let h = self.h;
        for w in self.watchers.drain(..) {
            let _ = w.msg.respond_error(h, libc::ENODATA, None);
        }
        self.pending.clear();
        self.pending_events.clear();
    }
}

impl Drop for Emu {
    /// On `flux jobtap remove`: tell watchers the stream is over, stop the flusher.
    fn drop(&mut self) {
        self.end_streams();
        self.flusher.take();
    }
}
