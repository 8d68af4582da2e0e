//! RFC 22 idsets (`"0-3,7"`): how R names the broker ranks a job was given.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdsetError(pub String);

impl fmt::Display for IdsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid idset '{}'", self.0)
    }
}

impl std::error::Error for IdsetError {}

/// Expands an idset into its members, in ascending order as written.
/// Accepts the bracketed form (`"[0-3]"`) too.
pub fn expand_idset(s: &str) -> Result<Vec<u32>, IdsetError> {
    let bad = || IdsetError(s.to_string());
    let body = s.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    if body.is_empty() {
        return Ok(out);
    }
    for part in body.split(',') {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let lo: u32 = lo.trim().parse().map_err(|_| bad())?;
                let hi: u32 = hi.trim().parse().map_err(|_| bad())?;
                if hi < lo {
                    return Err(bad());
                }
                out.extend(lo..=hi);
            }
            None => out.push(part.trim().parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_ranges_and_singletons() {
        assert_eq!(expand_idset("0-3,7").unwrap(), vec![0, 1, 2, 3, 7]);
        assert_eq!(expand_idset("[5]").unwrap(), vec![5]);
        assert_eq!(expand_idset("").unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn rejects_garbage() {
        assert!(expand_idset("3-1").is_err());
        assert!(expand_idset("a").is_err());
    }
}
