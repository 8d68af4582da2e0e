//! Everything the emulator reads before it starts: the experiment config, the job trace
//! (sacct-style or SWF), the system it runs on, and the jobspec each trace row becomes.
//!
//! Pure: no Flux, no clock, no network; so the run-directory tool and the tests use it
//! without a Flux install, and the broker module gets inputs that were checked up front.

pub mod config;
mod json_file;
pub mod jobspec;
pub mod preflight;
pub mod request;
pub mod system;
pub mod time;
pub mod trace;

#[cfg(test)]
mod testing;

pub use config::{Config, ConfigError, OtelSettings, OutputCompression, ResourceSource, SwfOptions};
pub use jobspec::jobspec_json;
pub use json_file::JsonFileError;
pub use preflight::{PreflightError, TraceSummary, UnfitJob, UnfitJobs, preflight};
pub use request::{JobRequest, RequestRules, StorageBundles};
pub use system::{RackKeys, StorageLayout, StorageParent, SystemError, SystemSpec, broker_config, rack_layout, resource_r};
pub use time::{SimDuration, SimTime};
pub use trace::{TraceError, TraceFormat, TraceJob, TraceReader, open_trace, time_origin};
