//! Removes the KVS job directories that the job-manager's purge leaves behind, empty, so that
//! the directory every job commit rewrites stays small however long the replay runs (see
//! `ff_engine::JobDirs` for the measurements and why only closed, empty directories go).
//!
//! Every [`ROUND_SECONDS`] of wall time, the directories due are looked up; those found empty
//! are unlinked in one KVS commit. One round at a time; a failed lookup or commit only leaves a
//! directory in place, so housekeeping never fails a replay.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use ff_engine::{DirCheck, JobDirs};
use flux_bindings::{Flux, Future, MsgHandler, MsgType, Timer};
use serde::Deserialize;

/// The job-manager publishes the ids of the jobs each purge removed.
const PURGE_EVENT: &str = "job-purge-inactive";
/// Wall seconds between rounds: the purge itself runs at each heartbeat (0.5 s).
const ROUND_SECONDS: f64 = 1.0;

#[derive(Deserialize)]
struct PurgeEvent {
    jobs: Vec<u64>,
}

pub struct JobDirReaper {
    inner: Rc<RefCell<Inner>>,
    _handler: MsgHandler,
    _subscription: Future,
    _timer: Timer,
}

struct Inner {
    h: Flux,
    dirs: JobDirs,
    round: Option<Round>,
    /// Directories removed so far (logged at the end).
    removed: u64,
}

/// One round in flight: its lookups, then its commit.
struct Round {
    lookups: Vec<Future>,
    unanswered: usize,
    /// Directories found empty, and whether each is a parent (its window is checked next).
    empty: Vec<(String, bool)>,
    commit: Option<Future>,
}

impl JobDirReaper {
    pub fn start(h: Flux) -> flux_bindings::Result<Self> {
        let inner = Rc::new(RefCell::new(Inner { h, dirs: JobDirs::default(), round: None, removed: 0 }));
        let handler = {
            let weak = Rc::downgrade(&inner);
            MsgHandler::new(h, MsgType::Event, PURGE_EVENT, move |_, msg| {
                let event = msg.event_decode().ok().and_then(|(_, payload)| payload);
                match event.map(serde_json::from_str::<PurgeEvent>) {
                    Some(Ok(ev)) => with_inner(&weak, |i| i.dirs.purged(ev.jobs)),
                    _ => tracing::warn!("ignoring a malformed {PURGE_EVENT} event"),
                }
            })?
        };
        let subscription = h.event_subscribe(PURGE_EVENT)?;
        let timer = {
            let weak = Rc::downgrade(&inner);
            Timer::new(h, ROUND_SECONDS, ROUND_SECONDS, move || {
                let weak_round = weak.clone();
                with_inner(&weak, |i| i.start_round(weak_round));
            })?
        };
        timer.start();
        Ok(JobDirReaper { inner, _handler: handler, _subscription: subscription, _timer: timer })
    }

    /// A job id job-ingest handed out.
    pub fn job_seen(&self, id: u64) {
        self.inner.borrow_mut().dirs.job_seen(id);
    }

    /// Empty job directories removed so far.
    pub fn removed(&self) -> u64 {
        self.inner.borrow().removed
    }
}

fn with_inner(weak: &Weak<RefCell<Inner>>, body: impl FnOnce(&mut Inner)) {
    if let Some(rc) = weak.upgrade() {
        body(&mut rc.borrow_mut());
    }
}

impl Inner {
    fn start_round(&mut self, weak: Weak<RefCell<Inner>>) {
        if self.round.is_some() {
            return;
        }
        let DirCheck { parents, windows } = self.dirs.due();
        let checks = parents.into_iter().map(|k| (k, true)).chain(windows.into_iter().map(|k| (k, false)));
        let mut round = Round { lookups: Vec::new(), unanswered: 0, empty: Vec::new(), commit: None };
        for (key, is_parent) in checks {
            let weak = weak.clone();
            let sent = self.h.kvs_lookup_dir(&key).and_then(|f| {
                f.then(None, move |f| {
                    let empty = matches!(f.kvs_dir_size(), Ok(0));
                    let key = key.clone();
                    let weak_commit = weak.clone();
                    with_inner(&weak, |i| i.lookup_answered(key, is_parent, empty, weak_commit));
                })?;
                Ok(f)
            });
            match sent {
                Ok(f) => round.lookups.push(f),
                Err(e) => tracing::debug!("job directory housekeeping: {e}"),
            }
        }
        round.unanswered = round.lookups.len();
        if round.unanswered > 0 {
            self.round = Some(round);
        }
    }

    fn lookup_answered(&mut self, key: String, is_parent: bool, empty: bool, weak: Weak<RefCell<Inner>>) {
        let Some(round) = self.round.as_mut() else { return };
        round.unanswered -= 1;
        if empty {
            round.empty.push((key, is_parent));
        }
        if round.unanswered > 0 {
            return;
        }
        if round.empty.is_empty() {
            self.round = None;
            return;
        }
        let keys: Vec<String> = round.empty.iter().map(|(k, _)| k.clone()).collect();
        let sent = self.h.kvs_unlink(&keys).and_then(|f| {
            f.then(None, move |f| {
                let committed = f.rpc_get().map(|_| ()).map_err(|e| e.to_string());
                with_inner(&weak, |i| i.committed(committed));
            })?;
            Ok(f)
        });
        match sent {
            Ok(f) => round.commit = Some(f),
            Err(e) => {
                tracing::debug!("job directory housekeeping: {e}");
                self.round = None;
            }
        }
    }

    fn committed(&mut self, result: Result<(), String>) {
        let Some(round) = self.round.take() else { return };
        if let Err(e) = result {
            tracing::debug!("job directory housekeeping: commit failed: {e}");
            return;
        }
        self.removed += round.empty.len() as u64;
        for (key, is_parent) in &round.empty {
            if *is_parent {
                self.dirs.parent_removed(key);
            }
        }
    }
}
