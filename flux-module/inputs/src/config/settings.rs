//! Reads the experiment TOML into typed settings that remember their line.
//!
//! Keys live in a `[flux_fiction]` table, or at top level as the Python implementation
//! also allowed. Every key is checked against the key table (unknown keys and wrong
//! types are errors) before any of them is used, so one bad key cannot hide behind
//! another, and every later error can still point at the line the user wrote.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::keys::{self, KeyUse, ValueKind};

/// The table that holds the keys (they may also sit at top level, as the Python implementation allowed).
pub const SECTION: &str = "flux_fiction";

/// One key's value, converted to the type the key table declares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Setting {
    /// Already resolved against the config file's folder.
    Path(PathBuf),
    Bool(bool),
    Str(String),
    Int(u64),
    Float(f64),
}

#[derive(Debug)]
struct Entry {
    line: usize,
    value: Setting,
}

/// The checked settings of one config file.
#[derive(Debug)]
pub(crate) struct Settings {
    file: PathBuf,
    /// `"[flux_fiction] "` or `""`: prefixed to key names in messages.
    section_label: &'static str,
    entries: HashMap<&'static str, Entry>,
    warnings: Vec<String>,
}

type SpannedTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
struct Sectioned {
    flux_fiction: SpannedTable,
}

impl Settings {
    /// Parses `text` (the contents of `file`); relative paths resolve against `file`'s folder.
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Settings, ConfigError> {
        let syntax = |source| ConfigError::Syntax { path: file.to_path_buf(), source };
        let top: SpannedTable = toml::from_str(text).map_err(syntax)?;
        let has_section = top.keys().any(|key| key.get_ref() == SECTION);
        let (table, section_label) = if has_section {
            for (key, value) in &top {
                if key.get_ref() == SECTION {
                    if !value.get_ref().is_table() {
                        return Err(ConfigError::Key {
                            path: file.to_path_buf(),
                            line: line_of(text, key.span().start),
                            section: "",
                            key: SECTION.to_string(),
                            problem: "must be a table".to_string(),
                        });
                    }
                } else {
                    return Err(ConfigError::Key {
                        path: file.to_path_buf(),
                        line: line_of(text, key.span().start),
                        section: "",
                        key: key.get_ref().clone(),
                        problem: format!("unknown top-level key: settings belong in the [{SECTION}] table"),
                    });
                }
            }
            let sectioned: Sectioned = toml::from_str(text).map_err(syntax)?;
            (sectioned.flux_fiction, "[flux_fiction] ")
        } else {
            (top, "")
        };

        let base = file.parent().unwrap_or(Path::new("."));
        let mut settings = Settings {
            file: file.to_path_buf(),
            section_label,
            entries: HashMap::new(),
            warnings: Vec::new(),
        };
        for (key, value) in table {
            let line = line_of(text, key.span().start);
            let name = key.into_inner();
            // A quoted empty key (`"" = 1`) is valid TOML: quote it so the message shows it.
            let name = if name.is_empty() { "\"\"".to_string() } else { name };
            let key_error = |problem: String| ConfigError::Key {
                path: file.to_path_buf(),
                line,
                section: section_label,
                key: name.clone(),
                problem,
            };
            let Some(spec) = keys::lookup(&name) else {
                let hint = keys::suggest(&name).map(|known| format!(" (did you mean '{known}'?)")).unwrap_or_default();
                return Err(key_error(format!("unknown key{hint}")));
            };
            let value = convert(spec.kind, value.into_inner(), base).map_err(key_error)?;
            if let KeyUse::Ignored(why) = spec.key_use {
                settings.warnings.push(format!(
                    "{}:{line}: {section_label}{name}: ignored: {why}",
                    file.display()
                ));
            }
            settings.entries.insert(spec.name, Entry { line, value });
        }
        Ok(settings)
    }

    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Warnings about keys that were accepted but are ignored.
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn get(&self, key: &'static str) -> Option<&Setting> {
        self.entries.get(key).map(|entry| &entry.value)
    }

