//! RFC 20 resource sets (RV1 `R`): recognising one, reading the node shape out of its
//! `R_lite`, and writing the synthetic R of a homogeneous system.

use serde_json::{Value, json};

use super::jgf::Graph;
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
    let mut rank_ranges: Vec<(u32, u32)> = Vec::new();
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
        if let Some(text) = entry["rank"].as_str() {
            rank_ranges.extend(idset::ranges(text).map_err(|e| format!("R_lite[{i}]/rank: {e}"))?);
        }
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
    check_ranks(rank_ranges).map_err(|e| format!("R_lite: {e}"))?;
    check_nodelist(r, nnodes)?;
    Ok(SystemSpec {
        nnodes: narrow(nnodes, "rank")?,
        cores_per_node: narrow(*cores, "core")?,
        gpus_per_node: narrow(*gpus, "gpu")?,
    })
}

/// The instance has one broker standing for every node, and a job's nodes are named by
/// rank, so the ranks of `R_lite` must be 0, 1, ... N-1, each once: flux-core's resource
/// module and Fluxion fail at start-up otherwise, with no word of the file.
fn check_ranks(mut ranges: Vec<(u32, u32)>) -> Result<(), String> {
    ranges.sort_unstable();
    let mut next = 0u64;
    for (first, last) in ranges {
        match u64::from(first).cmp(&next) {
            std::cmp::Ordering::Less => return Err(format!("rank {first} is listed twice")),
            std::cmp::Ordering::Greater => {
                return Err(format!("ranks must be 0 to N-1 without gaps, but rank {next} is missing"));
            }
            std::cmp::Ordering::Equal => next = u64::from(last) + 1,
        }
    }
    Ok(())
}

/// `execution.nodelist`, when given, names one host per rank (RFC 20); flux-core's
/// resource module refuses an R whose host count differs.
fn check_nodelist(r: &Value, nnodes: u64) -> Result<(), String> {
    let Some(list) = r.pointer("/execution/nodelist") else {
        return Ok(());
    };
    let bad = || "execution.nodelist: expected an array of hostlist strings such as \"node[0-15]\"".to_string();
    let mut hosts = 0u64;
    for hostlist in list.as_array().ok_or_else(bad)? {
        hosts += hostlist_count(hostlist.as_str().ok_or_else(bad)?).map_err(|e| format!("execution.nodelist: {e}"))?;
    }
    if hosts != nnodes {
        return Err(format!("execution.nodelist names {hosts} hosts, but R_lite has {nnodes} ranks"));
    }
    Ok(())
}

