//! The manifest: a TOML file naming many replays, in the earlier implementation's format
//! (`version = 1`, a `[parallel]` table, `[[run]]` entries) plus `[[sweep]]` entries that
//! expand into runs over the product of listed values (see [`crate::sweep`]).
//!
//! Everything is checked before anything runs: unknown keys, wrong types, missing files and
//! duplicate names are errors that name the manifest, the line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::run_spec::RunSpec;
use crate::sweep;

pub const MANIFEST_VERSION: i64 = 1;

/// The `[parallel]` table, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ParallelSettings {
    pub max_concurrent: usize,
    pub fail_fast: bool,
    /// `"summary"` (a progress line every `summary_interval`) or `"quiet"`.
    pub quiet: bool,
    pub default_no_faketime: bool,
    pub default_broker_log_level: u64,
    /// Where the study's directory is made (absolute).
    pub output_root: PathBuf,
    pub summary_interval: f64,
    /// With `--flux`: each run's job takes a whole node, or this many cores of one.
    pub flux_whole_node: bool,
    pub flux_cores: u64,
}

#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file (absolute).
    pub path: PathBuf,
    pub parallel: ParallelSettings,
    /// Every run, sweeps expanded, in manifest order.
    pub runs: Vec<RunSpec>,
}

/// Why a manifest was refused: the message names the file, and the line when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestError(pub String);

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A table whose keys remember where they were written.
pub(crate) type SpannedTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
struct RawManifest {
    version: Option<Spanned<toml::Value>>,
    parallel: Option<SpannedTable>,
    #[serde(default)]
    run: Vec<SpannedTable>,
    #[serde(default)]
    sweep: Vec<SpannedTable>,
}

const TOP_LEVEL_KEYS: [&str; 4] = ["version", "parallel", "run", "sweep"];
const PARALLEL_KEYS: [&str; 9] = [
    "max_concurrent",
    "fail_fast",
    "progress_mode",
    "default_no_faketime",
    "default_broker_log_level",
    "output_root",
    "summary_interval",
    "flux_whole_node",
    "flux_cores",
];

/// Where in the manifest something is: builds messages `FILE:LINE: WHAT: problem`.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn line_of(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())].iter().filter(|&&b| b == b'\n').count() + 1
    }

    pub fn error(&self, offset: usize, what: &str, problem: impl fmt::Display) -> ManifestError {
        ManifestError(format!("{}:{}: {what}{problem}", self.path.display(), self.line_of(offset)))
    }

    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let path = std::path::absolute(path).map_err(|e| ManifestError(format!("{}: {e}", path.display())))?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ManifestError(format!("Parallel manifest not found: {}", path.display())));
            }
            Err(e) => return Err(ManifestError(format!("{}: cannot read the manifest: {e}", path.display()))),
        };
        Manifest::parse(&path, &text)
    }

    /// Parses `text`, the contents of the manifest at `path` (absolute).
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let source = Source { path, text };
        let syntax = |e: toml::de::Error| ManifestError(format!("{}: {e}", path.display()));
        let top: BTreeMap<Spanned<String>, toml::Value> = toml::from_str(text).map_err(syntax)?;
        for key in top.keys() {
            if !TOP_LEVEL_KEYS.contains(&key.get_ref().as_str()) {
                return Err(source.error(
                    key.span().start,
                    "",
                    format!("unknown top-level key '{}' (a manifest has version, [parallel], [[run]] and [[sweep]])", key.get_ref()),
                ));
            }
        }
        let raw: RawManifest = toml::from_str(text).map_err(syntax)?;
        match &raw.version {
            None => return Err(ManifestError(format!("{}: version = {MANIFEST_VERSION} is required", path.display()))),
            Some(v) if v.get_ref().as_integer() != Some(MANIFEST_VERSION) => {
                return Err(source.error(
                    v.span().start,
                    "",
                    format!("Unsupported manifest version {}; expected {MANIFEST_VERSION}", v.get_ref()),
                ));
            }
            Some(_) => {}
        }
        let parallel = parse_parallel(&source, raw.parallel.unwrap_or_default())?;
        if raw.run.is_empty() && raw.sweep.is_empty() {
            return Err(ManifestError(format!(
                "{}: At least one [[run]] (or [[sweep]]) entry is required.",
                path.display()
            )));
        }
        let mut runs = Vec::new();
        for entry in raw.run {
            runs.push(parse_run(&source, entry)?);
        }
        for entry in raw.sweep {
            runs.extend(sweep::expand(&source, entry)?);
        }
        check_unique_names(path, &runs)?;
        Ok(Manifest { path: path.to_path_buf(), parallel, runs })
    }
}

