//! Simulated time: epoch instants and durations in whole microseconds.
//!
//! Every simulated time is quantized to 1 µs and kept as an integer, so that sums of
//! submit times and run times are exact and a schedule replays identically on every run
//! (floating-point sums would drift in the last digit and reorder events that tie).

use std::fmt;

use chrono::NaiveDateTime;
use std::ops::{Add, AddAssign, Sub, SubAssign};

const MICROS_PER_SEC: i64 = 1_000_000;

/// The latest instant an input may give: 9999-12-31T23:59:59Z, in epoch seconds. Inputs
/// are checked against [`SimTime::from_input_secs`] and [`SimDuration::from_input_secs`]
/// so that no sum of an instant and durations can overflow, and a number a trace got
/// wrong (`1e300`) is an error rather than a saturated or wrapped time.
pub const LATEST_INPUT_SECS: i64 = 253_402_300_799;
/// The longest run time, time limit or offset an input may give: 100 years of 365 days.
pub const LONGEST_INPUT_SECS: i64 = 100 * 365 * 86_400;

/// An instant of simulated time: Unix epoch time in microseconds (the trace's own clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub i64);

/// A span of simulated time in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub i64);

/// Seconds as an error message shows them: as written for everyday values, in
/// scientific notation for huge ones (`1e300`, not three hundred digits).
pub fn show_secs(secs: f64) -> String {
    if secs.is_finite() && secs.abs() >= 1e15 { format!("{secs:e}") } else { secs.to_string() }
}

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
    /// Epoch seconds read from an input, which must lie between 1970 and the end of 9999;
    /// the error says what was wrong, for the reader to prefix with the file and line.
    pub fn from_input_secs(secs: f64) -> Result<Self, String> {
        if secs.is_finite() && (0.0..=LATEST_INPUT_SECS as f64).contains(&secs) {
            Ok(SimTime::from_secs_f64(secs))
        } else {
            Err(format!(
                "{} is out of range: epoch seconds from 0 (1970-01-01) to {LATEST_INPUT_SECS} (9999-12-31)",
                show_secs(secs)
            ))
        }
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
    /// Seconds read from an input (a run time, a limit, an offset), which must lie
    /// between 0 and 100 years.
    pub fn from_input_secs(secs: f64) -> Result<Self, String> {
        if secs.is_finite() && (0.0..=LONGEST_INPUT_SECS as f64).contains(&secs) {
            Ok(SimDuration::from_secs_f64(secs))
        } else {
            Err(format!("{} s is out of range: from 0 to {LONGEST_INPUT_SECS} s (100 years)", show_secs(secs)))
        }
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
/// the traces this emulator replays are written in UTC), from 1970 to the end of 9999.
pub fn parse_iso_utc(text: &str) -> Result<SimTime, String> {
    let micros = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| t.and_utc().timestamp_micros())
        .map_err(|_| format!("expected a time like 2019-01-01T00:00:00, found \"{text}\""))?;
    if !(0..=LATEST_INPUT_SECS * 1_000_000).contains(&micros) {
        return Err(format!("\"{text}\" is out of range: times from 1970-01-01T00:00:00 to 9999-12-31T23:59:59"));
    }
    Ok(SimTime::from_micros(micros))
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
    fn input_seconds_must_be_in_range() {
        assert_eq!(SimTime::from_input_secs(1.5), Ok(SimTime(1_500_000)));
        assert_eq!(SimTime::from_input_secs(LATEST_INPUT_SECS as f64), Ok(SimTime::from_secs(LATEST_INPUT_SECS)));
        assert_eq!(
            SimTime::from_input_secs(1e300).unwrap_err(),
            "1e300 is out of range: epoch seconds from 0 (1970-01-01) to 253402300799 (9999-12-31)"
        );
        assert_eq!(show_secs(-5.0), "-5");
        for bad in [-1.0, 1e300, f64::INFINITY, f64::NAN, LATEST_INPUT_SECS as f64 + 1.0] {
            assert!(SimTime::from_input_secs(bad).unwrap_err().contains("out of range"), "{bad}");
        }
        assert_eq!(SimDuration::from_input_secs(0.0), Ok(SimDuration::ZERO));
        assert_eq!(SimDuration::from_input_secs(3_153_600_000.0), Ok(SimDuration::from_secs(LONGEST_INPUT_SECS)));
        for bad in [-0.5, 3_153_600_000.5, 1e300, f64::NEG_INFINITY, f64::NAN] {
            assert!(SimDuration::from_input_secs(bad).unwrap_err().contains("out of range"), "{bad}");
        }
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
