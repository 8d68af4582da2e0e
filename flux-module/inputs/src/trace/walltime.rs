//! Slurm time strings as `sacct` prints `Elapsed` and `Timelimit`:
//! `D-HH:MM:SS`, `HH:MM:SS`, `MM:SS` (also `D:HH:MM:SS`, which the Python implementation
//! read), each with optional fractional seconds; and `UNLIMITED` / `Partition_Limit`.
//! Anything else is an error: the Python implementation read unknown formats as 0 s.

use crate::time::{LONGEST_INPUT_SECS, SimDuration};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walltime {
    Limited(SimDuration),
    Unlimited,
}

const FORMATS: &str = "expected D-HH:MM:SS, HH:MM:SS or MM:SS (seconds may have a fraction) or UNLIMITED";

pub(crate) fn parse_walltime(text: &str) -> Result<Walltime, String> {
    if text.eq_ignore_ascii_case("UNLIMITED") || text.eq_ignore_ascii_case("Partition_Limit") {
        return Ok(Walltime::Unlimited);
    }
    let bad = || format!("\"{text}\": {FORMATS}");
    let (days, clock) = match text.split_once('-') {
        Some((days, clock)) => (Some(days), clock),
        None => (None, text),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let (days, hours, minutes, seconds) = match (days, parts.as_slice()) {
        (Some(d), &[h, m, s]) | (None, &[d, h, m, s]) => (Some(d), Some(h), m, s),
        (None, &[h, m, s]) => (None, Some(h), m, s),
        (None, &[m, s]) => (None, None, m, s),
        _ => return Err(bad()),
    };
    let whole = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let below = |value: u32, limit: u32, unit: &str| -> Result<u32, String> {
        if value < limit { Ok(value) } else { Err(format!("\"{text}\": {value} {unit} is out of range")) }
    };
    // The largest unit given is unbounded (`90:00` is 90 minutes); the ones below it wrap.
    let days = days.map(whole).transpose()?;
    let hours = hours.map(whole).transpose()?;
    let hours = match days {
        Some(_) => below(hours.unwrap_or(0), 24, "hours")?,
        None => hours.unwrap_or(0),
    };
    let minutes = whole(minutes)?;
    let minutes = if parts.len() > 2 { below(minutes, 60, "minutes")? } else { minutes };
    let (secs, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let secs = below(whole(secs)?, 60, "seconds")?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let total_secs = ((i64::from(days.unwrap_or(0)) * 24 + i64::from(hours)) * 60 + i64::from(minutes)) * 60
        + i64::from(secs);
    let micros = total_secs.checked_mul(1_000_000).ok_or_else(bad)? + fraction_to_micros(fraction);
    if micros > LONGEST_INPUT_SECS * 1_000_000 {
        return Err(format!("\"{text}\" is out of range: at most {LONGEST_INPUT_SECS} s (100 years)"));
    }
    Ok(Walltime::Limited(SimDuration::from_micros(micros)))
}

/// Decimal digits after the point, rounded to microseconds.
fn fraction_to_micros(digits: &str) -> i64 {
    let tenths_of_micros = digits
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(7)
        .fold(0i64, |acc, digit| acc * 10 + i64::from(digit - b'0'));
    (tenths_of_micros + 5) / 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> f64 {
        match parse_walltime(text).unwrap() {
            Walltime::Limited(d) => d.as_secs_f64(),
            Walltime::Unlimited => panic!("{text} is unlimited"),
        }
    }

    #[test]
    fn reads_every_sacct_format() {
        assert_eq!(secs("1-02:03:04"), 93_784.0);
        assert_eq!(secs("1:02:03:04"), 93_784.0);
        assert_eq!(secs("02:03:04"), 7_384.0);
        assert_eq!(secs("36:00:00"), 129_600.0);
        assert_eq!(secs("03:04"), 184.0);
        assert_eq!(secs("90:00"), 5_400.0);
        assert_eq!(secs("00:00:00"), 0.0);
        assert_eq!(secs("00:06:00.5"), 360.5);
        assert_eq!(secs("00:00:01.1234567"), 1.123457);
        assert_eq!(parse_walltime("UNLIMITED"), Ok(Walltime::Unlimited));
        assert_eq!(parse_walltime("unlimited"), Ok(Walltime::Unlimited));
        assert_eq!(parse_walltime("Partition_Limit"), Ok(Walltime::Unlimited));
    }

    #[test]
    fn rejects_everything_else() {
        assert!(parse_walltime("36500-00:00:00").is_ok());
        assert!(parse_walltime("36501-00:00:00").unwrap_err().contains("out of range"));
        for bad in ["", "60", "INVALID", "1-02:03", "a:b", "1:2:3:4:5", "00:60", "01:60:00", "1-24:00:00", "-1:00", "00:01.x", " 1:00"] {
            assert!(parse_walltime(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
