//! The resource graph (JGF) of a synthetic system with rabbit storage, built from three
//! config keys: nodes per rack, SSD shares per rack, and the size of a share.
//!
//! `cluster0` holds racks `rack0...`; rack r holds nodes `node{i}` (broker rank i, with
//! cores and GPUs as the synthetic R gives them) in rank order, `nodes_per_rack` to a
//! rack (the last rack may have fewer), and its shares `ssd{j}`. Fluxion loads it from
//! the `scheduling` key of the instance's R, whose `R_lite` is the synthetic one.

use std::ops::Range;

use serde::Serialize;

use super::storage::{StorageLayout, StorageParent};
use super::SystemSpec;


/// The config keys of a synthetic storage system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RackKeys {
    /// `rabbit_nodes_per_rack`
    pub nodes_per_rack: u32,
    /// `rabbit_shares_per_rack`
    pub shares_per_rack: u32,
    /// `rabbit_share_gib`
    pub share_gib: u64,
}

/// What one rack holds: its number, the broker ranks of its nodes and the ids of its shares.
struct Rack {
    index: u32,
    ranks: Range<u32>,
    shares: Range<u64>,
}

/// The racks of `system`, in order: the one definition of the layout, which both the graph
/// and [`rack_layout`] follow.
fn racks(system: &SystemSpec, keys: &RackKeys) -> impl Iterator<Item = Rack> {
    let (nnodes, per_rack, shares) = (system.nnodes, keys.nodes_per_rack, u64::from(keys.shares_per_rack));
    (0..nnodes.div_ceil(per_rack)).map(move |index| Rack {
        index,
        ranks: index * per_rack..nnodes.min((index + 1) * per_rack),
        shares: u64::from(index) * shares..u64::from(index + 1) * shares,
    })
}

/// A vertex's name, as Fluxion names it: its type and its id.
fn vertex_name(kind: &str, id: impl std::fmt::Display) -> String {
    format!("{kind}{id}")
}

/// The storage layout of the rack graph, without building it (a Tuolumne-size graph has
/// over 100,000 vertices); `rack_graph`'s test reads the same layout back from the graph.
pub fn rack_layout(system: &SystemSpec, keys: &RackKeys) -> StorageLayout {
    let parents: Vec<StorageParent> = racks(system, keys)
        .map(|rack| {
            let name = vertex_name("rack", rack.index);
            StorageParent {
                path: format!("/{}/{name}", vertex_name("cluster", 0)),
                name,
                nodes: rack.ranks.len() as u32,
                share_gib: vec![keys.share_gib; rack.shares.count()],
            }
        })
        .collect();
    StorageLayout {
        parent_type: "rack".to_string(),
        nodes_per_parent: keys.nodes_per_rack.min(system.nnodes),
        shares_per_parent: keys.shares_per_rack,
        share_gib: keys.share_gib,
        parent_gib: u64::from(keys.shares_per_rack) * keys.share_gib,
        parents,
    }
}

/// A JGF document, written from typed data: a Tuolumne-size graph has over 100,000
/// vertices, which as a JSON tree would take the better part of a gigabyte.
#[derive(Debug, Serialize)]
pub(crate) struct JgfDocument {
    graph: JgfGraph,
}

#[derive(Debug, Default, Serialize)]
struct JgfGraph {
    nodes: Vec<JgfVertex>,
    edges: Vec<JgfEdge>,
}

#[derive(Debug, Serialize)]
struct JgfVertex {
    id: String,
    metadata: VertexMetadata,
}

/// The fields Fluxion's JGF reader takes (resource_reader_jgf.cpp).
#[derive(Debug, Serialize)]
struct VertexMetadata {
    #[serde(rename = "type")]
    kind: &'static str,
    basename: &'static str,
    name: String,
    id: u64,
    uniq_id: usize,
    rank: i64,
    exclusive: bool,
    unit: &'static str,
    size: u64,
    paths: Paths,
}

#[derive(Debug, Serialize)]
struct Paths {
    containment: String,
}

#[derive(Debug, Serialize)]
struct JgfEdge {
    source: String,
    target: String,
    metadata: EdgeMetadata,
}

#[derive(Debug, Serialize)]
struct EdgeMetadata {
    subsystem: &'static str,
}

