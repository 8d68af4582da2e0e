//! The command line, checked into a [`Plan`] before any job is drawn or file created.
//!
//! Each check names the option and the reason, so a bad command fails at once with a
//! usage error (exit 2). The plan also rebuilds the options in a canonical form for
//! the trace header, so every trace says how to make it again, seed included.

use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};

use crate::random::Random;
use crate::time_limit::TimeLimitRule;
use crate::uniform::UniformModel;

/// 2019-01-01T00:00:00Z: the start of the sample traces, and the SWF reader's default.
const DEFAULT_START_EPOCH: u32 = 1_546_300_800;
const DEFAULT_MIN_RUNTIME: u64 = 60;
const DEFAULT_MAX_RUNTIME: u64 = 3600;
const DEFAULT_MEAN_INTERARRIVAL: f64 = 600.0;

/// Write a synthetic job trace (SWF or sacct-style CSV) for flux-fiction-run to replay.
///
/// Jobs are drawn from a workload model with a seeded generator: the same options and
/// seed give the same bytes on every machine. Sizes are whole nodes; every job gets all
/// cores (and GPUs) of its nodes.
#[derive(Debug, Parser)]
// A repeated option takes its last value, so scripts can append to a base command.
#[command(name = "flux-fiction-generate", version, args_override_self = true)]
pub struct Args {
    /// Workload model.
    #[arg(long, value_enum, default_value_t = ModelName::Lublin)]
    pub model: ModelName,

    /// Number of jobs.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,

    /// Nodes of the machine; no job is larger.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    pub nodes: u32,

    /// Cores per node (a job's NCPUS is its nodes times this; SWF processors likewise).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub cores_per_node: u32,

    /// GPUs per node; when above 0 the CSV gets an NGPUS column (SWF has no GPU field).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub gpus_per_node: u32,

    /// Target offered load: inter-arrival times are scaled so that
    /// sum(nodes x run time) / (machine nodes x (last submit - first submit)) = F.
    #[arg(long, value_name = "F")]
    pub load: Option<f64>,

    /// Seed of the random stream.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Time limits: `round` (the next of 5m, 15m, 30m, 1h, 2h, 4h, 8h, 12h, 24h, 48h at
    /// least the run time) or `factor:F` (run time x F, F >= 1, rounded up to a minute).
    #[arg(long, value_name = "RULE", default_value = "round", value_parser = TimeLimitRule::parse)]
    pub time_limit: TimeLimitRule,

    /// Trace format; by default from the --output name (.swf or .csv).
    #[arg(long, value_enum)]
    pub format: Option<TraceFormat>,

    /// Where the trace goes; `-` is standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Epoch seconds of the trace's time 0 (SWF `UnixStartTime`); the daily cycle
    /// follows the UTC time of day from there.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_START_EPOCH)]
    pub start_epoch: u32,

    /// Rabbit storage: each job asks for a uniform whole number of GiB in MIN-MAX (CSV
    /// only: the trace gets a RabbitGiB column; SWF has no storage field).
    #[arg(long, value_name = "MIN-MAX", value_parser = StorageRequests::parse_range)]
    pub storage_gib: Option<(u64, u64)>,

    /// With --storage-gib: the share of jobs that ask for storage, 0 to 1 [default: 1].
    #[arg(long, value_name = "F", requires = "storage_gib")]
    pub storage_share: Option<f64>,

    /// Print the trace's moments (sizes, run times, arrivals, offered load): on standard
    /// output, or on standard error when the trace goes there.
    #[arg(long)]
    pub stats: bool,

    /// Smallest job, in nodes [default: 1].
    #[arg(long, value_name = "N", help_heading = "Uniform model")]
    pub min_nodes: Option<u32>,

    /// Largest job, in nodes [default: --nodes].
    #[arg(long, value_name = "N", help_heading = "Uniform model")]
    pub max_nodes: Option<u32>,

    /// Shortest run time, in seconds [default: 60].
    #[arg(long, value_name = "SECONDS", help_heading = "Uniform model")]
    pub min_runtime: Option<u64>,

    /// Longest run time, in seconds [default: 3600].
    #[arg(long, value_name = "SECONDS", help_heading = "Uniform model")]
    pub max_runtime: Option<u64>,

