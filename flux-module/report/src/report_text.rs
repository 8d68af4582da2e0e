//! How `report.html` writes things as text: HTML escaping, numbers, dates and durations. One place,
//! so a number reads the same in every table of the page.

use serde_json::Value;

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A number with at most 2 decimals, trailing zeros dropped (`75.39`, `40.5`, `1440`).
pub(crate) fn number(x: f64) -> String {
    let text = format!("{x:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// A JSON value as text: numbers as [`number`], `null` (or nothing) as a dash.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Null => "–".to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => number(f),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Epoch seconds as `2019-01-01 00:00:00 UTC`; a dash when absent or out of range.
pub(crate) fn utc_time(epoch_seconds: Option<f64>) -> String {
    epoch_seconds
        .and_then(|s| chrono::DateTime::from_timestamp(s.floor() as i64, 0))
        .map_or_else(|| "–".to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// A duration in seconds as `3 d 04:05:06` (days only when there are any).
pub(crate) fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (days, rest) = (total / 86400, total % 86400);
    let hms = format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 { format!("{days} d {hms}") } else { hms }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_dates_and_durations() {
        assert_eq!(number(75.392605), "75.39");
        assert_eq!(number(1440.0), "1440");
        assert_eq!(number(-0.001), "0");
        assert_eq!(show(&json!(40.5)), "40.5");
        assert_eq!(show(&json!(7)), "7");
        assert_eq!(show(&Value::Null), "–");
        assert_eq!(utc_time(Some(1_546_300_800.75)), "2019-01-01 00:00:00 UTC");
        assert_eq!(utc_time(None), "–");
        assert_eq!(duration(59.6), "00:01:00");
        assert_eq!(duration(3.0 * 86400.0 + 4.0 * 3600.0 + 5.0 * 60.0 + 6.0), "3 d 04:05:06");
        assert_eq!(escape("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
    }
}
