//! Fluxion resource graphs in JSON Graph Format (JGF): the `graph` object of a
//! `resource_file`, or the `scheduling` key of an RV1 R, read into vertices and their
//! containment children.
//!
//! Only what the emulator needs is read: a vertex's type, name, `id`, `rank`, `size`
//! and `unit`, and its containment path; edges of other subsystems are ignored, as they
//! do not say what holds what. Fluxion's own reader requires `id`, `metadata.type` and
//! `metadata.paths` and defaults the rest (a missing `size` becomes 1), so a graph it
//! would load may still lack a fact the emulator cannot guess, such as an SSD's size;
//! the callers say which.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// The containment subsystem: the edges that say what holds what.
const CONTAINMENT: &str = "containment";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vertex {
    /// The JGF vertex id (a string, unique in the graph).
    pub key: String,
    pub kind: String,
    /// `metadata.name`, else basename (or type) and id, as Fluxion names it.
    pub name: String,
    /// `metadata.id`: the resource's number among its kind (core 0, 1, ...).
    pub id: Option<i64>,
    /// `metadata.rank`: the broker rank that owns the resource; -1 or absent for none.
    pub rank: Option<i64>,
    /// `metadata.size`, as written (not defaulted).
    pub size: Option<Value>,
    pub unit: Option<String>,
    /// `metadata.paths.containment`, e.g. `/cluster0/rack1/node3`.
    pub path: String,
    /// `metadata.status`: 0 up, 1 down.
    pub status: Option<i64>,
}

/// A resource graph: vertices in file order and each one's containment children.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub vertices: Vec<Vertex>,
    children: Vec<Vec<usize>>,
}

/// A JGF `graph` object as written, read straight from a file: a Tuolumne-size graph
/// has over 100,000 vertices, which as a JSON tree would take the better part of a gigabyte.
#[derive(Deserialize)]
pub(crate) struct JgfGraph {
    nodes: Vec<JgfVertex>,
    #[serde(default)]
    edges: Vec<JgfEdge>,
}

#[derive(Deserialize)]
struct JgfVertex {
    id: String,
    metadata: JgfMetadata,
}

#[derive(Deserialize)]
struct JgfMetadata {
    #[serde(rename = "type")]
    kind: String,
    basename: Option<String>,
    name: Option<String>,
    id: Option<i64>,
    rank: Option<i64>,
    size: Option<Value>,
    unit: Option<String>,
    status: Option<i64>,
    paths: HashMap<String, String>,
}

#[derive(Deserialize)]
struct JgfEdge {
    source: String,
    target: String,
    #[serde(default)]
    metadata: JgfEdgeMetadata,
}

#[derive(Deserialize, Default)]
struct JgfEdgeMetadata {
    subsystem: Option<String>,
}

impl Graph {
    /// Reads a JGF `graph` object (`{"nodes": [...], "edges": [...]}`).
    pub(crate) fn parse(graph: &Value) -> Result<Graph, String> {
        Graph::from_jgf(JgfGraph::deserialize(graph).map_err(|e| format!("not a JGF graph: {e}"))?)
    }

    pub(crate) fn from_jgf(jgf: JgfGraph) -> Result<Graph, String> {
        let mut index = HashMap::with_capacity(jgf.nodes.len());
        let mut vertices = Vec::with_capacity(jgf.nodes.len());
        for vertex in jgf.nodes {
            let m = vertex.metadata;
            let path = m.paths.get(CONTAINMENT).cloned().ok_or_else(|| {
                format!("vertex \"{}\" ({}) has no containment path (metadata.paths.containment)", vertex.id, m.kind)
            })?;
            let name = m.name.unwrap_or_else(|| {
                let base = m.basename.as_deref().unwrap_or(&m.kind);
                m.id.map_or_else(|| base.to_string(), |id| format!("{base}{id}"))
            });
            if index.insert(vertex.id.clone(), vertices.len()).is_some() {
                return Err(format!("two vertices have the id \"{}\"", vertex.id));
            }
            vertices.push(Vertex {
                key: vertex.id,
                kind: m.kind,
                name,
                id: m.id,
                rank: m.rank,
                size: m.size,
                unit: m.unit,
                path,
                status: m.status,
            });
        }
        let mut children = vec![Vec::new(); vertices.len()];
        for edge in jgf.edges {
            if edge.metadata.subsystem.as_deref().is_some_and(|s| s != CONTAINMENT) {
                continue;
            }
            let end = |key: &str| {
                index.get(key).copied().ok_or_else(|| format!("an edge names vertex \"{key}\", which is not in the graph"))
            };
            children[end(&edge.source)?].push(end(&edge.target)?);
        }
        Ok(Graph { vertices, children })
    }

    pub(crate) fn children(&self, vertex: usize) -> &[usize] {
        &self.children[vertex]
    }