    pub(crate) fn path(&self, key: &'static str) -> Option<&Path> {
        match self.get(key)? {
            Setting::Path(path) => Some(path),
            other => unreachable!("key table declares {key} as a path, found {other:?}"),
        }
    }

    pub(crate) fn bool(&self, key: &'static str) -> Option<bool> {
        match self.get(key)? {
            Setting::Bool(value) => Some(*value),
            other => unreachable!("key table declares {key} as a bool, found {other:?}"),
        }
    }

    pub(crate) fn str(&self, key: &'static str) -> Option<&str> {
        match self.get(key)? {
            Setting::Str(value) => Some(value),
            other => unreachable!("key table declares {key} as a string, found {other:?}"),
        }
    }

    pub(crate) fn int(&self, key: &'static str) -> Option<u64> {
        match self.get(key)? {
            Setting::Int(value) => Some(*value),
            other => unreachable!("key table declares {key} as an integer, found {other:?}"),
        }
    }

    pub(crate) fn float(&self, key: &'static str) -> Option<f64> {
        match self.get(key)? {
            Setting::Float(value) => Some(*value),
            other => unreachable!("key table declares {key} as a number, found {other:?}"),
        }
    }

    /// An error about the value of `key`, pointing at its line (or naming the table when unset).
    pub(crate) fn error(&self, key: &'static str, problem: impl Into<String>) -> ConfigError {
        match self.entries.get(key) {
            Some(entry) => ConfigError::Key {
                path: self.file.clone(),
                line: entry.line,
                section: self.section_label,
                key: key.to_string(),
                problem: problem.into(),
            },
            None => ConfigError::Missing {
                path: self.file.clone(),
                section: self.section_label,
                key,
                problem: problem.into(),
            },
        }
    }
}

/// Checks `value` as the reader checks config key `name`, for tools that write configs (the
/// parallel runner's per-run overrides): `Ok(true)` when the key names a file (a relative value
/// resolves against the config's folder), `Ok(false)` for other keys, `Err` saying what is wrong
/// (an unknown key, with a "did you mean" hint, or a wrong value).
pub fn check_key(name: &str, value: &toml::Value) -> Result<bool, String> {
    let Some(spec) = keys::lookup(name) else {
        let hint = keys::suggest(name).map(|known| format!(" (did you mean '{known}'?)")).unwrap_or_default();
        return Err(format!("unknown config key{hint}"));
    };
    convert(spec.kind, value.clone(), Path::new(""))?;
    Ok(spec.kind == ValueKind::Path)
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// How a wrong value is shown: scalars as written in TOML, containers by kind.
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::Array(_) => "an array".to_string(),
        toml::Value::Table(_) => "a table".to_string(),
        scalar => scalar.to_string(),
    }
}

