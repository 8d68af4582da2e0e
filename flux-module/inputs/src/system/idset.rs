//! RFC 22 idsets as they appear in RV1 `R_lite` (`"0-3,7"`, optionally bracketed):
//! counted to size a system, expanded to name the ranks a job ran on.

/// The inclusive ranges of an idset string, or a description of what is wrong with it.
pub(crate) fn ranges(idset: &str) -> Result<Vec<(u32, u32)>, String> {
    let inner = idset.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(idset);
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    let bad = || format!("invalid idset \"{idset}\" (expected e.g. \"0-3,7\")");
    inner
        .split(',')
        .map(|part| {
            let (first, last) = match part.split_once('-') {
                Some((lo, hi)) => (lo.parse::<u32>().map_err(|_| bad())?, hi.parse::<u32>().map_err(|_| bad())?),
                None => {
                    let id = part.parse::<u32>().map_err(|_| bad())?;
                    (id, id)
                }
            };
            if last < first { Err(bad()) } else { Ok((first, last)) }
        })
        .collect()
}

/// Number of ids in an idset string.
pub fn count(idset: &str) -> Result<u64, String> {
    Ok(ranges(idset)?.iter().map(|(lo, hi)| u64::from(hi - lo) + 1).sum())
}

/// Every id of an idset string, in the order written.
pub fn expand(idset: &str) -> Result<Vec<u32>, String> {
    Ok(ranges(idset)?.into_iter().flat_map(|(lo, hi)| lo..=hi).collect())
}

/// The canonical idset string of `ids` (any order, duplicates ignored): `"0-3,7"`.
pub(crate) fn encode(ids: &[u32]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let first = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        parts.push(if sorted[i] == first { first.to_string() } else { format!("{first}-{}", sorted[i]) });
        i += 1;
    }
    parts.join(",")
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
    fn expands_in_order() {
        assert_eq!(expand("0-3,7"), Ok(vec![0, 1, 2, 3, 7]));
        assert_eq!(expand("[5]"), Ok(vec![5]));
        assert_eq!(expand(""), Ok(vec![]));
        assert!(expand("3-1").is_err());
    }

    #[test]
    fn encodes_ranges() {
        assert_eq!(encode(&[7, 0, 1, 2, 3, 3]), "0-3,7");
        assert_eq!(encode(&[5]), "5");
        assert_eq!(encode(&[]), "");
        assert_eq!(expand(&encode(&[9, 4, 5])), Ok(vec![4, 5, 9]));
    }

    #[test]
    fn builds_canonical_prefixes() {
        assert_eq!(first_n(1), "0");
        assert_eq!(first_n(16), "0-15");
    }
}
