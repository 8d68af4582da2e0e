//! One definition of every JSON payload the emulator sends or receives.
//!
//! Three conversations share these types:
//! * `ff-emu` <-> `emu-jobtap` (topics under `job-manager.emu-jobtap.*`),
//! * `ff-emu` <-> flux-core services it talks to directly (exec service protocol of
//!   `job-manager/start.c`, `job-manager.alloc-query`, `job-manager.raise`, the
//!   `job-exception` event),
//! * `ff-emu` <-> the scheduler's `sched.quiescent` RPC (TauferLab Fluxion fork).
//!
//! Keeping them in one crate that both plugins link means a field renamed on one side
//! is a compile error on the other, not a silent hang at run time.

pub mod exec;
pub mod job_info;
pub mod job_manager;
pub mod jobtap;
pub mod module;
pub mod sched;

/// A Flux job id (FLUID), as carried in every payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