impl JgfGraph {
    /// Adds a vertex below `parent` (whose index and path are given) and returns its
    /// index and path. `rank` is -1 for resources no broker rank owns.
    fn add(&mut self, parent: Option<(usize, &str)>, kind: &'static str, id: u64, rank: i64, size: u64) -> (usize, String) {
        let index = self.nodes.len();
        let name = vertex_name(kind, id);
        let path = format!("{}/{name}", parent.map_or("", |(_, path)| path));
        let metadata = VertexMetadata {
            kind,
            basename: kind,
            name,
            id,
            uniq_id: index,
            rank,
            exclusive: false,
            unit: if kind == "ssd" { "GiB" } else { "" },
            size,
            paths: Paths { containment: path.clone() },
        };
        self.nodes.push(JgfVertex { id: index.to_string(), metadata });
        if let Some((parent, _)) = parent {
            let metadata = EdgeMetadata { subsystem: "containment" };
            self.edges.push(JgfEdge { source: parent.to_string(), target: index.to_string(), metadata });
        }
        (index, path)
    }
}

/// The `{"graph": ...}` document of `system` laid out in racks as `keys` say.
pub(crate) fn rack_graph(system: &SystemSpec, keys: &RackKeys) -> JgfDocument {
    let mut g = JgfGraph::default();
    let (cluster, cluster_path) = g.add(None, "cluster", 0, -1, 1);
    for rack in racks(system, keys) {
        let (rack_vertex, rack_path) = g.add(Some((cluster, &cluster_path)), "rack", rack.index.into(), -1, 1);
        for rank in rack.ranks {
            let (node, node_path) = g.add(Some((rack_vertex, &rack_path)), "node", rank.into(), rank.into(), 1);
            for core in 0..system.cores_per_node {
                g.add(Some((node, &node_path)), "core", core.into(), rank.into(), 1);
            }
            for gpu in 0..system.gpus_per_node {
                g.add(Some((node, &node_path)), "gpu", gpu.into(), rank.into(), 1);
            }
        }
        for share in rack.shares {
            g.add(Some((rack_vertex, &rack_path)), "ssd", share, -1, keys.share_gib);
        }
    }
    JgfDocument { graph: g }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::inference::infer;
    use crate::system::jgf::Graph;
    use crate::system::node_shape::NodeShape;

    #[test]
    fn racks_of_nodes_and_shares_read_back_as_built() {
        let system = SystemSpec { nnodes: 10, cores_per_node: 2, gpus_per_node: 1 };
        let keys = RackKeys { nodes_per_rack: 4, shares_per_rack: 3, share_gib: 453 };
        let jgf = serde_json::to_value(rack_graph(&system, &keys)).unwrap();
        let facts = infer(&Graph::parse(&jgf["graph"]).unwrap()).unwrap();
        assert_eq!(facts.system, system);
        assert_eq!(facts.node_shape, NodeShape::default());
        let storage = facts.storage.unwrap();
        assert_eq!(storage, rack_layout(&system, &keys), "the layout without the graph is the graph's");
        let nodes: Vec<u32> = storage.parents.iter().map(|p| p.nodes).collect();
        assert_eq!(nodes, [4, 4, 2], "the last rack holds what is left");
        assert_eq!((storage.nodes_per_parent, storage.shares_per_parent, storage.share_gib), (4, 3, 453));
        assert_eq!((storage.parent_gib, storage.total_gib()), (1359, 4077));
        let node9 = &jgf["graph"]["nodes"].as_array().unwrap().iter().find(|v| v["metadata"]["name"] == "node9").unwrap();
        assert_eq!(node9["metadata"]["rank"], 9);
        assert_eq!(node9["metadata"]["paths"]["containment"], "/cluster0/rack2/node9");
        let ssd8 = &jgf["graph"]["nodes"].as_array().unwrap().iter().find(|v| v["metadata"]["name"] == "ssd8").unwrap();
        assert_eq!(ssd8["metadata"]["paths"]["containment"], "/cluster0/rack2/ssd8");
        assert_eq!((ssd8["metadata"]["size"].as_u64(), ssd8["metadata"]["unit"].as_str()), (Some(453), Some("GiB")));
    }
}
