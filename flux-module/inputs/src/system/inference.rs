//! What a resource graph says about the system: its nodes and their cores and GPUs, the
//! levels between a node and those, and where the rabbit storage is.
//!
//! Real graphs are not perfectly regular (a login node with fewer cores, a rack with
//! fewer nodes), so per-node and per-parent figures are the most common ones, as the
//! earlier implementation inferred them; the parents themselves are kept one by one.

use std::collections::VecDeque;

use super::jgf::Graph;
use super::node_shape::{NodeLevel, NodeShape};
use super::storage::{StorageLayout, StorageParent, most_common};
use super::SystemSpec;

/// The resource types the emulator knows by name.
const NODE: &str = "node";
const CORE: &str = "core";
const GPU: &str = "gpu";
pub(crate) const SSD: &str = "ssd";

/// A graph's description of the system.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphFacts {
    pub system: SystemSpec,
    pub node_shape: NodeShape,
    pub storage: Option<StorageLayout>,
}

pub(crate) fn infer(graph: &Graph) -> Result<GraphFacts, String> {
    let nodes: Vec<usize> = graph.of_kind(NODE).collect();
    if nodes.is_empty() {
        return Err("the graph has no node vertices".to_string());
    }
    let below = |node: usize, kind: &str| {
        graph.descendants(node).into_iter().filter(|&v| graph.vertices[v].kind == kind).count() as u32
    };
    let cores_per_node = most_common(nodes.iter().map(|&n| below(n, CORE)).filter(|&c| c > 0))
        .ok_or("no node vertex holds core vertices")?;
    let gpus_per_node = most_common(nodes.iter().map(|&n| below(n, GPU))).unwrap_or(0);
    let nnodes = u32::try_from(nodes.len()).map_err(|_| format!("{} nodes are too many", nodes.len()))?;
    Ok(GraphFacts {
        system: SystemSpec { nnodes, cores_per_node, gpus_per_node },
        node_shape: node_shape(graph, nodes[0]),
        storage: storage_layout(graph)?,
    })
}

/// The types between `node` and its first core (and first GPU, when it has any), as
/// far as both paths agree, each with the most common number per parent.
fn node_shape(graph: &Graph, node: usize) -> NodeShape {
    let core_path = types_between(graph, node, CORE).unwrap_or_default();
    let kinds: Vec<&str> = match types_between(graph, node, GPU) {
        Some(gpu_path) => core_path.iter().zip(&gpu_path).take_while(|(c, g)| c == g).map(|(c, _)| *c).collect(),
        None => core_path,
    };
    let mut parent_kind = NODE;
    let mut levels = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let per_parent = graph.of_kind(parent_kind).map(|parent| {
            graph.children(parent).iter().filter(|&&child| graph.vertices[child].kind == kind).count() as u32
        });
        let count = most_common(per_parent.filter(|&n| n > 0)).unwrap_or(1);
        levels.push(NodeLevel { kind: kind.to_string(), count });
        parent_kind = kind;
    }
    NodeShape { levels }
}

/// The types strictly between `from` and the nearest vertex of type `leaf` below it
/// (breadth first), or None when there is no such vertex.
fn types_between<'g>(graph: &'g Graph, from: usize, leaf: &str) -> Option<Vec<&'g str>> {
    let mut queue = VecDeque::from([(from, Vec::new())]);
    while let Some((vertex, path)) = queue.pop_front() {
        for &child in graph.children(vertex) {
            let kind = graph.vertices[child].kind.as_str();
            if kind == leaf {
                return Some(path);
            }
            let mut longer = path.clone();
            longer.push(kind);
            queue.push_back((child, longer));
        }
    }
    None
}

