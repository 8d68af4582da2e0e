//! One replay as the manifest describes it, and what each manifest key does to it.
//!
//! A `[[run]]` entry, a `[[sweep]]`'s fixed keys and each value of a sweep axis all go through
//! [`RunSpec::apply`], so a key means the same wherever it is written. Keys fall in four kinds:
//! the run's own options (`tag`, `no_faketime`, `broker_log_level`, `metadata`), experiment
//! config overrides (any key of the config reader in ff-inputs, checked by it), Flux config
//! overrides (`policy`, `queue_depth`, `reservation_depth`, a `flux` table or `flux.A.B` keys,
//! merged into the run's `config_json`) and workload generation (a `generate` table of
//! `flux-fiction-generate` options, or `generate.OPT`, `load`, `seed`: the run gets its own
//! generated trace).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Fluxion queue policies `policy` accepts.
const QUEUE_POLICIES: [&str; 4] = ["fcfs", "easy", "conservative", "hybrid"];

/// Config keys the run directory decides: a manifest may not set them.
const RUN_DIRECTORY_KEYS: [&str; 7] =
    ["output_dir", "config_file", "source_config_file", "log_file", "status_file", "summary_file", "faketime_timestamp_file"];

/// Shortcuts for the Fluxion settings a policy study varies: key and its path in the Flux config.
const FLUX_SHORTCUTS: [(&str, &[&str]); 3] = [
    ("policy", &["sched-fluxion-qmanager", "queue-policy"]),
    ("queue_depth", &["sched-fluxion-qmanager", "queue-params", "queue-depth"]),
    ("reservation_depth", &["sched-fluxion-qmanager", "policy-params", "reservation-depth"]),
];

/// `flux-fiction-generate` options that have a top-level shortcut.
const GENERATE_SHORTCUTS: [&str; 2] = ["load", "seed"];

#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    pub name: String,
    /// The source experiment config (absolute).
    pub config_file: PathBuf,
    /// 1-based line of the entry in the manifest, for messages.
    pub line: usize,
    /// Experiment config overrides, in the order written (a later one wins); path values absolute.
    pub config: Vec<(String, toml::Value)>,
    /// Deep-merged into the Flux config (`config_json`) of the run.
    pub flux: Map<String, Value>,
    /// `flux-fiction-generate` options (without `--`); non-empty means the trace is generated.
    pub generate: Vec<(String, toml::Value)>,
    /// Every setting as the manifest wrote it, `key=value`: the run's parameters in the comparison.
    pub params: Vec<(String, String)>,
    pub tag: Option<String>,
    pub no_faketime: Option<bool>,
    pub log_level: Option<u64>,
    pub metadata: toml::Table,
}

impl RunSpec {
    pub fn new(name: String, config_file: PathBuf, line: usize) -> RunSpec {
        RunSpec {
            name,
            config_file,
            line,
            config: Vec::new(),
            flux: Map::new(),
            generate: Vec::new(),
            params: Vec::new(),
            tag: None,
            no_faketime: None,
            log_level: None,
            metadata: toml::Table::new(),
        }
    }

