//! The resolved plan: which runs this invocation (this shard) replays, where each one's
//! directory is, and how it is started. Shown by `--dry-run` (as text, or with `--json`).
//!
//! The study's directory is `<output_root>/<YYYYmmdd_HHMMSS>_<manifest name>[_shard-I-of-N]`
//! (`_2`, `_3`... when taken); run `k` of the manifest (1-based, counted before sharding, so
//! the shards of one study never use the same directory name) lives in `runs/<kkkk>_<slug>`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::manifest::Manifest;
use crate::run_spec::{RunSpec, json_of};

/// `--shard-index I --shard-count N`: this invocation runs the runs whose 0-based manifest
/// position is I modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// 1-based position in the whole manifest (sweeps expanded).
    pub ordinal: usize,
    pub slug: String,
    pub spec: RunSpec,
    /// `runs/<kkkk>_<slug>`: the effective config, the launcher log, the child run directory.
    pub run_root: PathBuf,
    pub no_faketime: bool,
    pub log_level: u64,
}

impl PlannedRun {
    /// The `flux-fiction-run` run directory.
    pub fn child_run_dir(&self) -> PathBuf {
        self.run_root.join("child")
    }

    pub fn launch_config(&self) -> PathBuf {
        self.run_root.join("launch_config.toml")
    }

    pub fn log_file(&self) -> PathBuf {
        self.run_root.join("launcher.log")
    }

    /// Where `[[run]] generate` options put the run's trace.
    pub fn generated_trace(&self) -> PathBuf {
        let csv = self.spec.generate.iter().any(|(option, value)| option == "format" && value.as_str() == Some("csv"));
        self.run_root.join(if csv { "trace.csv" } else { "trace.swf" })
    }

    pub fn label(&self) -> String {
        format!("[{:04}] {}", self.ordinal, self.spec.name)
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub manifest: PathBuf,
    /// The study's directory (not created until the runs start).
    pub root: PathBuf,
    pub shard: Option<Shard>,
    pub total_in_manifest: usize,
    pub runs: Vec<PlannedRun>,
}

/// Directory-safe form of a name: runs of other characters than `[A-Za-z0-9._-]` become `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || "._-".contains(c) {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() { "run".to_string() } else { slug.to_string() }
}

impl Plan {
    /// `output_root` is the parent of the study's directory; `stamp` is `YYYYmmdd_HHMMSS`.
    pub fn resolve(manifest: &Manifest, output_root: &Path, shard: Option<Shard>, stamp: &str) -> Plan {
        let stem = manifest.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let shard_suffix = shard.map(|s| format!("_shard-{}-of-{}", s.index + 1, s.count)).unwrap_or_default();
        let base = output_root.join(format!("{stamp}_{}{shard_suffix}", slugify(&stem)));
        let mut root = base.clone();
        let mut n = 1;
        while root.exists() {
            n += 1;
            root = PathBuf::from(format!("{}_{n}", base.display()));
        }
        let runs = manifest
            .runs
            .iter()
            .enumerate()
            .filter(|(i, _)| shard.is_none_or(|s| i % s.count == s.index))
            .map(|(i, spec)| {
                let slug = slugify(&spec.name);
                PlannedRun {
                    ordinal: i + 1,
                    run_root: root.join("runs").join(format!("{:04}_{slug}", i + 1)),
                    slug,
                    no_faketime: spec.no_faketime.unwrap_or(manifest.parallel.default_no_faketime),
                    log_level: spec.log_level.unwrap_or(manifest.parallel.default_broker_log_level),
                    spec: spec.clone(),
                }
            })
            .collect();
        Plan { manifest: manifest.path.clone(), root, shard, total_in_manifest: manifest.runs.len(), runs }
    }

    /// The plan as `--json` prints it (also `plan.json` in the study's directory).
    pub fn to_json(&self, settings: &Value) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|run| {
                let config: serde_json::Map<String, Value> =
                    run.spec.config.iter().map(|(k, v)| (k.clone(), json_of(v.clone()))).collect();
                let generate: serde_json::Map<String, Value> =
                    run.spec.generate.iter().map(|(k, v)| (k.clone(), json_of(v.clone()))).collect();
                let params: serde_json::Map<String, Value> =
                    run.spec.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                json!({
                    "ordinal": run.ordinal,
                    "name": run.spec.name,
                    "slug": run.slug,
                    "run_root": run.run_root,
                    "child_run_dir": run.child_run_dir(),
                    "config_file": run.spec.config_file,
                    "params": params,
                    "config_overrides": config,
                    "flux_config_overrides": run.spec.flux,
                    "generate": generate,
                    "tag": run.spec.tag,
                    "no_faketime": run.no_faketime,
                    "broker_log_level": run.log_level,
                    "metadata": json_of(toml::Value::Table(run.spec.metadata.clone())),
                })
            })
            .collect();
        json!({
            "manifest": self.manifest,
            "output_root": self.root,
            "shard_index": self.shard.map(|s| s.index),
            "shard_count": self.shard.map(|s| s.count),
            "total_in_manifest": self.total_in_manifest,
            "total_runs": self.runs.len(),
            "settings": settings,
            "runs": runs,
        })
    }

    /// The plan as text: one line per run with its parameters.
    pub fn to_text(&self, mode: &str) -> String {
        let mut text = format!("Manifest: {}\nOutput root: {}\n", self.manifest.display(), self.root.display());
        let shard = self.shard.map(|s| format!(" (shard {} of {})", s.index + 1, s.count)).unwrap_or_default();
        text += &format!("Runs: {} of {}{shard}, {mode}\n", self.runs.len(), self.total_in_manifest);
        for run in &self.runs {
            let params: Vec<String> = run.spec.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text += &format!("{}  config={}", run.label(), run.spec.config_file.display());
            if !params.is_empty() {
                text += &format!("  {}", params.join(" "));
            }
            text += "\n";
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(runs: usize) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "").unwrap();
        let mut text = "version = 1\n".to_string();
        for i in 0..runs {
            text += &format!("[[run]]\nname = \"run {i}/x\"\nconfig_file = \"base.toml\"\n");
        }
        Manifest::parse(&dir.path().join("My Study.toml"), &text).unwrap()
    }

    #[test]
    fn slugs_keep_safe_characters_only() {
        assert_eq!(slugify("policy=easy load 0.5"), "policy-easy-load-0.5");
        assert_eq!(slugify("//"), "run");
        assert_eq!(slugify("a_b-c.d"), "a_b-c.d");
    }

    #[test]
    fn shards_cover_every_run_exactly_once() {
        let manifest = manifest(7);
        let out = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        for index in 0..3 {
            let plan = Plan::resolve(&manifest, out.path(), Some(Shard { index, count: 3 }), "20260101_000000");
            assert!(plan.root.ends_with(format!("20260101_000000_My-Study_shard-{}-of-3", index + 1)));
            seen.extend(plan.runs.iter().map(|r| r.ordinal));
        }
        seen.sort();
        assert_eq!(seen, (1..=7).collect::<Vec<_>>());
    }

    #[test]
    fn run_directories_are_numbered_in_manifest_order_and_roots_never_reused() {
        let manifest = manifest(2);
        let out = tempfile::tempdir().unwrap();
        let plan = Plan::resolve(&manifest, out.path(), None, "20260101_000000");
        assert_eq!(plan.runs[1].run_root, plan.root.join("runs/0002_run-1-x"));
        std::fs::create_dir_all(&plan.root).unwrap();
        let again = Plan::resolve(&manifest, out.path(), None, "20260101_000000");
        assert_eq!(again.root, out.path().join("20260101_000000_My-Study_2"));
    }
}