    /// Indices of the vertices of one type, in file order.
    pub(crate) fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.vertices.iter().enumerate().filter(move |(_, v)| v.kind == kind).map(|(i, _)| i)
    }

    /// Every vertex below `vertex` (not itself), depth first.
    pub(crate) fn descendants(&self, vertex: usize) -> Vec<usize> {
        let mut found = Vec::new();
        let mut stack: Vec<usize> = self.children[vertex].iter().rev().copied().collect();
        while let Some(v) = stack.pop() {
            found.push(v);
            stack.extend(self.children[v].iter().rev());
        }
        found
    }

    /// How a vertex is named in messages: its JGF id, type and name.
    pub(crate) fn describe(&self, vertex: usize) -> String {
        let v = &self.vertices[vertex];
        format!("vertex \"{}\" ({} {})", v.key, v.kind, v.name)
    }
}

impl Graph {
    /// Graphs written by an older tool mark every SSD down (`status` 1), which would leave
    /// Fluxion no storage to give: when *all* SSD vertices say 1, how many there are (they
    /// are installed up, see [`bring_ssds_up`]), else 0. A graph with some SSDs up and some
    /// down is taken as meant.
    pub(crate) fn legacy_down_ssds(&self) -> usize {
        let ssds: Vec<&Vertex> = self.vertices.iter().filter(|v| v.kind == super::inference::SSD).collect();
        if ssds.iter().all(|v| v.status == Some(1)) { ssds.len() } else { 0 }
    }
}

/// Sets every SSD vertex of the JGF `graph` object up (`status` 0).
pub(crate) fn bring_ssds_up(graph: &mut Value) {
    let Some(nodes) = graph.get_mut("nodes").and_then(Value::as_array_mut) else { return };
    let metadata = nodes.iter_mut().filter_map(|vertex| vertex.get_mut("metadata"));
    for m in metadata.filter(|m| m.get("type").and_then(Value::as_str) == Some(super::inference::SSD)) {
        m["status"] = 0.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vertex(id: &str, kind: &str, path: &str) -> Value {
        json!({"id": id, "metadata": {"type": kind, "id": 0, "paths": {"containment": path}}})
    }

    #[test]
    fn reads_vertices_and_containment_children() {
        let graph = json!({
            "nodes": [vertex("0", "rack", "/c/rack0"), vertex("1", "node", "/c/rack0/node0"), vertex("2", "ssd", "/c/rack0/ssd0")],
            "edges": [
                {"source": "0", "target": "1", "metadata": {"subsystem": "containment"}},
                {"source": "0", "target": "2"},
                {"source": "1", "target": "2", "metadata": {"subsystem": "power"}}
            ]
        });
        let g = Graph::parse(&graph).unwrap();
        assert_eq!(g.children(0), [1, 2]);
        assert!(g.children(1).is_empty(), "power edges are not containment");
        assert_eq!(g.vertices[1].name, "node0", "unnamed vertices are named as Fluxion names them");
        assert_eq!(g.of_kind("ssd").collect::<Vec<_>>(), [2]);
        assert_eq!(g.descendants(0), [1, 2]);
        assert_eq!(g.describe(2), "vertex \"2\" (ssd ssd0)");
    }

    #[test]
    fn legacy_ssd_status_is_normalized_only_when_every_ssd_is_down() {
        let ssd = |id: &str, status: i64| json!({"id": id, "metadata": {"type": "ssd", "status": status, "paths": {"containment": id}}});
        let mut legacy = json!({"nodes": [ssd("a", 1), ssd("b", 1), vertex("n", "node", "/n")]});
        assert_eq!(Graph::parse(&legacy).unwrap().legacy_down_ssds(), 2);
        bring_ssds_up(&mut legacy);
        assert_eq!(legacy["nodes"][1]["metadata"]["status"], 0);
        assert!(legacy["nodes"][2]["metadata"].get("status").is_none(), "only ssds");
        assert_eq!(Graph::parse(&legacy).unwrap().legacy_down_ssds(), 0, "already up");
        let mixed = json!({"nodes": [ssd("a", 1), ssd("b", 0)]});
        assert_eq!(Graph::parse(&mixed).unwrap().legacy_down_ssds(), 0);
    }

    #[test]
    fn malformed_graphs_say_what_is_wrong() {
        let no_path = json!({"nodes": [{"id": "0", "metadata": {"type": "node", "paths": {}}}]});
        assert_eq!(
            Graph::parse(&no_path).unwrap_err(),
            "vertex \"0\" (node) has no containment path (metadata.paths.containment)"
        );
        let dangling = json!({"nodes": [vertex("0", "node", "/n")], "edges": [{"source": "0", "target": "9"}]});
        assert_eq!(Graph::parse(&dangling).unwrap_err(), "an edge names vertex \"9\", which is not in the graph");
        assert!(Graph::parse(&json!({"nodes": 3})).unwrap_err().starts_with("not a JGF graph: "));
        let twice = json!({"nodes": [vertex("0", "node", "/a"), vertex("0", "node", "/b")]});
        assert_eq!(Graph::parse(&twice).unwrap_err(), "two vertices have the id \"0\"");
    }
}
