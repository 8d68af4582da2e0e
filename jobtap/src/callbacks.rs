//! Job callbacks: count transitions and collect the ones ff-emu acts on.
//!
//! Each topic gets its own handler, since only the first matching handler of a plugin is
//! called. `job.event.*` callbacks need a per-job subscription, made in `job.new`.

use emu_protocol::JobId;
use emu_protocol::jobtap::{JobResult, Transition, WatchedState};
use flux_bindings::jobtap::{Args, CURRENT_JOB, JobResult as FluxResult, Plugin, State};

use crate::state::Emu;

pub fn register(p: Plugin, state: &State<Emu>) -> flux_bindings::Result<()> {
    let s = state.clone();
    p.add_handler("job.new", move |p, _, _| {
        s.with(|e| e.counts.new += 1);
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
    p.add_handler("job.event.alloc", move |_, _, _| {
        s.with(|e| e.counts.alloc += 1);
        0
    })?;
    let s = state.clone();
    p.add_handler("job.event.start", move |_, _, _| {
        s.with(|e| e.counts.start += 1);
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
