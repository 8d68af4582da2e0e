//! Safe Rust bindings to flux-core for code that runs *inside* a Flux broker:
//! broker modules (`mod_main`) and, with the `jobtap` feature, job-manager
//! jobtap plugins (`flux_plugin_init`).
//!
//! Layout (one module per C object, rusqlite style):
//!
//! * [`error`]: the one error type, [`FluxError`], built from errno or a future's error string.
//! * [`handle`]: [`Flux`], a borrowed `flux_t *` (never closed by us).
//! * [`message`]: [`MsgRef`] (borrowed inside a callback) and [`Msg`] (owned reference).
//! * [`handler`]: [`MsgHandler`], a message handler owning its closure.
//! * [`future`]: [`Future`] / [`FutureRef`]: RPC futures with `then` continuations.
//! * [`watcher`]: [`Reactor`], [`Timer`] and prepare/check/idle/fd [`Watcher`]s.
//! * [`guard`]: the panic guard every C callback goes through.
//! * [`logging`]: [`FluxLogLayer`], a `tracing` layer that writes to `flux_log`.
//! * [`module`]: [`module::main`], the body of a broker module's `mod_main`.
//! * `jobtap` (feature `jobtap`): [`jobtap::Plugin`] and friends.
//!
//! Threading: everything here is `!Send`: a `flux_t` and all objects created
//! from it belong to the one thread running its reactor.
//!
//! Callbacks: closures are boxed and handed to C as the callback argument;
//! each C callback type has one generic `extern "C"` trampoline that runs the
//! closure under [`guard`] (`catch_unwind`, cancellation disabled).  The owning
//! Rust value (`MsgHandler`, `Watcher`, `Future`, or the jobtap plugin's aux
//! list) frees the closure after destroying the C object, and never while the
//! closure is running, so dropping an object from inside its own callback is safe.

mod sys;

pub mod connection;
pub mod error;
pub mod future;
pub mod guard;
pub mod handle;
pub mod handler;
#[cfg(feature = "jobtap")]
pub mod jobtap;
pub mod kvs;
pub mod logging;
pub mod message;
pub mod module;
pub mod watcher;

pub use connection::Connection;
pub use error::{FluxError, Result};
pub use future::{Future, FutureRef};
pub use handle::{Flux, LogLevel};
pub use handler::MsgHandler;
pub use logging::FluxLogLayer;
pub use message::{AsMsg, Msg, MsgRef, MsgType};
pub use watcher::{Reactor, Timer, Watcher};

/// The C types that appear in entry-point signatures (`mod_main`,
/// `flux_plugin_init`) and in `from_raw`/`as_ptr`, plus the complete
/// generated bindings as an escape hatch ([`raw::ffi`]).  Prefer the safe
/// modules; anything used from `ffi` regularly should get a wrapper here.
pub mod raw {
    pub use crate::sys::{
        flux_future_t, flux_msg_handler_t, flux_msg_t, flux_plugin_arg_t, flux_plugin_t,
        flux_reactor_t, flux_t, flux_watcher_t,
    };
    /// All bindgen output (functions are `unsafe`; see the flux-core man pages).
    pub mod ffi {
        pub use crate::sys::*;
    }
}
