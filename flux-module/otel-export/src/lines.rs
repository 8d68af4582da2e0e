//! Reading a file that another process is still appending lines to.
//!
//! The writer (ff-emu's span sink) appends whole lines, but a reader can still catch one
//! half-written: only text up to the last newline is handed out; the rest waits for the
//! next read.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub struct LineFollower {
    path: PathBuf,
    file: Option<File>,
    partial: Vec<u8>,
}

impl LineFollower {
    pub fn new(path: &Path) -> Self {
        LineFollower { path: path.to_path_buf(), file: None, partial: Vec::new() }
    }

    /// The complete lines appended since the last call (none while the file does not exist).
    pub fn read_lines(&mut self) -> io::Result<Vec<String>> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        let Some(file) = self.file.as_mut() else { return Ok(Vec::new()) };
        // Each read goes on from where the last one stopped.
        file.read_to_end(&mut self.partial)?;
        let Some(last_newline) = self.partial.iter().rposition(|&b| b == b'\n') else { return Ok(Vec::new()) };
        let rest = self.partial.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut self.partial, rest);
        Ok(String::from_utf8_lossy(&complete).lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
    }

    /// Text after the last newline (a line whose writer stopped half-way).
    pub fn unfinished(&self) -> usize {
        self.partial.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn only_whole_lines_come_out_and_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spans.jsonl");
        let mut follower = LineFollower::new(&path);
        assert!(follower.read_lines().unwrap().is_empty(), "no file yet");
        let mut w = std::fs::File::create(&path).unwrap();
        w.write_all(b"{\"a\":1}\n{\"b\"").unwrap();
        assert_eq!(follower.read_lines().unwrap(), vec!["{\"a\":1}"]);
        assert_eq!(follower.unfinished(), 4);
        assert!(follower.read_lines().unwrap().is_empty());
        w.write_all(b":2}\n{\"c\":3}\n").unwrap();
        assert_eq!(follower.read_lines().unwrap(), vec!["{\"b\":2}", "{\"c\":3}"]);
        assert_eq!(follower.unfinished(), 0);
    }
}