fn parse_parallel(source: &Source, table: SpannedTable) -> Result<ParallelSettings, ManifestError> {
    let mut settings = ParallelSettings {
        max_concurrent: 1,
        fail_fast: false,
        quiet: false,
        default_no_faketime: false,
        default_broker_log_level: 6,
        output_root: source.dir().join("parallel-runs"),
        summary_interval: 5.0,
        flux_whole_node: false,
        flux_cores: 1,
    };
    for (key, value) in table {
        let offset = key.span().start;
        let (key, value) = (key.into_inner(), value.into_inner());
        let wrong = |expected: &str| source.error(offset, "[parallel] ", format!("{key}: expected {expected}, found {value}"));
        let positive = || value.as_integer().filter(|&n| n >= 1).map(|n| n as u64).ok_or_else(|| wrong("a positive integer"));
        match key.as_str() {
            "max_concurrent" => settings.max_concurrent = positive()? as usize,
            "fail_fast" => settings.fail_fast = value.as_bool().ok_or_else(|| wrong("true or false"))?,
            "progress_mode" => {
                settings.quiet = match value.as_str() {
                    Some("summary") => false,
                    Some("quiet") => true,
                    _ => return Err(wrong("\"summary\" or \"quiet\"")),
                }
            }
            "default_no_faketime" => settings.default_no_faketime = value.as_bool().ok_or_else(|| wrong("true or false"))?,
            "default_broker_log_level" => {
                settings.default_broker_log_level =
                    value.as_integer().filter(|&n| n >= 0).ok_or_else(|| wrong("a non-negative integer"))? as u64
            }
            "output_root" => {
                let root = value.as_str().filter(|s| !s.is_empty()).ok_or_else(|| wrong("a path string"))?;
                settings.output_root = source.dir().join(root);
            }
            "summary_interval" => {
                let number = value.as_float().or(value.as_integer().map(|n| n as f64));
                settings.summary_interval = number.filter(|&x| x > 0.0).ok_or_else(|| wrong("a positive number"))?;
            }
            "flux_whole_node" => settings.flux_whole_node = value.as_bool().ok_or_else(|| wrong("true or false"))?,
            "flux_cores" => settings.flux_cores = positive()?,
            _ => {
                return Err(source.error(
                    offset,
                    "[parallel] ",
                    format!("{key}: unknown key (known: {})", PARALLEL_KEYS.join(", ")),
                ));
            }
        }
    }
    Ok(settings)
}

/// Takes `name` and `config_file` out of an entry: every run and sweep has both.
pub(crate) fn name_and_config(
    source: &Source,
    kind: &str,
    entry: &mut SpannedTable,
    entry_offset: usize,
) -> Result<(String, PathBuf), ManifestError> {
    let mut take = |key: &str| {
        let found = entry.keys().find(|k| k.get_ref() == key).cloned();
        found.map(|k| (k.span().start, entry.remove(&k).expect("key just found").into_inner()))
    };
    let name = match take("name") {
        None => return Err(source.error(entry_offset, kind, "name is required")),
        Some((offset, toml::Value::String(name))) if name.trim().is_empty() => {
            return Err(source.error(offset, kind, "run name must not be empty"));
        }
        Some((_, toml::Value::String(name))) => name,
        Some((offset, other)) => return Err(source.error(offset, kind, format!("name: expected a string, found {other}"))),
    };
    let what = format!("{kind}\"{name}\": ");
    let config_file = match take("config_file") {
        None => return Err(source.error(entry_offset, &what, "config_file is required")),
        Some((offset, toml::Value::String(file))) => {
            let path = source.dir().join(file);
            if !path.is_file() {
                return Err(source.error(
                    offset,
                    &what,
                    format!("config_file: Referenced path does not exist: {}", path.display()),
                ));
            }
            path
        }
        Some((offset, other)) => {
            return Err(source.error(offset, &what, format!("config_file: expected a path string, found {other}")));
        }
    };
    Ok((name, config_file))
}

/// Where an entry starts: its first key (entries have no span of their own).
pub(crate) fn entry_offset(entry: &SpannedTable) -> usize {
    entry.keys().map(|k| k.span().start).min().unwrap_or(0)
}

fn parse_run(source: &Source, mut entry: SpannedTable) -> Result<RunSpec, ManifestError> {
    let offset = entry_offset(&entry);
    let (name, config_file) = name_and_config(source, "[[run]] ", &mut entry, offset)?;
    let what = format!("[[run]] \"{name}\": ");
    let mut spec = RunSpec::new(name, config_file, source.line_of(offset));
    let mut keys: Vec<_> = entry.into_iter().collect();
    keys.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in keys {
        let key_offset = key.span().start;
        let key = key.into_inner();
        spec.apply(&key, value.into_inner(), source.dir())
            .map_err(|problem| source.error(key_offset, &what, format!("{key}: {problem}")))?;
    }
    spec.check_complete().map_err(|problem| source.error(offset, &what, problem))?;
    Ok(spec)
}

