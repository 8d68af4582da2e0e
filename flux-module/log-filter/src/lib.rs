//! `ff-log-filter.so`, preloaded into a replay's broker: log messages above the broker's
//! log level are dropped where they are made, instead of after crossing the broker.
//!
//! Why: Fluxion's qmanager (the TauferLab fork) logs one LOG_DEBUG line per job it holds,
//! pending or running, each time it answers `sched.quiescent`, and the step barrier asks
//! at nearly every step. flux-core's `flux_vlog` sends every line to the broker as a
//! `log.append` request, whatever the level: the broker's main thread wakes up for each
//! one and then discards it, since the replay's broker runs at `-Slog-level` (the ring
//! buffer `flux dmesg` reads) and `-Slog-stderr-level` of 6 by default. With hundreds of
//! jobs waiting that is hundreds of messages per step, for nothing.
//!
//! How: every `flux_log` in libflux-core calls `flux_vlog` through the PLT, and so does
//! every module, so a preloaded `flux_vlog` takes its place. Messages at or below
//! `FF_LOG_LEVEL` (the broker's log level, set by `flux-fiction-run`) go on to the real
//! `flux_vlog` unchanged; the others would have been discarded by the broker, so nothing
//! that would have been kept is lost. Only a `flux setattr log-level` raised during a run
//! cannot bring the filtered lines back. Without `FF_LOG_LEVEL` nothing is filtered.
//!
//! `va_list` is passed through as the pointer the x86_64 calling convention makes of it;
//! on other architectures the library defines nothing and filters nothing.

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// syslog's LOG_PRIMASK: the level bits of a priority.
const LOG_PRIMASK: c_int = 0x07;

/// Which levels go through: a message passes when its level is at most this.
pub fn passes(priority: c_int, max_level: Option<c_int>) -> bool {
    max_level.is_none_or(|max| priority & LOG_PRIMASK <= max)
}

/// `FF_LOG_LEVEL` as a syslog level (0-7); anything else filters nothing.
pub fn max_level(value: Option<&str>) -> Option<c_int> {
    value.and_then(|v| v.trim().parse::<c_int>().ok()).filter(|level| (0..=7).contains(level))
}

#[cfg(target_arch = "x86_64")]
mod interpose {
    use super::*;

    /// `flux_vlog (flux_t *h, int level, const char *fmt, va_list ap)`.
    type Vlog = unsafe extern "C" fn(*mut c_void, c_int, *const c_char, *mut c_void) -> c_int;

    struct Filter {
        real: Option<Vlog>,
        max_level: Option<c_int>,
    }

    static FILTER: OnceLock<Filter> = OnceLock::new();

    fn filter() -> &'static Filter {
        FILTER.get_or_init(|| {
            // SAFETY: dlsym and dlopen with NUL-terminated names. RTLD_NEXT finds libflux-core's
            // definition when libflux-core is in the global scope (a broker, the flux command);
            // a library opened with RTLD_LOCAL (Python's bindings, in the processes the broker
            // starts) is not, but it is loaded by the time its flux_log calls this.
            let found = unsafe {
                let next = libc::dlsym(libc::RTLD_NEXT, c"flux_vlog".as_ptr());
                if next.is_null() {
                    let lib = libc::dlopen(c"libflux-core.so.2".as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD);
                    if lib.is_null() { lib } else { libc::dlsym(lib, c"flux_vlog".as_ptr()) }
                } else {
                    next
                }
            };
            // SAFETY: the symbol found is flux_vlog, whose C signature `Vlog` repeats.
            let real = (!found.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, Vlog>(found) });
            let level = std::env::var("FF_LOG_LEVEL").ok();
            Filter { real, max_level: max_level(level.as_deref()) }
        })
    }

    /// # Safety
    /// Called by C code with flux_vlog's arguments, which are passed on unchanged.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn flux_vlog(h: *mut c_void, level: c_int, fmt: *const c_char, ap: *mut c_void) -> c_int {
        let filter = filter();
        if !passes(level, filter.max_level) {
            return 0;
        }
        match filter.real {
            // SAFETY: the real flux_vlog, with the caller's own arguments.
            Some(real) => unsafe { real(h, level, fmt, ap) },
            None => {
                // SAFETY: errno is thread-local.
                unsafe { *libc::__errno_location() = libc::ENOSYS };
                -1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_above_the_level_are_dropped() {
        let info = Some(6);
        assert!(passes(libc::LOG_ERR, info));
        assert!(passes(libc::LOG_INFO, info));
        assert!(!passes(libc::LOG_DEBUG, info));
        // A facility in the priority does not change the level.
        assert!(!passes(libc::LOG_DEBUG | libc::LOG_USER, info));
        assert!(passes(libc::LOG_INFO | libc::LOG_USER, info));
    }

    #[test]
    fn without_a_valid_level_nothing_is_dropped() {
        assert_eq!(max_level(None), None);
        assert_eq!(max_level(Some("")), None);
        assert_eq!(max_level(Some("debug")), None);
        assert_eq!(max_level(Some("9")), None);
        assert_eq!(max_level(Some(" 6\n")), Some(6));
        assert!(passes(libc::LOG_DEBUG, None));
    }
}
