//! Moves the instance's clock: sets libfaketime's `FAKETIME` variable in the broker's own
//! environment (see `ff_engine::faketime` for the offset format).
//!
//! Every module is a thread of the broker process, and the broker runs with libfaketime
//! preloaded and `FAKETIME_NO_CACHE=1`: every realtime clock read in the instance parses
//! `FAKETIME` again, so a new value applies at once. That costs about 0.7 us a read,
//! where the timestamp-file form (`FAKETIME_TIMESTAMP_FILE`, an open, read and close per
//! read) costs 5-10 us, and every log line, eventlog entry, KVS commit and scheduling
//! pass reads the clock.
//!
//! The offset is computed from the *real* clock, read with a raw system call: this module
//! runs inside the faked instance, where libc's clock functions return the fake time.

use std::ffi::CString;

use ff_engine::ForwardClock;
use ff_inputs::SimTime;

const FAKETIME: &str = "FAKETIME";

pub struct InstanceClock {
    clock: ForwardClock,
}

impl InstanceClock {
    /// Fails unless the broker was started with `FAKETIME` set, i.e. under libfaketime as
    /// `flux-fiction-run` starts it: setting the variable would otherwise change nothing.
    pub fn new() -> Result<Self, String> {
        if std::env::var_os(FAKETIME).is_none() {
            return Err("faketime=1, but the broker has no FAKETIME in its environment: start it with \
                        LD_PRELOAD=libfaketimeMT.so.1 FAKETIME=+0s FAKETIME_NO_CACHE=1 \
                        FAKETIME_DONT_FAKE_MONOTONIC=1 FLUX_LOAD_WITH_DEEPBIND=0"
                .into());
        }
        Ok(InstanceClock { clock: ForwardClock::default() })
    }

    pub fn set(&mut self, t: SimTime) -> std::io::Result<()> {
        match self.clock.advance(t, real_now_us()?) {
            Some(offset) => write_faketime(offset),
            None => Ok(()),
        }
    }

    /// Stops the instance's clock while the replay is paused (the next `set` starts it).
    pub fn hold(&mut self) -> std::io::Result<()> {
        match self.clock.hold(real_now_us()?) {
            Some(stopped) => write_faketime(stopped),
            None => Ok(()),
        }
    }

    /// Largest lag of simulated time behind the instance's clock, in seconds.
    pub fn max_overrun(&self) -> f64 {
        self.clock.max_overrun_us as f64 / 1e6
    }
}

/// Sets `FAKETIME` in the broker's environment: every clock read in the instance sees it.
fn write_faketime(value: String) -> std::io::Result<()> {
    let value = CString::new(value).map_err(std::io::Error::other)?;
    let name = CString::new(FAKETIME).map_err(std::io::Error::other)?;
    // SAFETY: valid C strings. Other broker threads read FAKETIME concurrently (each
    // clock read calls getenv). glibc's setenv, for a variable that already exists
    // (checked in `new`), swaps the one pointer in `environ` to a newly allocated
    // "FAKETIME=..." string and never frees the strings it allocated, so a concurrent
    // getenv sees the old value or the new one, never freed memory; the `environ`
    // array itself is reallocated only when a variable is added, and nothing in the
    // broker adds variables while a replay runs.
    if unsafe { libc::setenv(name.as_ptr(), value.as_ptr(), 1) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The real time in epoch microseconds, bypassing libfaketime (a raw syscall, not libc's
/// interposable `clock_gettime` or the vDSO).
fn real_now_us() -> std::io::Result<i64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid clock id and out-pointer.
    let rc = unsafe { libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_REALTIME, &mut ts as *mut libc::timespec) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000)
}
