//! One replay: owns the engine and carries its commands to Flux.
//!
//! Every Flux callback (a reply, a start request, a transition batch, the deadline timer)
//! borrows the replay, feeds the engine one input, then [`Replay::drain`]s the engine's
//! commands. Continuations never run synchronously inside libflux calls, so the borrow is
//! never re-entered. Callbacks hold a `Weak` reference: once the module drops the replay,
//! late callbacks find nothing and do nothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use emu_protocol::JobId;
use emu_protocol::job_manager::{RAISE_TOPIC, RaiseRequest};
use emu_protocol::module::{ModuleStatus, RunState};
use ff_engine::{Command, Engine, EngineSettings, ModuleArgs, Now, RunOutcome};
use ff_inputs::{Config, RequestRules};
use flux_bindings::handle::{NODEID_ANY, RPC_NORESPONSE, URGENCY_DEFAULT, submit_flags};
use flux_bindings::{Flux, FluxError, Future, FutureRef, Timer};

use crate::artifacts::Artifacts;
use crate::instance_clock::InstanceClock;
use crate::exec_service::ExecService;
use crate::job_dir_reaper::JobDirReaper;
use crate::jobtap_stream::JobtapStream;
use crate::probes::{self, Probes};
use crate::telemetry::Telemetry;

const BATCH_TIMEOUT_TOPIC: &str = "job-manager.set-batch-timeout";
/// Why a replay torn down before its end stopped (the first line of `failure.txt`).
const INTERRUPTED: &str = "interrupted: ff-emu was removed before the replay ended \
                           (flux module remove, or the instance shutting down)";

/// The config file `flux-fiction-prepare` writes into a run directory.
pub const RUN_CONFIG: &str = "config.toml";

pub struct Replay {
    h: Flux,
    weak: Weak<RefCell<Replay>>,
    engine: Engine,
    started: Instant,
    run_dir: PathBuf,
    exec: Option<ExecService>,
    jobtap: Option<JobtapStream>,
    probes: Probes,
    submits: HashMap<u64, Future>,
    /// A start-up request in flight.
    setup: Option<Future>,
    deadline: Option<Timer>,
    artifacts: Option<Artifacts>,
    /// OpenTelemetry spans, when asked for (None costs nothing).
    telemetry: Option<Telemetry>,
    clock: Option<InstanceClock>,
    job_dirs: Option<JobDirReaper>,
    state: RunState,
    exit_code: Option<i32>,
    error: Option<String>,
}

/// Keeps the replay alive for as long as the module is loaded.
pub struct ReplayHandle {
    inner: Rc<RefCell<Replay>>,
}

fn config_error(e: impl std::fmt::Display) -> FluxError {
    FluxError::new(libc::EINVAL, e.to_string())
}

impl ReplayHandle {
    /// Reads and checks the run's config and trace (a bad one fails `flux module load`
    /// with the message), then starts the replay: hello to the job-manager as its exec
    /// service, open the jobtap stream, and hand over to the engine.
    pub fn start(h: Flux, args: &ModuleArgs) -> flux_bindings::Result<Self> {
        let Some(run_dir) = args.run_dir.as_deref() else {
            return Err(config_error("no run-dir: nothing to replay"));
        };
        let (faketime, eventlog) = (args.faketime, args.eventlog);
        let otel_service = args.otel_service.as_deref();
        let cfg = Config::load(&run_dir.join(RUN_CONFIG)).map_err(config_error)?;
        for w in &cfg.warnings {
            tracing::warn!("{w}");
        }
        let summary = ff_inputs::preflight(&cfg).map_err(config_error)?;
        let rows = ff_inputs::open_trace(&cfg).map_err(config_error)?;
        let settings = EngineSettings {
            requests: RequestRules::new(&cfg),
            step_timeout: cfg.step_timeout,
            jobs_total: summary.jobs,
        };
        let mut engine = Engine::new(settings, Box::new(rows)).map_err(config_error)?;
        if let Some(t) = args.pause_at {
            engine.pause_at(t);
        }
        let clock = faketime.then(InstanceClock::new).transpose().map_err(config_error)?;
        let artifacts = Artifacts::create(&cfg, run_dir, summary.jobs, clock.is_some(), eventlog)
            .map_err(|e| FluxError::new(libc::EIO, format!("{}: {e}", cfg.output_dir.display())))?;
        let started = Instant::now();
        let telemetry = otel_service
            .map(|service| Telemetry::start(&cfg, run_dir, service, 0.0))
            .transpose()
            .map_err(|e| FluxError::new(libc::EIO, format!("{}: {e}", cfg.output_dir.display())))?;
        if telemetry.is_some() {
            engine.record_milestones();
        }
        tracing::info!(
            "replaying {} jobs from {} on {} ({})",
            summary.jobs,
            cfg.job_traces.display(),
            cfg.system_description(),
            if clock.is_some() { "simulated time" } else { "real time" }
        );
        let inner = Rc::new_cyclic(|weak| {
            RefCell::new(Replay {
                h,
                weak: weak.clone(),
                engine,
                started,
                run_dir: run_dir.to_path_buf(),
                exec: None,
                jobtap: None,
                probes: Probes::default(),
                submits: HashMap::new(),
                setup: None,
                deadline: None,
                artifacts: Some(artifacts),
                telemetry,
                clock,
                job_dirs: None,
                state: RunState::Running,
                exit_code: None,
                error: None,
            })
        });
        {
            let weak = Rc::downgrade(&inner);
            let mut r = inner.borrow_mut();
            r.exec = Some(ExecService::register(h, weak.clone(), cfg.storage.is_some())?);
            r.job_dirs = Some(JobDirReaper::start(h)?);
            r.deadline = Some(Timer::new(h, 0.0, 0.0, move || {
                with_replay(&weak, |r| {
                    let now = r.now();
                    r.engine.handle_deadline(now);
                })
            })?);
        }
        Ok(ReplayHandle { inner })
    }

