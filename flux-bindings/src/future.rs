//! `Future`: an owned `flux_future_t` (RPCs, job submission, service and event
//! registration), completed asynchronously with [`Future::then`].
//!
//! Continuations never run synchronously: libflux calls them from the check
//! phase of a later reactor iteration (reference §1.7).  The closure given to
//! `then` is boxed and attached to the future with
//! `flux_future_aux_set(f, NULL, closure, destructor)`, so it lives exactly as
//! long as the C future, however that is destroyed.  The trampoline never
//! frees it, so streaming RPCs (`RPC_STREAMING`: `rpc_get`, then `reset`, for
//! each response) keep working; and if the continuation drops its own
//! `Future`, the destructor sees the closure running and defers freeing it
//! until the closure returns.
//!
//! `flux_future_get` (which blocks in a private reactor, and deadlocks the
//! job-manager if used in a plugin) is deliberately not offered: results are
//! read only inside the continuation, through [`FutureRef`], and only once the
//! future is ready.
//!
//! Dropping an unfulfilled RPC future leaks its matchtag until a late response
//! arrives (§1.7); cancel long-lived streams properly before dropping them.

use std::ffi::{c_char, c_void};
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::guard::{self, Reentry, Slot};
use crate::handle::Flux;
use crate::sys;

/// An owned future; destroyed (`flux_future_destroy`) on drop.
#[derive(Debug)]
pub struct Future {
    f: NonNull<sys::flux_future_t>,
}

impl Future {
    /// Takes ownership of a future.
    ///
    /// # Safety
    /// `f` must be a valid, non-NULL future whose one reference is transferred
    /// to the returned value, created on a handle used only on this thread.
    pub unsafe fn from_raw(f: *mut sys::flux_future_t) -> Future {
        Future { f: NonNull::new(f).expect("Future::from_raw: NULL") }
    }

    /// Wraps the result of a libflux constructor: NULL → error from errno.
    pub(crate) unsafe fn from_new(f: *mut sys::flux_future_t, what: impl FnOnce() -> String) -> Result<Future> {
        match NonNull::new(f) {
            Some(f) => Ok(Future { f }),
            None => Err(FluxError::last_os(&what())),
        }
    }

    pub fn as_ptr(&self) -> *mut sys::flux_future_t {
        self.f.as_ptr()
    }

    /// Sets the continuation: `cb` runs once the future is fulfilled (and again
    /// after each [`FutureRef::reset`] for streaming RPCs), or with `ETIMEDOUT`
    /// after `timeout` seconds.  Calling `then` again replaces the callback (the
    /// old closure is freed with the future).
    ///
    /// A panic in `cb` is logged with `flux_log(LOG_ERR)`.
    pub fn then<F>(&self, timeout: Option<f64>, cb: F) -> Result<()>
    where
        F: FnMut(FutureRef<'_>) + 'static,
    {
        // SAFETY: live future.
        let h = unsafe { sys::flux_future_get_flux(self.as_ptr()) };
        if h.is_null() {
            return Err(FluxError::new(libc::EINVAL, "future has no flux handle"));
        }
        // SAFETY: the future holds a reference on its handle.
        let flux = unsafe { Flux::from_raw(h) };
        let slot = Slot::into_raw(flux, "future continuation", cb);
        // The future owns the closure from here on: NULL key + destructor.
        // SAFETY: live future; `release::<F>` matches the slot type.
        let rc = unsafe {
            sys::flux_future_aux_set(self.as_ptr(), std::ptr::null(), slot as *mut c_void, Some(guard::release::<F>))
        };
        if rc < 0 {
            let e = FluxError::last_os("flux_future_aux_set");
            // SAFETY: not registered anywhere: still ours to free.
            unsafe { guard::release::<F>(slot as *mut c_void) };
            return Err(e);
        }
        let timeout = timeout.unwrap_or(-1.0);
        // SAFETY: live future; the trampoline's type parameter matches the slot.
        let rc = unsafe { sys::flux_future_then(self.as_ptr(), timeout, Some(then_trampoline::<F>), slot as *mut c_void) };
        if rc < 0 {
            return Err(FluxError::last_os("flux_future_then"));
        }
        Ok(())
    }

    /// True once a result (or error) is available.
    pub fn is_ready(&self) -> bool {
        // SAFETY: live future.
        unsafe { sys::flux_future_is_ready(self.as_ptr()) }
    }
}

impl Drop for Future {
    fn drop(&mut self) {
        // SAFETY: we own one reference.  Allowed inside the future's own
        // continuation; the continuation's closure is then freed after it returns.
        unsafe { sys::flux_future_destroy(self.as_ptr()) };
    }
}

/// The future as seen inside its continuation (borrowed for the call; the
/// trampoline holds a reference, so it stays valid even if the continuation
/// drops the owning [`Future`]).
#[derive(Debug)]
pub struct FutureRef<'a> {
    f: NonNull<sys::flux_future_t>,
    _f: PhantomData<&'a sys::flux_future_t>,
}