    /// Mean time between submissions, in seconds [default: 600]; --load sets it instead.
    #[arg(long, value_name = "SECONDS", help_heading = "Uniform model", conflicts_with = "load")]
    pub mean_interarrival: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelName {
    /// Lublin-Feitelson (JPDC 2003) batch jobs: daily cycle, sizes scaled to --nodes.
    Lublin,
    /// Poisson arrivals; sizes and run times uniform between the bounds below.
    Uniform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// Standard Workload Format.
    Swf,
    /// sacct-style CSV.
    Csv,
}

/// The model with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    Lublin,
    Uniform(UniformModel),
}

/// Where the trace is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// A checked command line: everything needed to generate and write the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub model: Model,
    pub jobs: u32,
    pub nodes: u32,
    pub cores_per_node: u32,
    pub gpus_per_node: u32,
    pub load: Option<f64>,
    pub seed: u64,
    pub time_limit: TimeLimitRule,
    pub start_epoch: u32,
    /// The trace and its format; `None` with `--stats` alone.
    pub output: Option<(Destination, TraceFormat)>,
    pub stats: bool,
    pub storage: Option<StorageRequests>,
}

/// Which jobs ask for rabbit storage, and how much.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageRequests {
    pub min_gib: u64,
    pub max_gib: u64,
    pub share: f64,
}

impl StorageRequests {
    fn parse_range(text: &str) -> Result<(u64, u64), String> {
        let bad = || format!("expected MIN-MAX in whole GiB (such as 100-600), got '{text}'");
        let (min, max) = text.split_once('-').ok_or_else(bad)?;
        let (min, max) = (min.parse::<u64>().map_err(|_| bad())?, max.parse::<u64>().map_err(|_| bad())?);
        if min == 0 || min > max {
            return Err(format!("needs 1 <= MIN <= MAX, got '{text}'"));
        }
        Ok((min, max))
    }

    /// One job's request: with probability `share`, uniform in [min, max]; else none.
    pub fn draw(&self, random: &mut Random) -> u64 {
        let asks = random.unit() < self.share;
        let gib = random.integer(self.min_gib, self.max_gib);
        if asks { gib } else { 0 }
    }
}

/// A bad option: which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    pub option: &'static str,
    pub problem: String,
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.option, self.problem)
    }
}

fn usage(option: &'static str, problem: impl Into<String>) -> UsageError {
    UsageError { option, problem: problem.into() }
}

impl Plan {
    pub fn from_args(args: &Args) -> Result<Plan, UsageError> {
        if let Some(load) = args.load {
            if !(load.is_finite() && load > 0.0) {
                return Err(usage("--load", format!("must be a number above 0, got {load}")));
            }
            if args.jobs < 2 {
                return Err(usage(
                    "--load",
                    "needs --jobs 2 or more: the load is measured between the first and last submission",
                ));
            }
        }
        let model = match args.model {
            ModelName::Lublin => {
                let uniform_only = [
                    ("--min-nodes", args.min_nodes.is_some()),
                    ("--max-nodes", args.max_nodes.is_some()),
                    ("--min-runtime", args.min_runtime.is_some()),
                    ("--max-runtime", args.max_runtime.is_some()),
                    ("--mean-interarrival", args.mean_interarrival.is_some()),
                ];
                if let Some((option, _)) = uniform_only.iter().find(|(_, given)| *given) {
                    return Err(usage(option, "applies only to --model uniform"));
                }
                Model::Lublin
            }
            ModelName::Uniform => Model::Uniform(uniform_model(args)?),
        };
        let output = match &args.output {
            None if args.stats => None,
            None => {
                return Err(usage("--output", "nothing to do: give --output FILE (- for standard output) or --stats"));
            }
            Some(path) => Some(destination(path, args.format)?),
        };
        if matches!(output, Some((_, TraceFormat::Swf))) && args.gpus_per_node > 0 {
            return Err(usage(
                "--gpus-per-node",
                "SWF has no GPU field: write CSV (--format csv) for a machine with GPUs",
            ));
        }
        let storage = match args.storage_gib {
            None => None,
            Some((min_gib, max_gib)) => {
                let share = args.storage_share.unwrap_or(1.0);
                if !(0.0..=1.0).contains(&share) {
                    return Err(usage("--storage-share", format!("must be between 0 and 1, got {share}")));
                }
                if matches!(output, Some((_, TraceFormat::Swf))) {
                    return Err(usage("--storage-gib", "SWF has no storage field: write CSV (--format csv)"));
                }
                Some(StorageRequests { min_gib, max_gib, share })
            }
        };
        Ok(Plan {
            model,
            jobs: args.jobs,
            nodes: args.nodes,
            cores_per_node: args.cores_per_node,
            gpus_per_node: args.gpus_per_node,
            load: args.load,
            seed: args.seed,
            time_limit: args.time_limit,
            start_epoch: args.start_epoch,
            output,
            stats: args.stats,
            storage,
        })
    }

