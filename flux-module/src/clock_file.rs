//! Writes the libfaketime timestamp file (see `ff_engine::faketime` for the format).
//!
//! Every process in the instance re-reads the file on each clock read, so it is replaced
//! atomically: written to a temporary file beside it, then renamed over it. A reader sees
//! the old time or the new one, never a torn line.

use std::io::Write;
use std::path::{Path, PathBuf};

use ff_engine::ForwardClock;
use ff_inputs::SimTime;

pub struct ClockFile {
    path: PathBuf,
    tmp: PathBuf,
    clock: ForwardClock,
}

impl ClockFile {
    pub fn new(path: &Path) -> Self {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        ClockFile { path: path.to_path_buf(), tmp: PathBuf::from(tmp), clock: ForwardClock::default() }
    }

    pub fn set(&mut self, t: SimTime) -> std::io::Result<()> {
        let Some(stamp) = self.clock.advance(t) else { return Ok(()) };
        let mut f = std::fs::File::create(&self.tmp)?;
        f.write_all(stamp.as_bytes())?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path)
    }
}
