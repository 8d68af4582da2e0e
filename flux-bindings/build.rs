//! Generates the raw bindings from the *installed* flux-core headers.
//!
//! The headers and libraries are found with `pkg-config flux-core`.
//! `PKG_CONFIG_PATH` is honoured as
//! usual; `FLUX_PREFIX=/opt/flux` additionally puts `$FLUX_PREFIX/lib/pkgconfig`
//! (and `lib64`) in front of it.
//!
//! Emits `cargo:libdir=<flux libdir>` (the crate `links = "flux-core"`), which
//! direct dependents read as `DEP_FLUX_CORE_LIBDIR` in their build scripts.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Functions that may wait in poll(2) and hence be where a pending
/// `pthread_cancel` of the module thread is acted upon (reference §1.2 item 9).
/// Declared `extern "C-unwind"` so the forced unwind may cross the Rust frames
/// that called them.  Everything else stays `extern "C"`.
const CANCELLABLE: &str = "flux_reactor_run|flux_future_get|flux_future_wait_for|flux_recv|flux_attr_get|flux_event_subscribe|flux_event_unsubscribe";

/// The variadic libflux functions, kept out of the bindings.
const VARIADIC: &str = "flux_log|flux_log_error|flux_vlog|.*_pack|.*_unpack|.*_vpack|.*_vunpack|flux_jobtap_raise_exception|flux_jobtap_reject_job|flux_jobtap_error|flux_respond_error_pack|flux_.*printf.*";

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");
    println!("cargo:rerun-if-env-changed=FLUX_PREFIX");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    if let Some(prefix) = env::var_os("FLUX_PREFIX") {
        let prefix = PathBuf::from(prefix);
        let mut paths = vec![prefix.join("lib/pkgconfig"), prefix.join("lib64/pkgconfig")];
        if let Some(old) = env::var_os("PKG_CONFIG_PATH") {
            paths.extend(env::split_paths(&old));
        }
        let joined: OsString = env::join_paths(paths).expect("FLUX_PREFIX contains a ':'");
        // SAFETY: build scripts are single-threaded at this point.
        unsafe { env::set_var("PKG_CONFIG_PATH", joined) };
    }

    let core = probe("flux-core");

    let libdirs: Vec<&Path> = core.link_paths.iter().map(PathBuf::as_path).collect();
    for dir in &libdirs {
        println!("cargo:rustc-link-search=native={}", dir.display());
        // Applies to this package's own test binaries only.  Dependents get
        // DEP_FLUX_CORE_LIBDIR (below) for an rpath of their own, if they need one.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:rustc-link-lib=flux-core");
    // shim.c dumps JSON objects with jansson (flux-core's own JSON library).
    println!("cargo:rustc-link-lib=jansson");
    if let Some(dir) = libdirs.first() {
        println!("cargo:libdir={}", dir.display());
    }
    println!("cargo:version={}", core.version);

    // The fixed-signature wrappers Rust calls instead of variadic functions (shim.c).
    cc::Build::new()
        .file("shim.c")
        .includes(&core.include_paths)
        .warnings(true)
        .extra_warnings(true)
        .compile("flux_bindings_shim");

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_args(
            core.include_paths.iter().map(|p| format!("-I{}", p.display())),
        )
        .allowlist_function("flux_.*|ffb_.*")
        // Variadic functions are never called from Rust: their arguments are unchecked.
        // shim.c wraps the ones needed.
        .blocklist_function(VARIADIC)
        .allowlist_type("flux_.*")
        .allowlist_var("FLUX_.*")
        .override_abi(bindgen::Abi::CUnwind, CANCELLABLE)
        .generate_comments(false)
        .layout_tests(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    if env::var_os("CARGO_FEATURE_JOBTAP").is_some() {
        builder = builder.clang_arg("-DFLUX_BINDINGS_JOBTAP");
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        fail(&format!("bindgen failed on the flux-core headers: {e}"));
    });
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("bindings.rs");
    bindings.write_to_file(&out).expect("write bindings.rs");
}

fn probe(name: &str) -> pkg_config::Library {
    pkg_config::Config::new().cargo_metadata(false).probe(name).unwrap_or_else(|e| {
        eprintln!("pkg-config {name}: {e}");
        fail(&format!(
            "flux-core headers were not found (`pkg-config {name}` failed): set FLUX_PREFIX to the \
             flux-core install prefix (e.g. FLUX_PREFIX=/opt/flux) or add its lib/pkgconfig \
             directory to PKG_CONFIG_PATH"
        ))
    })
}

fn fail(msg: &str) -> ! {
    // `cargo::error` is shown at the top of cargo's output; stderr is the fallback.
    for line in msg.lines() {
        println!("cargo::error={line}");
    }
    eprintln!("error: {msg}");
    std::process::exit(1);
}
