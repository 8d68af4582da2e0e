//! The broker config file (`flux start -c DIR`, DIR/flux.toml): the user's Flux config
//! (`config_json`, a JSON object) rewritten as TOML, with the `[resource]` table pointed
//! at the instance's R.
//!
//! The resource module must read R from that file and must not verify it against the
//! real hardware (`noverify`), because the instance only pretends to own those nodes; and
//! it must mark every node up although only one broker runs (`monitor-force-up`, which
//! only exists as a module argument, given through flux-core's `[modules]` table).
//! job-ingest is told not to hold submissions back for batching (`[ingest] batch-count`).
//!
//! Defaults for a long replay, each kept unless the user's Flux config sets it:
//! * `[job-manager] inactive-num-limit = 1000`: ff-emu records a job when it becomes
//!   inactive, so older inactive jobs are purged from the job-manager and the KVS (the
//!   last 1000 stay for `flux jobs -a`). Without it the KVS job directory, and the work
//!   of every commit that updates it, grows with every job the instance ever held.
//! * `[heartbeat] period = "0.5s"`: the job-manager purges at most 100 jobs per
//!   heartbeat; at the default 2 s that is 50 jobs a second, less than a replay finishes.
//! * `[kvs] checkpoint-period = "10s"`: flux-core's content store keeps every version of
//!   the KVS; `flux gc` (run by flux-fiction-run during the replay) can only reclaim blobs
//!   older than the last checkpoint, and without a period the KVS checkpoints only at exit.

use std::path::Path;

use serde_json::Value;

use super::SystemError;
use crate::config::Config;

const INACTIVE_JOBS_KEPT: i64 = 1000;
const HEARTBEAT_PERIOD: &str = "0.5s";
const KVS_CHECKPOINT_PERIOD: &str = "10s";

/// TOML text of the broker config, with `resource.path = r_path` and `resource.noverify = true`.
/// Other `[resource]` keys the user set are kept; a different `path` or a false `noverify`
/// would fight the emulator and is an error.
pub fn broker_config(cfg: &Config, r_path: &Path) -> Result<String, SystemError> {
    let source = cfg.config_json.as_deref().unwrap_or(&cfg.config_path);
    let error = |key: &str, problem: String| SystemError::FluxConfig {
        path: source.to_path_buf(),
        key: key.to_string(),
        problem,
    };
    check_queue_policy(&cfg.flux_config).map_err(|(key, problem)| error(&key, problem))?;
    let mut table = toml::Table::new();
    for (key, value) in &cfg.flux_config {
        table.insert(key.clone(), to_toml(value, key).map_err(|(key, problem)| error(&key, problem))?);
    }

    let resource = table.entry("resource").or_insert_with(|| toml::Table::new().into());
    let resource = resource
        .as_table_mut()
        .ok_or_else(|| error("resource", "must be an object".to_string()))?;
    let r_path_text = r_path.to_str().ok_or_else(|| {
        error("resource.path", format!("R path {} is not valid UTF-8", r_path.display()))
    })?;
    match resource.get("path") {
        Some(toml::Value::String(path)) if path == r_path_text => {}
        Some(other) => {
            return Err(error(
                "resource.path",
                format!("set to {other}, but the emulator installs its own R at \"{r_path_text}\"; remove it"),
            ));
        }
        None => {}
    }
    if let Some(noverify) = resource.get("noverify").filter(|v| v.as_bool() != Some(true)) {
        return Err(error(
            "resource.noverify",
            format!("set to {noverify}, but the emulated nodes cannot be verified against this host"),
        ));
    }
    resource.insert("path".into(), r_path_text.into());
    resource.insert("noverify".into(), true.into());

    let modules = table.entry("modules").or_insert_with(|| toml::Table::new().into());
    let modules = modules.as_table_mut().ok_or_else(|| error("modules", "must be an object".to_string()))?;
    let module = modules.entry("resource").or_insert_with(|| toml::Table::new().into());
    let module = module.as_table_mut().ok_or_else(|| error("modules.resource", "must be an object".to_string()))?;
    if module.contains_key("args") {
        return Err(error(
            "modules.resource.args",
            "the emulator sets the resource module's arguments (noverify, monitor-force-up); remove it".to_string(),
        ));
    }
    module.insert("args".into(), toml::Value::Array(vec!["noverify".into(), "monitor-force-up".into()]));

    // job-ingest commits each submission at once instead of waiting 10 ms for more: a
    // replay step waits for its submissions, so the wait would be paid at every step.
    for (section, key, value) in [
        ("ingest", "batch-count", toml::Value::from(1)),
        ("job-manager", "inactive-num-limit", toml::Value::from(INACTIVE_JOBS_KEPT)),
        ("heartbeat", "period", toml::Value::from(HEARTBEAT_PERIOD)),
        ("kvs", "checkpoint-period", toml::Value::from(KVS_CHECKPOINT_PERIOD)),
    ] {
        let entry = table.entry(section).or_insert_with(|| toml::Table::new().into());
        let entry = entry.as_table_mut().ok_or_else(|| error(section, "must be an object".to_string()))?;
        entry.entry(key).or_insert(value);
    }

    // With rabbit storage, Fluxion writes each allocation's resource graph into its R
    // (its default, rv1_nosched, leaves it out), so the emulator sees whose storage a
    // job was given.
    if cfg.storage.is_some() {
        let fluxion = table.entry("sched-fluxion-resource").or_insert_with(|| toml::Table::new().into());
        let fluxion = fluxion
            .as_table_mut()
            .ok_or_else(|| error("sched-fluxion-resource", "must be an object".to_string()))?;
        fluxion.entry("match-format").or_insert("rv1".into());
    }
    Ok(toml::to_string(&table).expect("a TOML table built from JSON always serializes"))
}

