//! `emu-jobtap.so`: the job-manager side of Flux Fiction.
//!
//! Loaded with `flux jobtap load emu-jobtap.so`, it counts job transitions (new, sched,
//! alloc, start, inactive) and streams the ones the replay acts on (SCHED, and INACTIVE
//! with the job's result) to `ff-emu` over `job-manager.emu-jobtap.watch`. Transitions are
//! batched and flushed once per job-manager reactor iteration (from a prepare watcher),
//! so the module learns about thousands of jobs with a handful of messages and the
//! job-manager never waits on anyone. All state lives in the plugin's aux list and is
//! freed on `flux jobtap remove`; nothing is kept in statics, so it can be loaded again.

mod callbacks;
mod services;
mod state;

use std::ffi::c_int;

use emu_protocol::jobtap::PLUGIN_NAME;
use flux_bindings::jobtap::Plugin;
use flux_bindings::raw::flux_plugin_t;
use flux_bindings::{FluxError, Watcher};

use crate::state::Emu;

fn init(p: Plugin) -> flux_bindings::Result<()> {
    if let Some(conf) = p.conf() {
        let empty = serde_json::from_str::<serde_json::Value>(&conf)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.is_empty()))
            .unwrap_or(false);
        if !empty {
            return Err(FluxError::new(libc::EINVAL, format!("{PLUGIN_NAME} takes no arguments (got {conf})")));
        }
    }
    let h = p.flux()?;
    let state = p.set_state(Emu::new(h))?;
    let flusher = {
        let state = state.clone();
        Watcher::prepare(h, move || state.with(|emu| emu.flush()))?
    };
    flusher.start();
    state.with(|emu| emu.set_flusher(flusher));
    callbacks::register(p, &state)?;
    services::register(p, &state)
}

/// Called by the job-manager when the plugin is loaded.
///
/// # Safety
/// Called by the job-manager with a live plugin handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flux_plugin_init(p: *mut flux_plugin_t) -> c_int {
    // SAFETY: the job-manager's plugin handle, passed on unchanged.
    unsafe { flux_bindings::jobtap::init(p, PLUGIN_NAME, init) }
}
