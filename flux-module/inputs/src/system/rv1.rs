//! RFC 20 resource sets (RV1 `R`): recognising one, reading the node shape out of its
//! `R_lite`, and writing the synthetic R of a homogeneous system.

use serde_json::{Value, json};

use super::{SystemSpec, idset};

/// Whether `value` is a full RV1 object: `version` 1 with an `execution.R_lite` list.
pub(crate) fn is_rv1(value: &Value) -> bool {
    value.get("version").and_then(Value::as_u64) == Some(1)
        && value.get("execution").and_then(|e| e.get("R_lite")).is_some_and(Value::is_array)
}

/// Total ranks, cores and GPUs of an RV1 R (e.g. what a scheduler reports it manages).
pub fn totals(r: &Value) -> Result<(u64, u64, u64), String> {
    let entries = r
        .pointer("/execution/R_lite")
        .and_then(Value::as_array)
        .ok_or("not an RV1 R (needs version 1 and execution.R_lite)")?;
    let mut sums = (0, 0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let count = |name: &str| -> Result<u64, String> {
            match entry.pointer(name) {
                None => Ok(0),
                Some(v) => {
                    let text = v.as_str().ok_or_else(|| format!("R_lite[{i}]{name}: expected an idset string"))?;
                    idset::count(text).map_err(|e| format!("R_lite[{i}]{name}: {e}"))
                }
            }
        };
        let ranks = count("/rank")?;
        sums.0 += ranks;
        sums.1 += ranks * count("/children/core")?;
        sums.2 += ranks * count("/children/gpu")?;
    }
    Ok(sums)
}

/// Node count and per-node shape of an RV1 R.
///
/// The node count is the number of ranks; the per-node cores and GPUs are those of the
/// most common rank shape (weighted by how many ranks have it), so that a small
/// management rank does not define what a compute node looks like.
pub(crate) fn node_shape(r: &Value) -> Result<SystemSpec, String> {
    let entries = r
        .pointer("/execution/R_lite")
        .and_then(Value::as_array)
        .ok_or("not an RV1 R (needs version 1 and execution.R_lite)")?;
    // (cores, gpus) -> ranks with that shape, in order of first appearance.
    let mut shapes: Vec<((u64, u64), u64)> = Vec::new();
    let mut nnodes = 0u64;
    for (i, entry) in entries.iter().enumerate() {
        let field = |name: &str| -> Result<u64, String> {
            let text = match entry.pointer(name) {
                None => return Ok(0),
                Some(v) => v.as_str().ok_or_else(|| format!("R_lite[{i}]{name}: expected an idset string"))?,
            };
            idset::count(text).map_err(|e| format!("R_lite[{i}]{name}: {e}"))
        };
        if entry.get("rank").is_none() {
            return Err(format!("R_lite[{i}]: missing \"rank\""));
        }
        let ranks = field("/rank")?;
        let shape = (field("/children/core")?, field("/children/gpu")?);
        nnodes += ranks;
        match shapes.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, count)) => *count += ranks,
            None => shapes.push((shape, ranks)),
        }
    }
    // max_by_key keeps the last maximum; reverse so ties go to the first shape listed.
    let ((cores, gpus), _) = shapes
        .iter()
        .rev()
        .filter(|((cores, _), _)| *cores > 0)
        .max_by_key(|(_, ranks)| *ranks)
        .ok_or("R_lite has no rank with cores")?;
    let narrow = |n: u64, what: &str| u32::try_from(n).map_err(|_| format!("{what} count {n} is too large"));
    Ok(SystemSpec {
        nnodes: narrow(nnodes, "rank")?,
        cores_per_node: narrow(*cores, "core")?,
        gpus_per_node: narrow(*gpus, "gpu")?,
    })
}

/// The RV1 R of `system`: ranks `0..nnodes` named `node0...`, each with the same cores and GPUs.
pub(crate) fn synthetic(system: &SystemSpec) -> Value {
    let mut children = serde_json::Map::new();
    children.insert("core".into(), idset::first_n(system.cores_per_node).into());
    if system.gpus_per_node > 0 {
        children.insert("gpu".into(), idset::first_n(system.gpus_per_node).into());
    }
    let nodelist = match system.nnodes {
        1 => "node0".to_string(),
        n => format!("node[{}]", idset::first_n(n)),
    };
    json!({
        "version": 1,
        "execution": {
            "R_lite": [{"rank": idset::first_n(system.nnodes), "children": children}],
            "starttime": 0.0,
            "expiration": 0.0,
            "nodelist": [nodelist],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_common_rank_shape_wins() {
        let r = json!({"version": 1, "execution": {"R_lite": [
            {"rank": "0", "children": {"core": "0-3"}},
            {"rank": "1-8", "children": {"core": "0-95", "gpu": "0-3"}},
        ]}});
        assert!(is_rv1(&r));
        assert_eq!(node_shape(&r), Ok(SystemSpec { nnodes: 9, cores_per_node: 96, gpus_per_node: 4 }));
    }

    #[test]
    fn bad_idsets_are_named() {
        let r = json!({"version": 1, "execution": {"R_lite": [{"rank": "x", "children": {"core": "0"}}]}});
        assert!(node_shape(&r).unwrap_err().starts_with("R_lite[0]/rank: invalid idset"));
    }

    #[test]
    fn synthetic_r_round_trips_its_shape() {
        let system = SystemSpec { nnodes: 4, cores_per_node: 16, gpus_per_node: 2 };
        let r = synthetic(&system);
        assert_eq!(
            r.to_string(),
            r#"{"execution":{"R_lite":[{"children":{"core":"0-15","gpu":"0-1"},"rank":"0-3"}],"expiration":0.0,"nodelist":["node[0-3]"],"starttime":0.0},"version":1}"#
        );
        assert_eq!(node_shape(&r), Ok(system));
        let one = synthetic(&SystemSpec { nnodes: 1, cores_per_node: 1, gpus_per_node: 0 });
        assert_eq!(one["execution"]["R_lite"][0]["rank"], "0");
        assert_eq!(one["execution"]["R_lite"][0]["children"], json!({"core": "0"}));
        assert_eq!(one["execution"]["nodelist"], json!(["node0"]));
    }
}

#[cfg(test)]
mod totals_tests {
    use super::*;

    #[test]
    fn totals_multiply_ranks_by_children() {
        let r = json!({"version":1,"execution":{"R_lite":[
            {"rank":"0-3","children":{"core":"0-15","gpu":"0-1"}},
            {"rank":"4","children":{"core":"0-7"}}]}});
        assert_eq!(totals(&r), Ok((5, 72, 8)));
        assert!(totals(&json!({})).is_err());
    }
}
