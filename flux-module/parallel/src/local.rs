//! Local mode: each run is a `flux-fiction-run` child process of this one.
//!
//! A child gets a process group of its own, so a Ctrl-C on the terminal reaches only this
//! runner, which then stops the children itself: SIGTERM to `flux-fiction-run` (it shuts its
//! instance down and ends the run as interrupted), and after a grace period SIGKILL to the
//! child's whole group, its broker included.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

pub fn start(command: &[OsString], log: &Path, cwd: &Path) -> Result<Child, String> {
    let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| format!("cannot share {}: {e}", log.display()))?;
    Command::new(&command[0])
        .args(&command[1..])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", command[0].to_string_lossy()))
}

/// The child's exit status as a shell reports it (128 + signal when killed), once it has ended.
pub fn poll(child: &mut Child) -> Result<Option<i32>, String> {
    Ok(child.try_wait().map_err(|e| format!("cannot wait for pid {}: {e}", child.id()))?.map(return_code))
}

pub fn return_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// SIGTERM to the child (`flux-fiction-run` stops its instance), or SIGKILL to its group.
pub fn signal(child: &Child, kill: bool) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) takes plain integers; pid is a child we have not yet waited for, so
    // the pid (and, being its own group leader, the process group id) is not reused.
    unsafe {
        if kill {
            libc::kill(-pid, libc::SIGKILL);
        } else {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}
