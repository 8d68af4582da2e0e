//! The replay's OpenTelemetry spans (`otel-service=NAME`): `output/otel_spans.jsonl` and
//! `output/otel_summary.csv`.
//!
//! Spans are made from the engine's commands as the replay executes them, in order:
//! * `replay`, the whole run, with `startup` (until the first step) under it;
//! * `step`, one per simulated time step (simulated time, releases, arrivals, events,
//!   jobs started), with `step.releases` and `step.arrivals` under it, and under those
//!   one `barrier.<phase>` span per barrier phase, from the engine's milestones;
//! * `job`, from the submission to the end (INACTIVE), under `replay`, linked to the
//!   steps in which it was submitted, started and finished.
//!
//! This module only writes files, from the broker's reactor: exporting to a collector
//! is `flux-fiction-otel-export`, a separate process following `otel_spans.jsonl`.
//! Span times are wall-clock: the broker may run under libfaketime, whose fake clock
//! is the simulated one, so times are taken from the monotonic clock (which it leaves
//! alone) from one real reading of the wall clock when the replay starts.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use emu_protocol::JobId;
use ff_engine::{Command, ExecResponse, Milestone, PhaseKind, Progress, RunOutcome, StepPart};
use ff_inputs::{Config, SimTime};
use ff_otel::{KeyValue, Link, Span, SpanIds, SpanSink, end_span, float, int, link_to, set_error, text};
use ff_report::JobRecord;

pub const SPANS_FILE: &str = "otel_spans.jsonl";
pub const SUMMARY_FILE: &str = "otel_summary.csv";
/// Spans per line of `otel_spans.jsonl` (one export request each).
const BATCH: usize = 512;

type Sink = SpanSink<BufWriter<File>>;

struct OpenStep {
    span: Span,
    number: u64,
    part: Option<StepPart>,
    barrier: u64,
    releases: u64,
    arrivals: u64,
    started: u64,
}

struct OpenJob {
    span: Span,
    submitted_in: Option<Link>,
}

pub struct Telemetry {
    ids: SpanIds,
    sink: Sink,
    summary_path: std::path::PathBuf,
    /// Unix nanoseconds at the replay's monotonic time zero.
    epoch_ns: u64,
    run: Span,
    startup: Option<Span>,
    step: Option<OpenStep>,
    part: Option<Span>,
    phase: Option<Span>,
    /// Jobs submitted and not yet ended, by trace index.
    jobs: HashMap<u64, OpenJob>,
    /// The step each running job started in.
    started_in: HashMap<JobId, Link>,
}

impl Telemetry {
    /// Opens the span file and begins the `replay` span at monotonic time `mono`.
    pub fn start(cfg: &Config, run_dir: &Path, service: &str, mono: f64) -> io::Result<Self> {
        let epoch_ns = real_unix_nanos().saturating_sub(secs_to_ns(mono));
        let resource = vec![
            text("service.name", service),
            text("service.version", env!("CARGO_PKG_VERSION")),
            text("ff.run_dir", run_dir.display().to_string()),
            text("ff.trace", cfg.job_traces.display().to_string()),
            text("ff.policy", crate::artifacts::queue_policy(cfg)),
        ];
        let out = BufWriter::with_capacity(1 << 18, File::create(cfg.output_dir.join(SPANS_FILE))?);
        let mut ids = SpanIds::new((run_dir, epoch_ns));
        let at = epoch_ns + secs_to_ns(mono);
        let run = ids.start("replay", None, at, vec![]);
        let startup = Some(ids.start("startup", Some(&run), at, vec![]));
        Ok(Telemetry {
            ids,
            sink: SpanSink::new(out, resource, "ff-emu", BATCH),
            summary_path: cfg.output_dir.join(SUMMARY_FILE),
            epoch_ns,
            run,
            startup,
            step: None,
            part: None,
            phase: None,
            jobs: HashMap::new(),
            started_in: HashMap::new(),
        })
    }

