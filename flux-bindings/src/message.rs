//! Messages (`flux_msg_t`): a borrowed view inside a callback, and an owned
//! reference for answering later.
//!
//! A handler's `msg` is borrowed for the duration of the callback; the
//! dispatcher destroys it afterwards (reference §1.6).  [`MsgRef<'a>`] carries
//! that lifetime, so strings decoded from it (which point into the message)
//! cannot outlive it.  To respond later (deferred or streaming responses, the
//! exec service's start requests) call [`MsgRef::to_owned`]: `flux_msg_incref`,
//! not a copy; [`Msg`] drops the reference with `flux_msg_decref`.

use std::ffi::{CStr, c_char, c_int};
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::handle::Flux;
use crate::sys;

/// A message type, or (for handlers) `Any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgType {
    Request,
    Response,
    Event,
    Control,
    /// Handler match only: every type.
    Any,
}

impl MsgType {
    /// The `FLUX_MSGTYPE_*` bit (or mask).
    pub fn typemask(self) -> c_int {
        (match self {
            MsgType::Request => sys::FLUX_MSGTYPE_REQUEST,
            MsgType::Response => sys::FLUX_MSGTYPE_RESPONSE,
            MsgType::Event => sys::FLUX_MSGTYPE_EVENT,
            MsgType::Control => sys::FLUX_MSGTYPE_CONTROL,
            MsgType::Any => sys::FLUX_MSGTYPE_ANY,
        }) as c_int
    }

    fn from_raw(t: c_int) -> Option<MsgType> {
        match t as u32 {
            sys::FLUX_MSGTYPE_REQUEST => Some(MsgType::Request),
            sys::FLUX_MSGTYPE_RESPONSE => Some(MsgType::Response),
            sys::FLUX_MSGTYPE_EVENT => Some(MsgType::Event),
            sys::FLUX_MSGTYPE_CONTROL => Some(MsgType::Control),
            _ => None,
        }
    }
}

/// Anything that is a live message: [`MsgRef`] and [`Msg`].  Sealed.
pub trait AsMsg: private::Sealed {
    /// The message pointer, valid while `self` is.
    fn as_msg_ptr(&self) -> *const sys::flux_msg_t;
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::MsgRef<'_> {}
    impl Sealed for super::Msg {}
}

/// A message borrowed for lifetime `'a` (a callback's duration).
#[derive(Clone, Copy, Debug)]
pub struct MsgRef<'a> {
    ptr: NonNull<sys::flux_msg_t>,
    _msg: PhantomData<&'a sys::flux_msg_t>,
}

fn c_str<'a>(p: *const c_char) -> Result<&'a str> {
    // SAFETY: callers pass a non-NULL NUL-terminated string living for 'a.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| FluxError::new(libc::EPROTO, "message string is not UTF-8"))
}

fn opt_c_str<'a>(p: *const c_char) -> Result<Option<&'a str>> {
    if p.is_null() { Ok(None) } else { c_str(p).map(Some) }
}

