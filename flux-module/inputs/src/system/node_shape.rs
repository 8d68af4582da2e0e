//! What lies between a node and its cores and GPUs in the resource graph (sockets,
//! NUMA nodes...).
//!
//! Fluxion matches a jobspec level by level: once `node` is matched, the next level
//! asked for must be the node's children. A graph with `node > socket > core` therefore
//! needs jobspecs that ask for sockets too; a synthetic system, or an R without a graph,
//! has cores right under the node.

use std::fmt;

/// One level between node and leaves: its type and how many a parent holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLevel {
    pub kind: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeShape {
    /// Outermost first; empty when cores and GPUs are the node's children.
    pub levels: Vec<NodeLevel>,
}

impl NodeShape {
    /// How many innermost-level vertices one node holds (1 with no levels): a job's
    /// cores and GPUs on a node are spread over that many.
    pub fn branches(&self) -> u32 {
        self.levels.iter().map(|level| level.count).product()
    }
}

impl fmt::Display for NodeShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("node")?;
        for level in &self.levels {
            write!(f, " > {} x{}", level.kind, level.count)?;
        }
        f.write_str(" > cores, GPUs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_multiply_and_the_shape_reads_outside_in() {
        assert_eq!(NodeShape::default().branches(), 1);
        let shape = NodeShape {
            levels: vec![NodeLevel { kind: "socket".into(), count: 2 }, NodeLevel { kind: "numa".into(), count: 3 }],
        };
        assert_eq!(shape.branches(), 6);
        assert_eq!(shape.to_string(), "node > socket x2 > numa x3 > cores, GPUs");
    }
}