fn check_unique_names(path: &Path, runs: &[RunSpec]) -> Result<(), ManifestError> {
    for (i, run) in runs.iter().enumerate() {
        if let Some(other) = runs[..i].iter().find(|other| other.name == run.name) {
            return Err(ManifestError(format!(
                "{}:{}: Run names must be unique: \"{}\" is also the name of the run at line {}",
                path.display(),
                run.line,
                run.name,
                other.line
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest directory with base.toml and trace.csv in it.
    fn study() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "job_traces = \"trace.csv\"\nnnodes = 4\nncpus = 1\n").unwrap();
        std::fs::write(dir.path().join("trace.csv"), "").unwrap();
        dir
    }

    fn parse(dir: &tempfile::TempDir, text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(&dir.path().join("study.toml"), text)
    }

    fn error(dir: &tempfile::TempDir, text: &str) -> String {
        let err = parse(dir, text).unwrap_err().0;
        let prefix = format!("{}", dir.path().join("study.toml").display());
        assert!(err.starts_with(&prefix), "{err}");
        err[prefix.len()..].to_string()
    }

    #[test]
    fn reads_the_earlier_format() {
        let dir = study();
        let manifest = parse(
            &dir,
            "version = 1\n[parallel]\nmax_concurrent = 2\nfail_fast = true\noutput_root = \"out\"\n\
             summary_interval = 1\n\
             [[run]]\nname = \"fcfs\"\nconfig_file = \"base.toml\"\npolicy = \"fcfs\"\ntag = \"a\"\n\
             [run.metadata]\nnote = \"x\"\n\
             [[run]]\nname = \"easy\"\nconfig_file = \"base.toml\"\nnnodes = 8\nno_faketime = true\n",
        )
        .unwrap();
        assert_eq!(manifest.parallel.max_concurrent, 2);
        assert!(manifest.parallel.fail_fast);
        assert_eq!(manifest.parallel.output_root, dir.path().join("out"));
        assert_eq!(manifest.parallel.summary_interval, 1.0);
        let names: Vec<&str> = manifest.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["fcfs", "easy"]);
        assert_eq!(manifest.runs[0].tag.as_deref(), Some("a"));
        assert_eq!(manifest.runs[0].metadata["note"].as_str(), Some("x"));
        assert_eq!(manifest.runs[0].line, 8, "the line of its first key");
        assert_eq!(manifest.runs[1].no_faketime, Some(true));
        assert_eq!(manifest.runs[1].params, [("nnodes".to_string(), "8".to_string())]);
    }

    #[test]
    fn version_must_be_1() {
        let dir = study();
        assert_eq!(error(&dir, "version = 2\n"), ":1: Unsupported manifest version 2; expected 1");
        assert_eq!(error(&dir, "[parallel]\n"), ": version = 1 is required");
        assert_eq!(error(&dir, "version = 1\n"), ": At least one [[run]] (or [[sweep]]) entry is required.");
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let dir = study();
        assert!(error(&dir, "version = 1\nruns = 3\n").starts_with(":2: unknown top-level key 'runs'"));
        assert!(error(&dir, "version = 1\n[parallel]\nmax_concurent = 3\n").starts_with(":3: [parallel] max_concurent: unknown key"));
        assert_eq!(
            error(&dir, "version = 1\n[[run]]\nname = \"a\"\nconfig_file = \"base.toml\"\nnnode = 3\n"),
            ":5: [[run]] \"a\": nnode: Unsupported run override field: unknown config key (did you mean 'nnodes'?)"
        );
        assert_eq!(
            error(&dir, "version = 1\n[parallel]\nmax_concurrent = 0\n"),
            ":3: [parallel] max_concurrent: expected a positive integer, found 0"
        );
    }

    #[test]
    fn names_must_be_given_unique_and_not_empty() {
        let dir = study();
        let run = |name: &str| format!("[[run]]\nname = \"{name}\"\nconfig_file = \"base.toml\"\n");
        assert_eq!(
            error(&dir, &format!("version = 1\n{}{}", run("a"), run("a"))),
            ":6: Run names must be unique: \"a\" is also the name of the run at line 3"
        );
        assert_eq!(error(&dir, &format!("version = 1\n{}", run(" "))), ":3: [[run]] run name must not be empty");
        assert_eq!(error(&dir, "version = 1\n[[run]]\nconfig_file = \"base.toml\"\n"), ":3: [[run]] name is required");
    }

    #[test]
    fn missing_files_are_named() {
        let dir = study();
        let err = error(&dir, "version = 1\n[[run]]\nname = \"a\"\nconfig_file = \"nope.toml\"\n");
        assert!(err.starts_with(":4: [[run]] \"a\": config_file: Referenced path does not exist: "), "{err}");
        let err = error(&dir, "version = 1\n[[run]]\nname = \"a\"\nconfig_file = \"base.toml\"\njob_traces = \"x.csv\"\n");
        assert!(err.starts_with(":5: [[run]] \"a\": job_traces: Referenced path does not exist: "), "{err}");
        let missing = Manifest::load(&dir.path().join("none.toml")).unwrap_err().0;
        assert!(missing.starts_with("Parallel manifest not found: "), "{missing}");
    }
}
