//! Finding the programs a run is made with: `flux-fiction-run` and `flux-fiction-generate`
//! beside this binary (they are installed into the same bindir, and the build tree holds all
//! three side by side), else on `PATH`.

use std::path::PathBuf;

use crate::launch_config::Tools;

pub fn find_tools() -> Result<Tools, String> {
    Ok(Tools { run: find("flux-fiction-run")?, generate: find("flux-fiction-generate")? })
}

fn find(name: &str) -> Result<PathBuf, String> {
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(name))).filter(|p| p.is_file());
    beside.or_else(|| on_path(name)).ok_or_else(|| format!("{name} is neither beside flux-fiction-run-parallel nor on PATH"))
}

/// The first `name` in a `PATH` directory.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}