    /// Applies manifest key `key` = `value`; relative paths resolve against `manifest_dir`.
    /// Err is the problem, to be prefixed with where the key is.
    pub fn apply(&mut self, key: &str, value: toml::Value, manifest_dir: &Path) -> Result<(), String> {
        match key {
            "tag" => {
                let tag = value.as_str().ok_or("expected a string")?;
                if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c)) {
                    return Err(format!("may hold only letters, digits and . _ + - (got \"{tag}\")"));
                }
                self.tag = Some(tag.to_string());
            }
            "no_faketime" => self.no_faketime = Some(value.as_bool().ok_or("expected true or false")?),
            "broker_log_level" => self.log_level = Some(non_negative(&value)?),
            "metadata" => {
                let toml::Value::Table(table) = value else { return Err("expected a table".into()) };
                self.metadata.extend(table);
            }
            "flux" => {
                let toml::Value::Table(table) = value else { return Err("expected a table of Flux config".into()) };
                for (leaf, value) in flatten("flux", &toml::Value::Table(table.clone())) {
                    self.params.push((leaf, value));
                }
                let Value::Object(object) = json_of(toml::Value::Table(table)) else { unreachable!("a table") };
                merge(&mut self.flux, object);
            }
            "generate" => {
                let toml::Value::Table(table) = value else {
                    return Err("expected a table of flux-fiction-generate options".into());
                };
                for (option, value) in table {
                    self.set_generate(&format!("generate.{option}"), &option, value)?;
                }
            }
            _ => {
                if let Some(&(_, path)) = FLUX_SHORTCUTS.iter().find(|(name, _)| *name == key) {
                    check_flux_shortcut(key, &value)?;
                    self.set_flux(key, path, value);
                } else if let Some(path) = key.strip_prefix("flux.") {
                    let path: Vec<&str> = path.split('.').collect();
                    if path.iter().any(|part| part.is_empty()) {
                        return Err("a Flux config key is flux.TABLE.KEY".into());
                    }
                    self.set_flux(key, &path, value);
                } else if GENERATE_SHORTCUTS.contains(&key) {
                    self.set_generate(key, key, value)?;
                } else if let Some(option) = key.strip_prefix("generate.") {
                    self.set_generate(key, option, value)?;
                } else {
                    self.set_config(key, value, manifest_dir)?;
                }
            }
        }
        Ok(())
    }

    /// Checks what can only be seen once every key is applied.
    pub fn check_complete(&self) -> Result<(), String> {
        let has = |key: &str| self.config.iter().any(|(k, _)| k == key);
        if has("resource_file") && has("resource_R") {
            return Err("Use only one of resource_file or resource_R.".into());
        }
        if !self.generate.is_empty() && has("job_traces") {
            return Err("the run's trace is generated (generate, load or seed): remove job_traces".into());
        }
        Ok(())
    }

    fn set_config(&mut self, key: &str, value: toml::Value, manifest_dir: &Path) -> Result<(), String> {
        if RUN_DIRECTORY_KEYS.contains(&key) {
            return Err("the run directory decides it: it cannot be set in a manifest".into());
        }
        let is_path = ff_inputs::config::check_key(key, &value)
            .map_err(|problem| format!("Unsupported run override field: {problem}"))?;
        self.params.push((key.to_string(), display(&value)));
        let value = if is_path {
            let path = manifest_dir.join(value.as_str().expect("check_key accepted a path string"));
            if !path.exists() {
                return Err(format!("Referenced path does not exist: {}", path.display()));
            }
            toml::Value::String(path.to_string_lossy().into_owned())
        } else {
            value
        };
        // One of resource_file / resource_R given here replaces the other from the source config.
        self.config.retain(|(k, _)| k != key);
        self.config.push((key.to_string(), value));
        Ok(())
    }

    fn set_flux(&mut self, key: &str, path: &[&str], value: toml::Value) {
        self.params.push((key.to_string(), display(&value)));
        let mut nested = json_of(value);
        for part in path.iter().rev() {
            nested = Value::Object(Map::from_iter([(part.to_string(), nested)]));
        }
        let Value::Object(object) = nested else { unreachable!("a path of at least one key") };
        merge(&mut self.flux, object);
    }

    fn set_generate(&mut self, key: &str, option: &str, value: toml::Value) -> Result<(), String> {
        if option.is_empty() || !option.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("'{option}' is not a flux-fiction-generate option name"));
        }
        if matches!(option, "output" | "o" | "stats") {
            return Err("the runner chooses where the generated trace goes".into());
        }
        if matches!(value, toml::Value::Table(_) | toml::Value::Array(_)) {
            return Err("a flux-fiction-generate option takes a single value".into());
        }
        self.params.push((key.to_string(), display(&value)));
        self.generate.retain(|(o, _)| o != option);
        self.generate.push((option.to_string(), value));
        Ok(())
    }
}

fn check_flux_shortcut(key: &str, value: &toml::Value) -> Result<(), String> {
    match key {
        "policy" => match value.as_str() {
            Some(policy) if QUEUE_POLICIES.contains(&policy) => Ok(()),
            _ => Err(format!("expected one of {}, found {}", QUEUE_POLICIES.join(", "), value)),
        },
        _ => match value.as_integer() {
            Some(n) if n >= 1 => Ok(()),
            _ => Err(format!("expected a positive integer, found {value}")),
        },
    }
}

fn non_negative(value: &toml::Value) -> Result<u64, String> {
    match value.as_integer() {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(format!("expected a non-negative integer, found {value}")),
    }
}

/// A value as it appears in run names and the comparison: strings bare, others as TOML writes them.
pub fn display(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `prefix.a.b=value` for every leaf of a table.
fn flatten(prefix: &str, value: &toml::Value) -> Vec<(String, String)> {
    match value {
        toml::Value::Table(table) => {
            table.iter().flat_map(|(key, value)| flatten(&format!("{prefix}.{key}"), value)).collect()
        }
        leaf => vec![(prefix.to_string(), display(leaf))],
    }
}

/// TOML to JSON (datetimes become strings; a Flux config has none).
pub fn json_of(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(n) => Value::from(n),
        toml::Value::Float(x) => Value::from(x),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(json_of).collect()),
        toml::Value::Table(table) => Value::Object(table.into_iter().map(|(k, v)| (k, json_of(v))).collect()),
    }
}

