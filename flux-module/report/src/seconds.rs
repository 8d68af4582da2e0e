//! Simulated time is carried as integer microseconds of epoch time and printed in every artifact
//! as seconds with six decimals (`1546300800.000000`), the format of the earlier implementation.
//! Formatting from the integer rather than through `f64` keeps every digit exact.

const MICROS_PER_SECOND: i64 = 1_000_000;

/// `1546300800_000001` -> `"1546300800.000001"`; negative values keep their sign (`-0.500000`).
pub fn format_micros_as_seconds(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let magnitude = us.unsigned_abs();
    let per_second = MICROS_PER_SECOND as u64;
    format!(
        "{sign}{}.{:06}",
        magnitude / per_second,
        magnitude % per_second
    )
}

/// Microseconds to (fractional) seconds, for JSON numbers and arithmetic on durations.
pub fn micros_to_seconds(us: i64) -> f64 {
    us as f64 / MICROS_PER_SECOND as f64
}

/// Instance-clock readings are already `f64` seconds; same six decimals as simulated times.
pub(crate) fn format_real_seconds(seconds: f64) -> String {
    format!("{seconds:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_exact_six_decimals() {
        assert_eq!(
            format_micros_as_seconds(1_546_300_800_000_000),
            "1546300800.000000"
        );
        assert_eq!(
            format_micros_as_seconds(1_546_300_800_000_001),
            "1546300800.000001"
        );
        assert_eq!(format_micros_as_seconds(0), "0.000000");
        assert_eq!(format_micros_as_seconds(-500_000), "-0.500000");
        assert_eq!(format_micros_as_seconds(-1_000_001), "-1.000001");
        assert_eq!(format_micros_as_seconds(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn real_seconds_round_to_micros() {
        assert_eq!(
            format_real_seconds(1_795_653_720.575_736),
            "1795653720.575736"
        );
        assert_eq!(micros_to_seconds(1_500_000), 1.5);
    }
}