    /// The options that decide the trace's content, spelt out with their values
    /// (defaults included; not the output name or format): the same line run again
    /// makes the same trace.
    pub fn command_line(&self) -> String {
        let model = match self.model {
            Model::Lublin => "lublin",
            Model::Uniform(_) => "uniform",
        };
        let mut line = format!(
            "--model {model} --jobs {} --nodes {} --cores-per-node {} --gpus-per-node {}",
            self.jobs, self.nodes, self.cores_per_node, self.gpus_per_node
        );
        if let Model::Uniform(bounds) = &self.model {
            line += &format!(
                " --min-nodes {} --max-nodes {} --min-runtime {} --max-runtime {}",
                bounds.min_nodes, bounds.max_nodes, bounds.min_runtime, bounds.max_runtime
            );
            if self.load.is_none() {
                line += &format!(" --mean-interarrival {}", bounds.mean_interarrival);
            }
        }
        if let Some(load) = self.load {
            line += &format!(" --load {load}");
        }
        if let Some(s) = self.storage {
            line += &format!(" --storage-gib {}-{} --storage-share {}", s.min_gib, s.max_gib, s.share);
        }
        line += &format!(" --time-limit {} --start-epoch {} --seed {}", self.time_limit, self.start_epoch, self.seed);
        line
    }
}

fn uniform_model(args: &Args) -> Result<UniformModel, UsageError> {
    let model = UniformModel {
        min_nodes: args.min_nodes.unwrap_or(1),
        max_nodes: args.max_nodes.unwrap_or(args.nodes),
        min_runtime: args.min_runtime.unwrap_or(DEFAULT_MIN_RUNTIME),
        max_runtime: args.max_runtime.unwrap_or(DEFAULT_MAX_RUNTIME),
        mean_interarrival: args.mean_interarrival.unwrap_or(DEFAULT_MEAN_INTERARRIVAL),
    };
    if model.min_nodes == 0 {
        return Err(usage("--min-nodes", "must be at least 1"));
    }
    if model.max_nodes > args.nodes {
        return Err(usage(
            "--max-nodes",
            format!("{} is more than the machine's --nodes {}", model.max_nodes, args.nodes),
        ));
    }
    if model.min_nodes > model.max_nodes {
        return Err(usage("--min-nodes", format!("{} is more than --max-nodes {}", model.min_nodes, model.max_nodes)));
    }
    if model.min_runtime == 0 {
        return Err(usage("--min-runtime", "must be at least 1 second"));
    }
    if model.min_runtime > model.max_runtime {
        return Err(usage(
            "--min-runtime",
            format!("{} is more than --max-runtime {}", model.min_runtime, model.max_runtime),
        ));
    }
    if !(model.mean_interarrival.is_finite() && model.mean_interarrival > 0.0) {
        return Err(usage(
            "--mean-interarrival",
            format!("must be a number of seconds above 0, got {}", model.mean_interarrival),
        ));
    }
    Ok(model)
}