    pub fn weak(&self) -> Weak<RefCell<Replay>> {
        Rc::downgrade(&self.inner)
    }
}

/// Runs `body` on the replay if it still exists, then executes what the engine asks for.
pub fn with_replay(weak: &Weak<RefCell<Replay>>, body: impl FnOnce(&mut Replay)) {
    let Some(rc) = weak.upgrade() else { return };
    let mut r = rc.borrow_mut();
    body(&mut r);
    r.drain();
}

impl Replay {
    pub fn engine(&mut self) -> &mut Engine {
        &mut self.engine
    }

    pub fn probes_mut(&mut self) -> &mut Probes {
        &mut self.probes
    }

    pub fn exec(&mut self) -> Option<&mut ExecService> {
        self.exec.as_mut()
    }

    pub fn now(&self) -> Now {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
        Now { mono: self.started.elapsed().as_secs_f64(), real }
    }

    /// The exec service is registered with the job-manager. The job-manager commits job
    /// events in batches, waiting up to 10 ms for more; a replay step waits for those
    /// commits, so batches are cut at every reactor iteration instead. Then the jobtap
    /// stream is opened.
    pub fn exec_ready(&mut self) {
        let sent = self.h.rpc(BATCH_TIMEOUT_TOPIC, Some(r#"{"timeout":0.0}"#), NODEID_ANY, 0).and_then(|f| {
            then_on_replay(&f, self.weak.clone(), |r, f| match f.rpc_get() {
                Ok(_) => r.open_jobtap_stream(),
                Err(e) => r.abort(format!("{BATCH_TIMEOUT_TOPIC}: {e}")),
            })?;
            Ok(f)
        });
        match sent {
            Ok(f) => self.setup = Some(f),
            Err(e) => self.abort(format!("{BATCH_TIMEOUT_TOPIC}: {e}")),
        }
    }

    fn open_jobtap_stream(&mut self) {
        self.setup = None;
        let events = self.artifacts.as_ref().is_some_and(Artifacts::has_eventlog);
        match JobtapStream::open(self.h, self.weak.clone(), events) {
            Ok(stream) => self.jobtap = Some(stream),
            Err(e) => self.abort(format!("could not open the emu-jobtap stream: {e}")),
        }
    }

    /// The jobtap stream is open: the run can begin.
    pub fn jobtap_ready(&mut self) {
        let now = self.now();
        self.engine.start(now);
    }

    /// Eventlog entries from emu-jobtap: straight to `eventlog.csv` (the engine does not need them).
    pub fn job_events(&mut self, events: &[emu_protocol::jobtap::JobEvent]) {
        let written = self.artifacts.as_mut().map(|a| a.job_events(events)).transpose();
        if let Err(e) = written {
            self.abort(format!("could not write {e}"));
        }
    }

    /// Ends the replay before its end: see `Engine::interrupt`. Only the first call acts.
    pub fn interrupt(&mut self) {
        let now = self.now();
        self.engine.interrupt(INTERRUPTED.to_string(), now);
        self.drain();
    }

