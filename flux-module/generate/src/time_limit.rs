//! Time limits (the requested time a scheduler plans with) from run times: no model
//! above draws them, so a rule chosen with `--time-limit` derives them.
//!
//! * `factor:F` (F >= 1): the run time times F, rounded up to a whole minute (at least
//!   one): a user who knows the run time and adds a safety margin.
//! * `round`: the first of 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 24 h, 48 h
//!   that is at least the run time (beyond 48 h, whole days): users ask for such round
//!   values, and the overestimate that leaves is what backfilling works with.
//!
//! A limit is never below the run time, so no generated job is killed by its limit.

use std::fmt;

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;
/// The limits `round` picks from, in seconds.
const ROUND_LIMITS: [u64; 10] =
    [5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, DAY, 2 * DAY];

/// How a job's time limit follows from its run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeLimitRule {
    /// `factor:F`: ceil(run time x F), rounded up to a whole minute.
    Factor(f64),
    /// `round`: the next common limit.
    Round,
}

impl TimeLimitRule {
    /// Parses `round` or `factor:F`; the error says what is accepted.
    pub fn parse(text: &str) -> Result<TimeLimitRule, String> {
        if text == "round" {
            return Ok(TimeLimitRule::Round);
        }
        let Some(factor) = text.strip_prefix("factor:") else {
            return Err("expected `round` or `factor:F` (F >= 1, e.g. factor:1.5)".to_string());
        };
        match factor.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 1.0 => Ok(TimeLimitRule::Factor(f)),
            Ok(_) => {
                Err(format!("the factor must be at least 1 (a limit below the run time kills the job), got {factor}"))
            }
            Err(_) => Err(format!("expected a number after `factor:`, got \"{factor}\"")),
        }
    }

    /// The time limit, in seconds, of a job that runs `runtime` seconds.
    pub fn limit_for(self, runtime: u64) -> u64 {
        match self {
            TimeLimitRule::Factor(factor) => {
                let padded = libm::ceil(runtime as f64 * factor) as u64;
                padded.div_ceil(MINUTE).max(1) * MINUTE
            }
            TimeLimitRule::Round => match ROUND_LIMITS.iter().find(|&&limit| limit >= runtime) {
                Some(&limit) => limit,
                None => runtime.div_ceil(DAY) * DAY,
            },
        }
    }
}

impl fmt::Display for TimeLimitRule {
    /// The option's own spelling, for the trace header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeLimitRule::Factor(factor) => write!(f, "factor:{factor}"),
            TimeLimitRule::Round => f.write_str("round"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_pads_and_rounds_up_to_minutes() {
        let exact = TimeLimitRule::Factor(1.0);
        assert_eq!([1, 60, 61, 3600].map(|r| exact.limit_for(r)), [60, 60, 120, 3600]);
        let padded = TimeLimitRule::Factor(1.5);
        assert_eq!([40, 41, 100].map(|r| padded.limit_for(r)), [60, 120, 180]);
    }

    #[test]
    fn round_picks_the_next_common_limit() {
        let round = TimeLimitRule::Round;
        assert_eq!(
            [1, 300, 301, 3601, 86_400, 86_401].map(|r| round.limit_for(r)),
            [300, 300, 900, 7200, 86_400, 172_800]
        );
        assert_eq!(round.limit_for(172_801), 3 * 86_400);
    }

    #[test]
    fn parses_what_it_prints() {
        for rule in [TimeLimitRule::Round, TimeLimitRule::Factor(1.0), TimeLimitRule::Factor(2.25)] {
            assert_eq!(TimeLimitRule::parse(&rule.to_string()), Ok(rule));
        }
        assert!(TimeLimitRule::parse("factor:0.5").unwrap_err().contains("at least 1"));
        assert!(TimeLimitRule::parse("factor:x").unwrap_err().contains("expected a number"));
        assert!(TimeLimitRule::parse("exact").unwrap_err().contains("`round` or `factor:F`"));
    }
}