/// Deep merge: tables merge key by key, anything else in `from` replaces what `into` had.
pub fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(mine)), Value::Object(theirs)) => merge(mine, theirs),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RunSpec {
        RunSpec::new("r".into(), "/exp/base.toml".into(), 1)
    }

    fn value(text: &str) -> toml::Value {
        toml::from_str::<toml::Table>(&format!("v = {text}")).unwrap().remove("v").unwrap()
    }

    #[test]
    fn flux_shortcuts_and_tables_merge_into_one_flux_config() {
        let mut run = spec();
        run.apply("policy", value("\"easy\""), Path::new("/m")).unwrap();
        run.apply("queue_depth", value("8"), Path::new("/m")).unwrap();
        run.apply("flux", value("{ sched-fluxion-resource = { match-policy = \"lonodex\" } }"), Path::new("/m")).unwrap();
        run.apply("flux.sched-fluxion-qmanager.policy-params.reservation-depth", value("2"), Path::new("/m")).unwrap();
        assert_eq!(
            Value::Object(run.flux.clone()),
            serde_json::json!({
                "sched-fluxion-qmanager": {"queue-policy": "easy", "queue-params": {"queue-depth": 8},
                                           "policy-params": {"reservation-depth": 2}},
                "sched-fluxion-resource": {"match-policy": "lonodex"}
            })
        );
        let keys: Vec<&str> = run.params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "policy",
                "queue_depth",
                "flux.sched-fluxion-resource.match-policy",
                "flux.sched-fluxion-qmanager.policy-params.reservation-depth"
            ]
        );
    }

    #[test]
    fn config_keys_are_checked_by_the_config_reader() {
        let mut run = spec();
        run.apply("nnodes", value("4"), Path::new("/m")).unwrap();
        assert_eq!(run.config, [("nnodes".to_string(), value("4"))]);
        let err = run.apply("nnode", value("4"), Path::new("/m")).unwrap_err();
        assert_eq!(err, "Unsupported run override field: unknown config key (did you mean 'nnodes'?)");
        let err = run.apply("ncpus", value("0"), Path::new("/m")).unwrap_err();
        assert!(err.contains("expected a positive integer, found 0"), "{err}");
        let err = run.apply("output_dir", value("\"o\""), Path::new("/m")).unwrap_err();
        assert!(err.contains("run directory decides"), "{err}");
        let err = run.apply("policy", value("\"sjf\""), Path::new("/m")).unwrap_err();
        assert!(err.starts_with("expected one of fcfs, easy"), "{err}");
    }

    #[test]
    fn path_overrides_resolve_against_the_manifest_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "").unwrap();
        let mut run = spec();
        run.apply("job_traces", value("\"t.csv\""), dir.path()).unwrap();
        let expected = dir.path().join("t.csv").to_string_lossy().into_owned();
        assert_eq!(run.config, [("job_traces".to_string(), toml::Value::String(expected))]);
        let err = run.apply("config_json", value("\"nope.json\""), dir.path()).unwrap_err();
        assert!(err.starts_with("Referenced path does not exist: ") && err.ends_with("nope.json"), "{err}");
    }

    #[test]
    fn generated_traces_and_resource_files_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.json"), "{}").unwrap();
        let mut run = spec();
        run.apply("resource_file", value("\"r.json\""), dir.path()).unwrap();
        run.apply("resource_R", value("\"r.json\""), dir.path()).unwrap();
        assert_eq!(run.check_complete().unwrap_err(), "Use only one of resource_file or resource_R.");

        let mut run = spec();
        run.apply("generate", value("{ jobs = 20, model = \"uniform\" }"), dir.path()).unwrap();
        run.apply("load", value("0.5"), dir.path()).unwrap();
        run.apply("seed", value("3"), dir.path()).unwrap();
        run.apply("seed", value("4"), dir.path()).unwrap();
        assert_eq!(
            run.generate,
            [("jobs".into(), value("20")), ("model".into(), value("\"uniform\"")), ("load".into(), value("0.5")),
             ("seed".into(), value("4"))]
        );
        run.check_complete().unwrap();
        let err = run.apply("generate.output", value("\"x\""), dir.path()).unwrap_err();
        assert!(err.contains("chooses where"), "{err}");
    }
}