/// How many hosts an RFC 29 hostlist names: `"node[0-3,7],login1"` is 6.
fn hostlist_count(hostlist: &str) -> Result<u64, String> {
    let bad = || format!("invalid hostlist \"{hostlist}\" (expected e.g. \"node[0-3,7],login1\")");
    // Hosts are separated by the commas outside brackets.
    let mut hosts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, c) in hostlist.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                hosts.push(&hostlist[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    hosts.push(&hostlist[start..]);
    hosts
        .into_iter()
        .map(|host| match (host.find('['), host.rfind(']')) {
            (None, None) if !host.is_empty() && !host.contains(']') => Ok(1),
            (Some(open), Some(close)) if open < close && host.matches('[').count() == 1 => {
                idset::count(&host[open + 1..close]).map_err(|_| bad())
            }
            _ => Err(bad()),
        })
        .sum()
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

/// The RV1 R whose `R_lite` and `nodelist` describe the nodes of `graph`: each node
/// vertex is its broker rank, with the ids of the cores and GPUs below it. Flux's
/// resource module manages R_lite while Fluxion schedules on the graph, so the two must
/// name the same ranks and ids.
pub(crate) fn from_graph(graph: &Graph) -> Result<Value, String> {
    // rank -> (node name, core ids, gpu ids)
    let mut nodes: Vec<(u32, &str, String, String)> = Vec::new();
    for node in graph.of_kind("node") {
        let vertex = &graph.vertices[node];
        let rank = vertex
            .rank
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| format!("{}: a node needs its broker rank (metadata.rank >= 0)", graph.describe(node)))?;
        let ids = |kind: &str| -> Result<String, String> {
            let below = graph.descendants(node).into_iter().filter(|&v| graph.vertices[v].kind == kind);
            let ids = below
                .map(|v| {
                    graph.vertices[v].id.and_then(|id| u32::try_from(id).ok()).ok_or_else(|| {
                        format!("{}: needs its number among the node's {kind}s (metadata.id >= 0)", graph.describe(v))
                    })
                })
                .collect::<Result<Vec<u32>, String>>()?;
            Ok(idset::encode(&ids))
        };
        nodes.push((rank, &vertex.name, ids("core")?, ids("gpu")?));
    }
    nodes.sort_by_key(|&(rank, ..)| rank);
    if let Some(pair) = nodes.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(format!("nodes {} and {} both have rank {}", pair[0].1, pair[1].1, pair[0].0));
    }
    let ranks = nodes.iter().map(|&(rank, ..)| (rank, rank)).collect();
    check_ranks(ranks).map_err(|e| format!("the graph's nodes: {e}"))?;
    // One R_lite entry per distinct (cores, gpus), listing its ranks.
    let mut shapes: Vec<(&str, &str, Vec<u32>)> = Vec::new();
    for (rank, _, cores, gpus) in &nodes {
        match shapes.iter_mut().find(|(c, g, _)| c == cores && g == gpus) {
            Some((.., ranks)) => ranks.push(*rank),
            None => shapes.push((cores, gpus, vec![*rank])),
        }
    }
    let r_lite: Vec<Value> = shapes
        .iter()
        .map(|(cores, gpus, ranks)| {
            let mut children = serde_json::Map::new();
            children.insert("core".into(), (*cores).into());
            if !gpus.is_empty() {
                children.insert("gpu".into(), (*gpus).into());
            }
            json!({"rank": idset::encode(ranks), "children": children})
        })
        .collect();
    let nodelist: Vec<&str> = nodes.iter().map(|&(_, name, ..)| name).collect();
    Ok(json!({
        "version": 1,
        "execution": {"R_lite": r_lite, "starttime": 0.0, "expiration": 0.0, "nodelist": nodelist},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostlists_are_counted() {
        assert_eq!(hostlist_count("node0"), Ok(1));
        assert_eq!(hostlist_count("node[0-3,7],login1"), Ok(6));
        assert_eq!(hostlist_count("a[01-10]b,c[1,3]"), Ok(12));
        for bad in ["", "a,,b", "a[", "a]", "a[1-0]", "a[1][2]", "a[x]"] {
            assert!(hostlist_count(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ranks_run_from_0_without_gaps_and_the_nodelist_names_each() {
        let r = |ranks: &[&str], nodelist: Value| {
            let entries: Vec<Value> =
                ranks.iter().map(|&rank| json!({"rank": rank, "children": {"core": "0-3"}})).collect();
            node_shape(&json!({"version": 1, "execution": {"R_lite": entries, "nodelist": nodelist}}))
        };
        assert_eq!(r(&["0-1", "2"], json!(["n[0-1]", "n9"])).unwrap().nnodes, 3);
        assert!(r(&["5-6"], json!(["n[5-6]"])).unwrap_err().contains("rank 0 is missing"));
        assert!(r(&["0-1", "1"], json!(["n[0-2]"])).unwrap_err().contains("rank 1 is listed twice"));
        assert!(r(&["0-1", "3"], json!(["n[0-2]"])).unwrap_err().contains("rank 2 is missing"));
        let err = r(&["0-1"], json!(["a"])).unwrap_err();
        assert_eq!(err, "execution.nodelist names 1 hosts, but R_lite has 2 ranks");
        assert!(r(&["0"], json!("a")).unwrap_err().contains("expected an array"));
    }

    #[test]
    fn r_lite_of_a_graph_names_its_ranks_and_ids() {
        let vertex = |id: &str, kind: &str, n: i64, rank: i64| {
            json!({"id": id, "metadata": {"type": kind, "id": n, "rank": rank, "paths": {"containment": ""}}})
        };
        let graph = json!({
            "nodes": [vertex("a", "node", 0, 1), vertex("a0", "core", 0, 1), vertex("a1", "core", 1, 1),
                      vertex("b", "node", 1, 0), vertex("b0", "core", 0, 0), vertex("b1", "core", 1, 0),
                      vertex("b2", "gpu", 0, 0)],
            "edges": [{"source": "a", "target": "a0"}, {"source": "a", "target": "a1"},
                      {"source": "b", "target": "b0"}, {"source": "b", "target": "b1"}, {"source": "b", "target": "b2"}]
        });
        let r = from_graph(&Graph::parse(&graph).unwrap()).unwrap();
        assert_eq!(
            r["execution"]["R_lite"],
            json!([{"rank": "0", "children": {"core": "0-1", "gpu": "0"}}, {"rank": "1", "children": {"core": "0-1"}}])
        );
        assert_eq!(r["execution"]["nodelist"], json!(["node1", "node0"]));
        assert_eq!(totals(&r), Ok((2, 4, 1)));

        let mut unranked = graph.clone();
        unranked["nodes"][0]["metadata"]["rank"] = (-1).into();
        let err = from_graph(&Graph::parse(&unranked).unwrap()).unwrap_err();
        assert_eq!(err, "vertex \"a\" (node node0): a node needs its broker rank (metadata.rank >= 0)");

        let mut gap = graph.clone();
        gap["nodes"][0]["metadata"]["rank"] = 7.into();
        let err = from_graph(&Graph::parse(&gap).unwrap()).unwrap_err();
        assert_eq!(err, "the graph's nodes: ranks must be 0 to N-1 without gaps, but rank 1 is missing");
    }

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
