//! The panic guard: how every Rust closure is called from C.
//!
//! Each C callback type (message handler, watcher, continuation, jobtap
//! handler) has one generic `extern "C"` trampoline.  Its user data is a boxed
//! [`Slot`] holding the closure, and the trampoline calls [`enter`], which
//!
//! * refuses a re-entrant call of an `FnMut` closure (it would alias `&mut`),
//!   logging it instead; jobtap handlers are `Fn` and may be re-entered (§2.7);
//! * disables thread cancellation for the duration ([`NoCancel`]): a pending
//!   `pthread_cancel` of the module thread (broker exit with the module still
//!   loaded) is then acted upon in the reactor's own `epoll_wait`, where the
//!   only Rust frames below are `mod_main` → [`crate::module::main`] →
//!   `flux_reactor_run`, all `C-unwind` and outside any `catch_unwind`.  A forced
//!   unwind that reached a `catch_unwind` would abort the broker ("Rust cannot
//!   catch foreign exceptions");
//! * runs the closure inside `catch_unwind`: a panic is logged with
//!   `flux_log(LOG_ERR)` and reported to the trampoline, which answers a
//!   request with an error response or returns -1; it never unwinds into C;
//! * runs the closure with the `tracing` dispatcher that was current when the
//!   callback was registered (so jobtap callbacks log through the plugin's
//!   [`crate::FluxLogLayer`] without any global subscriber);
//! * frees the slot on the way out if its owner was dropped meanwhile
//!   ([`release`] defers while the closure runs).  This is what makes dropping
//!   a `Future`, `Watcher` or `MsgHandler` from inside its own callback safe.
//!
//! Nothing global is installed: no panic hook, no global subscriber.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use tracing::Dispatch;

use crate::handle::{Flux, LogLevel};

unsafe extern "C" {
    // Not in the libc crate for linux-gnu; POSIX, and not a cancellation point.
    fn pthread_setcancelstate(state: c_int, oldstate: *mut c_int) -> c_int;
}
// glibc and musl values.
const PTHREAD_CANCEL_DISABLE: c_int = 1;

/// Disables `pthread_cancel` acting on this thread until dropped (restores the
/// previous state, so guards nest).
pub struct NoCancel(c_int);

impl NoCancel {
    #[allow(clippy::new_without_default)]
    pub fn new() -> NoCancel {
        let mut old: c_int = 0;
        // SAFETY: plain libc call with a valid out-pointer.
        unsafe { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &mut old) };
        NoCancel(old)
    }
}

impl Drop for NoCancel {
    fn drop(&mut self) {
        let mut ignored: c_int = 0;
        // SAFETY: restores the state saved in `new`.
        unsafe { pthread_setcancelstate(self.0, &mut ignored) };
    }
}

/// Whether a closure may be called again while it is already running.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reentry {
    /// `FnMut`: a nested call is refused (and logged).
    Refuse,
    /// `Fn`: nested calls are fine (jobtap callbacks).
    #[cfg_attr(not(feature = "jobtap"), allow(dead_code))]
    Allow,
}

/// A boxed closure as seen by C: `Box::into_raw(Box<Slot<F>>)` is the callback argument.
pub(crate) struct Slot<F> {
    depth: Cell<u32>,
    dead: Cell<bool>,
    h: Flux,
    what: &'static str,
    dispatch: Option<Dispatch>,
    f: UnsafeCell<F>,
}

impl<F> Slot<F> {
    /// Boxes `f`; `h` is used to log panics, `what` names the callback in logs.
    pub(crate) fn into_raw(h: Flux, what: &'static str, f: F) -> *mut Slot<F> {
        Box::into_raw(Box::new(Slot {
            depth: Cell::new(0),
            dead: Cell::new(false),
            h,
            what,
            dispatch: current_dispatch(),
            f: UnsafeCell::new(f),
        }))
    }
}

/// The current `tracing` dispatcher, unless it is the no-op one.
pub(crate) fn current_dispatch() -> Option<Dispatch> {
    tracing::dispatcher::get_default(|d| {
        if d.is::<tracing::subscriber::NoSubscriber>() { None } else { Some(d.clone()) }
    })
}

/// Frees a slot now, or marks it so the running trampoline frees it when the
/// closure returns.  Usable directly as a `flux_free_f` aux destructor.
///
/// # Safety
/// `p` must come from [`Slot::<F>::into_raw`] and not have been released before.
pub(crate) unsafe extern "C" fn release<F>(p: *mut c_void) {
    let slot = p as *mut Slot<F>;
    // SAFETY: caller guarantees `slot` is live.
    let s = unsafe { &*slot };
    if s.depth.get() > 0 {
        s.dead.set(true);
        return;
    }
    // SAFETY: not running, not yet released: we own the box.
    unsafe { free_slot(slot) };
}

