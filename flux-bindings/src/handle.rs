//! `Flux`: the broker connection a module or plugin is given (`flux_t *`).
//!
//! The handle passed to `mod_main`, or returned by `flux_jobtap_get_flux`, is
//! owned by the loader (reference §1.3, §1.13): we borrow it for the lifetime
//! of the module/plugin and never `flux_close` it, so `Flux` is a `Copy`
//! pointer wrapper.  It is `!Send`: a `flux_t` is not thread-safe.
//!
//! Payloads are JSON *strings* (`flux_rpc`, `flux_respond`): serialise with
//! serde, avoiding jansson's unchecked variadics (§8.4).

use std::ffi::{CStr, CString, c_int};
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::future::Future;
use crate::message::AsMsg;
use crate::sys;
use crate::watcher::Reactor;

/// `nodeid` for [`Flux::rpc`]: any rank (normally the local broker).
pub const NODEID_ANY: u32 = sys::FLUX_NODEID_ANY;
/// `nodeid` for [`Flux::rpc`]: the parent in the TBON.
pub const NODEID_UPSTREAM: u32 = sys::FLUX_NODEID_UPSTREAM;
/// [`Flux::rpc`] flag: no response expected (the future is never fulfilled).
pub const RPC_NORESPONSE: i32 = sys::FLUX_RPC_NORESPONSE as i32;
/// [`Flux::rpc`] flag: many responses, ended by an error (usually `ENODATA`).
pub const RPC_STREAMING: i32 = sys::FLUX_RPC_STREAMING as i32;

/// Message credential roles (`FLUX_ROLE_*`), for handler rolemasks.
pub mod role {
    pub const NONE: u32 = crate::sys::FLUX_ROLE_NONE;
    pub const OWNER: u32 = crate::sys::FLUX_ROLE_OWNER;
    pub const USER: u32 = crate::sys::FLUX_ROLE_USER;
    pub const LOCAL: u32 = crate::sys::FLUX_ROLE_LOCAL;
    pub const ADMIN: u32 = crate::sys::FLUX_ROLE_ADMIN;
    pub const ALL: u32 = crate::sys::FLUX_ROLE_ALL;
}

/// [`Flux::job_submit`] flags (`enum job_submit_flags`, not emitted by bindgen).
pub mod submit_flags {
    pub const DEBUG: i32 = 2;
    /// Owner only.
    pub const WAITABLE: i32 = 4;
    /// Owner only: skip the job-ingest validators.
    pub const NOVALIDATE: i32 = 8;
}

/// Default job urgency.
pub const URGENCY_DEFAULT: i32 = 16;

/// syslog levels for [`Flux::log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum LogLevel {
    Emerg = libc::LOG_EMERG,
    Alert = libc::LOG_ALERT,
    Crit = libc::LOG_CRIT,
    Err = libc::LOG_ERR,
    Warning = libc::LOG_WARNING,
    Notice = libc::LOG_NOTICE,
    Info = libc::LOG_INFO,
    Debug = libc::LOG_DEBUG,
}

/// A borrowed Flux handle.  See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flux {
    h: NonNull<sys::flux_t>,
}

/// `&str` → `CString`, with interior NULs reported as `EINVAL`.
pub(crate) fn cstring(s: &str) -> Result<CString> {
    Ok(CString::new(s)?)
}

fn opt_cstring(s: Option<&str>) -> Result<Option<CString>> {
    s.map(cstring).transpose()
}

fn opt_ptr(s: &Option<CString>) -> *const std::ffi::c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

impl Flux {
    /// Wraps a handle owned by someone else (the module loader, the job-manager).
    ///
    /// # Safety
    /// `h` must be a valid, non-NULL `flux_t *` that outlives every use of the
    /// returned value (and of objects created from it), used only on this thread.
    ///
    /// # Panics
    /// If `h` is NULL.
    pub unsafe fn from_raw(h: *mut sys::flux_t) -> Flux {
        Flux { h: NonNull::new(h).expect("Flux::from_raw: NULL flux_t") }
    }

    /// The raw handle, for calls not wrapped here.
    pub fn as_ptr(self) -> *mut sys::flux_t {
        self.h.as_ptr()
    }

    /// The handle's reactor (`flux_get_reactor`, created on first use).
    pub fn reactor(self) -> Result<Reactor> {
        // SAFETY: valid handle (from_raw contract).
        let r = unsafe { sys::flux_get_reactor(self.as_ptr()) };
        // SAFETY: non-NULL reactor owned by the handle.
        NonNull::new(r).map(|r| unsafe { Reactor::from_raw(r.as_ptr()) }).ok_or_else(|| FluxError::last_os("flux_get_reactor"))
    }