/// Share sizes must be whole, positive GiB: Fluxion counts SSD storage in `size` units,
/// and a share without a size would silently count as 1 GiB.
fn share_gib(graph: &Graph, ssd: usize) -> Result<u64, String> {
    let vertex = &graph.vertices[ssd];
    if let Some(unit) = vertex.unit.as_deref().filter(|u| !u.is_empty() && !u.eq_ignore_ascii_case("GiB")) {
        return Err(format!("{}: size unit \"{unit}\": SSD sizes must be in GiB", graph.describe(ssd)));
    }
    match &vertex.size {
        None => Err(format!("{}: an ssd without a size: give metadata.size, its capacity in GiB", graph.describe(ssd))),
        Some(size) => size
            .as_u64()
            .filter(|&gib| gib > 0)
            .ok_or_else(|| format!("{}: size {size}: expected a positive whole number of GiB", graph.describe(ssd))),
    }
}

/// The parents holding both nodes and SSD shares, of the most common such type.
fn storage_layout(graph: &Graph) -> Result<Option<StorageLayout>, String> {
    let ssds: Vec<usize> = graph.of_kind(SSD).collect();
    if ssds.is_empty() {
        return Ok(None);
    }
    for &ssd in &ssds {
        share_gib(graph, ssd)?;
    }
    let holds = |parent: usize, kind: &str| graph.children(parent).iter().any(|&c| graph.vertices[c].kind == kind);
    let candidates: Vec<usize> = (0..graph.vertices.len()).filter(|&v| holds(v, NODE) && holds(v, SSD)).collect();
    let parent_type = most_common(candidates.iter().map(|&v| graph.vertices[v].kind.as_str())).ok_or_else(|| {
        format!(
            "{} ssd vertices, but no vertex holds both nodes and ssds: a job's storage is found beside its nodes, \
             under a common parent such as a rack",
            ssds.len()
        )
    })?;
    let mut parents = Vec::new();
    for &v in candidates.iter().filter(|&&v| graph.vertices[v].kind == parent_type) {
        let children = graph.children(v);
        let nodes = children.iter().filter(|&&c| graph.vertices[c].kind == NODE).count() as u32;
        let share_gib = children
            .iter()
            .filter(|&&c| graph.vertices[c].kind == SSD)
            .map(|&c| share_gib(graph, c))
            .collect::<Result<Vec<u64>, String>>()?;
        let vertex = &graph.vertices[v];
        parents.push(StorageParent { name: vertex.name.clone(), path: vertex.path.clone(), nodes, share_gib });
    }
    let most = |values: Vec<u64>| most_common(values).unwrap_or_default();
    Ok(Some(StorageLayout {
        parent_type: parent_type.to_string(),
        nodes_per_parent: most(parents.iter().map(|p| u64::from(p.nodes)).collect()) as u32,
        shares_per_parent: most(parents.iter().map(|p| p.share_gib.len() as u64).collect()) as u32,
        share_gib: most(parents.iter().flat_map(|p| p.share_gib.iter().copied()).collect()),
        parent_gib: parents.iter().map(StorageParent::gib).max().unwrap_or_default(),
        parents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// 2 racks x (4 nodes x 2 sockets x (8 cores + 1 GPU)) + 3 x 100 GiB SSDs per rack:
    /// the earlier implementation's worked example.
    fn two_racks(ssd: impl Fn(usize) -> Value) -> Value {
        let mut nodes = vec![json!({"id": "c", "metadata": {"type": "cluster", "paths": {"containment": "/c"}}})];
        let mut edges = Vec::new();
        let mut add = |parent: &str, id: String, kind: &str, path: String, extra: Value| {
            let mut metadata = json!({"type": kind, "paths": {"containment": path}});
            metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            nodes.push(json!({"id": id, "metadata": metadata}));
            edges.push(json!({"source": parent, "target": id}));
        };
        for r in 0..2 {
            let rack = format!("r{r}");
            add("c", rack.clone(), "rack", format!("/c/rack{r}"), json!({"name": format!("rack{r}")}));
            for s in 0..3 {
                let mut metadata = ssd(s);
                metadata["name"] = format!("ssd{s}").into();
                add(&rack, format!("{rack}s{s}"), "ssd", format!("/c/rack{r}/ssd{s}"), metadata);
            }
            for n in 0..4 {
                let node = format!("{rack}n{n}");
                add(&rack, node.clone(), "node", format!("/c/rack{r}/node{n}"), json!({}));
                for k in 0..2 {
                    let socket = format!("{node}k{k}");
                    add(&node, socket.clone(), "socket", String::new(), json!({}));
                    for c in 0..8 {
                        add(&socket, format!("{socket}c{c}"), "core", String::new(), json!({}));
                    }
                    add(&socket, format!("{socket}g"), "gpu", String::new(), json!({}));
                }
            }
        }
        json!({"nodes": nodes, "edges": edges})
    }

    fn infer_from(graph: Value) -> Result<GraphFacts, String> {
        infer(&Graph::parse(&graph)?)
    }

    #[test]
    fn the_worked_example() {
        let facts = infer_from(two_racks(|_| json!({"size": 100, "unit": "GiB"}))).unwrap();
        assert_eq!(facts.system, SystemSpec { nnodes: 8, cores_per_node: 16, gpus_per_node: 2 });
        assert_eq!(facts.node_shape.levels, [NodeLevel { kind: "socket".into(), count: 2 }]);
        let storage = facts.storage.unwrap();
        assert_eq!(
            (storage.parent_type.as_str(), storage.parents.len(), storage.nodes_per_parent, storage.shares_per_parent),
            ("rack", 2, 4, 3)
        );
        assert_eq!((storage.share_gib, storage.parent_gib, storage.total_gib()), (100, 300, 600));
        assert_eq!((storage.parents[1].name.as_str(), storage.parents[1].path.as_str()), ("rack1", "/c/rack1"));
    }

    #[test]
    fn uneven_shares_keep_the_largest_parent_and_the_most_common_share() {
        let facts = infer_from(two_racks(|s| json!({"size": if s == 0 { 200 } else { 100 }}))).unwrap();
        let storage = facts.storage.unwrap();
        assert_eq!((storage.share_gib, storage.parent_gib, storage.total_gib()), (100, 400, 800));
    }

    #[test]
    fn shares_without_a_whole_gib_size_are_errors() {
        let err = infer_from(two_racks(|_| json!({}))).unwrap_err();
        assert_eq!(err, "vertex \"r0s0\" (ssd ssd0): an ssd without a size: give metadata.size, its capacity in GiB");
        let err = infer_from(two_racks(|_| json!({"size": 1.5}))).unwrap_err();
        assert!(err.ends_with("size 1.5: expected a positive whole number of GiB"), "{err}");
        let err = infer_from(two_racks(|_| json!({"size": 100, "unit": "GB"}))).unwrap_err();
        assert!(err.ends_with("size unit \"GB\": SSD sizes must be in GiB"), "{err}");
    }

    #[test]
    fn graphs_without_storage_or_beside_nodes() {
        let plain = json!({"nodes": [
            {"id": "n", "metadata": {"type": "node", "paths": {"containment": "/n"}}},
            {"id": "c", "metadata": {"type": "core", "paths": {"containment": "/n/c"}}},
            {"id": "s", "metadata": {"type": "ssd", "size": 10, "paths": {"containment": "/n/s"}}}
        ], "edges": [{"source": "n", "target": "c"}]});
        let err = infer_from(plain.clone()).unwrap_err();
        assert!(err.starts_with("1 ssd vertices, but no vertex holds both nodes and ssds"), "{err}");
        let mut no_ssd = plain;
        no_ssd["nodes"].as_array_mut().unwrap().pop();
        let facts = infer_from(no_ssd).unwrap();
        assert_eq!((facts.system.cores_per_node, facts.storage), (1, None));
        assert!(facts.node_shape.levels.is_empty());
        assert_eq!(infer_from(json!({"nodes": []})).unwrap_err(), "the graph has no node vertices");
    }
}
