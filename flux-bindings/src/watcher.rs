//! The reactor (`flux_reactor_t`) and its watchers (`flux_watcher_t`):
//! timers, prepare/check/idle, and fd watchers.
//!
//! Everything in a module or plugin runs on one thread, interleaved by the
//! reactor (reference §1.3, §1.8).  Watchers are created **stopped**, as in C;
//! call `start`.  Dropping a watcher destroys it, then its closure (deferred if
//! dropped from inside its own callback).  In a jobtap plugin, keep watchers
//! in plugin state so they are destroyed on unload (§2.8).
//!
//! Idiom for "work when idle" (job-manager `alloc.c`, qmanager): a prepare
//! watcher starts an idle watcher when work is pending (so the loop does not
//! block), a check watcher stops it and does one unit of work.
//!
//! Timers run on the reactor's monotonic clock, not on virtual/faked time.

use std::ffi::c_void;
use std::ops::Deref;
use std::os::fd::RawFd;
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::guard::{self, Reentry, Slot, SlotOwner};
use crate::handle::Flux;
use crate::sys;

/// A handle's reactor (owned by the handle; `Copy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reactor {
    r: NonNull<sys::flux_reactor_t>,
}

impl Reactor {
    /// # Safety
    /// `r` must be a valid non-NULL reactor outliving the returned value.
    pub unsafe fn from_raw(r: *mut sys::flux_reactor_t) -> Reactor {
        Reactor { r: NonNull::new(r).expect("Reactor::from_raw: NULL") }
    }

    pub fn as_ptr(self) -> *mut sys::flux_reactor_t {
        self.r.as_ptr()
    }

    /// The cached loop time (`flux_reactor_now`, libev `ev_now`), in seconds.
    pub fn now(self) -> f64 {
        // SAFETY: valid reactor.
        unsafe { sys::flux_reactor_now(self.as_ptr()) }
    }

    /// Refreshes the cached loop time (`flux_reactor_now_update`).
    pub fn now_update(self) {
        // SAFETY: valid reactor.
        unsafe { sys::flux_reactor_now_update(self.as_ptr()) }
    }

    /// `flux_reactor_stop`.
    pub fn stop(self) {
        // SAFETY: valid reactor.
        unsafe { sys::flux_reactor_stop(self.as_ptr()) }
    }

    /// `flux_reactor_stop_error` (see [`Flux::reactor_stop_error`]).
    pub fn stop_error(self) {
        // SAFETY: valid reactor.
        unsafe { sys::flux_reactor_stop_error(self.as_ptr()) }
    }
}

/// The current monotonic time (`flux_reactor_time`), uncached.
pub fn reactor_time() -> f64 {
    // SAFETY: no arguments.
    unsafe { sys::flux_reactor_time() }
}

/// `revents`/`events` bits for fd watchers.
pub mod poll {
    pub const IN: i32 = crate::sys::FLUX_POLLIN as i32;
    pub const OUT: i32 = crate::sys::FLUX_POLLOUT as i32;
    pub const ERR: i32 = crate::sys::FLUX_POLLERR as i32;
}

/// An owned watcher (prepare, check, idle, fd); see also [`Timer`].
pub struct Watcher {
    w: NonNull<sys::flux_watcher_t>,
    // Dropped after `w` is destroyed (see Drop).
    slot: Option<SlotOwner>,
}

type Create = unsafe extern "C" fn(*mut sys::flux_reactor_t, sys::flux_watcher_f, *mut c_void) -> *mut sys::flux_watcher_t;

impl Watcher {
    fn create<F>(h: Flux, what: &'static str, cb: F, create: impl FnOnce(*mut sys::flux_reactor_t, sys::flux_watcher_f, *mut c_void) -> *mut sys::flux_watcher_t) -> Result<Watcher>
    where
        F: FnMut(i32) + 'static,
    {
        let r = h.reactor()?;
        let slot = SlotOwner::new(Slot::into_raw(h, what, cb));
        let w = create(r.as_ptr(), Some(watcher_trampoline::<F>), slot.as_arg());
        let w = NonNull::new(w).ok_or_else(|| FluxError::last_os(what))?;
        Ok(Watcher { w, slot: Some(slot) })
    }

    fn simple<F>(h: Flux, what: &'static str, mut cb: F, create: Create) -> Result<Watcher>
    where
        F: FnMut() + 'static,
    {
        // SAFETY: `create` is one of the libflux constructors taking (r, cb, arg).
        Watcher::create(h, what, move |_| cb(), |r, f, a| unsafe { create(r, f, a) })
    }

    /// A prepare watcher: `cb` runs before the reactor blocks, every iteration.
    pub fn prepare<F: FnMut() + 'static>(h: Flux, cb: F) -> Result<Watcher> {
        Watcher::simple(h, "prepare watcher", cb, sys::flux_prepare_watcher_create)
    }

    /// A check watcher: `cb` runs after the reactor wakes, every iteration.
    pub fn check<F: FnMut() + 'static>(h: Flux, cb: F) -> Result<Watcher> {
        Watcher::simple(h, "check watcher", cb, sys::flux_check_watcher_create)
    }

