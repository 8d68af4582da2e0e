//! Broker modules: the body of `mod_main`.
//!
//! The broker runs `mod_main(h, argc, argv)` on a dedicated module thread
//! (reference §1.2): the module registers its handlers, runs the reactor until
//! `<name>.shutdown` stops it, cleans up and returns.  [`main`] does all of
//! that around a safe `setup` function:
//!
//! 1. installs a [`FluxLogLayer`](crate::FluxLogLayer) as this thread's scoped
//!    `tracing` default (INFO; change with [`crate::logging::set_max_level`]);
//! 2. runs `setup(h, args)` under the panic guard with cancellation disabled;
//!    `setup` creates handlers, watchers and futures and returns them as one
//!    state value `S`.  An `Err` or panic fails the load: it is logged,
//!    `errno` is set, and `mod_main` returns -1 (`flux module load` reports it);
//! 3. runs the reactor **outside** `catch_unwind`, with cancellation enabled;
//! 4. drops `S` under the guard (implement `Drop` on `S`, or on something in
//!    it, for extra teardown, e.g. answering pending streams with `ENODATA`),
//!    and returns 0, or -1 if the reactor failed.
//!
//! Why step 3 is special: if the broker exits with the module still loaded it
//! calls `pthread_cancel` on the module thread (§1.2 item 9).  glibc then runs
//! a *forced unwind* from the cancellation point (normally `epoll_wait` inside
//! the reactor) up through every frame.  Rust lets a forced unwind pass through
//! frames and functions declared `C-unwind`, running `Drop`s on the way, but a
//! `catch_unwind` on its path catches it as a foreign exception and **aborts
//! the process** (the broker), and so does an `extern "C"` frame.  Hence:
//! `mod_main` is `extern "C-unwind"`, `flux_reactor_run` is declared
//! `C-unwind` (build.rs), the reactor runs outside `catch_unwind`, and every
//! callback disables cancellation while it runs ([`crate::guard`]), so the
//! cancel can only be acted upon in the reactor's own C code.  `S` is then
//! dropped by the unwind, the broker logs "module was not properly shut
//! down", and exits normally.  (Removing the module first, `flux module
//! remove`, or loading it with `--exec`, avoids all of this.)
//!
//! The module's `mod_main` is one line:
//!
//! ```ignore
//! use std::ffi::{c_char, c_int};
//! use flux_bindings::raw::flux_t;
//!
//! #[unsafe(no_mangle)]
//! pub extern "C-unwind" fn mod_main(h: *mut flux_t, argc: c_int, argv: *mut *mut c_char) -> c_int {
//!     // SAFETY: called by the broker's module loader with its handle and argv.
//!     unsafe { flux_bindings::module::main(h, argc, argv, crate::setup) }
//! }
//!
//! // fn setup(h: flux_bindings::Flux, args: Vec<String>) -> flux_bindings::Result<MyModule>
//! ```

use std::ffi::{CStr, c_char, c_int};

use tracing::level_filters::LevelFilter;

use crate::error::Result;
use crate::guard::{NoCancel, call_guarded};
use crate::handle::{Flux, LogLevel};
use crate::logging;
use crate::sys;

/// The module arguments (`flux module load m.so a b=c` gives `["a", "b=c"]`;
/// arguments cannot contain spaces).  Invalid UTF-8 is replaced.
///
/// # Safety
/// `argv` must point to `argc` valid NUL-terminated strings (or be NULL with `argc` 0).
pub unsafe fn module_args(argc: c_int, argv: *mut *mut c_char) -> Vec<String> {
    if argv.is_null() || argc <= 0 {
        return Vec::new();
    }
    (0..argc as usize)
        .filter_map(|i| {
            // SAFETY: caller guarantees argc entries.
            let p = unsafe { *argv.add(i) };
            // SAFETY: non-NULL NUL-terminated string.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        })
        .collect()
}

fn set_errno(errnum: i32) {
    // SAFETY: errno is thread-local and always writable.
    unsafe { *libc::__errno_location() = errnum };
}

/// The body of `mod_main`; see the module docs for the exact shape and why.
///
/// # Safety
/// `h`, `argc`, `argv` must be the arguments the broker passed to `mod_main`,
/// and this must be called directly from an `extern "C-unwind"` `mod_main`.
pub unsafe fn main<S, F>(h: *mut sys::flux_t, argc: c_int, argv: *mut *mut c_char, setup: F) -> c_int
where
    F: FnOnce(Flux, Vec<String>) -> Result<S>,
{
    if h.is_null() {
        set_errno(libc::EINVAL);
        return -1;
    }
    // SAFETY: the loader's handle, valid until mod_main returns.
    let flux = unsafe { Flux::from_raw(h) };
    // SAFETY: the loader's argv.
    let args = unsafe { module_args(argc, argv) };
    let name = flux.module_name().unwrap_or_else(|| "module".to_string());

    let dispatch = logging::dispatch(flux, LevelFilter::INFO);
    let _log = tracing::dispatcher::set_default(&dispatch);

    let state = match call_guarded(flux, "module setup", || setup(flux, args)) {
        Ok(Ok(state)) => state,
        Ok(Err(e)) => {
            flux.log(LogLevel::Err, &format!("{name}: setup failed: {e}"));
            set_errno(e.errnum);
            return -1;
        }
        Err(_panic) => {
            // Already logged by the guard.
            set_errno(libc::ECANCELED);
            return -1;
        }
    };

    // Outside catch_unwind, cancellation enabled: see the module docs.
    let rc = flux.reactor_run();

    let _nc = NoCancel::new();
    let _ = call_guarded(flux, "module teardown", move || drop(state));
    match rc {
        Ok(_) => 0,
        Err(e) => {
            flux.log(LogLevel::Err, &format!("{name}: {e}"));
            set_errno(e.errnum);
            -1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn args_from_argv() {
        let owned: Vec<CString> = ["foo", "bar=baz"].iter().map(|s| CString::new(*s).unwrap()).collect();
        let mut ptrs: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr() as *mut c_char).collect();
        let args = unsafe { module_args(ptrs.len() as c_int, ptrs.as_mut_ptr()) };
        assert_eq!(args, vec!["foo".to_string(), "bar=baz".to_string()]);
        assert!(unsafe { module_args(0, std::ptr::null_mut()) }.is_empty());
    }
}
