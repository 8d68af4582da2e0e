//! `ff-emu.so`: the Flux Fiction broker module.
//!
//! `flux module load ff-emu.so` with no arguments loads it idle: it only answers
//! `flux module stats ff-emu`. With `run-dir=DIR` (a directory laid out by
//! `flux-fiction-prepare`) it replays `DIR/config.toml`'s trace against this instance:
//! it becomes the instance's exec service, submits the trace's jobs, steps simulated time
//! with the barrier of `ff-engine`, and writes the run's artifacts under `DIR/output`.
//! Removed before the replay ends, it ends it as interrupted (`shutdown.rs`): the
//! artifacts are written and the replay's jobs leave the instance.
//!
//! Everything that decides *what* to do lives in the sans-IO `ff-engine`; this crate only
//! carries its commands to Flux and Flux's answers back (one module per conversation).

mod artifacts;
mod control;
mod exec_service;
mod instance_clock;
mod job_dir_reaper;
mod jobtap_stream;
mod probes;
mod replay;
mod shutdown;
mod status;
mod telemetry;

use std::ffi::{c_char, c_int};

use flux_bindings::raw::flux_t;
use flux_bindings::{Flux, FluxError};

/// The module's state while it is loaded; dropped when it is removed.
struct Module {
    _status: status::StatusService,
    _control: control::ControlService,
    _shutdown: shutdown::ShutdownService,
    _replay: Option<replay::ReplayHandle>,
}

fn setup(h: Flux, args: Vec<String>) -> flux_bindings::Result<Module> {
    let args = ff_engine::ModuleArgs::parse(&args).map_err(|e| FluxError::new(libc::EINVAL, e))?;
    let replay = match &args.run_dir {
        Some(_) => Some(replay::ReplayHandle::start(h, &args)?),
        None => None,
    };
    let status = status::StatusService::new(h, replay.as_ref().map(replay::ReplayHandle::weak))?;
    let control = control::ControlService::new(h, replay.as_ref().map(replay::ReplayHandle::weak))?;
    let shutdown = shutdown::ShutdownService::new(h, replay.as_ref().map(replay::ReplayHandle::weak))?;
    Ok(Module { _status: status, _control: control, _shutdown: shutdown, _replay: replay })
}

/// The broker calls this on the module's own thread.
///
/// # Safety
/// Called by the broker's module loader with its handle and argument vector.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mod_main(h: *mut flux_t, argc: c_int, argv: *mut *mut c_char) -> c_int {
    // SAFETY: the loader's own arguments, passed on unchanged.
    unsafe { flux_bindings::module::main(h, argc, argv, setup) }
}
