//! `Connection`: a broker connection opened by a client program (`flux_open`), as
//! opposed to the borrowed handle a module or plugin is given (see `handle.rs`).
//!
//! It owns its `flux_t` and closes it in `Drop`. A client runs the handle's reactor
//! itself ([`Flux::reactor_run`]) until a continuation stops it.

use std::ffi::CString;
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::handle::Flux;
use crate::sys;

#[derive(Debug)]
pub struct Connection {
    h: NonNull<sys::flux_t>,
}

impl Connection {
    /// Connects to the instance at `uri`, or to the enclosing one (`FLUX_URI`) if None.
    pub fn open(uri: Option<&str>) -> Result<Connection> {
        let uri_c = uri.map(CString::new).transpose()?;
        let ptr = uri_c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        // SAFETY: NULL or a NUL-terminated string, copied by libflux.
        let h = unsafe { sys::flux_open(ptr, 0) };
        let shown = uri.map(str::to_string).or_else(|| std::env::var("FLUX_URI").ok());
        let what = format!("flux_open {}", shown.as_deref().unwrap_or("(the enclosing instance)"));
        NonNull::new(h).map(|h| Connection { h }).ok_or_else(|| FluxError::last_os(&what))
    }

    /// The handle, for requests and the reactor. Every object made from it (futures,
    /// handlers) must be dropped before the connection.
    pub fn flux(&self) -> Flux {
        // SAFETY: a live handle this value owns, on this thread (`flux_t` is !Send,
        // and so is `Connection` through its NonNull).
        unsafe { Flux::from_raw(self.h.as_ptr()) }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // SAFETY: the one reference this value owns.
        unsafe { sys::flux_close(self.h.as_ptr()) };
    }
}
