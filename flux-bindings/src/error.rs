//! `FluxError`: the one error type of this crate.
//!
//! libflux reports failure as `-1`/`NULL` plus `errno`, and futures carry an
//! optional error string (the `errstr` of an RFC 6 error response).  Both are
//! turned into a `FluxError { errnum, context }` here and nowhere else, so an
//! error can be relayed unchanged with `respond_error(h, msg, e.errnum, Some(&e.context))`.

use std::ffi::{CStr, NulError};
use std::fmt;

use crate::sys;

/// `Result` with [`FluxError`].
pub type Result<T> = std::result::Result<T, FluxError>;

/// An errno value plus a human-readable message.
///
/// `context` is the complete message (for errors from futures it is the remote
/// error string, e.g. `"Unknown service method 'x.y'"`); `Display` prints it,
/// or `strerror(errnum)` if it is empty.
#[derive(Clone, PartialEq, Eq)]
pub struct FluxError {
    pub errnum: i32,
    pub context: String,
}

impl FluxError {
    /// An error with an explicit errno and message.
    pub fn new(errnum: i32, context: impl Into<String>) -> FluxError {
        FluxError { errnum, context: context.into() }
    }

    /// From the current `errno` after a failed libflux call: `"<what>: <strerror>"`.
    pub(crate) fn last_os(what: &str) -> FluxError {
        let errnum = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL);
        let errnum = if errnum == 0 { libc::EINVAL } else { errnum };
        FluxError { errnum, context: format!("{what}: {}", strerror(errnum)) }
    }

    /// From a failed `flux_*_get` on `f`: `errno` plus `flux_future_error_string(f)`.
    ///
    /// # Safety
    /// `f` must be a live future on which a get call has just failed.
    pub(crate) unsafe fn from_future(f: *mut sys::flux_future_t) -> FluxError {
        let errnum = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL);
        let errnum = if errnum == 0 { libc::EINVAL } else { errnum };
        // SAFETY: caller guarantees `f` is live; the string is owned by `f` and copied.
        let s = unsafe { sys::flux_future_error_string(f) };
        let context = if s.is_null() {
            strerror(errnum)
        } else {
            // SAFETY: non-NULL, NUL-terminated, owned by the live future.
            unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
        };
        FluxError { errnum, context }
    }

    /// The errno value (e.g. `libc::ENOENT`).
    pub fn errnum(&self) -> i32 {
        self.errnum
    }
}

impl fmt::Display for FluxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            f.write_str(&strerror(self.errnum))
        } else {
            f.write_str(&self.context)
        }
    }
}

impl fmt::Debug for FluxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FluxError({}, {:?})", self.errnum, self.context)
    }
}

impl std::error::Error for FluxError {}

impl From<NulError> for FluxError {
    fn from(e: NulError) -> FluxError {
        FluxError::new(libc::EINVAL, format!("string contains a NUL byte at {}", e.nul_position()))
    }
}

impl From<serde_json::Error> for FluxError {
    fn from(e: serde_json::Error) -> FluxError {
        FluxError::new(libc::EPROTO, e.to_string())
    }
}

/// `strerror(errnum)` via `flux_strerror`, which also knows Flux's private errnos.
pub fn strerror(errnum: i32) -> String {
    // SAFETY: flux_strerror returns a static or thread-local string, copied at once.
    let s = unsafe { sys::flux_strerror(errnum) };
    if s.is_null() {
        return format!("error {errnum}");
    }
    // SAFETY: non-NULL and NUL-terminated.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prefers_context() {
        let e = FluxError::new(libc::ENOENT, "no such thing");
        assert_eq!(e.to_string(), "no such thing");
        assert_eq!(e.errnum(), libc::ENOENT);
        let e = FluxError::new(libc::ENOENT, "");
        assert_eq!(e.to_string(), "No such file or directory");
    }

    #[test]
    fn nul_becomes_einval() {
        let e: FluxError = std::ffi::CString::new("a\0b").unwrap_err().into();
        assert_eq!(e.errnum, libc::EINVAL);
    }
}
