//! The bindgen output for `wrapper.h` (see `build.rs`).  Private: the safe
//! modules are the interface; `crate::raw` re-exports what callers need.
#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    unused_imports,
    unsafe_op_in_unsafe_fn,
    clippy::all
)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
