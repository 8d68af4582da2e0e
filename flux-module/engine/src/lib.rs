//! The Flux Fiction replay engine, written "sans-IO" (quinn-proto style).
//!
//! The engine never touches Flux, files or clocks. Inputs arrive through `Engine::handle_*`
//! calls (submit results, job transitions from the jobtap, exec start requests, scheduler
//! probe replies, the wall clock); outputs leave through [`Engine::poll_command`] as
//! [`Command`]s that the broker module executes, and [`Engine::deadline`] tells it when to
//! call back if nothing happens. Everything here runs under plain `cargo test` on a virtual
//! clock, which is how the barrier logic is tested against a scripted instance.

mod barrier;
mod clock;
mod command;
mod engine;
mod faketime;
mod job;
mod job_dirs;
mod milestone;
mod module_args;
mod occupancy;
mod pause;
mod storage_use;

pub use command::{AllocatedShare, Allocation, Command, ExecResponse, Now, ResourceCounts, RunOutcome, StepSample};
pub use engine::{Engine, EngineSettings, Progress};
pub use faketime::{ForwardClock, faketime_offset};
pub use job::{ActiveJob, Footprint};
pub use job_dirs::{DirCheck, JobDirs};
pub use milestone::{Milestone, PhaseKind, StepPart};
pub use module_args::ModuleArgs;