fn convert(kind: ValueKind, value: toml::Value, base: &Path) -> Result<Setting, String> {
    let wrong = |value: &toml::Value| format!("expected {}, found {}", kind.expected(), describe(value));
    let setting = match (kind, &value) {
        (ValueKind::Path, toml::Value::String(s)) if !s.is_empty() => Setting::Path(base.join(s)),
        (ValueKind::Bool, toml::Value::Boolean(b)) => Setting::Bool(*b),
        (ValueKind::Str, toml::Value::String(s)) => Setting::Str(s.clone()),
        (ValueKind::PositiveInt, toml::Value::Integer(n)) if *n >= 1 => Setting::Int(*n as u64),
        (ValueKind::NonNegativeInt, toml::Value::Integer(n)) if *n >= 0 => Setting::Int(*n as u64),
        (ValueKind::Float | ValueKind::NonNegativeFloat | ValueKind::PositiveFloat, _) => {
            let number = match value {
                toml::Value::Integer(n) => n as f64,
                toml::Value::Float(x) if x.is_finite() => x,
                _ => return Err(wrong(&value)),
            };
            let in_range = match kind {
                ValueKind::NonNegativeFloat => number >= 0.0,
                ValueKind::PositiveFloat => number > 0.0,
                _ => true,
            };
            if !in_range {
                return Err(wrong(&value));
            }
            Setting::Float(number)
        }
        _ => return Err(wrong(&value)),
    };
    Ok(setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(Path::new("/exp/config.toml"), text)
    }

    #[test]
    fn reads_section_or_top_level_with_lines() {
        let s = parse("# c\n[flux_fiction]\nnnodes = 4\njob_traces = \"t.csv\"\n").unwrap();
        assert_eq!(s.int("nnodes"), Some(4));
        assert_eq!(s.path("job_traces"), Some(Path::new("/exp/t.csv")));
        assert_eq!(s.error("nnodes", "x").to_string(), "/exp/config.toml:3: [flux_fiction] nnodes: x");

        let s = parse("nnodes = 4\n").unwrap();
        assert_eq!(s.error("nnodes", "x").to_string(), "/exp/config.toml:1: nnodes: x");
    }

    #[test]
    fn wrong_types_name_key_line_and_value() {
        let err = parse("[flux_fiction]\n\nnnodes = \"x\"\n").unwrap_err().to_string();
        assert_eq!(err, "/exp/config.toml:3: [flux_fiction] nnodes: expected a non-negative integer, found \"x\"");
        let err = parse("ncpus = 0\n").unwrap_err().to_string();
        assert_eq!(err, "/exp/config.toml:1: ncpus: expected a positive integer, found 0");
        let err = parse("step_timeout = -1.5\n").unwrap_err().to_string();
        assert_eq!(err, "/exp/config.toml:1: step_timeout: expected a positive number, found -1.5");
    }

    #[test]
    fn integers_are_accepted_as_floats() {
        assert_eq!(parse("step_timeout = 60\n").unwrap().float("step_timeout"), Some(60.0));
    }

    #[test]
    fn an_empty_key_is_shown_quoted() {
        let err = parse("[flux_fiction]\n\"\" = 4\n").unwrap_err().to_string();
        assert_eq!(err, "/exp/config.toml:2: [flux_fiction] \"\": unknown key");
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let err = parse("[flux_fiction]\nnnode = 4\n").unwrap_err().to_string();
        assert_eq!(err, "/exp/config.toml:2: [flux_fiction] nnode: unknown key (did you mean 'nnodes'?)");
    }

    #[test]
    fn keys_outside_the_section_are_errors() {
        let err = parse("nnodes = 1\n[flux_fiction]\nncpus = 2\n").unwrap_err().to_string();
        assert!(err.starts_with("/exp/config.toml:1: nnodes: unknown top-level key"), "{err}");
    }

    #[test]
    fn check_key_tells_paths_and_refuses_what_the_reader_refuses() {
        assert_eq!(check_key("job_traces", &toml::Value::String("t.csv".into())), Ok(true));
        assert_eq!(check_key("nnodes", &toml::Value::Integer(4)), Ok(false));
        assert_eq!(
            check_key("nnodes", &toml::Value::Integer(-1)),
            Err("expected a non-negative integer, found -1".to_string())
        );
        assert_eq!(
            check_key("nnode", &toml::Value::Integer(4)),
            Err("unknown config key (did you mean 'nnodes'?)".to_string())
        );
    }

    #[test]
    fn ignored_keys_warn_with_their_reason() {
        let mut s = parse("[flux_fiction]\nbatch_job_starts = false\n").unwrap();
        let warnings = s.take_warnings();
        assert_eq!(
            warnings,
            ["/exp/config.toml:2: [flux_fiction] batch_job_starts: ignored: \
              starts are always acknowledged at the step's simulated time"]
        );
        let err = parse("batch_job_starts = 1\n").unwrap_err().to_string();
        assert!(err.contains("expected true or false, found 1"), "{err}");
    }
}
