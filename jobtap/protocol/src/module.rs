//! What `ff-emu` reports about itself (`flux module stats ff-emu`), and the requests
//! that pause, resume and step its replay (`flux-fiction-ctl`).

use serde::{Deserialize, Serialize};

/// Module name; also the exec service name and the prefix of its request topics.
pub const MODULE_NAME: &str = "ff-emu";

/// Pause at the next step boundary (empty payload); answered with a [`ControlReply`].
pub const PAUSE_TOPIC: &str = "ff-emu.pause";
/// Run on from a pause (empty payload); answered with a [`ControlReply`].
pub const RESUME_TOPIC: &str = "ff-emu.resume";
/// Run [`StepRequest::n`] more steps from a pause, then pause; answered with a [`ControlReply`].
pub const STEP_TOPIC: &str = "ff-emu.step";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRequest {
    pub n: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlReply {
    /// Steps begun so far.
    pub steps: u64,
    /// The step count at which the replay is or will be paused; None after a resume.
    pub pause_after: Option<u64>,
}

/// Where a replay is with respect to pause requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PauseState {
    #[default]
    Running,
    /// A pause was asked for and holds from the next step boundary (or a `step N` is
    /// under way, or the instance settles after a job was canceled during a pause).
    Pausing,
    /// Stopped between steps: the instance is quiescent, simulated time stands still,
    /// and no step timeout runs.
    Paused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Loaded without a config: no replay.
    Idle,
    Running,
    /// Every job was replayed and all artifacts are written.
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleStatus {
    pub state: RunState,
    pub jobs_total: u64,
    pub submitted: u64,
    pub started: u64,
    pub finished: u64,
    /// Jobs that ended other than by completing (canceled, timeout, exception).
    pub failed_jobs: u64,
    pub steps: u64,
    #[serde(default)]
    pub pause: PauseState,
    /// Current simulated time, epoch seconds.
    pub sim_time: Option<f64>,
    /// Exit status the run will report: 0 only if every job completed.
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub run_dir: Option<String>,
}

impl ModuleStatus {
    pub fn idle() -> Self {
        ModuleStatus {
            state: RunState::Idle,
            jobs_total: 0,
            submitted: 0,
            started: 0,
            finished: 0,
            failed_jobs: 0,
            steps: 0,
            pause: PauseState::Running,
            sim_time: None,
            exit_code: None,
            error: None,
            run_dir: None,
        }
    }
}
