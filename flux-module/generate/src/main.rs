//! `flux-fiction-generate`: writes a synthetic job trace (SWF or sacct-style CSV) for
//! Flux Fiction to replay, from the Lublin–Feitelson model of batch jobs or a uniform
//! model, and/or prints its moments.
//!
//! Researchers need workloads of a chosen size, machine and load, reproducibly: the
//! same options and seed give the same bytes on every machine, and the trace's header
//! records the options that made it. Bad options are usage errors (exit 2) naming the
//! option; a trace that cannot be written is exit 1.

mod daily_cycle;
mod gamma_cdf;
mod lublin;
mod offered_load;
mod options;
mod random;
mod sacct_csv;
mod stats;
mod swf;
mod time_limit;
mod trace_header;
mod uniform;
mod workload;

#[cfg(test)]
mod model_moments;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use options::{Args, Destination, Plan, TraceFormat, UsageError};
use stats::TraceStats;
use workload::Job;

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = Plan::from_args(&args).unwrap_or_else(|error| usage_error(&error));
    let jobs = workload::generate(&plan).unwrap_or_else(|error| usage_error(&error));
    if let Some((destination, format)) = &plan.output {
        if let Err(error) = write_trace(destination, *format, &plan, &jobs) {
            let name = match destination {
                Destination::Stdout => "standard output".to_string(),
                Destination::File(path) => path.display().to_string(),
            };
            eprintln!("flux-fiction-generate: error: {name}: cannot write the trace: {error}");
            return ExitCode::FAILURE;
        }
    }
    if plan.stats {
        let stats = TraceStats::of(&jobs, plan.nodes);
        // Standard output is the trace's when it goes there.
        if matches!(plan.output, Some((Destination::Stdout, _))) {
            eprint!("{stats}");
        } else {
            print!("{stats}");
        }
    }
    ExitCode::SUCCESS
}

/// Reports a bad option as clap reports its own errors (usage line, exit 2).
fn usage_error(error: &UsageError) -> ! {
    Args::command().error(clap::error::ErrorKind::ValueValidation, error.to_string()).exit()
}

fn write_trace(destination: &Destination, format: TraceFormat, plan: &Plan, jobs: &[Job]) -> io::Result<()> {
    let mut out: BufWriter<Box<dyn Write>> = BufWriter::new(match destination {
        Destination::Stdout => Box::new(io::stdout().lock()),
        Destination::File(path) => Box::new(File::create(path)?),
    });
    match format {
        TraceFormat::Swf => swf::write(&mut out, plan, jobs)?,
        TraceFormat::Csv => sacct_csv::write(&mut out, plan, jobs)?,
    }
    out.flush()
}
