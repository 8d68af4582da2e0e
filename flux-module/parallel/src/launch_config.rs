//! A run's directory before it starts: its effective experiment config (`launch_config.toml`),
//! its Flux config when the manifest changes it (`flux-config.json`), its generated trace, and
//! `launch.json` recording how it is started.
//!
//! The effective config is the source config's table with its relative paths made absolute
//! (against the source config's folder, as the config reader resolves them) and the manifest's
//! overrides on top, written as a new `[flux_fiction]` TOML: `flux-fiction-run` reads it like
//! any other config, so there is no second way of passing settings to a run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};

use crate::plan::PlannedRun;
use crate::run_spec::{json_of, merge};

/// The programs a run is made with.
pub struct Tools {
    pub run: PathBuf,
    pub generate: PathBuf,
}

/// Creates the run's directory and what goes in it; returns `flux-fiction-run`'s command line.
pub fn prepare_run(run: &PlannedRun, tools: &Tools, progress_interval: f64) -> Result<Vec<OsString>, String> {
    std::fs::create_dir_all(run.run_root.parent().expect("run roots are under runs/"))
        .and_then(|()| std::fs::create_dir(&run.run_root))
        .map_err(|e| format!("cannot create {}: {e}", run.run_root.display()))?;
    let mut table = source_table(&run.spec.config_file)?;
    for (key, value) in &run.spec.config {
        if key == "resource_file" {
            table.remove("resource_R");
        } else if key == "resource_R" {
            table.remove("resource_file");
        }
        table.insert(key.clone(), value.clone());
    }
    if !run.spec.generate.is_empty() {
        let trace = generate_trace(run, &tools.generate)?;
        table.insert("job_traces".into(), path_value(&trace));
    }
    if !run.spec.flux.is_empty() {
        let flux_config = write_flux_config(run, table.get("config_json").and_then(|v| v.as_str()).map(Path::new))?;
        table.insert("config_json".into(), path_value(&flux_config));
    }
    let text = toml::to_string(&toml::Table::from_iter([(ff_inputs::config::SECTION.to_string(), toml::Value::Table(table))]))
        .map_err(|e| format!("cannot write the effective config: {e}"))?;
    let header = format!(
        "# The experiment of run \"{}\": {} with the manifest's overrides.\n",
        run.spec.name,
        run.spec.config_file.display()
    );
    write(&run.launch_config(), &(header + &text))?;

    let mut command: Vec<OsString> = vec![
        tools.run.clone().into(),
        run.launch_config().into(),
        "--run-dir".into(),
        run.child_run_dir().into(),
        "--log-level".into(),
        run.log_level.to_string().into(),
        "--progress-interval".into(),
        progress_interval.to_string().into(),
    ];
    if run.no_faketime {
        command.push("--no-faketime".into());
    }
    if let Some(tag) = &run.spec.tag {
        command.extend(["--tag".into(), tag.into()]);
    }
    let launch = json!({
        "version": 1,
        "name": run.spec.name,
        "ordinal": run.ordinal,
        "run_root": run.run_root,
        "child_run_dir": run.child_run_dir(),
        "launch_config": run.launch_config(),
        "source_config": run.spec.config_file,
        "command": command.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        "metadata": json_of(toml::Value::Table(run.spec.metadata.clone())),
    });
    write(&run.run_root.join("launch.json"), &format!("{launch:#}\n"))?;
    Ok(command)
}

