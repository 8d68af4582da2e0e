//! Rabbit storage: near-node SSDs that sit in a rack (or any other *parent* vertex) beside
//! the compute nodes they serve, as on El Capitan-class systems.
//!
//! In Fluxion's graph a rabbit is a parent vertex with `node` children and `ssd`
//! children; each `ssd` vertex is one *share* whose `size` is its capacity in GiB. A job
//! asks for storage in a slot beside its nodes, so Fluxion finds both under one parent.
//! The layout here is what the jobspecs, the pre-flight check and the reports need to
//! know about those parents.

use std::fmt;

/// One parent vertex holding nodes and SSD shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageParent {
    /// Its name in the graph, e.g. `rack3`.
    pub name: String,
    /// Its containment path, e.g. `/cluster0/rack3`: the shares below it start with it.
    pub path: String,
    pub nodes: u32,
    /// The size of each of its shares, GiB.
    pub share_gib: Vec<u64>,
}

impl StorageParent {
    /// Its storage capacity, GiB.
    pub fn gib(&self) -> u64 {
        self.share_gib.iter().sum()
    }
}

/// Where the system's storage is and how it is divided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageLayout {
    /// The type of the parents, e.g. `rack`.
    pub parent_type: String,
    /// Every parent of that type, in graph order: a parent's index is its position here.
    pub parents: Vec<StorageParent>,
    /// The most common number of nodes in a parent.
    pub nodes_per_parent: u32,
    /// The most common number of shares in a parent.
    pub shares_per_parent: u32,
    /// The most common share size, GiB.
    pub share_gib: u64,
    /// The largest capacity of one parent, GiB: the most one bundle of a job can be given.
    pub parent_gib: u64,
}

impl StorageLayout {
    pub fn total_gib(&self) -> u64 {
        self.parents.iter().map(StorageParent::gib).sum()
    }

    /// The parent holding the vertex at containment path `path` (e.g. a share of a job's R).
    pub fn parent_of(&self, path: &str) -> Option<usize> {
        self.parents.iter().position(|p| path.strip_prefix(p.path.as_str()).is_some_and(|rest| rest.starts_with('/')))
    }

    /// Whether every parent has the same nodes and the same shares.
    fn is_regular(&self) -> bool {
        self.parents
            .iter()
            .all(|p| p.nodes == self.nodes_per_parent && p.share_gib.iter().all(|&g| g == self.share_gib))
            && self.parents.iter().all(|p| p.share_gib.len() == self.shares_per_parent as usize)
    }
}

impl fmt::Display for StorageLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rabbit storage in {}, {}{} and {} of {} GiB ({} GiB) each, {} GiB in all",
            counted(self.parents.len() as u64, &self.parent_type),
            if self.is_regular() { "" } else { "most with " },
            counted(self.nodes_per_parent.into(), "node"),
            counted(self.shares_per_parent.into(), "SSD share"),
            self.share_gib,
            u64::from(self.shares_per_parent) * self.share_gib,
            self.total_gib()
        )
    }
}

/// `1 rack`, `2 racks`.
fn counted(n: u64, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// The most common value (the first of equally common ones), or None for no values.
pub(crate) fn most_common<T: PartialEq + Copy>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for value in values {
        match counts.iter_mut().find(|(v, _)| *v == value) {
            Some((_, count)) => *count += 1,
            None => counts.push((value, 1)),
        }
    }
    // max_by_key keeps the last maximum; reverse so ties go to the first value seen.
    counts.into_iter().rev().max_by_key(|&(_, count)| count).map(|(value, _)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rack(i: u32, nodes: u32, shares: &[u64]) -> StorageParent {
        StorageParent { name: format!("rack{i}"), path: format!("/cluster0/rack{i}"), nodes, share_gib: shares.to_vec() }
    }

    #[test]
    fn totals_lookup_and_description() {
        let layout = StorageLayout {
            parent_type: "rack".into(),
            parents: vec![rack(0, 4, &[100, 100, 100]), rack(1, 4, &[100, 100, 100])],
            nodes_per_parent: 4,
            shares_per_parent: 3,
            share_gib: 100,
            parent_gib: 300,
        };
        assert_eq!(layout.total_gib(), 600);
        assert_eq!(layout.parent_of("/cluster0/rack1/ssd4"), Some(1));
        assert_eq!(layout.parent_of("/cluster0/rack10/ssd4"), None);
        assert_eq!(
            layout.to_string(),
            "rabbit storage in 2 racks, 4 nodes and 3 SSD shares of 100 GiB (300 GiB) each, 600 GiB in all"
        );
        let uneven = StorageLayout { parents: vec![rack(0, 4, &[100, 100, 100]), rack(1, 1, &[100])], ..layout };
        assert!(uneven.to_string().contains("2 racks, most with 4 nodes"), "{uneven}");
    }

    #[test]
    fn most_common_prefers_the_first_of_a_tie() {
        assert_eq!(most_common([3, 1, 1, 3, 2]), Some(3));
        assert_eq!(most_common([2, 5, 5]), Some(5));
        assert_eq!(most_common(Vec::<u32>::new()), None);
    }
}
