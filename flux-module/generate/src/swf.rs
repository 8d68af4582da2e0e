//! Writes a trace in the Standard Workload Format (Parallel Workloads Archive, version
//! 2.2): `;` header comments, then one line of 18 integers per job, in submit order.
//!
//! Fields written: 1 job number, 2 submit time (seconds after `UnixStartTime`), 4 run
//! time, 5 and 8 processors (nodes x cores per node, allocated and requested), 9
//! requested time (the time limit), 11 status 1 (completed); the rest are -1 (unknown).
//! Flux Fiction's SWF reader turns processors back into nodes with
//! `swf_procs_per_node`, which must then be the cores per node: a `Note:` says so.

use std::io::{self, Write};

use crate::options::Plan;
use crate::trace_header;
use crate::workload::Job;

pub fn write(out: &mut impl Write, plan: &Plan, jobs: &[Job]) -> io::Result<()> {
    let cores = plan.cores_per_node;
    let max_runtime = jobs.iter().map(|job| job.runtime).max().unwrap_or(0);
    writeln!(out, "; Version: 2.2")?;
    writeln!(out, "; Computer: synthetic, {} nodes x {cores} cores", plan.nodes)?;
    for line in trace_header::description(plan) {
        writeln!(out, "; Note: {line}")?;
    }
    writeln!(out, "; Note: processors are nodes x {cores} cores: replay with swf_procs_per_node = {cores}")?;
    writeln!(out, "; UnixStartTime: {}", plan.start_epoch)?;
    writeln!(out, "; TimeZoneString: UTC")?;
    writeln!(out, "; MaxJobs: {}", jobs.len())?;
    writeln!(out, "; MaxRecords: {}", jobs.len())?;
    writeln!(out, "; MaxNodes: {}", plan.nodes)?;
    writeln!(out, "; MaxProcs: {}", u64::from(plan.nodes) * u64::from(cores))?;
    writeln!(out, "; MaxRuntime: {max_runtime}")?;
    for (index, job) in jobs.iter().enumerate() {
        let procs = u64::from(job.nodes) * u64::from(cores);
        writeln!(
            out,
            "{} {} -1 {} {procs} -1 -1 {procs} {} -1 1 -1 -1 -1 -1 -1 -1 -1",
            index + 1,
            job.submit,
            job.runtime,
            job.time_limit
        )?;
    }
    Ok(())
}
