//! Per-row adjustments worth telling the user about (rounded core counts, skipped SWF
//! records, ...). A huge trace may adjust every row, so only the first few messages are
//! kept, with a total.

use std::path::{Path, PathBuf};

/// How many warnings are kept word for word.
const LISTED: usize = 20;

#[derive(Debug)]
pub(crate) struct TraceWarnings {
    path: PathBuf,
    listed: Vec<String>,
    total: u64,
}

impl TraceWarnings {
    pub(crate) fn new(path: &Path) -> Self {
        TraceWarnings { path: path.to_path_buf(), listed: Vec::new(), total: 0 }
    }

    /// Records a warning about `line`; the message is only built if it will be listed.
    pub(crate) fn add(&mut self, line: u64, message: impl FnOnce() -> String) {
        self.total += 1;
        if self.listed.len() < LISTED {
            self.listed.push(format!("{}:{line}: {}", self.path.display(), message()));
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The listed warnings, then one line counting those left out.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines = self.listed.clone();
        let left_out = self.total - self.listed.len() as u64;
        if left_out > 0 {
            lines.push(format!("{}: ... and {left_out} more warnings ({} in all)", self.path.display(), self.total));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_twenty_and_counts_the_rest() {
        let mut w = TraceWarnings::new(Path::new("t.csv"));
        for line in 1..=25 {
            w.add(line, || format!("w{line}"));
        }
        let lines = w.lines();
        assert_eq!(lines.len(), 21);
        assert_eq!(lines[0], "t.csv:1: w1");
        assert_eq!(lines[20], "t.csv: ... and 5 more warnings (25 in all)");
        assert_eq!(w.total(), 25);
    }
}
