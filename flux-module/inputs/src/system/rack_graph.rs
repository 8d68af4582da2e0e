//! The resource graph (JGF) of a synthetic system with rabbit storage, built from three
//! config keys: nodes per rack, SSD shares per rack, and the size of a share.
//!
//! `cluster0` holds racks `rack0...`; rack r holds nodes `node{i}` (broker rank i, with
//! cores and GPUs as the synthetic R gives them) in rank order, `nodes_per_rack` to a
//! rack (the last rack may have fewer), and its shares `ssd{j}`. Fluxion loads it from
//! the `scheduling` key of the instance's R, whose `R_lite` is the synthetic one.

use serde_json::{Value, json};

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

/// Accumulates JGF vertices and containment edges with consecutive ids.
#[derive(Default)]
struct GraphBuilder {
    nodes: Vec<Value>,
    edges: Vec<Value>,
}

impl GraphBuilder {
    /// Adds a vertex below `parent` (whose index and path are given) and returns its
    /// index and path. `rank` is -1 for resources no broker rank owns.
    fn add(&mut self, parent: Option<(usize, &str)>, kind: &str, id: u64, rank: i64, size: u64) -> (usize, String) {
        let index = self.nodes.len();
        let name = format!("{kind}{id}");
        let path = format!("{}/{name}", parent.map_or("", |(_, path)| path));
        let mut metadata = json!({
            "type": kind, "basename": kind, "name": name, "id": id, "uniq_id": index, "rank": rank,
            "exclusive": false, "unit": "", "size": size, "paths": {"containment": path},
        });
        if kind == "ssd" {
            metadata["unit"] = "GiB".into();
        }
        self.nodes.push(json!({"id": index.to_string(), "metadata": metadata}));
        if let Some((parent, _)) = parent {
            self.edges.push(json!({
                "source": parent.to_string(), "target": index.to_string(), "metadata": {"subsystem": "containment"}
            }));
        }
        (index, path)
    }
}

/// The `{"graph": ...}` object of `system` laid out in racks as `keys` say.
pub(crate) fn rack_graph(system: &SystemSpec, keys: &RackKeys) -> Value {
    let mut g = GraphBuilder::default();
    let (cluster, cluster_path) = g.add(None, "cluster", 0, -1, 1);
    let racks = system.nnodes.div_ceil(keys.nodes_per_rack);
    for r in 0..racks {
        let (rack, rack_path) = g.add(Some((cluster, &cluster_path)), "rack", r.into(), -1, 1);
        let first = r * keys.nodes_per_rack;
        for rank in first..system.nnodes.min(first + keys.nodes_per_rack) {
            let (node, node_path) = g.add(Some((rack, &rack_path)), "node", rank.into(), rank.into(), 1);
            for core in 0..system.cores_per_node {
                g.add(Some((node, &node_path)), "core", core.into(), rank.into(), 1);
            }
            for gpu in 0..system.gpus_per_node {
                g.add(Some((node, &node_path)), "gpu", gpu.into(), rank.into(), 1);
            }
        }
        for share in 0..keys.shares_per_rack {
            let id = u64::from(r) * u64::from(keys.shares_per_rack) + u64::from(share);
            g.add(Some((rack, &rack_path)), "ssd", id, -1, keys.share_gib);
        }
    }
    json!({"graph": {"nodes": g.nodes, "edges": g.edges}})
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
        let jgf = rack_graph(&system, &keys);
        let facts = infer(&Graph::parse(&jgf["graph"]).unwrap()).unwrap();
        assert_eq!(facts.system, system);
        assert_eq!(facts.node_shape, NodeShape::default());
        let storage = facts.storage.unwrap();
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