    /// Runs the reactor until `flux_reactor_stop` (e.g. the default
    /// `<module>.shutdown` handler).  Returns the number of still-active
    /// watchers; an error only after `flux_reactor_stop_error`.
    ///
    /// **Call this outside any `catch_unwind`** and only from a frame chain that
    /// is `extern "C-unwind"` up to `mod_main`: at broker exit a lingering module
    /// thread is `pthread_cancel`ed, and the forced unwind must pass through
    /// (reference §1.2 item 9).  [`crate::module::main`] does exactly that;
    /// modules should not call this themselves.
    pub fn reactor_run(self) -> Result<i32> {
        let r = self.reactor()?;
        // SAFETY: valid reactor; declared C-unwind so a forced unwind may pass.
        let rc = unsafe { sys::flux_reactor_run(r.as_ptr(), 0) };
        if rc < 0 { Err(FluxError::last_os("flux_reactor_run")) } else { Ok(rc) }
    }

    /// `flux_reactor_stop`: makes [`Flux::reactor_run`] return normally.
    pub fn reactor_stop(self) -> Result<()> {
        self.reactor()?.stop();
        Ok(())
    }

    /// `flux_reactor_stop_error`: `reactor_run` returns an error and `mod_main`
    /// fails.  After load this **panics the broker** unless the module is being
    /// removed (§1.2 item 8); for unrecoverable conditions only.
    pub fn reactor_stop_error(self) -> Result<()> {
        self.reactor()?.stop_error();
        Ok(())
    }

    /// Sends a request (`flux_rpc`); the response arrives through the returned
    /// future's [`Future::then`].  `payload` is a JSON object string.
    pub fn rpc(self, topic: &str, payload: Option<&str>, nodeid: u32, flags: i32) -> Result<Future> {
        let topic_c = cstring(topic)?;
        let payload_c = opt_cstring(payload)?;
        // SAFETY: valid handle and NUL-terminated strings (copied by libflux).
        let f = unsafe {
            sys::flux_rpc(self.as_ptr(), topic_c.as_ptr(), opt_ptr(&payload_c), nodeid, flags as c_int)
        };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_rpc {topic}")) }
    }

