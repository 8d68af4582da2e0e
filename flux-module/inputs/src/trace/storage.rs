//! The rabbit storage column of sacct-style traces: how much near-node SSD storage
//! (GiB) a job asked for, as the El Capitan traces record it.
//!
//! The column may be called `RabbitStorageGiB`, `RabbitGiB`, `RABBIT_STORAGE_GIB`,
//! `RABBIT_GIB` or `SSD_GIB` (any case); a value is a number of GiB, optionally followed
//! by `GiB` (`15000`, `1.5 GiB`). The earlier implementation's GB-named columns are
//! refused: their values were never GiB, and silently reading them as 0 hid requests.

use std::path::Path;

use super::TraceError;

/// Names of the storage column, in the order they were introduced.
const GIB_COLUMNS: [&str; 5] = ["RabbitStorageGiB", "RabbitGiB", "RABBIT_STORAGE_GIB", "RABBIT_GIB", "SSD_GIB"];

/// The GB-named columns the earlier implementation accepted at first.
const LEGACY_GB_COLUMNS: [&str; 5] = ["RabbitStorageGB", "RabbitGB", "RABBIT_STORAGE_GB", "RABBIT_GB", "SSD_GB"];

/// Where the storage column is in the header, if there is one. A legacy GB column, or
/// two storage columns (which one would count?), is an error naming the header line.
pub(crate) fn find_column(header: &[String], path: &Path, line: u64) -> Result<Option<usize>, TraceError> {
    let header_error = |column: &str, problem: String| TraceError::Field {
        path: path.to_path_buf(),
        line,
        field: column.to_string(),
        problem,
    };
    if let Some(legacy) = header.iter().find(|h| LEGACY_GB_COLUMNS.iter().any(|gb| h.eq_ignore_ascii_case(gb))) {
        return Err(header_error(
            legacy,
            "GB-named storage columns are no longer supported; give the request in GiB in a column such as \
             RabbitGiB"
                .to_string(),
        ));
    }
    let mut found = header
        .iter()
        .enumerate()
        .filter(|(_, h)| GIB_COLUMNS.iter().any(|name| h.eq_ignore_ascii_case(name)));
    let first = found.next();
    if let (Some((_, first)), Some((_, second))) = (first, found.next()) {
        return Err(header_error(second, format!("a second storage column beside {first}; keep one")));
    }
    Ok(first.map(|(column, _)| column))
}

/// A storage request in GiB, as written in the trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StorageRequest {
    /// Whole GiB: Fluxion counts SSD storage in units of 1 GiB.
    pub gib: u64,
    /// The value had a fraction, which was rounded up.
    pub rounded_up: bool,
}

/// Parses a storage value: GiB as a non-negative decimal number, optionally followed by
/// `GiB` (any case, spaces allowed before it). An empty value asks for none.
pub(crate) fn parse_gib(text: &str) -> Result<StorageRequest, String> {
    let number = match text.len().checked_sub(3).filter(|&at| text.is_char_boundary(at)) {
        Some(at) if text[at..].eq_ignore_ascii_case("gib") => text[..at].trim_end(),
        _ => text,
    };
    if number.is_empty() {
        return match text {
            "" => Ok(StorageRequest { gib: 0, rounded_up: false }),
            _ => Err(format!("expected GiB such as 15000 or 15000GiB, found \"{text}\"")),
        };
    }
    // "15000GB", "1.5 TiB": a number in some other unit.
    let unit_hint = |found: &str| {
        let unit = found.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        if unit.len() == found.len() || unit.trim().is_empty() {
            String::new()
        } else {
            format!(": storage must be given in GiB, not \"{}\"", unit.trim())
        }
    };
    if number.starts_with('-') {
        return Err(format!("\"{text}\": a storage request cannot be negative"));
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (number.contains('.') && fraction.is_empty()) {
        return Err(format!("expected GiB such as 15000 or 15000GiB, found \"{text}\"{}", unit_hint(number)));
    }
    let gib: u64 = whole.parse().map_err(|_| format!("\"{text}\" GiB is too large"))?;
    let rounded_up = fraction.bytes().any(|b| b != b'0');
    let gib = if rounded_up { gib.checked_add(1).ok_or_else(|| format!("\"{text}\" GiB is too large"))? } else { gib };
    Ok(StorageRequest { gib, rounded_up })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gib(text: &str) -> Result<(u64, bool), String> {
        parse_gib(text).map(|r| (r.gib, r.rounded_up))
    }

    #[test]
    fn values_in_gib_with_or_without_the_unit() {
        assert_eq!(gib("15000"), Ok((15000, false)));
        assert_eq!(gib("15000GiB"), Ok((15000, false)));
        assert_eq!(gib("8154 gib"), Ok((8154, false)));
        assert_eq!(gib("2.0"), Ok((2, false)));
        assert_eq!(gib("1.25GiB"), Ok((2, true)));
        assert_eq!(gib("0"), Ok((0, false)));
        assert_eq!(gib(""), Ok((0, false)));
    }

    #[test]
    fn anything_else_is_an_error_that_says_why() {
        assert_eq!(gib("-5"), Err("\"-5\": a storage request cannot be negative".to_string()));
        assert_eq!(gib("lots"), Err("expected GiB such as 15000 or 15000GiB, found \"lots\"".to_string()));
        assert_eq!(
            gib("15000GB"),
            Err("expected GiB such as 15000 or 15000GiB, found \"15000GB\": storage must be given in GiB, not \"GB\""
                .to_string())
        );
        assert!(gib("GiB").is_err());
        assert!(gib("1.").is_err());
        assert!(gib(".5").is_err());
        assert!(gib("1e3").is_err());
        assert!(gib("99999999999999999999").unwrap_err().contains("too large"));
    }

    #[test]
    fn columns_are_found_case_insensitively_and_gb_columns_refused() {
        let header = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let path = Path::new("t.csv");
        assert_eq!(find_column(&header(&["NNodes", "rabbitgib"]), path, 1).unwrap(), Some(1));
        assert_eq!(find_column(&header(&["SSD_GIB", "NNodes"]), path, 1).unwrap(), Some(0));
        assert_eq!(find_column(&header(&["NNodes"]), path, 1).unwrap(), None);
        let err = find_column(&header(&["NNodes", "RabbitGB"]), path, 3).unwrap_err().to_string();
        assert_eq!(
            err,
            "t.csv:3: RabbitGB: GB-named storage columns are no longer supported; give the request in GiB in a \
             column such as RabbitGiB"
        );
        let err = find_column(&header(&["RabbitGiB", "SSD_GIB"]), path, 1).unwrap_err().to_string();
        assert_eq!(err, "t.csv:1: SSD_GIB: a second storage column beside RabbitGiB; keep one");
    }
}
