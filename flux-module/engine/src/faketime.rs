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
#[derive(Debug, Default)]
pub struct ForwardClock {
    /// The last target written, and the real time it was written at.
    last: Option<(SimTime, i64)>,
    /// Largest amount by which the instance's clock was ahead of a step's simulated time.
    pub max_overrun_us: i64,
}

impl ForwardClock {
    /// The offset to write so the instance reads `t` now, or None if it already reads `t`
    /// or later.
    pub fn advance(&mut self, t: SimTime, real_now_us: i64) -> Option<String> {
        if let Some((target, written_at)) = self.last {
            let instance_now = target.0 + (real_now_us - written_at);
            if t.0 <= instance_now {
                self.max_overrun_us = self.max_overrun_us.max(instance_now - t.0);
                return None;
            }
        }
        self.last = Some((t, real_now_us));
        Some(faketime_offset(t, real_now_us))
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
}