    fn at(&self, mono: f64) -> u64 {
        self.epoch_ns + secs_to_ns(mono)
    }

    /// Follows one engine command, executed at monotonic time `mono`.
    pub fn observe(&mut self, cmd: &Command, mono: f64) -> io::Result<()> {
        match cmd {
            Command::Milestone(Milestone::Phase { mono, step, time, part, barrier, phase }) => {
                self.phase(self.at(*mono), *step, *time, *part, *barrier, *phase)
            }
            Command::Milestone(Milestone::StepEnded { mono, .. }) => self.end_step(self.at(*mono)),
            Command::Submit { trace_idx, .. } => {
                let span = self.ids.start("job", Some(&self.run), self.at(mono), vec![int("ff.trace_idx", *trace_idx)]);
                let submitted_in = self.step.as_mut().map(|s| {
                    s.arrivals += 1;
                    link_to(&s.span, "submitted")
                });
                self.jobs.insert(*trace_idx, OpenJob { span, submitted_in });
                Ok(())
            }
            Command::Respond { id, response: ExecResponse::Start } => {
                if let Some(s) = &mut self.step {
                    s.started += 1;
                    self.started_in.insert(*id, link_to(&s.span, "started"));
                }
                Ok(())
            }
            Command::JobDone(record) => self.end_job(record, self.at(mono)),
            _ => Ok(()),
        }
    }

    fn phase(
        &mut self,
        at: u64,
        number: u64,
        time: SimTime,
        part: StepPart,
        barrier: u64,
        phase: PhaseKind,
    ) -> io::Result<()> {
        close(&mut self.sink, self.startup.take(), at, vec![])?;
        if self.step.as_ref().is_none_or(|s| s.number != number) {
            self.end_step(at)?;
            let attributes = vec![int("ff.step", number), float("ff.sim_time", sim_secs(time))];
            let span = self.ids.start("step", Some(&self.run), at, attributes);
            self.step = Some(OpenStep { span, number, part: None, barrier: 0, releases: 0, arrivals: 0, started: 0 });
        }
        let Some(step) = &mut self.step else { return Ok(()) };
        close(&mut self.sink, self.phase.take(), at, vec![])?;
        if step.part != Some(part) {
            close(&mut self.sink, self.part.take(), at, vec![])?;
            let name = match part {
                StepPart::Releases => "step.releases",
                StepPart::Arrivals => "step.arrivals",
                StepPart::Settle { .. } => "step.settle",
            };
            self.part = Some(self.ids.start(name, Some(&step.span), at, vec![int("ff.step", number)]));
            step.part = Some(part);
        }
        if part == StepPart::Releases && barrier != step.barrier {
            step.releases += 1;
        }
        step.barrier = barrier;
        let attributes = vec![int("ff.step", number), int("ff.barrier", barrier)];
        self.phase = Some(self.ids.start(phase_span_name(phase), self.part.as_ref(), at, attributes));
        Ok(())
    }

    fn end_step(&mut self, at: u64) -> io::Result<()> {
        close(&mut self.sink, self.phase.take(), at, vec![])?;
        close(&mut self.sink, self.part.take(), at, vec![])?;
        let Some(step) = self.step.take() else { return Ok(()) };
        let attributes = vec![
            int("ff.releases", step.releases),
            int("ff.arrivals", step.arrivals),
            int("ff.events", step.releases + step.arrivals),
            int("ff.jobs_started", step.started),
        ];
        close(&mut self.sink, Some(step.span), at, attributes)
    }

