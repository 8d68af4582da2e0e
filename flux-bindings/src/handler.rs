//! `MsgHandler`: a message handler (`flux_msg_handler_t`) that owns its closure.
//!
//! Requests whose topic starts with the module name are routed to the module
//! automatically (reference §1.1); a handler picks them out by type and topic
//! glob.  Exact request topics override globs and earlier registrations (§1.4),
//! so a module can also replace built-ins such as `<name>.stats-get`.
//!
//! The handler is created and started by [`MsgHandler::new`]; dropping it
//! destroys the C handler, then the closure (deferred if dropped from inside
//! its own callback).  A panic in the closure is logged and, for a request that
//! expects a response, answered with `EIO` "internal error: <panic message>".

use std::ffi::c_void;
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::guard::{self, Reentry, Slot, SlotOwner};
use crate::handle::{Flux, cstring};
use crate::message::{MsgRef, MsgType};
use crate::sys;

/// Errno of the error response sent when a request handler panics.
pub const PANIC_ERRNUM: i32 = libc::EIO;

/// A started message handler; see the module docs.
pub struct MsgHandler {
    mh: NonNull<sys::flux_msg_handler_t>,
    // Dropped after `mh` is destroyed (see Drop).
    slot: Option<SlotOwner>,
}

impl MsgHandler {
    /// Creates and starts a handler for messages of type `msg_type` whose topic
    /// matches the glob `topic_glob` (e.g. `"ff-emu.start"`, `"job-exception"`).
    /// Only the instance owner may send matching requests unless
    /// [`MsgHandler::allow_rolemask`] widens it.
    pub fn new<F>(h: Flux, msg_type: MsgType, topic_glob: &str, cb: F) -> Result<MsgHandler>
    where
        F: FnMut(Flux, MsgRef<'_>) + 'static,
    {
        let glob = cstring(topic_glob)?;
        let slot = SlotOwner::new(Slot::into_raw(h, "message handler", cb));
        let m = sys::flux_match {
            typemask: msg_type.typemask(),
            matchtag: sys::FLUX_MATCHTAG_NONE,
            topic_glob: glob.as_ptr(),
        };
        // SAFETY: valid handle; the glob is copied (strdup) by libflux; the
        // trampoline's type parameter matches the slot's closure type.
        let mh = unsafe { sys::flux_msg_handler_create(h.as_ptr(), m, Some(msg_trampoline::<F>), slot.as_arg()) };
        let mh = NonNull::new(mh).ok_or_else(|| FluxError::last_os("flux_msg_handler_create"))?;
        let handler = MsgHandler { mh, slot: Some(slot) };
        handler.start();
        Ok(handler)
    }

    /// Also accepts senders with any role in `rolemask` (e.g. [`crate::handle::role::USER`]).
    pub fn allow_rolemask(&self, rolemask: u32) {
        // SAFETY: live handler.
        unsafe { sys::flux_msg_handler_allow_rolemask(self.mh.as_ptr(), rolemask) };
    }

    /// Rejects senders with roles in `rolemask`.
    pub fn deny_rolemask(&self, rolemask: u32) {
        // SAFETY: live handler.
        unsafe { sys::flux_msg_handler_deny_rolemask(self.mh.as_ptr(), rolemask) };
    }

    pub fn start(&self) {
        // SAFETY: live handler.
        unsafe { sys::flux_msg_handler_start(self.mh.as_ptr()) };
    }

    /// Stops delivery; unmatched requests then get `ENOSYS` from the dispatcher.
    pub fn stop(&self) {
        // SAFETY: live handler.
        unsafe { sys::flux_msg_handler_stop(self.mh.as_ptr()) };
    }

    pub fn as_ptr(&self) -> *mut sys::flux_msg_handler_t {
        self.mh.as_ptr()
    }
}

impl Drop for MsgHandler {
    fn drop(&mut self) {
        // SAFETY: we own the handler; destroying it inside its own callback is
        // allowed by libflux (the dispatcher does not touch it afterwards).
        unsafe { sys::flux_msg_handler_destroy(self.mh.as_ptr()) };
        drop(self.slot.take());
    }
}

/// The one trampoline for `flux_msg_handler_f` (also used by jobtap services).
pub(crate) unsafe extern "C" fn msg_trampoline<F>(
    h: *mut sys::flux_t,
    _mh: *mut sys::flux_msg_handler_t,
    msg: *const sys::flux_msg_t,
    arg: *mut c_void,
) where
    F: FnMut(Flux, MsgRef<'_>) + 'static,
{
    if h.is_null() || msg.is_null() || arg.is_null() {
        return;
    }
    // SAFETY: libflux passes its live handle and a message borrowed for this call.
    let (flux, m) = unsafe { (Flux::from_raw(h), MsgRef::from_raw(msg)) };
    // SAFETY: `arg` is the Slot<F> registered with this trampoline instance.
    let r = unsafe { guard::enter(arg as *mut Slot<F>, Reentry::Refuse, |f| (*f)(flux, m)) };
    if let Some(Err(panic)) = r {
        respond_after_panic(flux, m, &panic);
    }
}

/// Answers a request whose handler panicked, unless it wants no response.
pub(crate) fn respond_after_panic(h: Flux, m: MsgRef<'_>, panic: &str) {
    if m.msg_type() == Ok(MsgType::Request) && !m.is_noresponse() {
        let _ = h.respond_error(&m, PANIC_ERRNUM, Some(&format!("internal error: {panic}")));
    }
}
