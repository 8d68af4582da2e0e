//! What `ff-emu` reports about itself (`flux module stats ff-emu`).

use serde::{Deserialize, Serialize};

/// Module name; also the exec service name and the prefix of its request topics.
pub const MODULE_NAME: &str = "ff-emu";

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
            sim_time: None,
            exit_code: None,
            error: None,
            run_dir: None,
        }
    }
}
