//! RFC 22 idsets as they appear in RV1 `R_lite` (`"0-3,7"`, optionally bracketed):
//! only their size is needed, to count ranks, cores and GPUs.

/// Number of ids in an idset string, or a description of what is wrong with it.
pub(crate) fn count(idset: &str) -> Result<u64, String> {
    let inner = idset.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(idset);
    if inner.is_empty() {
        return Ok(0);
    }
    let mut total = 0u64;
    for part in inner.split(',') {
        let bad = || format!("invalid idset \"{idset}\" (expected e.g. \"0-3,7\")");
        let (first, last) = match part.split_once('-') {
            Some((lo, hi)) => (lo.parse::<u64>().map_err(|_| bad())?, hi.parse::<u64>().map_err(|_| bad())?),
            None => {
                let id = part.parse::<u64>().map_err(|_| bad())?;
                (id, id)
            }
        };
        if last < first {
            return Err(bad());
        }
        total += last - first + 1;
    }
    Ok(total)
}

/// The idset `0..n` in canonical form: `"0"`, `"0-3"`.
pub(crate) fn first_n(n: u32) -> String {
    match n {
        0 => String::new(),
        1 => "0".to_string(),
        _ => format!("0-{}", n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_ranges_and_singletons() {
        assert_eq!(count("0"), Ok(1));
        assert_eq!(count("0-3,7"), Ok(5));
        assert_eq!(count("[1001-1010]"), Ok(10));
        assert_eq!(count(""), Ok(0));
        assert!(count("3-1").is_err());
        assert!(count("a").is_err());
    }

    #[test]
    fn builds_canonical_prefixes() {
        assert_eq!(first_n(1), "0");
        assert_eq!(first_n(16), "0-15");
    }
}
