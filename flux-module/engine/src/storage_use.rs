//! Rabbit storage in use under each parent (rack): which parents' shares a job's R
//! lists, and how many GiB each parent has given to running jobs, for the utilization
//! timeline and the per-rack counters of `pernode.json`.

use ff_inputs::StorageLayout;
use ff_report::StorageGrant;

use crate::command::AllocatedShare;

#[derive(Debug, Clone, Default)]
pub(crate) struct StorageUse {
    layout: Option<StorageLayout>,
    /// GiB given to running jobs, per parent in the layout's order.
    by_parent: Vec<u64>,
}

impl StorageUse {
    pub(crate) fn new(layout: Option<StorageLayout>) -> Self {
        let parents = layout.as_ref().map_or(0, |l| l.parents.len());
        StorageUse { layout, by_parent: vec![0; parents] }
    }

    /// The shares of an allocation summed per parent, in the layout's order. A share
    /// under no known parent cannot be told apart from the rest and is left out.
    pub(crate) fn grants(&self, shares: &[AllocatedShare]) -> Vec<StorageGrant> {
        let Some(layout) = &self.layout else { return Vec::new() };
        let mut gib = vec![0u64; layout.parents.len()];
        for share in shares {
            if let Some(parent) = layout.parent_of(&share.path) {
                gib[parent] += share.gib;
            }
        }
        gib.into_iter().enumerate().filter(|&(_, g)| g > 0).map(|(parent, gib)| StorageGrant { parent, gib }).collect()
    }

    pub(crate) fn add(&mut self, grants: &[StorageGrant]) {
        for grant in grants {
            self.by_parent[grant.parent] += grant.gib;
        }
    }

    pub(crate) fn sub(&mut self, grants: &[StorageGrant]) {
        for grant in grants {
            self.by_parent[grant.parent] = self.by_parent[grant.parent].saturating_sub(grant.gib);
        }
    }

    pub(crate) fn by_parent(&self) -> &[u64] {
        &self.by_parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_inputs::{RackKeys, SystemSpec, rack_layout};

    fn share(path: &str) -> AllocatedShare {
        AllocatedShare { path: path.to_string(), gib: 100 }
    }

    #[test]
    fn shares_are_summed_per_rack_and_held_until_released() {
        // 2 racks of 2 nodes and 3 shares of 100 GiB.
        let system = SystemSpec { nnodes: 4, cores_per_node: 1, gpus_per_node: 0 };
        let layout = rack_layout(&system, &RackKeys { nodes_per_rack: 2, shares_per_rack: 3, share_gib: 100 });
        let mut used = StorageUse::new(Some(layout));
        let grants = used.grants(&[share("/cluster0/rack1/ssd4"), share("/cluster0/rack1/ssd5"), share("/elsewhere/ssd9")]);
        assert_eq!(grants, [StorageGrant { parent: 1, gib: 200 }]);
        used.add(&grants);
        used.add(&used.grants(&[share("/cluster0/rack0/ssd0")]));
        assert_eq!(used.by_parent(), [100, 200]);
        used.sub(&grants);
        assert_eq!(used.by_parent(), [100, 0]);
        assert!(StorageUse::new(None).grants(&[share("/cluster0/rack0/ssd0")]).is_empty());
    }
}
