//! RFC 22 idsets (`"0-3,7"`, `"[0-2]"`), via libflux-idset (feature `idset`):
//! the format of rank lists in R, `release` responses and resource events.
//!
//! libflux-idset.so.1 is not loaded by the broker's module-exec process, so a
//! cdylib using this needs an rpath to the flux libdir (see build.rs).

use std::ffi::{CStr, c_void};
use std::ptr::NonNull;

use crate::error::{FluxError, Result};
use crate::handle::cstring;
use crate::sys;

/// `IDSET_INVALID_ID` (`UINT_MAX - 1`; a macro, not emitted by bindgen).
const INVALID_ID: u32 = u32::MAX - 1;

struct IdSet(NonNull<sys::idset>);

impl Drop for IdSet {
    fn drop(&mut self) {
        // SAFETY: we own the idset.
        unsafe { sys::idset_destroy(self.0.as_ptr()) }
    }
}

/// Expands an idset string to its ids, ascending (`"0-2,5"` → `[0, 1, 2, 5]`).
pub fn expand(s: &str) -> Result<Vec<u32>> {
    let c = cstring(s)?;
    // SAFETY: NUL-terminated input; the result is owned by IdSet.
    let set = NonNull::new(unsafe { sys::idset_decode(c.as_ptr()) })
        .map(IdSet)
        .ok_or_else(|| FluxError::last_os(&format!("idset_decode {s:?}")))?;
    let mut ids = Vec::new();
    // SAFETY: live idset.
    let mut id = unsafe { sys::idset_first(set.0.as_ptr()) };
    while id != INVALID_ID {
        ids.push(id);
        // SAFETY: live idset.
        id = unsafe { sys::idset_next(set.0.as_ptr(), id) };
    }
    Ok(ids)
}

/// Encodes ids as a ranged idset string (`[0, 1, 2, 5]` → `"0-2,5"`).
pub fn encode(ids: &[u32]) -> Result<String> {
    let flags = (sys::idset_flags_IDSET_FLAG_AUTOGROW) as i32;
    // SAFETY: plain constructor; owned by IdSet.
    let set = NonNull::new(unsafe { sys::idset_create(0, flags) })
        .map(IdSet)
        .ok_or_else(|| FluxError::last_os("idset_create"))?;
    for &id in ids {
        if id >= INVALID_ID {
            return Err(FluxError::new(libc::EINVAL, format!("id {id} out of range")));
        }
        // SAFETY: live idset.
        if unsafe { sys::idset_set(set.0.as_ptr(), id) } < 0 {
            return Err(FluxError::last_os("idset_set"));
        }
    }
    // SAFETY: live idset; the result is malloc'd and freed below with libc::free.
    let p = unsafe { sys::idset_encode(set.0.as_ptr(), sys::idset_flags_IDSET_FLAG_RANGE as i32) };
    if p.is_null() {
        return Err(FluxError::last_os("idset_encode"));
    }
    // SAFETY: non-NULL NUL-terminated string, copied before it is freed.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: allocated by libflux-idset with malloc.
    unsafe { libc::free(p as *mut c_void) };
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        assert_eq!(expand("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert_eq!(expand("[3]").unwrap(), vec![3]);
        assert_eq!(expand("").unwrap(), Vec::<u32>::new());
        assert!(expand("x").is_err());
        assert_eq!(encode(&[5, 0, 1, 2]).unwrap(), "0-2,5");
        assert_eq!(encode(&[]).unwrap(), "");
    }
}
