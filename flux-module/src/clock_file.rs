//! Writes the libfaketime timestamp file (see `ff_engine::faketime` for the format).
//!
//! The offset is computed from the *real* clock, read with a raw system call: this module
//! runs inside the faked instance, where libc's clock functions return the fake time.
//!
//! Every process in the instance re-reads the file on each clock read, so it is replaced
//! atomically: written to a temporary file beside it, then renamed over it. A reader sees
//! the old time or the new one, never a torn line.

use std::io::Write;
use std::path::{Path, PathBuf};

use ff_engine::ForwardClock;
use ff_inputs::SimTime;

pub struct ClockFile {
    path: PathBuf,
    tmp: PathBuf,
    clock: ForwardClock,
}

impl ClockFile {
    pub fn new(path: &Path) -> Self {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        ClockFile { path: path.to_path_buf(), tmp: PathBuf::from(tmp), clock: ForwardClock::default() }
    }

    pub fn set(&mut self, t: SimTime) -> std::io::Result<()> {
        let Some(stamp) = self.clock.advance(t, real_now_us()?) else { return Ok(()) };
        let mut f = std::fs::File::create(&self.tmp)?;
        f.write_all(stamp.as_bytes())?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path)
    }

    /// Largest lag of simulated time behind the instance's clock, in seconds.
    pub fn max_overrun(&self) -> f64 {
        self.clock.max_overrun_us as f64 / 1e6
    }
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