    pub fn abort(&mut self, reason: String) {
        let now = self.now();
        self.engine.abort(reason, now);
    }

    /// Whether a submission has not been answered yet (its job may still need ending).
    pub fn submitting(&self) -> bool {
        !self.submits.is_empty()
    }

    pub fn status(&self) -> ModuleStatus {
        let p = self.engine.progress();
        ModuleStatus {
            state: self.state,
            jobs_total: p.jobs_total,
            submitted: p.submitted,
            started: p.started,
            finished: p.finished,
            failed_jobs: p.not_completed,
            steps: p.steps,
            pause: self.engine.pause_state(),
            sim_time: p.sim_time.map(|t| t.as_secs_f64()),
            exit_code: self.exit_code,
            error: self.error.clone(),
            run_dir: Some(self.run_dir.display().to_string()),
        }
    }

    /// Executes every pending engine command, then re-arms the deadline timer.
    pub fn drain(&mut self) {
        while let Some(cmd) = self.engine.poll_command() {
            self.execute(cmd);
        }
        if let Some(timer) = &self.deadline {
            match self.engine.deadline() {
                Some(at) => {
                    let after = (at - self.now().mono).max(0.001);
                    timer.stop();
                    timer.reset(after, 0.0);
                    timer.start();
                }
                None => timer.stop(),
            }
        }
    }

    fn execute(&mut self, cmd: Command) {
        tracing::trace!("command {cmd:?}");
        if let Some(telemetry) = &mut self.telemetry {
            if let Err(e) = telemetry.observe(&cmd, self.started.elapsed().as_secs_f64()) {
                // Profiling never stops a replay.
                tracing::error!("could not write {}, spans are no longer recorded: {e}", crate::telemetry::SPANS_FILE);
                self.telemetry = None;
            }
        }
        match cmd {
            Command::SetClock(t) => {
                if let Some(clock) = &mut self.clock {
                    if let Err(e) = clock.set(t) {
                        self.abort(format!("could not move the simulated clock: {e}"));
                    }
                }
            }
            Command::HoldClock => {
                if let Some(clock) = &mut self.clock {
                    if let Err(e) = clock.hold() {
                        self.abort(format!("could not stop the simulated clock for the pause: {e}"));
                    }
                }
            }
            Command::Submit { trace_idx, jobspec } => self.submit(trace_idx, &jobspec),
            Command::Respond { id, response } => {
                if let Some(exec) = &mut self.exec {
                    exec.respond(self.h, id, &response);
                }
            }
            Command::QueryAllocQueue => match probes::alloc_query(self.h, self.weak.clone()) {
                Ok(f) => self.probes.alloc_query = Some(f),
                Err(e) => {
                    let now = self.now();
                    self.engine.handle_alloc_query(Err(e), now);
                }
            },
            Command::SyncScheduler => match probes::sync(self.h, self.weak.clone()) {
                Ok(f) => self.probes.sync = Some(f),
                // The step's deadline reports a scheduler that cannot be reached.
                Err(e) => tracing::error!("{e}"),
            },
            Command::ProbeQuiescent => match probes::quiescent(self.h, self.weak.clone()) {
                Ok(f) => self.probes.quiescent = Some(f),
                Err(e) => {
                    let now = self.now();
                    self.engine.handle_quiescent(Err(e), now);
                }
            },
            Command::QueryContinuationRule => match probes::continuation_rule(self.h, self.weak.clone()) {
                Ok(f) => self.probes.continuation_rule = Some(f),
                Err(e) => {
                    let now = self.now();
                    self.engine.handle_continuation_rule(Err(e), now);
                }
            },
            Command::QueryResources => match probes::resources(self.h, self.weak.clone()) {
                Ok(f) => self.probes.resources = Some(f),
                Err(e) => {
                    let now = self.now();
                    self.engine.handle_resources(Err(e), now);
                }
            },
            Command::Cancel { id, note } => {
                let raise = RaiseRequest::cancel(id, &note).to_json();
                if let Err(e) = self.h.rpc(RAISE_TOPIC, Some(&raise), NODEID_ANY, RPC_NORESPONSE) {
                    tracing::error!("job {id}: could not cancel it: {e}");
                }
            }
            Command::JobDone(record) => {
                tracing::debug!("job {} (trace_idx {}) done: {}", record.jobid.unwrap_or(0), record.trace_idx, record.result);
                let written = self.artifacts.as_mut().map(|a| a.job_done(&record)).transpose();
                if let Err(e) = written {
                    self.abort(format!("could not write {e}"));
                }
            }
            Command::StepDone(sample) => {
                let written = self.artifacts.as_mut().map(|a| a.step(&sample)).transpose();
                if let Err(e) = written {
                    self.abort(format!("could not write {e}"));
                }
            }
            Command::Finished(outcome) => self.finish(outcome),
            Command::Milestone(_) => {}
        }
    }

