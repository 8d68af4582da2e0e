//! `[[sweep]]`: one entry that stands for a run per combination of listed values.
//!
//! ```toml
//! [[sweep]]
//! name = "study"                  # runs are named study_policy-fcfs_load-0.5, ...
//! config_file = "base.toml"
//! generate = { jobs = 200, nodes = 16, model = "uniform" }   # keys that are not lists: every run
//! policy = ["fcfs", "easy"]       # a list: an axis
//! load = [0.5, 0.9]
//! ```
//!
//! Any key a `[[run]]` takes may be an axis, in the order written (the first varies slowest);
//! `"flux.TABLE.KEY"` (quoted) sweeps any Flux config value. No config key takes a list, so a
//! list always means an axis.

use crate::manifest::{ManifestError, Source, SpannedTable, entry_offset, name_and_config};
use crate::run_spec::{RunSpec, display};

struct Axis {
    key: String,
    offset: usize,
    values: Vec<toml::Value>,
}

/// The runs of one `[[sweep]]` entry, in product order.
pub(crate) fn expand(source: &Source, mut entry: SpannedTable) -> Result<Vec<RunSpec>, ManifestError> {
    let offset = entry_offset(&entry);
    let (name, config_file) = name_and_config(source, "[[sweep]] ", &mut entry, offset)?;
    let what = format!("[[sweep]] \"{name}\": ");
    let mut base = RunSpec::new(name.clone(), config_file, source.line_of(offset));
    let mut axes = Vec::new();
    let mut keys: Vec<_> = entry.into_iter().collect();
    keys.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in keys {
        let key_offset = key.span().start;
        let key = key.into_inner();
        match value.into_inner() {
            toml::Value::Array(values) => {
                if values.is_empty() {
                    return Err(source.error(key_offset, &what, format!("{key}: an axis needs at least one value")));
                }
                axes.push(Axis { key, offset: key_offset, values });
            }
            value => base
                .apply(&key, value, source.dir())
                .map_err(|problem| source.error(key_offset, &what, format!("{key}: {problem}")))?,
        }
    }
    if axes.is_empty() {
        return Err(source.error(offset, &what, "a sweep needs at least one key with a list of values (an axis)"));
    }
    let mut runs = Vec::new();
    for combination in product(&axes) {
        let mut run = base.clone();
        for (axis, value) in axes.iter().zip(combination) {
            run.name = format!("{}_{}-{}", run.name, axis.key, display(value));
            run.apply(&axis.key, value.clone(), source.dir())
                .map_err(|problem| source.error(axis.offset, &what, format!("{} = {value}: {problem}", axis.key)))?;
        }
        run.check_complete().map_err(|problem| source.error(offset, &what, problem))?;
        runs.push(run);
    }
    Ok(runs)
}

/// Every combination of one value per axis; the first axis varies slowest.
fn product(axes: &[Axis]) -> Vec<Vec<&toml::Value>> {
    axes.iter().fold(vec![Vec::new()], |combinations, axis| {
        combinations
            .iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |value| {
                    let mut next = prefix.clone();
                    next.push(value);
                    next
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use crate::manifest::Manifest;

    fn study(text: &str) -> Result<Manifest, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "job_traces = \"trace.csv\"\nnnodes = 4\nncpus = 1\n").unwrap();
        Manifest::parse(&dir.path().join("study.toml"), text).map_err(|e| e.0)
    }

    #[test]
    fn two_policies_by_two_loads_make_four_named_runs() {
        let manifest = study(
            "version = 1\n[[sweep]]\nname = \"s\"\nconfig_file = \"base.toml\"\n\
             generate = { jobs = 20, nodes = 4, model = \"uniform\" }\n\
             policy = [\"fcfs\", \"easy\"]\nload = [0.5, 0.9]\n",
        )
        .unwrap();
        let names: Vec<&str> = manifest.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["s_policy-fcfs_load-0.5", "s_policy-fcfs_load-0.9", "s_policy-easy_load-0.5", "s_policy-easy_load-0.9"]);
        let last = &manifest.runs[3];
        assert_eq!(last.flux["sched-fluxion-qmanager"]["queue-policy"], "easy");
        assert_eq!(last.generate.last().unwrap(), &("load".to_string(), toml::Value::Float(0.9)));
        assert_eq!(last.generate.len(), 4, "the fixed generate options and the load");
        let params: Vec<String> = last.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(params, ["generate.jobs=20", "generate.model=uniform", "generate.nodes=4", "policy=easy", "load=0.9"]);
    }

    #[test]
    fn any_config_or_flux_key_can_be_an_axis() {
        let manifest = study(
            "version = 1\n[[sweep]]\nname = \"s\"\nconfig_file = \"base.toml\"\nnnodes = [4, 8, 16]\n\
             \"flux.sched-fluxion-resource.match-policy\" = [\"lonodex\"]\n",
        )
        .unwrap();
        assert_eq!(manifest.runs.len(), 3);
        assert_eq!(manifest.runs[2].name, "s_nnodes-16_flux.sched-fluxion-resource.match-policy-lonodex");
        assert_eq!(manifest.runs[2].config, [("nnodes".to_string(), toml::Value::Integer(16))]);
    }

    #[test]
    fn bad_axis_values_and_clashing_names_are_errors() {
        let err = study("version = 1\n[[sweep]]\nname = \"s\"\nconfig_file = \"base.toml\"\nnnodes = [4, -1]\n").unwrap_err();
        assert!(err.ends_with(":5: [[sweep]] \"s\": nnodes = -1: Unsupported run override field: expected a non-negative integer, found -1"), "{err}");
        let err = study("version = 1\n[[sweep]]\nname = \"s\"\nconfig_file = \"base.toml\"\nnnodes = []\n").unwrap_err();
        assert!(err.ends_with(":5: [[sweep]] \"s\": nnodes: an axis needs at least one value"), "{err}");
        let err = study("version = 1\n[[sweep]]\nname = \"s\"\nconfig_file = \"base.toml\"\nnnodes = 4\n").unwrap_err();
        assert!(err.contains("needs at least one key with a list of values"), "{err}");
        let err = study(
            "version = 1\n[[run]]\nname = \"s_nnodes-4\"\nconfig_file = \"base.toml\"\n\
             [[sweep]]\nname = \"s\"\nconfig_file = \"base.toml\"\nnnodes = [4]\n",
        )
        .unwrap_err();
        assert!(err.contains("Run names must be unique: \"s_nnodes-4\""), "{err}");
    }
}
