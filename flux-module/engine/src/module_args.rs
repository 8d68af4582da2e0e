//! The `key=value` arguments of `flux module load ff-emu.so ...`.
//!
//! The broker splits module arguments on spaces, so every value is one token; a path with
//! spaces (or `%`) in it is passed percent-encoded (`%20`, `%25`), as `flux-fiction-run` does.

use std::path::PathBuf;

use ff_inputs::SimTime;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModuleArgs {
    /// Run directory prepared by `flux-fiction-prepare` (holds `config.toml`); no replay without it.
    pub run_dir: Option<PathBuf>,
    /// The broker runs under libfaketime with `FAKETIME` in its environment: the module
    /// moves the instance's clock by changing that variable (`faketime=1`).
    pub faketime: bool,
    /// Write every job's eventlog entries to `output/eventlog.csv` (`eventlog=1`).
    pub eventlog: bool,
    /// Pause before the first step later than this simulated time (`pause-at=EPOCH_SECONDS`,
    /// as `flux-fiction-prepare --pause-at` prints it).
    pub pause_at: Option<SimTime>,
    /// Record OpenTelemetry spans of the replay with this `service.name` (`otel-service=NAME`).
    pub otel_service: Option<String>,
}

const USAGE: &str = "expected run-dir=DIR and optionally faketime=1, eventlog=1, pause-at=EPOCH_SECONDS, otel-service=NAME";

impl ModuleArgs {
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, String> {
        let mut parsed = ModuleArgs::default();
        let (mut faketime_seen, mut eventlog_seen) = (false, false);
        for arg in args {
            let arg = arg.as_ref();
            let Some((key, value)) = arg.split_once('=') else {
                return Err(format!("argument '{arg}' is not key=value ({USAGE})"));
            };
            if value.is_empty() {
                return Err(format!("argument '{key}' has an empty value ({USAGE})"));
            }
            let value = percent_decode(value).ok_or_else(|| format!("argument '{key}' has a bad %-escape"))?;
            let fresh = match key {
                "run-dir" => parsed.run_dir.replace(PathBuf::from(value)).is_none(),
                "faketime" => {
                    parsed.faketime = match value.as_str() {
                        "1" => true,
                        "0" => false,
                        _ => return Err(format!("argument 'faketime' must be 1 or 0, got '{value}'")),
                    };
                    !std::mem::replace(&mut faketime_seen, true)
                }
                "eventlog" => {
                    parsed.eventlog = match value.as_str() {
                        "1" => true,
                        "0" => false,
                        _ => return Err(format!("argument 'eventlog' must be 1 or 0, got '{value}'")),
                    };
                    !std::mem::replace(&mut eventlog_seen, true)
                }
                "pause-at" => {
                    let secs = value.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).ok_or_else(|| {
                        format!("argument 'pause-at' must be epoch seconds, got '{value}'")
                    })?;
                    parsed.pause_at.replace(SimTime::from_secs_f64(secs)).is_none()
                }
                "otel-service" => parsed.otel_service.replace(value).is_none(),
                _ => return Err(format!("unknown argument '{key}' ({USAGE})")),
            };
            if !fresh {
                return Err(format!("argument '{key}' given twice"));
            }
        }
        if parsed.faketime && parsed.run_dir.is_none() {
            return Err(format!("argument 'faketime' needs 'run-dir' ({USAGE})"));
        }
        if parsed.eventlog && parsed.run_dir.is_none() {
            return Err(format!("argument 'eventlog' needs 'run-dir' ({USAGE})"));
        }
        if parsed.pause_at.is_some() && parsed.run_dir.is_none() {
            return Err(format!("argument 'pause-at' needs 'run-dir' ({USAGE})"));
        }
        if parsed.otel_service.is_some() && parsed.run_dir.is_none() {
            return Err(format!("argument 'otel-service' needs 'run-dir' ({USAGE})"));
        }
        Ok(parsed)
    }
}

