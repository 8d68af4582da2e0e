//! One streaming pass over the trace before anything starts: every row parses, rows are
//! in submit order, and every job can fit the system at all.
//!
//! A job that can never fit would be rejected at submission and end the run hours into
//! a replay; finding them all up front, in one report, saves the user a run per job.

use std::fmt;
use std::path::PathBuf;

use crate::config::Config;
use crate::request::{JobRequest, RequestRules, StorageBundles};
use crate::system::{StorageLayout, StorageParent, SystemSpec};
use crate::time::SimTime;
use crate::trace::{TraceError, open_trace};

/// How many unfit jobs the error lists one by one.
const LISTED: usize = 20;

/// What the replay will face.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceSummary {
    pub jobs: u64,
    pub first_submit: Option<SimTime>,
    pub last_submit: Option<SimTime>,
    pub max_nnodes: u32,
    pub max_cores_per_node: u32,
    pub max_gpus_per_node: u32,
    /// Adjustments made to rows (see `TraceReader::warnings`).
    pub warnings: Vec<String>,
}

/// A trace row whose request exceeds the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfitJob {
    pub line: u64,
    pub trace_id: String,
    pub nnodes: u32,
    pub cores_per_node: u32,
    pub gpus_per_node: u32,
    pub storage_gib: u64,
    /// It fits, but takes part of a node, which `whole_node_graph` cannot schedule.
    pub part_of_a_node: bool,
    /// Why its storage cannot be given, when that is the reason.
    pub storage_problem: Option<String>,
}

/// Every job that can never fit (the first few listed), and the parse error that ended
/// the pass early, if one did.
#[derive(Debug)]
pub struct UnfitJobs {
    pub path: PathBuf,
    pub system: SystemSpec,
    pub storage: Option<StorageLayout>,
    pub listed: Vec<UnfitJob>,
    pub total: u64,
    pub then: Option<TraceError>,
}

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("{0}")]
    Unfit(Box<UnfitJobs>),
    /// A replay of nothing measures nothing: an empty trace is a mistake, not a run.
    #[error("{}: no job to replay: {why}", path.display())]
    NoJobs { path: PathBuf, why: String },
}

impl fmt::Display for UnfitJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        let jobs = if self.total == 1 { "1 job" } else { &format!("{} jobs", self.total) };
        write!(f, "{path}: {jobs} can never run on the system ({}", self.system)?;
        if let Some(storage) = &self.storage {
            write!(f, "; {storage}")?;
        }
        write!(f, "):")?;
        for job in &self.listed {
            write!(
                f,
                "\n  {path}:{}: job {} asks for nnodes={} cores_per_node={} gpus_per_node={}",
                job.line, job.trace_id, job.nnodes, job.cores_per_node, job.gpus_per_node
            )?;
            if job.storage_gib > 0 {
                write!(f, " storage_gib={}", job.storage_gib)?;
            }
            if let Some(problem) = &job.storage_problem {
                write!(f, " ({problem})")?;
            }
            if job.part_of_a_node {
                write!(f, ": part of a node, but whole_node_graph needs jobs that take whole nodes (or exclusive = true)")?;
            }
        }
        let left_out = self.total - self.listed.len() as u64;
        if left_out > 0 {
            write!(f, "\n  ... and {left_out} more")?;
        }
        if let Some(error) = &self.then {
            write!(f, "\nand then: {error}")?;
        }
        Ok(())
    }
}

/// Whether `request` fits the empty system: its nodes, cores and GPUs, and its storage
/// bundles (`Err` says why the storage cannot be given).
fn fits(request: &JobRequest, rules: &RequestRules) -> Result<bool, String> {
    let system = &rules.system;
    let compute = request.nodes <= system.nnodes
        && request.cores_per_node <= system.cores_per_node
        && request.gpus_per_node <= system.gpus_per_node;
    match (&request.storage, &rules.storage) {
        (None, _) => Ok(compute),
        (Some(_), None) => Err("the system has no rabbit storage".to_string()),
        (Some(bundles), Some(layout)) => {
            let room: u64 = layout.parents.iter().map(|parent| bundles_fitting(parent, bundles)).sum();
            if room >= u64::from(bundles.bundles) {
                return Ok(compute);
            }
            let most = if room == 0 { "none holds one".to_string() } else { format!("they hold at most {room}") };
            Err(format!(
                "needs {} of {} and {} GiB, each within one {}; of the system's {}, {most}",
                plural(bundles.bundles.into(), "bundle"),
                plural(bundles.nodes_per_bundle.into(), "node"),
                bundles.gib_per_bundle,
                layout.parent_type,
                plural(layout.parents.len() as u64, &layout.parent_type),
            ))
        }
    }
}

