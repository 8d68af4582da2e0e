//! What one trace job asks the scheduler for on this system: nodes, cores and GPUs per
//! node, and rabbit storage in bundles. The jobspec, the pre-flight fit check and the
//! engine's accounting all read it from here, so they agree on what a job holds.
//!
//! Storage is asked for in *bundles* (spec §4.3, as flux-coral2 shapes it): a `rabbit`
//! slot holding some of the job's nodes and some of its storage, which Fluxion must find
//! under one parent (a rack), as the slot is matched at a vertex with both node and ssd
//! children. One bundle unless the job's nodes are more than one parent holds, or its
//! storage more than the largest parent has; then as many as that takes, each with an
//! equal share of the nodes and the storage (rounded up: a job whose request does not
//! divide evenly gets a little more than it asked for).

use crate::config::Config;
use crate::system::{NodeShape, StorageLayout, SystemSpec};
use crate::trace::TraceJob;

/// The parts of the config that decide requests.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRules {
    /// The emulated machine, in whose units jobs are accounted.
    pub system: SystemSpec,
    /// What the scheduler manages (`Config::scheduler_system`).
    pub scheduler: SystemSpec,
    /// Jobs hold whole nodes (`exclusive`).
    pub exclusive: bool,
    /// Jobs ask the scheduler for whole nodes of `scheduler` (`Config::whole_node_requests`).
    pub whole_node_requests: bool,
    pub node_shape: NodeShape,
    pub storage: Option<StorageLayout>,
    /// The `name=` of the `#DW jobdw` directive a job with storage carries, if any.
    pub dw_name: Option<String>,
}

/// A job's request as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    /// Nodes in all (with storage: bundles x nodes per bundle).
    pub nodes: u32,
    /// What it holds on each node (all of it when exclusive).
    pub cores_per_node: u32,
    pub gpus_per_node: u32,
    /// How many of the innermost node levels (sockets...) the cores and GPUs of a node
    /// are spread over; 1 when they are the node's children.
    pub branches: u32,
    pub storage: Option<StorageBundles>,
}

/// A storage request split into bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageBundles {
    /// GiB the trace asked for.
    pub gib: u64,
    pub bundles: u32,
    pub nodes_per_bundle: u32,
    /// GiB asked for in each bundle (one unit of Fluxion's `ssd` resource is 1 GiB).
    pub gib_per_bundle: u64,
    /// Whole shares that covers at the system's most common share size: SSDs are
    /// allocated exclusively, so a bundle holds its shares whole.
    pub shares_per_bundle: u64,
}

impl JobRequest {
    pub fn cores(&self) -> u64 {
        u64::from(self.nodes) * u64::from(self.cores_per_node)
    }

    pub fn gpus(&self) -> u64 {
        u64::from(self.nodes) * u64::from(self.gpus_per_node)
    }

    /// GiB of storage the job asked for (0 for none).
    pub fn storage_gib(&self) -> u64 {
        self.storage.map_or(0, |s| s.gib)
    }
}

impl RequestRules {
    pub fn new(cfg: &Config) -> Self {
        RequestRules {
            system: cfg.system,
            scheduler: cfg.scheduler_system(),
            exclusive: cfg.exclusive,
            whole_node_requests: cfg.whole_node_requests(),
            node_shape: cfg.node_shape.clone(),
            storage: cfg.storage.clone(),
            dw_name: cfg.dw_name.clone(),
        }
    }

    /// The rules of a system of plain nodes: no resource graph, no storage.
    pub fn for_nodes(system: SystemSpec, exclusive: bool) -> Self {
        RequestRules {
            system,
            scheduler: system,
            exclusive,
            whole_node_requests: exclusive,
            node_shape: NodeShape::default(),
            storage: None,
            dw_name: None,
        }
    }

    /// The request of `job`. A storage request on a system without storage keeps its
    /// size with one bundle: the pre-flight check reports such jobs.
    pub fn request(&self, job: &TraceJob) -> JobRequest {
        let (cores, gpus) = if self.exclusive {
            (self.system.cores_per_node, self.system.gpus_per_node)
        } else {
            (job.cores_per_node, job.gpus_per_node)
        };
        // Fluxion is asked per innermost level, so a node's cores are spread over them.
        let branches = self.node_shape.branches().max(1);
        let spread = |count: u32| if count == 0 { 0 } else { count.div_ceil(branches).max(1) * branches };
        let storage = (job.storage_gib > 0).then(|| self.bundles(job.nnodes, job.storage_gib));
        JobRequest {
            nodes: storage.map_or(job.nnodes, |s| s.bundles * s.nodes_per_bundle),
            cores_per_node: spread(cores),
            gpus_per_node: spread(gpus),
            branches,
            storage,
        }
    }

    fn bundles(&self, nnodes: u32, gib: u64) -> StorageBundles {
        let (nodes_per_parent, parent_gib, share_gib) = match &self.storage {
            Some(layout) => (layout.nodes_per_parent.max(1), layout.parent_gib.max(1), layout.share_gib.max(1)),
            None => (nnodes.max(1), gib, gib),
        };
        let by_storage = u32::try_from(gib.div_ceil(parent_gib)).unwrap_or(u32::MAX);
        let bundles = nnodes.div_ceil(nodes_per_parent).max(by_storage).max(1);
        let gib_per_bundle = gib.div_ceil(u64::from(bundles)).max(1);
        StorageBundles {
            gib,
            bundles,
            nodes_per_bundle: nnodes.div_ceil(bundles).max(1),
            gib_per_bundle,
            shares_per_bundle: gib_per_bundle.div_ceil(share_gib),
        }
    }