impl FutureRef<'_> {
    fn ready(&self) -> Result<()> {
        if self.is_ready() {
            Ok(())
        } else {
            // flux_rpc_get etc. would block in a private reactor.
            Err(FluxError::new(libc::EAGAIN, "future is not ready"))
        }
    }

    pub fn as_ptr(&self) -> *mut sys::flux_future_t {
        self.f.as_ptr()
    }

    pub fn is_ready(&self) -> bool {
        // SAFETY: live future.
        unsafe { sys::flux_future_is_ready(self.as_ptr()) }
    }

    /// The handle the future was created on.
    pub fn flux(&self) -> Flux {
        // SAFETY: a future created on a handle keeps a reference on it.
        unsafe { Flux::from_raw(sys::flux_future_get_flux(self.as_ptr())) }
    }

    /// The current response's payload (`flux_rpc_get`): `Ok(None)` for an empty
    /// success response, `Err` for an error response (errnum + remote error
    /// string, e.g. `ENODATA` at the end of a stream) or a timeout.  Works for
    /// every future this crate creates (they are all RPCs).  The string borrows
    /// from `self`: it is invalidated by [`FutureRef::reset`].
    pub fn rpc_get(&self) -> Result<Option<&str>> {
        self.ready()?;
        let mut s: *const c_char = std::ptr::null();
        // SAFETY: live, ready future: does not block.
        if unsafe { sys::flux_rpc_get(self.as_ptr(), &mut s) } < 0 {
            // SAFETY: the get just failed on this live future.
            return Err(unsafe { FluxError::from_future(self.as_ptr()) });
        }
        if s.is_null() {
            return Ok(None);
        }
        // SAFETY: non-NULL, NUL-terminated, owned by the current response.
        let s = unsafe { std::ffi::CStr::from_ptr(s) };
        s.to_str().map(Some).map_err(|_| FluxError::new(libc::EPROTO, "response payload is not UTF-8"))
    }

    /// The job id from a [`Flux::job_submit`] future (`flux_job_submit_get_id`).
    pub fn job_submit_get_id(&self) -> Result<u64> {
        self.ready()?;
        let mut id: sys::flux_jobid_t = 0;
        // SAFETY: live, ready future; valid out-pointer.
        if unsafe { sys::flux_job_submit_get_id(self.as_ptr(), &mut id) } < 0 {
            // SAFETY: the get just failed on this live future.
            return Err(unsafe { FluxError::from_future(self.as_ptr()) });
        }
        Ok(id)
    }

    /// Consumes the current response and re-arms the continuation for the next
    /// one (streaming RPCs).
    pub fn reset(&mut self) {
        // SAFETY: live future.
        unsafe { sys::flux_future_reset(self.as_ptr()) };
    }
}

/// The one trampoline for `flux_continuation_f`.
unsafe extern "C" fn then_trampoline<F>(f: *mut sys::flux_future_t, arg: *mut c_void)
where
    F: FnMut(FutureRef<'_>) + 'static,
{
    let Some(f) = NonNull::new(f) else { return };
    if arg.is_null() {
        return;
    }
    // Hold a reference for the duration of the call, so that a continuation
    // that drops its own `Future` cannot free `f` under the `FutureRef` it holds.
    // SAFETY: live future (libflux is calling its continuation).
    unsafe { sys::flux_future_incref(f.as_ptr()) };
    let fr = FutureRef { f, _f: PhantomData };
    // SAFETY: `arg` is the Slot<F> attached to this future (freed only by its
    // aux destructor, which defers while we run).
    let _ = unsafe { guard::enter(arg as *mut Slot<F>, Reentry::Refuse, move |cb| (*cb)(fr)) };
    // May destroy the future (and, through its aux destructor, the closure).
    // libflux does not touch `f` after the continuation returns.
    // SAFETY: drops the reference taken above.
    unsafe { sys::flux_future_decref(f.as_ptr()) };
}