/// How many bundles an empty parent can hold: by its nodes, and by its shares, taken
/// whole (largest first) until each bundle's GiB are covered.
fn bundles_fitting(parent: &StorageParent, bundles: &StorageBundles) -> u64 {
    let by_nodes = u64::from(parent.nodes / bundles.nodes_per_bundle.max(1));
    let mut shares = parent.share_gib.clone();
    shares.sort_unstable_by(|a, b| b.cmp(a));
    let (mut by_storage, mut covered) = (0, 0);
    for share in shares {
        covered += share;
        if covered >= bundles.gib_per_bundle {
            by_storage += 1;
            covered = 0;
        }
    }
    by_nodes.min(by_storage)
}

/// `1 rack`, `2 racks`.
fn plural(n: u64, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Reads the whole trace once (streaming) and summarizes it, or reports why it cannot be
/// replayed on `cfg.system`. Honours `max_jobs`.
pub fn preflight(cfg: &Config) -> Result<TraceSummary, PreflightError> {
    let mut reader = open_trace(cfg)?;
    let rules = RequestRules::new(cfg);
    let mut summary = TraceSummary::default();
    let mut unfit = UnfitJobs {
        path: cfg.job_traces.clone(),
        system: cfg.system,
        storage: cfg.storage.clone(),
        listed: Vec::new(),
        total: 0,
        then: None,
    };
    for job in reader.by_ref() {
        let job = match job {
            Ok(job) => job,
            Err(error) if unfit.total == 0 => return Err(error.into()),
            Err(error) => {
                unfit.then = Some(error);
                break;
            }
        };
        let request = rules.request(&job);
        let part_of_a_node = cfg.whole_node_graph && !cfg.exclusive && job.cores_per_node < cfg.system.cores_per_node;
        let fit = fits(&request, &rules);
        if part_of_a_node || !matches!(fit, Ok(true)) {
            unfit.total += 1;
            if unfit.listed.len() < LISTED {
                unfit.listed.push(UnfitJob {
                    line: job.line,
                    trace_id: job.trace_id.clone(),
                    nnodes: job.nnodes,
                    cores_per_node: request.cores_per_node,
                    gpus_per_node: request.gpus_per_node,
                    storage_gib: job.storage_gib,
                    storage_problem: fit.err(),
                    part_of_a_node,
                });
            }
        }
        summary.jobs += 1;
        summary.first_submit.get_or_insert(job.submit);
        summary.last_submit = Some(job.submit);
        summary.max_nnodes = summary.max_nnodes.max(job.nnodes);
        summary.max_cores_per_node = summary.max_cores_per_node.max(job.cores_per_node);
        summary.max_gpus_per_node = summary.max_gpus_per_node.max(job.gpus_per_node);
    }
    if unfit.total > 0 {
        return Err(PreflightError::Unfit(Box::new(unfit)));
    }
    if summary.jobs == 0 {
        let why = match reader.warning_count() {
            0 => "the trace has no rows (only a header, comments or blank lines)".to_string(),
            skipped => format!("all {skipped} records were skipped ({})", reader.warnings().join("; ")),
        };
        return Err(PreflightError::NoJobs { path: cfg.job_traces.clone(), why });
    }
    summary.warnings = reader.warnings();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{SMALL, trace_file};
    use crate::trace::TraceFormat;

    const HEADER: &str = "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed\n";

    #[test]
    fn a_trace_without_jobs_is_refused() {
        let (_file, cfg) = trace_file(&format!("# nothing yet\n{HEADER}\n"), TraceFormat::Sacct, SMALL);
        let err = preflight(&cfg).unwrap_err().to_string();
        let why = "the trace has no rows (only a header, comments or blank lines)";
        assert!(err.ends_with(&format!(": no job to replay: {why}")), "{err}");
        let cancelled = "; Version: 2\n1 0 -1 -1 4 -1 -1 4 60 -1 5 -1 -1 -1 0 -1 -1 -1\n";
        let (_file, cfg) = trace_file(cancelled, TraceFormat::Swf, SMALL);
        let err = preflight(&cfg).unwrap_err().to_string();
        assert!(err.contains(": no job to replay: all 1 records were skipped ("), "{err}");
        assert!(err.contains(":2: skipped job 1"), "{err}");
    }

    #[test]
    fn summarizes_a_fitting_trace() {
        let text = format!(
            "{HEADER}1,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n2,4,63,00:10:00,2019-01-01T01:00:00,00:06:00\n"
        );
        let (_file, cfg) = trace_file(&text, TraceFormat::Sacct, SMALL);
        let summary = preflight(&cfg).unwrap();
        assert_eq!(summary.jobs, 2);
        assert_eq!(summary.first_submit, Some(SimTime::from_secs(1_546_300_800)));
        assert_eq!(summary.last_submit, Some(SimTime::from_secs(1_546_304_400)));
        assert_eq!((summary.max_nnodes, summary.max_cores_per_node), (4, 16));
        assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    }

    #[test]
    fn lists_every_job_that_cannot_fit() {
        let text = format!(
            "{HEADER}1,1,16,00:10:00,2019-01-01T00:00:00,00:06:00\n\
             2,5,80,00:10:00,2019-01-01T00:00:00,00:06:00\n\
             3,1,32,00:10:00,2019-01-01T00:00:00,00:06:00\n"
        );
        let (file, cfg) = trace_file(&text, TraceFormat::Sacct, SMALL);
        let err = preflight(&cfg).unwrap_err().to_string();
        let path = file.path().display();
        assert_eq!(
            err,
            format!(
                "{path}: 2 jobs can never run on the system (nnodes=4 cores_per_node=16 gpus_per_node=0):\n  \
                 {path}:3: job 2 asks for nnodes=5 cores_per_node=16 gpus_per_node=0\n  \
                 {path}:4: job 3 asks for nnodes=1 cores_per_node=32 gpus_per_node=0"
            )
        );
    }

    #[test]
    fn a_whole_node_graph_refuses_jobs_that_take_part_of_a_node() {
        let text = format!(
            "{HEADER}1,2,32,00:10:00,2019-01-01T00:00:00,00:06:00
2,1,8,00:10:00,2019-01-01T00:00:00,00:06:00
"
        );
        let (_file, mut cfg) = trace_file(&text, TraceFormat::Sacct, SMALL);
        cfg.whole_node_graph = true;
        let err = preflight(&cfg).unwrap_err().to_string();
        assert!(err.contains("1 job can never run"), "{err}");
        assert!(
            err.ends_with(":3: job 2 asks for nnodes=1 cores_per_node=8 gpus_per_node=0: part of a node, but \
                           whole_node_graph needs jobs that take whole nodes (or exclusive = true)"),
            "{err}"
        );
        // With exclusive jobs, every job takes whole nodes whatever it asks for.
        cfg.exclusive = true;
        assert_eq!(preflight(&cfg).unwrap().jobs, 2);
    }

    #[test]
    fn storage_requests_need_a_system_with_storage() {
        let text = "JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed,RabbitGiB\n1,1,16,00:10:00,2019-01-01T00:00:00,00:06:00,100\n";
        let (_file, cfg) = trace_file(text, TraceFormat::Sacct, SMALL);
        let err = preflight(&cfg).unwrap_err().to_string();
        assert!(
            err.ends_with(":2: job 1 asks for nnodes=1 cores_per_node=16 gpus_per_node=0 storage_gib=100 (the system has no rabbit storage)"),
            "{err}"
        );
    }

    #[test]
    fn storage_that_no_rack_can_hold_is_named_with_its_bundles() {
        let text = "JobID,NNodes,NCPUS,NGPUS,Timelimit,Submit,Elapsed,RabbitGiB\n\
                    1,4,4,0,00:10:00,2019-01-01T00:00:00,00:06:00,8154\n\
                    2,4,4,0,00:10:00,2019-01-01T00:00:00,00:06:00,20000\n\
                    3,1,1,0,00:10:00,2019-01-01T00:00:00,00:06:00,16309\n";
        let (file, mut cfg) = trace_file(text, TraceFormat::Sacct, SMALL);
        let rules = crate::request::tests::tuolumne(1);
        (cfg.system, cfg.storage) = (rules.system, rules.storage);
        let err = preflight(&cfg).unwrap_err().to_string();
        let path = file.path().display();
        assert_eq!(
            err,
            format!(
                "{path}: 2 jobs can never run on the system (nnodes=16 cores_per_node=96 gpus_per_node=4; rabbit storage \
                 in 1 rack, 16 nodes and 36 SSD shares of 453 GiB (16308 GiB) each, 16308 GiB in all):\n  \
                 {path}:3: job 2 asks for nnodes=4 cores_per_node=1 gpus_per_node=0 storage_gib=20000 (needs 2 bundles \
                 of 2 nodes and 10000 GiB, each within one rack; of the system's 1 rack, they hold at most 1)\n  \
                 {path}:4: job 3 asks for nnodes=1 cores_per_node=1 gpus_per_node=0 storage_gib=16309 (needs 2 bundles \
                 of 1 node and 8155 GiB, each within one rack; of the system's 1 rack, they hold at most 1)"
            )
        );
    }

    #[test]
    fn a_parse_error_after_unfit_jobs_is_reported_too() {
        let text = format!(
            "{HEADER}2,5,80,00:10:00,2019-01-01T00:00:00,00:06:00\n3,1,16,00:10:00,2019-01-01T00:00:00,soon\n"
        );
        let (_file, cfg) = trace_file(&text, TraceFormat::Sacct, SMALL);
        let err = preflight(&cfg).unwrap_err().to_string();
        assert!(err.contains("1 job can never run") && err.contains("and then: ") && err.contains(":3: Elapsed:"), "{err}");
    }
}