/// An owned slot pointer for Rust owners (`MsgHandler`, `Watcher`): releases in Drop.
pub(crate) struct SlotOwner {
    ptr: *mut c_void,
    release: unsafe extern "C" fn(*mut c_void),
}

impl SlotOwner {
    pub(crate) fn new<F>(slot: *mut Slot<F>) -> SlotOwner {
        SlotOwner { ptr: slot as *mut c_void, release: release::<F> }
    }
    pub(crate) fn as_arg(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for SlotOwner {
    fn drop(&mut self) {
        // SAFETY: `ptr` was produced by Slot::into_raw for the type `release` was instantiated with.
        unsafe { (self.release)(self.ptr) };
    }
}

unsafe fn free_slot<F>(slot: *mut Slot<F>) {
    let _nc = NoCancel::new();
    // SAFETY: caller owns the box.
    let (h, what, dispatch) = unsafe { ((*slot).h, (*slot).what, (*slot).dispatch.clone()) };
    // Dropping the user's closure runs user Drop impls: guard them too, and
    // let them log through the same dispatcher as the closure did.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: caller owns the box.
        let b = unsafe { Box::from_raw(slot) };
        match &dispatch {
            Some(d) => tracing::dispatcher::with_default(d, || drop(b)),
            None => drop(b),
        }
    }));
    if let Err(payload) = r {
        log_panic(h, &format!("dropping the closure of a {what}"), payload);
    }
}

/// Calls the closure in `slot` through `body` under the guard (see module docs).
///
/// Returns `None` if the call was refused (re-entry of an `FnMut`, or the slot
/// is already released), `Some(Err(message))` if the closure panicked (already
/// logged), `Some(Ok(value))` otherwise.
///
/// # Safety
/// `slot` must be a live pointer from [`Slot::<F>::into_raw`] (it may have been
/// marked released by [`release`] during an enclosing call).  `body` receives a
/// pointer to the closure; with [`Reentry::Allow`] it must only create `&F`.
pub(crate) unsafe fn enter<F, R>(
    slot: *mut Slot<F>,
    reentry: Reentry,
    body: impl FnOnce(*mut F) -> R,
) -> Option<std::result::Result<R, String>> {
    // SAFETY: caller guarantees liveness; all mutation goes through Cell/UnsafeCell.
    let s = unsafe { &*slot };
    let (h, what) = (s.h, s.what);
    if s.dead.get() {
        return None;
    }
    if s.depth.get() > 0 && reentry == Reentry::Refuse {
        h.log(LogLevel::Err, &format!("flux-bindings: re-entrant call of a {what} ignored"));
        return None;
    }
    let nc = NoCancel::new();
    s.depth.set(s.depth.get() + 1);
    let fptr = s.f.get();
    let r = catch_unwind(AssertUnwindSafe(|| match &s.dispatch {
        Some(d) => tracing::dispatcher::with_default(d, || body(fptr)),
        None => body(fptr),
    }));
    s.depth.set(s.depth.get() - 1);
    let out = match r {
        Ok(v) => Ok(v),
        Err(payload) => Err(log_panic(h, what, payload)),
    };
    if s.depth.get() == 0 && s.dead.get() {
        // The owner released the slot while the closure ran: free it now.
        // SAFETY: released (dead) and no longer running: nobody else owns it.
        unsafe { free_slot(slot) };
    }
    drop(nc);
    Some(out)
}

/// Runs `f` under `catch_unwind` with cancellation disabled; a panic is logged
/// (naming `what`) and returned as its message.  For one-shot entry points
/// (`module::main` setup/teardown, `flux_plugin_init`, aux destructors).
pub fn call_guarded<R>(h: Flux, what: &str, f: impl FnOnce() -> R) -> std::result::Result<R, String> {
    let _nc = NoCancel::new();
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| log_panic(h, what, payload))
}

/// Logs a caught panic at LOG_ERR and returns its message.
fn log_panic(h: Flux, what: &str, payload: Box<dyn Any + Send>) -> String {
    let msg = panic_message(&*payload);
    // A payload whose Drop panics must not escape either.
    if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(p);
    }
    h.log(LogLevel::Err, &format!("panic in {what}: {msg}"));
    msg
}

/// The message of a panic payload (`&str` or `String`), else a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages() {
        let p = catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "boom 1");
        let p = catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*p), "static");
        let p = catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "(non-string panic payload)");
    }

    #[test]
    fn no_cancel_nests() {
        let a = NoCancel::new();
        let b = NoCancel::new();
        assert_eq!(b.0, PTHREAD_CANCEL_DISABLE);
        drop(b);
        drop(a);
        let c = NoCancel::new();
        assert_eq!(c.0, 0, "restored to PTHREAD_CANCEL_ENABLE");
    }
}