/// Decodes `%XX` escapes; None if one is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn no_arguments_means_idle() {
        assert_eq!(ModuleArgs::parse::<&str>(&[]).unwrap(), ModuleArgs::default());
    }

    #[test]
    fn known_keys_parse() {
        let a = ModuleArgs::parse(&["run-dir=/r", "faketime=1"]).unwrap();
        assert_eq!(a.run_dir, Some(PathBuf::from("/r")));
        assert!(a.faketime);
        assert!(!ModuleArgs::parse(&["run-dir=/r", "faketime=0"]).unwrap().faketime);
        assert!(ModuleArgs::parse(&["run-dir=/r", "eventlog=1"]).unwrap().eventlog);
        assert!(!ModuleArgs::parse(&["run-dir=/r"]).unwrap().eventlog);
        let p = ModuleArgs::parse(&["run-dir=/r", "pause-at=1647216040.000001"]).unwrap();
        assert_eq!(p.pause_at, Some(SimTime(1_647_216_040_000_001)));
        let otel = ModuleArgs::parse(&["run-dir=/r", "otel-service=my%20replay"]).unwrap().otel_service;
        assert_eq!(otel.as_deref(), Some("my replay"));
        assert_eq!(ModuleArgs::parse(&["run-dir=/r"]).unwrap().otel_service, None);
    }

    #[test]
    fn values_are_percent_decoded() {
        let a = ModuleArgs::parse(&["run-dir=/tmp/trash%20directory/100%25"]).unwrap();
        assert_eq!(a.run_dir, Some(PathBuf::from("/tmp/trash directory/100%")));
        assert!(ModuleArgs::parse(&["run-dir=/a%2"]).unwrap_err().contains("%-escape"));
        assert!(ModuleArgs::parse(&["run-dir=/a%zz"]).unwrap_err().contains("%-escape"));
    }

    /// Pieces that arguments are made of: the known keys and values, and the malformed.
    const PIECES: &[&str] =
        &["run-dir", "faketime", "eventlog", "=", "1", "0", "/r", "%", "%2", "%20", "%zz", "%ff", "é", " ", ""];

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 256, failure_persistence: None,
                                                           ..Default::default() })]
        /// Any list of arguments parses or is refused with a message naming an argument.
        #[test]
        fn any_arguments_parse_or_name_the_bad_one(
            args in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(PIECES), 1..5).prop_map(|p| p.concat()),
                0..4,
            ),
        ) {
            if let Err(e) = ModuleArgs::parse(&args) {
                proptest::prop_assert!(e.contains("argument '"), "{e}");
            }
        }
    }

    #[test]
    fn errors_name_the_argument() {
        assert!(ModuleArgs::parse(&["bogus=1"]).unwrap_err().contains("'bogus'"));
        assert!(ModuleArgs::parse(&["run-dir"]).unwrap_err().contains("'run-dir'"));
        assert!(ModuleArgs::parse(&["run-dir="]).unwrap_err().contains("'run-dir'"));
        assert!(ModuleArgs::parse(&["run-dir=a", "run-dir=b"]).unwrap_err().contains("twice"));
        assert!(ModuleArgs::parse(&["faketime=1"]).unwrap_err().contains("needs"));
        assert!(ModuleArgs::parse(&["run-dir=a", "faketime=yes"]).unwrap_err().contains("1 or 0"));
        assert!(ModuleArgs::parse(&["run-dir=a", "faketime=0", "faketime=0"]).unwrap_err().contains("twice"));
        assert!(ModuleArgs::parse(&["eventlog=1"]).unwrap_err().contains("needs"));
        assert!(ModuleArgs::parse(&["run-dir=a", "eventlog=yes"]).unwrap_err().contains("1 or 0"));
        assert!(ModuleArgs::parse(&["run-dir=a", "eventlog=1", "eventlog=1"]).unwrap_err().contains("twice"));
        assert!(ModuleArgs::parse(&["pause-at=5"]).unwrap_err().contains("needs"));
        assert!(ModuleArgs::parse(&["run-dir=a", "pause-at=soon"]).unwrap_err().contains("epoch seconds"));
        assert!(ModuleArgs::parse(&["run-dir=a", "pause-at=-1"]).unwrap_err().contains("epoch seconds"));
        assert!(ModuleArgs::parse(&["run-dir=a", "pause-at=1", "pause-at=2"]).unwrap_err().contains("twice"));
        assert!(ModuleArgs::parse(&["otel-service=x"]).unwrap_err().contains("needs"));
        assert!(ModuleArgs::parse(&["run-dir=a", "otel-service=x", "otel-service=y"]).unwrap_err().contains("twice"));
    }
}
