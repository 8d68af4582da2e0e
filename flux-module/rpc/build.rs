//! The binary runs outside any Flux process, so it needs an rpath to flux-core's
//! libdir (flux-bindings' own link arguments apply only to its own targets).

fn main() {
    if let Ok(dir) = std::env::var("DEP_FLUX_CORE_LIBDIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