/// The queue policies Fluxion's qmanager knows (flux-sched `qmanager_opts.cpp`,
/// `known_queue_policy`).
const QUEUE_POLICIES: [&str; 4] = ["fcfs", "easy", "hybrid", "conservative"];

/// Fluxion reads an unknown `queue-policy` as its default, fcfs, and says so only in a
/// debug line: a misspelt "eays" would replay the whole trace under the wrong policy.
fn check_queue_policy(flux_config: &serde_json::Map<String, Value>) -> Result<(), (String, String)> {
    let Some(policy) = flux_config.get("sched-fluxion-qmanager").and_then(|q| q.get("queue-policy")) else {
        return Ok(());
    };
    match policy.as_str() {
        Some(name) if QUEUE_POLICIES.contains(&name) => Ok(()),
        _ => Err((
            "sched-fluxion-qmanager.queue-policy".to_string(),
            format!("{policy} is not a policy Fluxion knows: expected one of {}", QUEUE_POLICIES.join(", ")),
        )),
    }
}

/// Converts one JSON value; `key` is its dotted path, for the error when it has no TOML form.
fn to_toml(value: &Value, key: &str) -> Result<toml::Value, (String, String)> {
    Ok(match value {
        Value::Null => return Err((key.to_string(), "null has no TOML equivalent".to_string())),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().expect("a JSON number outside i64 is an f64").into(),
        },
        Value::String(s) => s.clone().into(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| to_toml(item, &format!("{key}[{i}]")))
            .collect::<Result<Vec<_>, _>>()?
            .into(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| to_toml(v, &format!("{key}.{k}")).map(|v| (k.clone(), v)))
            .collect::<Result<toml::Table, _>>()?
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_nested_values_and_names_bad_keys() {
        let v = json!({"queue-policy": "easy", "depth": 32, "ratio": 0.5, "list": [1, 2], "on": true});
        let toml = to_toml(&v, "sched").unwrap();
        assert_eq!(toml["queue-policy"].as_str(), Some("easy"));
        assert_eq!(toml["depth"].as_integer(), Some(32));
        assert_eq!(toml["ratio"].as_float(), Some(0.5));
        assert_eq!(toml["list"].as_array().map(Vec::len), Some(2));
        let err = to_toml(&json!({"a": [1, null]}), "x").unwrap_err();
        assert_eq!(err.0, "x.a[1]");
    }

    #[test]
    fn an_unknown_queue_policy_is_refused() {
        let config =
            |policy: Value| json!({"sched-fluxion-qmanager": {"queue-policy": policy}}).as_object().unwrap().clone();
        assert!(check_queue_policy(&config(json!("easy"))).is_ok());
        assert!(check_queue_policy(&serde_json::Map::new()).is_ok());
        let (key, problem) = check_queue_policy(&config(json!("eays"))).unwrap_err();
        assert_eq!(key, "sched-fluxion-qmanager.queue-policy");
        assert_eq!(
            problem,
            "\"eays\" is not a policy Fluxion knows: expected one of fcfs, easy, hybrid, conservative"
        );
        assert!(check_queue_policy(&config(json!(5))).is_err());
    }

    #[test]
    fn replay_defaults_yield_to_the_users_config() {
        use crate::testing::{SMALL, config_for};
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config_for(&dir.path().join("t.csv"), crate::trace::TraceFormat::Sacct, SMALL);
        let r = dir.path().join("R.json");
        let t: toml::Table = broker_config(&cfg, &r).unwrap().parse().unwrap();
        assert_eq!(t["job-manager"]["inactive-num-limit"].as_integer(), Some(1000));
        assert_eq!(t["heartbeat"]["period"].as_str(), Some("0.5s"));
        assert_eq!(t["ingest"]["batch-count"].as_integer(), Some(1));
        assert_eq!(t["kvs"]["checkpoint-period"].as_str(), Some("10s"));

        let user = json!({"job-manager": {"inactive-num-limit": 5}, "heartbeat": {"period": "2s"},
                          "kvs": {"checkpoint-period": "1m"}});
        cfg.flux_config = user.as_object().unwrap().clone();
        let t: toml::Table = broker_config(&cfg, &r).unwrap().parse().unwrap();
        assert_eq!(t["job-manager"]["inactive-num-limit"].as_integer(), Some(5));
        assert_eq!(t["heartbeat"]["period"].as_str(), Some("2s"));
        assert_eq!(t["kvs"]["checkpoint-period"].as_str(), Some("1m"));
    }
}