    fn end_job(&mut self, record: &JobRecord, at: u64) -> io::Result<()> {
        let Some(job) = self.jobs.remove(&record.trace_idx) else { return Ok(()) };
        let mut span = job.span;
        span.links.extend(job.submitted_in);
        span.links.extend(record.jobid.and_then(|id| self.started_in.remove(&JobId(id))));
        span.links.extend(self.step.as_ref().map(|s| link_to(&s.span, "finished")));
        let nodelist: Vec<String> = record.nodelist.iter().map(u32::to_string).collect();
        let mut attributes = vec![
            text("ff.trace_id", record.trace_id.as_str()),
            int("ff.nodes", record.nnodes),
            text("ff.nodelist", nodelist.join(",")),
            int("ff.cores", record.cores),
            int("ff.gpus", record.gpus),
            int("ff.storage_gib", record.storage_gib),
            text("ff.result", record.result.as_str()),
            float("ff.sim_submit", sim_secs(SimTime(record.submit))),
        ];
        attributes.extend(record.jobid.map(|id| int("ff.jobid", id)));
        attributes.extend(record.start.map(|t| float("ff.sim_start", sim_secs(SimTime(t)))));
        attributes.extend(record.finish.map(|t| float("ff.sim_finish", sim_secs(SimTime(t)))));
        attributes.extend(record.note.as_deref().map(|n| text("ff.note", n)));
        close(&mut self.sink, Some(span), at, attributes)
    }

    /// Ends every open span at monotonic time `mono` (jobs still in the instance as
    /// `ff.result = unfinished`), then writes the last spans and the summary. `outcome`
    /// is None when the replay was stopped before it ended.
    pub fn finish(mut self, outcome: Option<&RunOutcome>, progress: &Progress, mono: f64) -> io::Result<()> {
        let at = self.at(mono);
        close(&mut self.sink, self.startup.take(), at, vec![])?;
        self.end_step(at)?;
        let mut open: Vec<OpenJob> = self.jobs.drain().map(|(_, job)| job).collect();
        open.sort_by_key(|j| j.span.span_id.clone());
        for job in open {
            let mut span = job.span;
            span.links.extend(job.submitted_in);
            close(&mut self.sink, Some(span), at, vec![text("ff.result", "unfinished")])?;
        }
        let mut run = self.run;
        let attributes = vec![
            int("ff.jobs_total", progress.jobs_total),
            int("ff.jobs_finished", progress.finished),
            int("ff.steps", progress.steps),
        ];
        match outcome {
            Some(RunOutcome::Replayed { exit_code }) => run.attributes.push(int("ff.exit_code", *exit_code)),
            Some(RunOutcome::Failed { reason, .. }) => set_error(&mut run, reason),
            None => set_error(&mut run, "the replay was stopped before it ended"),
        }
        close(&mut self.sink, Some(run), at, attributes)?;
        self.sink.flush()?;
        self.sink.summary().write_csv(BufWriter::new(File::create(&self.summary_path)?))
    }
}

fn close(sink: &mut Sink, span: Option<Span>, at: u64, attributes: Vec<KeyValue>) -> io::Result<()> {
    let Some(mut span) = span else { return Ok(()) };
    end_span(&mut span, at, attributes);
    sink.push(span)
}

fn phase_span_name(phase: PhaseKind) -> &'static str {
    match phase {
        PhaseKind::Ingest => "barrier.ingest",
        PhaseKind::Sched => "barrier.sched",
        PhaseKind::Inactive => "barrier.inactive",
        PhaseKind::AllocQuery => "barrier.alloc_query",
        PhaseKind::SchedulerSync => "barrier.scheduler_sync",
        PhaseKind::Quiescent => "barrier.quiescent",
        PhaseKind::Starts => "barrier.starts",
    }
}

fn secs_to_ns(secs: f64) -> u64 {
    (secs.max(0.0) * 1e9) as u64
}

fn sim_secs(t: SimTime) -> f64 {
    t.0 as f64 / 1e6
}

/// The real wall clock in Unix nanoseconds. Under libfaketime `clock_gettime` is the
/// fake (simulated) clock; the system call itself is not interposed, so it is made directly.
fn real_unix_nanos() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime(2) writes one timespec through the valid pointer it is given.
    let rc = unsafe { libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_REALTIME, &mut ts as *mut libc::timespec) };
    if rc != 0 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        return now.as_nanos() as u64;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
