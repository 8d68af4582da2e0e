//! Bindings to flux-core for code that runs inside a Flux broker (modules and
//! jobtap plugins).  This commit: the raw bindgen layer only.

mod sys;

/// The C types that appear in entry-point signatures, plus the complete
/// generated bindings as an escape hatch ([`raw::ffi`]).
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
