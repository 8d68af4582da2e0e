//! The libfaketime timestamp file that carries simulated time into the whole instance.
//!
//! The broker runs with `LD_PRELOAD=libfaketime`, `FAKETIME_TIMESTAMP_FILE=<file>` and
//! `FAKETIME_NO_CACHE=1`, so every realtime clock read in the instance re-reads the file.
//! An *absolute* timestamp (`YYYY-MM-DD hh:mm:ss[.ffffff]`, no `@`) makes libfaketime
//! report a stopped clock: the scheduler's "now", R start times and eventlog timestamps
//! are the step's simulated time exactly, however long the step takes in wall time.
//! The monotonic clock is left alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`): the reactor's
//! timers, and every timeout in Flux, keep working in real time.

use ff_inputs::SimTime;

/// The file contents that stop the instance's clock at `t` (UTC; the run sets `TZ=UTC`).
pub fn faketime_stamp(t: SimTime) -> String {
    match chrono::DateTime::from_timestamp_micros(t.0) {
        Some(utc) => format!("{}\n", utc.format("%Y-%m-%d %H:%M:%S%.6f")),
        // Out of chrono's range (±262,000 years): no trace gets there; keep the clock as is.
        None => String::new(),
    }
}

/// Moves the instance's clock only forward: a clock that steps back would make Flux
/// see events out of order.
#[derive(Debug, Default)]
pub struct ForwardClock {
    last: Option<SimTime>,
}

impl ForwardClock {
    /// The stamp to write for `t`, or None when the clock is already there.
    pub fn advance(&mut self, t: SimTime) -> Option<String> {
        if self.last.is_some_and(|last| t <= last) {
            return None;
        }
        let stamp = faketime_stamp(t);
        if stamp.is_empty() {
            return None;
        }
        self.last = Some(t);
        Some(stamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_with_microseconds() {
        assert_eq!(faketime_stamp(SimTime::from_secs(1_546_300_800)), "2019-01-01 00:00:00.000000\n");
        assert_eq!(faketime_stamp(SimTime(1_546_301_160_250_000)), "2019-01-01 00:06:00.250000\n");
        assert_eq!(faketime_stamp(SimTime::from_secs(951_782_400)), "2000-02-29 00:00:00.000000\n");
        assert_eq!(faketime_stamp(SimTime::from_secs(0)), "1970-01-01 00:00:00.000000\n");
    }

    #[test]
    fn the_clock_never_goes_back() {
        let mut c = ForwardClock::default();
        assert!(c.advance(SimTime::from_secs(100)).is_some());
        assert!(c.advance(SimTime::from_secs(100)).is_none());
        assert!(c.advance(SimTime::from_secs(50)).is_none());
        assert!(c.advance(SimTime::from_secs(101)).is_some());
    }
}
