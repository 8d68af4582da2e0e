//! Simulated time: epoch instants and durations in whole microseconds.
//!
//! Every simulated time is quantized to 1 µs and kept as an integer, so that sums of
//! submit times and run times are exact and a schedule replays identically on every run
//! (floating-point sums would drift in the last digit and reorder events that tie).

use std::fmt;

use chrono::NaiveDateTime;
use std::ops::{Add, AddAssign, Sub, SubAssign};

const MICROS_PER_SEC: i64 = 1_000_000;

/// An instant of simulated time: Unix epoch time in microseconds (the trace's own clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub i64);

/// A span of simulated time in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub i64);

/// Rounds seconds to the nearest microsecond.
fn secs_to_micros(secs: f64) -> i64 {
    (secs * MICROS_PER_SEC as f64).round() as i64
}

fn micros_to_secs(micros: i64) -> f64 {
    micros as f64 / MICROS_PER_SEC as f64
}

/// Writes `micros` as seconds with exactly six decimals, without going through a float.
fn fmt_micros(micros: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let per_sec = MICROS_PER_SEC as u64;
    write!(f, "{sign}{}.{:06}", abs / per_sec, abs % per_sec)
}

impl SimTime {
    pub const fn from_micros(micros: i64) -> Self {
        SimTime(micros)
    }
    pub const fn from_secs(secs: i64) -> Self {
        SimTime(secs * MICROS_PER_SEC)
    }
    /// Epoch seconds, rounded to the nearest microsecond.
    pub fn from_secs_f64(secs: f64) -> Self {
        SimTime(secs_to_micros(secs))
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        micros_to_secs(self.0)
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_micros(micros: i64) -> Self {
        SimDuration(micros)
    }
    pub const fn from_secs(secs: i64) -> Self {
        SimDuration(secs * MICROS_PER_SEC)
    }
    /// Seconds, rounded to the nearest microsecond.
    pub fn from_secs_f64(secs: f64) -> Self {
        SimDuration(secs_to_micros(secs))
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        micros_to_secs(self.0)
    }
    /// Whole seconds when the duration has no fractional part (jobspecs print those as integers).
    pub const fn as_whole_secs(self) -> Option<i64> {
        if self.0 % MICROS_PER_SEC == 0 { Some(self.0 / MICROS_PER_SEC) } else { None }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]`, read as UTC (sacct prints local time without a zone;
/// the traces this emulator replays are written in UTC).
pub fn parse_iso_utc(text: &str) -> Result<SimTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| SimTime::from_micros(t.and_utc().timestamp_micros()))
        .map_err(|_| format!("expected a time like 2019-01-01T00:00:00, found \"{text}\""))
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_micros(self.0, f)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_micros(self.0, f)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0 + rhs.0)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 += rhs.0;
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0 - rhs.0)
    }
}

impl SubAssign<SimDuration> for SimTime {
    fn sub_assign(&mut self, rhs: SimDuration) {
        self.0 -= rhs.0;
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(self.0 - rhs.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0 + rhs.0)
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 += rhs.0;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0 - rhs.0)
    }
}

impl SubAssign for SimDuration {
    fn sub_assign(&mut self, rhs: SimDuration) {
        self.0 -= rhs.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_six_decimals_exactly() {
        assert_eq!(SimTime::from_secs(1_546_300_800).to_string(), "1546300800.000000");
        assert_eq!(SimTime::from_secs_f64(1_546_300_800.123456).to_string(), "1546300800.123456");
        assert_eq!(SimDuration::from_micros(-1_500_000).to_string(), "-1.500000");
        assert_eq!(SimDuration::from_micros(-5).to_string(), "-0.000005");
    }

    #[test]
    fn quantizes_to_the_nearest_microsecond() {
        assert_eq!(SimDuration::from_secs_f64(0.0000004), SimDuration(0));
        assert_eq!(SimDuration::from_secs_f64(0.0000006), SimDuration(1));
        assert_eq!(SimTime::from_secs_f64(1.5).as_secs_f64(), 1.5);
    }

    #[test]
    fn arithmetic_is_exact() {
        let t = SimTime::from_secs(10) + SimDuration::from_micros(1);
        assert_eq!(t - SimTime::from_secs(10), SimDuration(1));
        assert_eq!(t - SimDuration(1), SimTime::from_secs(10));
        assert_eq!(SimDuration::from_secs(600).as_whole_secs(), Some(600));
        assert_eq!(SimDuration::from_micros(1).as_whole_secs(), None);
    }
}