/// The destination, and the format: `--format`, else the file name's extension.
fn destination(path: &Path, format: Option<TraceFormat>) -> Result<(Destination, TraceFormat), UsageError> {
    let destination = if path == Path::new("-") { Destination::Stdout } else { Destination::File(path.to_path_buf()) };
    if let Some(format) = format {
        return Ok((destination, format));
    }
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("swf") => Ok((destination, TraceFormat::Swf)),
        Some("csv") => Ok((destination, TraceFormat::Csv)),
        _ => Err(usage(
            "--format",
            format!("cannot tell the format from \"{}\": give --format swf or csv", path.display()),
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The plan for a command line (without the program name).
    pub(crate) fn plan(args: &[&str]) -> Result<Plan, UsageError> {
        let args = Args::try_parse_from(std::iter::once("flux-fiction-generate").chain(args.iter().copied())).unwrap();
        Plan::from_args(&args)
    }

    fn problem(args: &[&str]) -> String {
        plan(args).unwrap_err().to_string()
    }

    #[test]
    fn format_comes_from_the_name_unless_given() {
        let format = |args: &[&str]| plan(args).unwrap().output.unwrap().1;
        assert_eq!(format(&["-o", "t.swf"]), TraceFormat::Swf);
        assert_eq!(format(&["-o", "T.CSV"]), TraceFormat::Csv);
        assert_eq!(format(&["-o", "t.swf", "--format", "csv"]), TraceFormat::Csv);
        assert_eq!(
            plan(&["-o", "-", "--format", "swf"]).unwrap().output,
            Some((Destination::Stdout, TraceFormat::Swf))
        );
        assert_eq!(plan(&["--stats"]).unwrap().output, None);
    }

    #[test]
    fn bad_combinations_name_the_option() {
        assert_eq!(problem(&["-o", "-"]), "--format: cannot tell the format from \"-\": give --format swf or csv");
        assert_eq!(problem(&[]), "--output: nothing to do: give --output FILE (- for standard output) or --stats");
        assert!(problem(&["--stats", "--load", "0"]).starts_with("--load: must be a number above 0"));
        assert!(problem(&["--stats", "--load", "NaN"]).starts_with("--load: must be a number above 0"));
        assert!(problem(&["--stats", "--load", "0.5", "--jobs", "1"]).starts_with("--load: needs --jobs 2 or more"));
        assert_eq!(problem(&["--stats", "--min-nodes", "2"]), "--min-nodes: applies only to --model uniform");
        assert!(problem(&["-o", "t.swf", "--gpus-per-node", "4"]).starts_with("--gpus-per-node: SWF has no GPU field"));
        let uniform = |extra: &[&str]| problem(&[&["--stats", "--model", "uniform", "--nodes", "8"], extra].concat());
        assert_eq!(uniform(&["--min-nodes", "5", "--max-nodes", "4"]), "--min-nodes: 5 is more than --max-nodes 4");
        assert_eq!(uniform(&["--max-nodes", "9"]), "--max-nodes: 9 is more than the machine's --nodes 8");
        assert_eq!(uniform(&["--min-nodes", "0"]), "--min-nodes: must be at least 1");
        assert_eq!(uniform(&["--min-runtime", "0"]), "--min-runtime: must be at least 1 second");
        assert_eq!(
            uniform(&["--min-runtime", "61", "--max-runtime", "60"]),
            "--min-runtime: 61 is more than --max-runtime 60"
        );
        assert!(
            uniform(&["--mean-interarrival", "0"])
                .starts_with("--mean-interarrival: must be a number of seconds above 0")
        );
    }

    #[test]
    fn the_command_line_spells_out_every_value() {
        let lublin = plan(&["-o", "x.swf", "--seed", "9", "--load", "0.75"]).unwrap();
        assert_eq!(
            lublin.command_line(),
            "--model lublin --jobs 1000 --nodes 128 --cores-per-node 1 --gpus-per-node 0 --load 0.75 \
             --time-limit round --start-epoch 1546300800 --seed 9"
        );
        let uniform = plan(&["--stats", "--model", "uniform", "--nodes", "8", "--time-limit", "factor:1.5"]).unwrap();
        assert_eq!(
            uniform.command_line(),
            "--model uniform --jobs 1000 --nodes 8 --cores-per-node 1 --gpus-per-node 0 --min-nodes 1 --max-nodes 8 \
             --min-runtime 60 --max-runtime 3600 --mean-interarrival 600 --time-limit factor:1.5 \
             --start-epoch 1546300800 --seed 1"
        );
        // The spelt-out line parses back to the same plan.
        let line = uniform.command_line();
        let again: Vec<&str> = line.split(' ').chain(["--stats"]).collect();
        assert_eq!(plan(&again).unwrap(), uniform);
    }
}
