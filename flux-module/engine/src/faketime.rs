//! The libfaketime offset that carries simulated time into the whole instance.
//!
//! The broker runs with `LD_PRELOAD=libfaketime`, `FAKETIME=<offset>` and
//! `FAKETIME_NO_CACHE=1`, so every realtime clock read in the instance parses `FAKETIME`
//! again; ff-emu changes the variable in the broker's environment before each step.
//! `flux-fiction-prepare` writes the first offset to the run directory's `faketime` file,
//! from which `flux-fiction-run` starts the broker. The offset is relative
//! (`+12.500000s`): the instance's clock is the real clock plus the offset, so after each
//! change it reads the step's simulated time and then runs at wall-clock speed for the few
//! milliseconds the step takes. (A stopped clock, libfaketime's absolute form, would be
//! exact, but job-ingest then never answers a submission.) The monotonic clock is left
//! alone (`FAKETIME_DONT_FAKE_MONOTONIC=1`), so the reactors' timers, and every timeout in
//! Flux, keep working in real time.
//!
//! While a replay is paused the clock is held (the absolute form, which stops it) at the
//! instance's current time, so that a pause of any length moves neither simulated time
//! nor the instance's own clock, and the scheduler plans from the same "now" on resume.
//! Nothing submits while paused; the next step writes a relative offset again.

use ff_inputs::SimTime;

/// The offset that makes a clock read `target` when the real clock reads `real_now`
/// (both in epoch microseconds).
pub fn faketime_offset(target: SimTime, real_now_us: i64) -> String {
    let offset = target.0 - real_now_us;
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!("{sign}{}.{:06}s", abs / 1_000_000, abs % 1_000_000)
}

/// Moves the instance's clock only forward: a clock that steps back would make Flux
/// see events out of order. When a step took longer than the simulated gap to the next
/// one, the clock is already past that time and is left alone; the overrun is reported.
/// libfaketime's stopped clock at `t`: an absolute local time with microseconds. The
/// broker runs with `TZ=UTC` (`flux-fiction-run` starts it so), so local time is UTC.
pub fn faketime_stopped_at(t: SimTime) -> String {
    let secs = t.0.div_euclid(1_000_000);
    let micros = t.0.rem_euclid(1_000_000);
    let stamp = chrono::DateTime::from_timestamp(secs, 0).map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string());
    format!("{}.{micros:06}", stamp.unwrap_or_else(|| "1970-01-01 00:00:00".into()))
}

#[derive(Debug, Default)]
pub struct ForwardClock {
    /// The last target written, and the real time it was written at.
    last: Option<(SimTime, i64)>,
    /// The clock is stopped at `last`'s target (see [`ForwardClock::hold`]).
    held: bool,
    /// Largest amount by which the instance's clock was ahead of a step's simulated time.
    pub max_overrun_us: i64,
}

impl ForwardClock {
    /// The offset to write so the instance reads `t` now, or None if it already reads `t`
    /// or later.
    pub fn advance(&mut self, t: SimTime, real_now_us: i64) -> Option<String> {
        if let Some((target, written_at)) = self.last {
            let instance_now = if self.held { target.0 } else { target.0 + (real_now_us - written_at) };
            if t.0 <= instance_now {
                self.max_overrun_us = self.max_overrun_us.max(instance_now - t.0);
                if std::mem::replace(&mut self.held, false) {
                    // Running again from where it stood.
                    self.last = Some((target, real_now_us));
                    return Some(faketime_offset(target, real_now_us));
                }
                return None;
            }
        }
        self.held = false;
        self.last = Some((t, real_now_us));
        Some(faketime_offset(t, real_now_us))
    }

    /// The value that stops the instance's clock where it reads now (the next `advance`
    /// starts it again), or None before the first `advance` (the clock then runs on from
    /// the start-up offset, which the first step moves forward).
    pub fn hold(&mut self, real_now_us: i64) -> Option<String> {
        let (target, written_at) = self.last?;
        let instance_now = if self.held { target } else { SimTime(target.0 + (real_now_us - written_at)) };
        self.held = true;
        self.last = Some((instance_now, real_now_us));
        Some(faketime_stopped_at(instance_now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_signed_seconds_with_microseconds() {
        assert_eq!(faketime_offset(SimTime(1_000_000), 3_500_000), "-2.500000s");
        assert_eq!(faketime_offset(SimTime(4_000_001), 1_000_000), "+3.000001s");
        assert_eq!(faketime_offset(SimTime(7), 7), "+0.000000s");
    }

    #[test]
    fn the_clock_never_goes_back() {
        let mut c = ForwardClock::default();
        let real = 1_800_000_000_000_000;
        assert!(c.advance(SimTime::from_secs(100), real).is_some());
        // 0.2 s later the instance reads 100.2: a step at 100.1 is already past.
        assert!(c.advance(SimTime(100_100_000), real + 200_000).is_none());
        assert_eq!(c.max_overrun_us, 100_000);
        assert!(c.advance(SimTime::from_secs(50), real + 300_000).is_none());
        assert_eq!(c.advance(SimTime::from_secs(101), real + 300_000).as_deref(), Some("-1799999899.300000s"));
    }

    #[test]
    fn a_held_clock_stands_still_and_runs_on_from_there() {
        let mut c = ForwardClock::default();
        let real = 1_800_000_000_000_000;
        assert_eq!(c.hold(real), None, "nothing to hold before the first step");
        c.advance(SimTime::from_secs(1_647_216_040), real);
        // Held 0.25 s after the step: it reads the step time + 0.25 s from then on.
        assert_eq!(c.hold(real + 250_000).as_deref(), Some("2022-03-14 00:00:40.250000"));
        assert_eq!(c.hold(real + 9_000_000).as_deref(), Some("2022-03-14 00:00:40.250000"));
        // An hour later the next step (at 40.1, already past) starts it again where it stood...
        let later = real + 3_600_000_000;
        assert_eq!(c.advance(SimTime(1_647_216_040_100_000), later), Some(faketime_offset(SimTime(1_647_216_040_250_000), later)));
        assert_eq!(c.max_overrun_us, 150_000);
        // ...and a later one moves it forward as usual.
        assert_eq!(c.advance(SimTime::from_secs(1_647_216_100), later + 1), Some(faketime_offset(SimTime::from_secs(1_647_216_100), later + 1)));
        assert_eq!(faketime_stopped_at(SimTime(5)), "1970-01-01 00:00:00.000005");
    }
}