    fn submit(&mut self, trace_idx: u64, jobspec: &str) {
        let sent = self.h.job_submit(jobspec, URGENCY_DEFAULT, submit_flags::NOVALIDATE).and_then(|f| {
            then_on_replay(&f, self.weak.clone(), move |r, f| {
                let result = f.job_submit_get_id().map(JobId).map_err(|e| e.to_string());
                if let (Ok(id), Some(dirs)) = (&result, &r.job_dirs) {
                    dirs.job_seen(id.0);
                }
                r.submits.remove(&trace_idx);
                let now = r.now();
                r.engine.handle_submitted(trace_idx, result, now);
            })?;
            Ok(f)
        });
        match sent {
            Ok(f) => {
                self.submits.insert(trace_idx, f);
            }
            Err(e) => {
                let now = self.now();
                self.engine.handle_submitted(trace_idx, Err(e.to_string()), now);
            }
        }
    }

    fn finish(&mut self, outcome: RunOutcome) {
        let wall = self.started.elapsed().as_secs_f64();
        let progress = self.engine.progress();
        let (exit_code, error) = match &outcome {
            RunOutcome::Replayed { exit_code } => (*exit_code, None),
            RunOutcome::Failed { reason, .. } => (1, Some(reason.clone())),
        };
        if let Some(artifacts) = self.artifacts.take() {
            if let Err(e) = artifacts.finish(&outcome, &progress, self.engine.probe_times(), wall) {
                tracing::error!("could not finish the run's artifacts: {e}");
            }
        }
        self.finish_telemetry(Some(&outcome));
        match &outcome {
            RunOutcome::Replayed { exit_code } => tracing::info!(
                "replay done: {} jobs in {} steps, {wall:.2} s wall clock, exit code {exit_code}; \
                 {} scheduler probes ({} confirming); {} empty KVS job directories removed{}",
                progress.finished,
                progress.steps,
                self.engine.probe_times().count,
                self.engine.probe_times().confirming,
                self.job_dirs.as_ref().map_or(0, JobDirReaper::removed),
                self.clock
                    .as_ref()
                    .map(|c| format!("; instance clock ahead of simulated time by at most {:.6} s", c.max_overrun()))
                    .unwrap_or_default()
            ),
            RunOutcome::Failed { reason, .. } => tracing::error!("replay failed: {reason}"),
        }
        if let Some(stream) = &self.jobtap {
            stream.cancel(self.h);
        }
        self.exit_code = Some(exit_code);
        self.error = error;
        self.state = if exit_code == 1 { RunState::Failed } else { RunState::Done };
    }
}

impl Replay {
    /// Ends the spans and writes the OpenTelemetry files (`outcome` None: stopped early).
    fn finish_telemetry(&mut self, outcome: Option<&RunOutcome>) {
        if let Some(telemetry) = self.telemetry.take() {
            let mono = self.started.elapsed().as_secs_f64();
            if let Err(e) = telemetry.finish(outcome, &self.engine.progress(), mono) {
                tracing::error!("could not finish the OpenTelemetry files: {e}");
            }
        }
    }
}

impl Drop for ReplayHandle {
    /// The module is being removed (`flux module remove`, or the instance shutting down)
    /// with the replay still running: it ends as interrupted, its artifacts written with
    /// every job finished so far, and its jobs leave the instance. Runs after the reactor
    /// has stopped, so no callback holds the replay.
    fn drop(&mut self) {
        match self.inner.try_borrow_mut() {
            Ok(mut r) => r.interrupt(),
            Err(_) => tracing::error!("the replay is busy at teardown; its artifacts are not finished"),
        }
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.finish_telemetry(None);
        if let Some(stream) = &self.jobtap {
            stream.cancel(self.h);
        }
    }
}

/// Sets `f`'s continuation to run `body` on the replay (if it still exists), then drain.
pub fn then_on_replay(
    f: &Future,
    weak: Weak<RefCell<Replay>>,
    mut body: impl FnMut(&mut Replay, FutureRef<'_>) + 'static,
) -> flux_bindings::Result<()> {
    f.then(None, move |fref| with_replay(&weak, |r| body(r, fref)))
}
