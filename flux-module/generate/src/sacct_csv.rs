//! Writes a trace as sacct-style CSV, the columns Flux Fiction's sacct reader takes:
//! `JobID,t_submit,elapsed_s,Timelimit,NNodes,NCPUS`, and `NGPUS` when nodes have
//! GPUs, and `RabbitGiB` with `--storage-gib`; one row per job in submit order, after `#`
//! comment lines.
//!
//! `t_submit` is epoch seconds (the start epoch plus the submit offset), `elapsed_s`
//! the run time in seconds, `Timelimit` as Slurm prints it (`HH:MM:SS`, or
//! `D-HH:MM:SS` from one day on), `NCPUS` and `NGPUS` the job's totals (nodes x per
//! node): every job takes whole nodes.

use std::io::{self, Write};

use crate::options::Plan;
use crate::trace_header;
use crate::workload::Job;

pub fn write(out: &mut impl Write, plan: &Plan, jobs: &[Job]) -> io::Result<()> {
    for line in trace_header::description(plan) {
        writeln!(out, "# {line}")?;
    }
    let gpus = plan.gpus_per_node > 0;
    let storage = plan.storage.is_some();
    writeln!(
        out,
        "JobID,t_submit,elapsed_s,Timelimit,NNodes,NCPUS{}{}",
        if gpus { ",NGPUS" } else { "" },
        if storage { ",RabbitGiB" } else { "" }
    )?;
    for (index, job) in jobs.iter().enumerate() {
        let nodes = u64::from(job.nodes);
        write!(
            out,
            "{},{},{},{},{nodes},{}",
            index + 1,
            u64::from(plan.start_epoch) + job.submit,
            job.runtime,
            slurm_duration(job.time_limit),
            nodes * u64::from(plan.cores_per_node)
        )?;
        if gpus {
            write!(out, ",{}", nodes * u64::from(plan.gpus_per_node))?;
        }
        if storage {
            write!(out, ",{}", job.storage_gib)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `HH:MM:SS`, or `D-HH:MM:SS` from one day on.
fn slurm_duration(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 { format!("{days}-{clock}") } else { clock }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_slurm_prints_them() {
        assert_eq!(slurm_duration(300), "00:05:00");
        assert_eq!(slurm_duration(86_399), "23:59:59");
        assert_eq!(slurm_duration(2 * 86_400 + 3661), "2-01:01:01");
    }
}