    /// Publishes an event (`flux_event_publish`); the future is fulfilled once
    /// the event has a sequence number.  `flags`: `FLUX_MSGFLAG_PRIVATE` etc., usually 0.
    pub fn event_publish(self, topic: &str, flags: i32, payload: Option<&str>) -> Result<Future> {
        let topic_c = cstring(topic)?;
        let payload_c = opt_cstring(payload)?;
        // SAFETY: as in `rpc`.
        let f = unsafe { sys::flux_event_publish(self.as_ptr(), topic_c.as_ptr(), flags as c_int, opt_ptr(&payload_c)) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_event_publish {topic}")) }
    }

    /// Subscribes to events whose topic starts with `topic`, asynchronously
    /// (`flux_event_subscribe_ex`; the blocking `flux_event_subscribe` is not
    /// offered).  Events go to [`crate::MsgHandler`]s of type
    /// [`crate::MsgType::Event`].  Keep the future (or `then` it) to learn of errors.
    pub fn event_subscribe(self, topic: &str) -> Result<Future> {
        let topic_c = cstring(topic)?;
        // SAFETY: valid handle, copied string.
        let f = unsafe { sys::flux_event_subscribe_ex(self.as_ptr(), topic_c.as_ptr(), 0) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_event_subscribe {topic}")) }
    }

    /// Drops an event subscription, asynchronously (`flux_event_unsubscribe_ex`).
    pub fn event_unsubscribe(self, topic: &str) -> Result<Future> {
        let topic_c = cstring(topic)?;
        // SAFETY: valid handle, copied string.
        let f = unsafe { sys::flux_event_unsubscribe_ex(self.as_ptr(), topic_c.as_ptr(), 0) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_event_unsubscribe {topic}")) }
    }

    /// Responds to a request (`flux_respond`); a no-op for `NORESPONSE` requests.
    pub fn respond(self, msg: &impl AsMsg, payload: Option<&str>) -> Result<()> {
        let payload_c = opt_cstring(payload)?;
        // SAFETY: valid handle; `msg` is live for the call (AsMsg contract).
        let rc = unsafe { sys::flux_respond(self.as_ptr(), msg.as_msg_ptr(), opt_ptr(&payload_c)) };
        if rc < 0 { Err(FluxError::last_os("flux_respond")) } else { Ok(()) }
    }

    /// Responds with an error (`flux_respond_error`).  `errnum` 0 would become
    /// `EINVAL` in libflux; pass a real errno.
    pub fn respond_error(self, msg: &impl AsMsg, errnum: i32, errstr: Option<&str>) -> Result<()> {
        // An errstr with a NUL is still worth sending: truncate there.
        let errstr_c = errstr.map(|s| CString::new(s.split('\0').next().unwrap_or("")).unwrap_or_default());
        // SAFETY: as in `respond`.
        let rc = unsafe { sys::flux_respond_error(self.as_ptr(), msg.as_msg_ptr(), errnum, opt_ptr(&errstr_c)) };
        if rc < 0 { Err(FluxError::last_os("flux_respond_error")) } else { Ok(()) }
    }

    /// A broker attribute (`flux_attr_get`), or `None` if unset.  Module handles
    /// have cacheable attributes primed; others cost a **synchronous** RPC, so
    /// call this during setup, not on hot paths (and not from a jobtap plugin's
    /// job callbacks).
    pub fn attr_get(self, name: &str) -> Option<String> {
        let name_c = cstring(name).ok()?;
        // SAFETY: valid handle; the result is cached in the handle and copied at once.
        let s = unsafe { sys::flux_attr_get(self.as_ptr(), name_c.as_ptr()) };
        // SAFETY: non-NULL, NUL-terminated.
        (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    }

    /// This broker's rank.
    pub fn rank(self) -> Result<u32> {
        let mut rank = 0u32;
        // SAFETY: valid handle and out-pointer.
        let rc = unsafe { sys::flux_get_rank(self.as_ptr(), &mut rank) };
        if rc < 0 { Err(FluxError::last_os("flux_get_rank")) } else { Ok(rank) }
    }

    /// The instance size.
    pub fn size(self) -> Result<u32> {
        let mut size = 0u32;
        // SAFETY: valid handle and out-pointer.
        let rc = unsafe { sys::flux_get_size(self.as_ptr(), &mut size) };
        if rc < 0 { Err(FluxError::last_os("flux_get_size")) } else { Ok(size) }
    }

    /// Logs `msg` through `flux_log(h, level, "%s", msg)` (never as a format; the call is
    /// made by the C shim, so no variadic call crosses from Rust).
    /// NUL bytes are shown as `\0`.  Appears in `flux dmesg` as `<module>.<level>[rank]: msg`.
    pub fn log(self, level: LogLevel, msg: &str) {
        let c = CString::new(msg).unwrap_or_else(|_| CString::new(msg.replace('\0', "\\0")).unwrap_or_default());
        // SAFETY: valid handle and NUL-terminated message.
        unsafe { sys::ffb_log(self.as_ptr(), level as c_int, c.as_ptr()) };
    }

    /// The module name (`flux_aux_get(h, "flux::name")`), set by the module
    /// loader; `None` for other handles (e.g. the job-manager's, in a plugin: that is "job-manager").
    pub fn module_name(self) -> Option<String> {
        // SAFETY: valid handle; the aux value is a C string owned by the handle.
        let p = unsafe { sys::flux_aux_get(self.as_ptr(), c"flux::name".as_ptr()) } as *const std::ffi::c_char;
        // SAFETY: non-NULL, NUL-terminated.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    /// Submits a job (`flux_job_submit`): `jobspec` is RFC 25 JSON (signed
    /// here with mechanism `none`, owner only), `urgency` 0..31 ([`URGENCY_DEFAULT`]),
    /// `flags` from [`submit_flags`].  Get the id with [`crate::FutureRef::job_submit_get_id`].
    pub fn job_submit(self, jobspec: &str, urgency: i32, flags: i32) -> Result<Future> {
        let js = cstring(jobspec)?;
        // SAFETY: valid handle and string.
        let f = unsafe { sys::flux_job_submit(self.as_ptr(), js.as_ptr(), urgency, flags) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || "flux_job_submit".to_string()) }
    }

    /// Registers an extra service prefix (`flux_service_register`); complete
    /// with `then` + `rpc_get`.  A module's own name needs no registration.
    pub fn service_register(self, name: &str) -> Result<Future> {
        let name_c = cstring(name)?;
        // SAFETY: valid handle and string.
        let f = unsafe { sys::flux_service_register(self.as_ptr(), name_c.as_ptr()) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_service_register {name}")) }
    }

    /// Unregisters a service prefix (`flux_service_unregister`).
    pub fn service_unregister(self, name: &str) -> Result<Future> {
        let name_c = cstring(name)?;
        // SAFETY: valid handle and string.
        let f = unsafe { sys::flux_service_unregister(self.as_ptr(), name_c.as_ptr()) };
        // SAFETY: a fresh future we now own.
        unsafe { Future::from_new(f, || format!("flux_service_unregister {name}")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants() {
        assert_eq!(NODEID_ANY, u32::MAX);
        assert_eq!(RPC_STREAMING, 2);
        assert_eq!(role::USER, 2);
        assert_eq!(LogLevel::Err as i32, 3);
        assert_eq!(LogLevel::Debug as i32, 7);
    }

    #[test]
    fn cstring_rejects_nul() {
        assert_eq!(cstring("a\0b").unwrap_err().errnum, libc::EINVAL);
        assert_eq!(cstring("ok").unwrap().as_bytes(), b"ok");
    }
}
