//! `--flux` mode: each run is a job of the enclosing Flux instance, driven with Flux's own
//! command line: `flux submit` starts it, `flux jobs` follows its state and exit status,
//! `flux job kill` / `flux cancel` stop it. A cluster's instance places the jobs on its nodes;
//! the runs' directories are on the file system the jobs share with this runner.
//!
//! Inside its job, `flux-fiction-run` starts its own instance with `flux start`: the broker
//! bootstraps through the job shell's PMI as a one-broker child instance of the enclosing
//! one (as `flux batch` does), with the emulated machine as its resources.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::plan::PlannedRun;

/// Where the `flux` command is, and what each run's job asks for.
#[derive(Debug, Clone)]
pub struct FluxJobs {
    pub flux: PathBuf,
    /// Each job takes a whole node (else `cores` cores of one).
    pub whole_node: bool,
    pub cores: u64,
}

/// A job's state as `flux jobs` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Not yet running (DEPEND, PRIORITY, SCHED).
    Waiting,
    Running,
    /// Inactive, with its return code (none when it never ran).
    Ended(Option<i32>),
}

impl FluxJobs {
    /// `flux submit`'s arguments for a run: one task, its output in the run's launcher.log.
    fn submit_args(&self, run: &PlannedRun, command: &[OsString]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["submit".into(), format!("--job-name={}", run.slug).into(), "-n1".into()];
        if self.whole_node {
            args.extend(["-N1".into(), "--exclusive".into()]);
        } else {
            args.push(format!("-c{}", self.cores).into());
        }
        args.push(format!("--output={}", run.log_file().display()).into());
        args.push(format!("--cwd={}", run.run_root.display()).into());
        args.push("--".into());
        args.extend(command.iter().cloned());
        args
    }

    /// `flux submit`: returns the job id (f58).
    pub fn submit(&self, run: &PlannedRun, command: &[OsString]) -> Result<String, String> {
        let output = Command::new(&self.flux)
            .args(self.submit_args(run, command))
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.flux.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        match stdout.trim() {
            id if output.status.success() && !id.is_empty() => Ok(id.to_string()),
            _ => Err(format!("flux submit failed: {}", String::from_utf8_lossy(&output.stderr).trim())),
        }
    }

    /// The states of `ids`, in order, from one `flux jobs` call.
    pub fn states(&self, ids: &[&str]) -> Result<Vec<JobState>, String> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let output = Command::new(&self.flux)
            .args(["jobs", "--no-header", "--format={id.f58} {state} {returncode}"])
            .args(ids)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.flux.display()))?;
        if !output.status.success() {
            return Err(format!("flux jobs failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        let listing = String::from_utf8_lossy(&output.stdout);
        ids.iter()
            .map(|id| {
                let line = listing
                    .lines()
                    .find(|line| line.split_whitespace().next() == Some(id))
                    .ok_or_else(|| format!("flux jobs does not list job {id}"))?;
                Ok(parse_state(line))
            })
            .collect()
    }

    /// SIGTERM to a running job's `flux-fiction-run` (a job not yet running is canceled), or,
    /// with `kill`, `flux cancel` (the job shell kills what is left).
    pub fn stop(&self, id: &str, kill: bool) {
        let quiet = |command: &mut Command| command.output().is_ok_and(|o| o.status.success());
        if kill || !quiet(Command::new(&self.flux).args(["job", "kill", "--signal=SIGTERM", id])) {
            quiet(Command::new(&self.flux).args(["cancel", id]));
        }
    }
}

/// `ID STATE RETURNCODE` as `flux jobs` prints it; RETURNCODE is empty until the job ends.
fn parse_state(line: &str) -> JobState {
    let mut fields = line.split_whitespace().skip(1);
    match fields.next() {
        Some("RUN" | "CLEANUP") => JobState::Running,
        Some("INACTIVE") => JobState::Ended(fields.next().and_then(|rc| rc.parse().ok())),
        _ => JobState::Waiting,
    }
}

/// The `flux` command: on `PATH`, else under `FLUX_PREFIX`.
pub fn find_flux() -> Result<PathBuf, String> {
    crate::tools::on_path("flux")
        .or_else(|| std::env::var_os("FLUX_PREFIX").map(|p| Path::new(&p).join("bin/flux")).filter(|p| p.is_file()))
        .ok_or_else(|| "--flux: the flux command is not on PATH (nor under FLUX_PREFIX)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_one_task_with_its_output_in_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "").unwrap();
        let manifest = crate::manifest::Manifest::parse(
            &dir.path().join("m.toml"),
            "version = 1\n[[run]]\nname = \"a b\"\nconfig_file = \"base.toml\"\n",
        )
        .unwrap();
        let plan = crate::plan::Plan::resolve(&manifest, dir.path(), None, "20260101_000000");
        let run = &plan.runs[0];
        let args = |flux: FluxJobs| -> Vec<String> {
            flux.submit_args(run, &["ffr".into(), "cfg".into()]).iter().map(|a| a.to_string_lossy().into_owned()).collect()
        };
        let log = format!("--output={}", run.log_file().display());
        let cwd = format!("--cwd={}", run.run_root.display());
        let shared = args(FluxJobs { flux: "flux".into(), whole_node: false, cores: 2 });
        assert_eq!(shared, ["submit", "--job-name=a-b", "-n1", "-c2", &log, &cwd, "--", "ffr", "cfg"]);
        let whole = args(FluxJobs { flux: "flux".into(), whole_node: true, cores: 2 });
        assert_eq!(whole[2..5], ["-n1", "-N1", "--exclusive"]);
    }

    #[test]
    fn job_states_from_flux_jobs_lines() {
        assert_eq!(parse_state("f2Ax7 SCHED "), JobState::Waiting);
        assert_eq!(parse_state("f2Ax7 RUN "), JobState::Running);
        assert_eq!(parse_state("f2Ax7 INACTIVE 0"), JobState::Ended(Some(0)));
        assert_eq!(parse_state("f2Ax7 INACTIVE 143"), JobState::Ended(Some(143)));
        assert_eq!(parse_state("f2Ax7 INACTIVE"), JobState::Ended(None));
    }
}