    /// An idle watcher: while started, the reactor does not block; `cb` runs
    /// when there is nothing else to do.
    pub fn idle<F: FnMut() + 'static>(h: Flux, cb: F) -> Result<Watcher> {
        Watcher::simple(h, "idle watcher", cb, sys::flux_idle_watcher_create)
    }

    /// An fd watcher: `cb(revents)` when `fd` is ready for `events`
    /// ([`poll::IN`] | [`poll::OUT`]).  The fd is not owned.  Use an eventfd
    /// to wake the reactor from a helper thread (which must not touch `Flux`).
    pub fn fd<F: FnMut(i32) + 'static>(h: Flux, fd: RawFd, events: i32, cb: F) -> Result<Watcher> {
        // SAFETY: valid reactor, callback and argument.
        Watcher::create(h, "fd watcher", cb, |r, f, a| unsafe { sys::flux_fd_watcher_create(r, fd, events, f, a) })
    }

    pub fn start(&self) {
        // SAFETY: live watcher.
        unsafe { sys::flux_watcher_start(self.w.as_ptr()) }
    }

    pub fn stop(&self) {
        // SAFETY: live watcher.
        unsafe { sys::flux_watcher_stop(self.w.as_ptr()) }
    }

    pub fn is_active(&self) -> bool {
        // SAFETY: live watcher.
        unsafe { sys::flux_watcher_is_active(self.w.as_ptr()) }
    }

    pub fn as_ptr(&self) -> *mut sys::flux_watcher_t {
        self.w.as_ptr()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // SAFETY: we own the watcher; libflux does not touch it after its
        // callback returns, so destroying it from inside the callback is fine.
        unsafe { sys::flux_watcher_destroy(self.w.as_ptr()) };
        drop(self.slot.take());
    }
}

/// A timer watcher: fires after `after` seconds, then every `repeat` seconds
/// (0 = once).  Derefs to [`Watcher`] for `start`/`stop`/`is_active`.
pub struct Timer {
    w: Watcher,
}

impl Timer {
    /// Creates a stopped timer; call `start`.
    pub fn new<F: FnMut() + 'static>(h: Flux, after: f64, repeat: f64, mut cb: F) -> Result<Timer> {
        // SAFETY: valid reactor, callback and argument.
        let w = Watcher::create(h, "timer", move |_| cb(), |r, f, a| unsafe {
            sys::flux_timer_watcher_create(r, after, repeat, f, a)
        })?;
        Ok(Timer { w })
    }

    /// Re-arms with new values (`flux_timer_watcher_reset`); restart with `start`.
    pub fn reset(&self, after: f64, repeat: f64) {
        // SAFETY: live timer watcher.
        unsafe { sys::flux_timer_watcher_reset(self.w.as_ptr(), after, repeat) }
    }

    /// Restarts the repeat interval from now (`flux_timer_watcher_again`).
    pub fn again(&self) {
        // SAFETY: live timer watcher.
        unsafe { sys::flux_timer_watcher_again(self.w.as_ptr()) }
    }
}

impl Deref for Timer {
    type Target = Watcher;
    fn deref(&self) -> &Watcher {
        &self.w
    }
}

/// The one trampoline for `flux_watcher_f`.
unsafe extern "C" fn watcher_trampoline<F>(
    _r: *mut sys::flux_reactor_t,
    _w: *mut sys::flux_watcher_t,
    revents: std::ffi::c_int,
    arg: *mut c_void,
) where
    F: FnMut(i32) + 'static,
{
    if arg.is_null() {
        return;
    }
    // SAFETY: `arg` is the Slot<F> registered with this trampoline instance.
    let _ = unsafe { guard::enter(arg as *mut Slot<F>, Reentry::Refuse, |f| (*f)(revents)) };
}