    /// The `#DW jobdw` directive of `job` when the config asks for one: its capacity is
    /// per node (flux-coral2's convention), rounded up to a whole GiB.
    pub fn dw_directive(&self, job: &TraceJob) -> Option<String> {
        let name = self.dw_name.as_deref().filter(|_| job.storage_gib > 0)?;
        let capacity = job.storage_gib.div_ceil(u64::from(job.nnodes.max(1))).max(1);
        Some(format!("#DW jobdw type=xfs capacity={capacity}GiB name={name}"))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::system::{NodeLevel, StorageParent};
    use crate::time::{SimDuration, SimTime};

    /// Tuolumne's rabbits: racks of 16 nodes (96 cores, 4 GPUs) and 36 shares of 453 GiB.
    pub(crate) fn tuolumne(racks: u32) -> RequestRules {
        let parent = |r: u32| StorageParent {
            name: format!("rack{r}"),
            path: format!("/cluster0/rack{r}"),
            nodes: 16,
            share_gib: vec![453; 36],
        };
        let system = SystemSpec { nnodes: 16 * racks, cores_per_node: 96, gpus_per_node: 4 };
        RequestRules {
            system,
            scheduler: system,
            exclusive: false,
            whole_node_requests: false,
            node_shape: NodeShape::default(),
            storage: Some(StorageLayout {
                parent_type: "rack".into(),
                parents: (0..racks).map(parent).collect(),
                nodes_per_parent: 16,
                shares_per_parent: 36,
                share_gib: 453,
                parent_gib: 16_308,
            }),
            dw_name: None,
        }
    }

    pub(crate) fn job(nnodes: u32, cores_per_node: u32, gpus_per_node: u32, storage_gib: u64) -> TraceJob {
        TraceJob {
            trace_idx: 7,
            line: 9,
            trace_id: "8".into(),
            submit: SimTime::from_secs(1_546_300_800),
            elapsed: SimDuration::from_secs(360),
            time_limit: Some(SimDuration::from_secs(20)),
            nnodes,
            cores_per_node,
            gpus_per_node,
            storage_gib,
        }
    }

    #[test]
    fn one_bundle_when_one_rack_holds_it_all() {
        let request = tuolumne(4).request(&job(4, 96, 0, 8154));
        let bundles = StorageBundles {
            gib: 8154,
            bundles: 1,
            nodes_per_bundle: 4,
            gib_per_bundle: 8154,
            shares_per_bundle: 18,
        };
        assert_eq!(request.storage, Some(bundles));
        assert_eq!((request.nodes, request.cores(), request.gpus()), (4, 384, 0));
    }

    #[test]
    fn two_bundles_when_the_storage_is_more_than_a_rack_has() {
        let request = tuolumne(4).request(&job(4, 96, 0, 20_000));
        let s = request.storage.unwrap();
        assert_eq!((s.bundles, s.nodes_per_bundle, s.gib_per_bundle, s.shares_per_bundle), (2, 2, 10_000, 23));
        assert_eq!(request.nodes, 4);
    }

    #[test]
    fn bundles_when_the_nodes_span_racks_rounding_up() {
        let s = tuolumne(4).request(&job(33, 1, 0, 100)).storage.unwrap();
        assert_eq!((s.bundles, s.nodes_per_bundle, s.gib_per_bundle, s.shares_per_bundle), (3, 11, 34, 1));
        assert_eq!(tuolumne(4).request(&job(33, 1, 0, 100)).nodes, 33);
        let uneven = tuolumne(4).request(&job(17, 1, 0, 1));
        assert_eq!((uneven.nodes, uneven.storage.unwrap().nodes_per_bundle), (18, 9));
    }

    #[test]
    fn cores_spread_over_sockets_and_exclusive_nodes_are_whole() {
        let mut rules = tuolumne(1);
        rules.node_shape = NodeShape { levels: vec![NodeLevel { kind: "socket".into(), count: 2 }] };
        let request = rules.request(&job(2, 3, 1, 0));
        assert_eq!((request.cores_per_node, request.gpus_per_node, request.branches), (4, 2, 2));
        (rules.exclusive, rules.whole_node_requests) = (true, true);
        let request = rules.request(&job(2, 3, 1, 0));
        assert_eq!((request.cores_per_node, request.gpus_per_node, request.storage), (96, 4, None));
    }

    #[test]
    fn the_dw_directive_gives_capacity_per_node() {
        let mut rules = tuolumne(4);
        assert_eq!(rules.dw_directive(&job(4, 96, 0, 20_000)), None);
        rules.dw_name = Some("rabbitxfs".into());
        assert_eq!(
            rules.dw_directive(&job(4, 96, 0, 20_000)).as_deref(),
            Some("#DW jobdw type=xfs capacity=5000GiB name=rabbitxfs")
        );
        assert_eq!(rules.dw_directive(&job(3, 1, 0, 10)).as_deref(), Some("#DW jobdw type=xfs capacity=4GiB name=rabbitxfs"));
        assert_eq!(rules.dw_directive(&job(3, 1, 0, 0)), None);
    }
}