fn path_value(path: &Path) -> toml::Value {
    toml::Value::String(path.to_string_lossy().into_owned())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The source config's settings (its `[flux_fiction]` table, or its top level) with every path
/// made absolute against its folder.
fn source_table(config: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(config).map_err(|e| format!("cannot read {}: {e}", config.display()))?;
    let mut top: toml::Table = text.parse().map_err(|e| format!("{}: {e}", config.display()))?;
    let mut table = match top.remove(ff_inputs::config::SECTION) {
        Some(toml::Value::Table(table)) => table,
        _ => top,
    };
    let base = config.parent().unwrap_or(Path::new("/"));
    for (key, value) in table.iter_mut() {
        // A key the reader refuses is left for flux-fiction-run to report with its line.
        if ff_inputs::config::check_key(key, value) == Ok(true) {
            *value = path_value(&base.join(value.as_str().expect("a checked path is a string")));
        }
    }
    Ok(table)
}

/// `flux-config.json`: the source Flux config (if any) with the manifest's changes merged in.
fn write_flux_config(run: &PlannedRun, source: Option<&Path>) -> Result<PathBuf, String> {
    let mut config = match source {
        None => Map::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            match serde_json::from_str(&text) {
                Ok(Value::Object(object)) => object,
                Ok(_) => return Err(format!("{}: the Flux config must be a JSON object", path.display())),
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
    };
    merge(&mut config, run.spec.flux.clone());
    let path = run.run_root.join("flux-config.json");
    write(&path, &format!("{:#}\n", Value::Object(config)))?;
    Ok(path)
}

/// Runs `flux-fiction-generate` with the run's options into the run's directory.
fn generate_trace(run: &PlannedRun, generate: &Path) -> Result<PathBuf, String> {
    let trace = run.generated_trace();
    let mut command = Command::new(generate);
    for (option, value) in &run.spec.generate {
        let flag = format!("--{}", option.replace('_', "-"));
        match value {
            toml::Value::Boolean(true) => {
                command.arg(flag);
            }
            toml::Value::Boolean(false) => {}
            value => {
                command.arg(flag).arg(crate::run_spec::display(value));
            }
        }
    }
    command.arg("-o").arg(&trace);
    let output = command.output().map_err(|e| format!("cannot run {}: {e}", generate.display()))?;
    if !output.status.success() {
        return Err(format!(
            "flux-fiction-generate failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use crate::plan::Plan;

    #[test]
    fn the_effective_config_is_the_source_with_absolute_paths_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let exp = dir.path().join("exp");
        std::fs::create_dir(&exp).unwrap();
        std::fs::write(
            exp.join("base.toml"),
            "[flux_fiction]\njob_traces = \"trace.csv\"\nnnodes = 4\nncpus = 2\nconfig_json = \"flux.json\"\n\
             resource_R = \"R.json\"\n",
        )
        .unwrap();
        std::fs::write(exp.join("flux.json"), r#"{"sched-fluxion-qmanager": {"queue-params": {"queue-depth": 8}}}"#).unwrap();
        std::fs::write(dir.path().join("R2.json"), "{}").unwrap();
        let manifest = Manifest::parse(
            &dir.path().join("m.toml"),
            "version = 1\n[[run]]\nname = \"a\"\nconfig_file = \"exp/base.toml\"\nnnodes = 8\npolicy = \"easy\"\n\
             resource_file = \"R2.json\"\ntag = \"t1\"\nno_faketime = true\n",
        )
        .unwrap();
        let plan = Plan::resolve(&manifest, &dir.path().join("out"), None, "20260101_000000");
        let run = &plan.runs[0];
        let tools = Tools { run: "/bin/flux-fiction-run".into(), generate: "/bin/false".into() };
        let command = prepare_run(run, &tools, 5.0).unwrap();

        let written: toml::Table = std::fs::read_to_string(run.launch_config()).unwrap().parse().unwrap();
        let table = written["flux_fiction"].as_table().unwrap();
        assert_eq!(table["job_traces"].as_str().unwrap(), exp.join("trace.csv").to_str().unwrap());
        assert_eq!(table["nnodes"].as_integer(), Some(8));
        assert_eq!(table["ncpus"].as_integer(), Some(2));
        assert!(!table.contains_key("resource_R"), "resource_file given in the manifest replaces resource_R");
        assert_eq!(table["resource_file"].as_str().unwrap(), dir.path().join("R2.json").to_str().unwrap());
        let flux_config = run.run_root.join("flux-config.json");
        assert_eq!(table["config_json"].as_str().unwrap(), flux_config.to_str().unwrap());
        let flux: Value = serde_json::from_str(&std::fs::read_to_string(flux_config).unwrap()).unwrap();
        assert_eq!(flux, json!({"sched-fluxion-qmanager": {"queue-policy": "easy", "queue-params": {"queue-depth": 8}}}));

        let command: Vec<String> = command.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let child = run.child_run_dir().to_string_lossy().into_owned();
        assert_eq!(command[..4], ["/bin/flux-fiction-run", run.launch_config().to_str().unwrap(), "--run-dir", &child]);
        assert!(command.ends_with(&["--no-faketime".into(), "--tag".into(), "t1".into()]), "{command:?}");
        let launch: Value = serde_json::from_str(&std::fs::read_to_string(run.run_root.join("launch.json")).unwrap()).unwrap();
        assert_eq!(launch["name"], "a");
        assert!(prepare_run(run, &tools, 5.0).unwrap_err().contains("cannot create"), "a run root is never reused");
    }

    #[test]
    fn a_failing_generator_fails_the_run_with_its_message() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "nnodes = 4\nncpus = 1\n").unwrap();
        let manifest = Manifest::parse(
            &dir.path().join("m.toml"),
            "version = 1\n[[run]]\nname = \"a\"\nconfig_file = \"base.toml\"\nseed = 3\n",
        )
        .unwrap();
        let plan = Plan::resolve(&manifest, &dir.path().join("out"), None, "20260101_000000");
        let tools = Tools { run: "/bin/true".into(), generate: "/bin/false".into() };
        let err = prepare_run(&plan.runs[0], &tools, 5.0).unwrap_err();
        assert!(err.starts_with("flux-fiction-generate failed"), "{err}");
    }
}
