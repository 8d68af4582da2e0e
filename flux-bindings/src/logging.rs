//! `FluxLogLayer`: a `tracing` layer that writes events to `flux_log`, so
//! `tracing::info!(job = id, "started")` shows up in `flux dmesg` as
//! `ff-emu.info[0]: started job=42`.
//!
//! Levels: ERROR→`LOG_ERR`, WARN→`LOG_WARNING`, INFO→`LOG_INFO`,
//! DEBUG/TRACE→`LOG_DEBUG`.  The line is the `message` field followed by the
//! other fields as `k=v`.
//!
//! Never install it as the *global* default: modules are reloaded and a
//! jobtap `.so` is unloaded while the broker lives on.  Use it scoped:
//! [`crate::module::main`] sets it as the module thread's default for the
//! life of `mod_main`; `jobtap::init` keeps a [`dispatch`] in the plugin and
//! every callback registered through this crate re-enters the dispatcher that
//! was current when it was registered (see [`crate::guard`]).  By hand:
//! `let _g = tracing::dispatcher::set_default(&logging::dispatch(h, LevelFilter::INFO));`.
//!
//! The layer only logs on the thread that created it (a `flux_t` is not
//! thread-safe); events from other threads are dropped.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::handle::{Flux, LogLevel};

/// See the module docs.
pub struct FluxLogLayer {
    h: Flux,
    owner: libc::pthread_t,
    prefix: String,
    max_level: AtomicUsize,
}

// SAFETY: the handle is only used when `pthread_self() == owner` (checked in
// `on_event`); on other threads the layer does nothing.
unsafe impl Send for FluxLogLayer {}
// SAFETY: as above; `max_level` is atomic.
unsafe impl Sync for FluxLogLayer {}

impl FluxLogLayer {
    /// A layer logging through `h` at `max_level` and below, from this thread.
    pub fn new(h: Flux, max_level: LevelFilter) -> FluxLogLayer {
        FluxLogLayer {
            h,
            // SAFETY: always safe to call.
            owner: unsafe { libc::pthread_self() },
            prefix: String::new(),
            max_level: AtomicUsize::new(level_to_index(max_level)),
        }
    }

    /// Prefixes every line with `"<prefix>: "` (e.g. a jobtap plugin's name,
    /// since its lines appear under `job-manager`).
    pub fn with_prefix(mut self, prefix: &str) -> FluxLogLayer {
        self.prefix = prefix.to_string();
        self
    }

    /// Changes the level at run time (see [`set_max_level`]).
    pub fn set_max_level(&self, level: LevelFilter) {
        self.max_level.store(level_to_index(level), Ordering::Relaxed);
        tracing::callsite::rebuild_interest_cache();
    }

    fn max_level(&self) -> LevelFilter {
        index_to_level(self.max_level.load(Ordering::Relaxed))
    }
}

fn level_to_index(l: LevelFilter) -> usize {
    match l {
        LevelFilter::OFF => 0,
        LevelFilter::ERROR => 1,
        LevelFilter::WARN => 2,
        LevelFilter::INFO => 3,
        LevelFilter::DEBUG => 4,
        _ => 5,
    }
}

fn index_to_level(i: usize) -> LevelFilter {
    [LevelFilter::OFF, LevelFilter::ERROR, LevelFilter::WARN, LevelFilter::INFO, LevelFilter::DEBUG, LevelFilter::TRACE]
        [i.min(5)]
}

/// The syslog level for a `tracing` level.
pub fn syslog_level(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Err,
        Level::WARN => LogLevel::Warning,
        Level::INFO => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

/// Collects `message` and the other fields of an event as `k=v`.
#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

impl LineVisitor {
    fn field_sep(&mut self) {
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
    }

    fn line(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.field_sep();
            if value.is_empty() || value.contains(char::is_whitespace) {
                let _ = write!(self.fields, "{}={:?}", field.name(), value);
            } else {
                let _ = write!(self.fields, "{}={}", field.name(), value);
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.field_sep();
            let _ = write!(self.fields, "{}={:?}", field.name(), value);
        }
    }
}

/// Formats an event's fields as the line [`FluxLogLayer`] logs.
pub fn format_event(event: &Event<'_>) -> String {
    let mut v = LineVisitor::default();
    event.record(&mut v);
    v.line()
}

impl<S: Subscriber> Layer<S> for FluxLogLayer {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        // The level can change at run time: decide per event.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.level() <= &self.max_level()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level())
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        // SAFETY: plain libc calls.
        if unsafe { libc::pthread_equal(libc::pthread_self(), self.owner) } == 0 {
            return;
        }
        let mut line = format_event(event);
        if !self.prefix.is_empty() {
            line = format!("{}: {}", self.prefix, line);
        }
        self.h.log(syslog_level(event.metadata().level()), &line);
    }
}

/// A `Dispatch` (registry + [`FluxLogLayer`]) for scoped use with
/// `tracing::dispatcher::set_default` / `with_default`.
pub fn dispatch(h: Flux, max_level: LevelFilter) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(FluxLogLayer::new(h, max_level)))
}

/// Like [`dispatch`], with every line prefixed by `"<prefix>: "`.
pub fn dispatch_with_prefix(h: Flux, max_level: LevelFilter, prefix: &str) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(FluxLogLayer::new(h, max_level).with_prefix(prefix)))
}

/// Changes the level of the [`FluxLogLayer`] in the current (scoped) dispatcher.
/// Returns false if there is none.  E.g. from a module's `log-level=debug` argument.
pub fn set_max_level(level: LevelFilter) -> bool {
    tracing::dispatcher::get_default(|d| match d.downcast_ref::<FluxLogLayer>() {
        Some(layer) => {
            layer.set_max_level(level);
            true
        }
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn levels_map_to_syslog() {
        assert_eq!(syslog_level(&Level::ERROR), LogLevel::Err);
        assert_eq!(syslog_level(&Level::WARN), LogLevel::Warning);
        assert_eq!(syslog_level(&Level::INFO), LogLevel::Info);
        assert_eq!(syslog_level(&Level::DEBUG), LogLevel::Debug);
        assert_eq!(syslog_level(&Level::TRACE), LogLevel::Debug);
    }

    #[test]
    fn level_index_roundtrip() {
        for l in [LevelFilter::OFF, LevelFilter::ERROR, LevelFilter::WARN, LevelFilter::INFO, LevelFilter::DEBUG, LevelFilter::TRACE] {
            assert_eq!(index_to_level(level_to_index(l)), l);
        }
    }

    /// Captures formatted lines instead of calling flux_log.
    struct Capture(Arc<Mutex<Vec<String>>>);
    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            self.0.lock().unwrap().push(format_event(event));
        }
    }

    #[test]
    fn event_lines() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let d = Dispatch::new(tracing_subscriber::registry().with(Capture(lines.clone())));
        tracing::dispatcher::with_default(&d, || {
            tracing::info!(job = 42u64, name = "a b", ok = true, "started {}", "x");
            tracing::warn!("plain");
            tracing::debug!(k = "v");
        });
        assert_eq!(*lines.lock().unwrap(), vec![
            "started x job=42 name=\"a b\" ok=true".to_string(),
            "plain".to_string(),
            "k=v".to_string(),
        ]);
    }
}
