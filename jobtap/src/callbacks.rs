//! Job callbacks: count transitions, collect the ones ff-emu acts on, and, for a watcher
//! that asked, every job's eventlog entries.
//!
//! Each topic gets its own handler, since only the first matching handler of a plugin is
//! called: one `job.event.*` handler sees every event (it counts `alloc` and `start`).
//! `job.event.*` callbacks need a per-job subscription, made in `job.new`, which comes
//! after the job's `submit` event was posted: that entry is rebuilt there.

use emu_protocol::JobId;
use emu_protocol::jobtap::{JobEvent, JobResult, Transition, WatchedState};
use flux_bindings::jobtap::{Args, CURRENT_JOB, JobResult as FluxResult, Plugin, State};
use serde_json::value::RawValue;

use crate::state::Emu;

pub fn register(p: Plugin, state: &State<Emu>) -> flux_bindings::Result<()> {
    let s = state.clone();
    p.add_handler("job.new", move |p, _, args| {
        s.with(|e| {
            e.counts.new += 1;
            if e.wants_events()
                && let Some(submit) = submit_event(&args)
            {
                e.record_event(submit);
            }
        });
        if let Err(e) = p.job_subscribe(CURRENT_JOB) {
            tracing::warn!("job.new: cannot subscribe to the job's events: {e}");
        }
        0
    })?;
    let s = state.clone();
    p.add_handler("job.state.sched", move |_, _, args| {
        s.with(|e| {
            e.counts.sched += 1;
            if let Some(t) = transition(&args, WatchedState::Sched, None, None) {
                e.record(t);
            }
        });
        0
    })?;
    let s = state.clone();
    p.add_handler("job.event.*", move |_, topic, args| {
        s.with(|e| {
            match topic {
                "job.event.alloc" => e.counts.alloc += 1,
                "job.event.start" => e.counts.start += 1,
                _ => {}
            }
            if e.wants_events()
                && let Some(event) = job_event(topic, &args)
            {
                e.record_event(event);
            }
        });
        0
    })?;
    let s = state.clone();
    p.add_handler("job.state.inactive", move |p, _, args| {
        let (result, exception) = outcome(p, &args);
        s.with(|e| {
            e.counts.inactive += 1;
            if let Some(t) = transition(&args, WatchedState::Inactive, Some(result), exception) {
                e.record(t);
            }
        });
        0
    })?;
    Ok(())
}

/// The eventlog entry behind a `job.event.<name>` callback.
fn job_event(topic: &str, args: &Args<'_>) -> Option<JobEvent> {
    let name = topic.strip_prefix("job.event.").unwrap_or(topic);
    let read = || -> flux_bindings::Result<JobEvent> {
        let context = match args.entry_context_json()? {
            Some(text) => Some(RawValue::from_string(text)?),
            None => None,
        };
        Ok(JobEvent { id: JobId(args.id()?), name: name.to_string(), t: args.entry_timestamp()?, context })
    };
    read().map_err(|e| tracing::error!("cannot read a {name} event: {e}")).ok()
}

/// The `submit` entry, from what `job.new` is given: its timestamp is the submit time.
fn submit_event(args: &Args<'_>) -> Option<JobEvent> {
    let read = || -> flux_bindings::Result<JobEvent> {
        let context = serde_json::json!({"userid": args.userid()?, "urgency": args.urgency()?}).to_string();
        Ok(JobEvent {
            id: JobId(args.id()?),
            name: "submit".to_string(),
            t: args.t_submit()?,
            context: Some(RawValue::from_string(context)?),
        })
    };
    read().map_err(|e| tracing::error!("cannot read a new job's submit event: {e}")).ok()
}

fn transition(
    args: &Args<'_>,
    state: WatchedState,
    result: Option<JobResult>,
    exception: Option<String>,
) -> Option<Transition> {
    match (args.id(), args.entry_timestamp()) {
        (Ok(id), Ok(t)) => Some(Transition { id: JobId(id), state, t, result, exception }),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!("cannot read a {state:?} transition: {e}");
            None
        }
    }
}

/// How an inactive job ended, and the exception that ended it (if one did).
fn outcome(p: Plugin, args: &Args<'_>) -> (JobResult, Option<String>) {
    let Ok(id) = args.id() else { return (JobResult::Failed, None) };
    let result = match p.job_result(id) {
        Ok(FluxResult::Completed) => return (JobResult::Completed, None),
        Ok(FluxResult::Canceled) => JobResult::Canceled,
        Ok(FluxResult::Timeout) => JobResult::Timeout,
        Ok(FluxResult::Failed) | Err(_) => JobResult::Failed,
    };
    // Rare path (the job did not complete): worth a full argument dump for the note.
    let exception = args.end_event().ok().flatten().and_then(|end| {
        let kind = end.exception_type?;
        Some(match end.note {
            Some(note) if !note.is_empty() => format!("{kind}: {note}"),
            _ => kind,
        })
    });
    (result, exception)
}