impl<'a> MsgRef<'a> {
    /// # Safety
    /// `msg` must be a valid non-NULL message that stays alive (and unmodified)
    /// for `'a`, used only on this thread.
    pub unsafe fn from_raw(msg: *const sys::flux_msg_t) -> MsgRef<'a> {
        MsgRef { ptr: NonNull::new(msg as *mut _).expect("MsgRef::from_raw: NULL"), _msg: PhantomData }
    }

    pub fn as_ptr(&self) -> *const sys::flux_msg_t {
        self.ptr.as_ptr()
    }

    /// The message type (`flux_msg_get_type`).
    pub fn msg_type(&self) -> Result<MsgType> {
        let mut t: c_int = 0;
        // SAFETY: live message, valid out-pointer.
        if unsafe { sys::flux_msg_get_type(self.as_ptr(), &mut t) } < 0 {
            return Err(FluxError::last_os("flux_msg_get_type"));
        }
        MsgType::from_raw(t).ok_or_else(|| FluxError::new(libc::EPROTO, format!("unknown message type {t}")))
    }

    /// The topic string.
    pub fn topic(&self) -> Result<&'a str> {
        let mut s: *const c_char = std::ptr::null();
        // SAFETY: live message; the topic points into it.
        if unsafe { sys::flux_msg_get_topic(self.as_ptr(), &mut s) } < 0 {
            return Err(FluxError::last_os("flux_msg_get_topic"));
        }
        c_str(s)
    }

    /// The string payload of any message type (`flux_msg_get_string`);
    /// `None` if there is none.  For requests prefer [`MsgRef::request_decode`],
    /// which also checks the type.
    pub fn payload(&self) -> Result<Option<&'a str>> {
        let mut s: *const c_char = std::ptr::null();
        // SAFETY: live message; the payload points into it.
        if unsafe { sys::flux_msg_get_string(self.as_ptr(), &mut s) } < 0 {
            return Err(FluxError::last_os("flux_msg_get_string"));
        }
        opt_c_str(s)
    }

    /// A request's payload (`flux_request_decode`); `EPROTO` if not a request.
    pub fn request_decode(&self) -> Result<Option<&'a str>> {
        let mut s: *const c_char = std::ptr::null();
        // SAFETY: live message; topic not wanted (NULL); payload points into the message.
        if unsafe { sys::flux_request_decode(self.as_ptr(), std::ptr::null_mut(), &mut s) } < 0 {
            return Err(FluxError::last_os("flux_request_decode"));
        }
        opt_c_str(s)
    }

    /// An event's topic and payload (`flux_event_decode`).
    pub fn event_decode(&self) -> Result<(&'a str, Option<&'a str>)> {
        let mut t: *const c_char = std::ptr::null();
        let mut s: *const c_char = std::ptr::null();
        // SAFETY: live message; both point into it.
        if unsafe { sys::flux_event_decode(self.as_ptr(), &mut t, &mut s) } < 0 {
            return Err(FluxError::last_os("flux_event_decode"));
        }
        Ok((c_str(t)?, opt_c_str(s)?))
    }

    /// True if the sender expects no response (responding is then a no-op).
    pub fn is_noresponse(&self) -> bool {
        // SAFETY: live message.
        unsafe { sys::flux_msg_is_noresponse(self.as_ptr()) }
    }

    /// True for a request sent with `FLUX_RPC_STREAMING`.
    pub fn is_streaming(&self) -> bool {
        // SAFETY: live message.
        unsafe { sys::flux_msg_is_streaming(self.as_ptr()) }
    }

    /// The sender's userid.
    pub fn userid(&self) -> Result<u32> {
        let mut id = 0u32;
        // SAFETY: live message, valid out-pointer.
        if unsafe { sys::flux_msg_get_userid(self.as_ptr(), &mut id) } < 0 {
            return Err(FluxError::last_os("flux_msg_get_userid"));
        }
        Ok(id)
    }

    /// The sender's rolemask (see [`crate::handle::role`]).
    pub fn rolemask(&self) -> Result<u32> {
        let mut r = 0u32;
        // SAFETY: live message, valid out-pointer.
        if unsafe { sys::flux_msg_get_rolemask(self.as_ptr(), &mut r) } < 0 {
            return Err(FluxError::last_os("flux_msg_get_rolemask"));
        }
        Ok(r)
    }

    /// True if both messages came from the same sender (`flux_msg_route_match_first`),
    /// e.g. to find the requests of a client that asks to cancel them.
    pub fn same_sender(&self, other: &impl AsMsg) -> bool {
        // SAFETY: both messages are live.
        unsafe { sys::flux_msg_route_match_first(self.as_ptr(), other.as_msg_ptr()) }
    }

    /// Keeps the message beyond the callback (`flux_msg_incref`).
    pub fn to_owned(&self) -> Msg {
        // SAFETY: live message; incref returns the same pointer.
        let p = unsafe { sys::flux_msg_incref(self.as_ptr()) };
        Msg { ptr: NonNull::new(p as *mut _).expect("flux_msg_incref returned NULL") }
    }

    /// Shorthand for [`Flux::respond`].
    pub fn respond(&self, h: Flux, payload: Option<&str>) -> Result<()> {
        h.respond(self, payload)
    }

    /// Shorthand for [`Flux::respond_error`].
    pub fn respond_error(&self, h: Flux, errnum: i32, errstr: Option<&str>) -> Result<()> {
        h.respond_error(self, errnum, errstr)
    }
}

impl AsMsg for MsgRef<'_> {
    fn as_msg_ptr(&self) -> *const sys::flux_msg_t {
        self.as_ptr()
    }
}

/// An owned reference to a message (refcounted; `Clone` increfs, `Drop` decrefs).
#[derive(Debug)]
pub struct Msg {
    ptr: NonNull<sys::flux_msg_t>,
}

impl Msg {
    /// A borrowed view for decoding; strings borrow from `self`.
    pub fn view(&self) -> MsgRef<'_> {
        MsgRef { ptr: self.ptr, _msg: PhantomData }
    }

    pub fn as_ptr(&self) -> *const sys::flux_msg_t {
        self.ptr.as_ptr()
    }

    /// Shorthand for [`Flux::respond`].
    pub fn respond(&self, h: Flux, payload: Option<&str>) -> Result<()> {
        h.respond(self, payload)
    }

    /// Shorthand for [`Flux::respond_error`].
    pub fn respond_error(&self, h: Flux, errnum: i32, errstr: Option<&str>) -> Result<()> {
        h.respond_error(self, errnum, errstr)
    }
}

impl Clone for Msg {
    fn clone(&self) -> Msg {
        self.view().to_owned()
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        // SAFETY: we hold one reference.
        unsafe { sys::flux_msg_decref(self.as_ptr()) };
    }
}

impl AsMsg for Msg {
    fn as_msg_ptr(&self) -> *const sys::flux_msg_t {
        self.as_ptr()
    }
}

/// [`Flux::respond`] as a free function.
pub fn respond(h: Flux, msg: &impl AsMsg, payload: Option<&str>) -> Result<()> {
    h.respond(msg, payload)
}

/// [`Flux::respond_error`] as a free function.
pub fn respond_error(h: Flux, msg: &impl AsMsg, errnum: i32, errstr: Option<&str>) -> Result<()> {
    h.respond_error(msg, errnum, errstr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typemasks() {
        assert_eq!(MsgType::Request.typemask(), 1);
        assert_eq!(MsgType::Event.typemask(), 4);
        assert_eq!(MsgType::Any.typemask(), 0xf);
        assert_eq!(MsgType::from_raw(2), Some(MsgType::Response));
        assert_eq!(MsgType::from_raw(3), None);
    }
}
