//! What the running jobs occupy: nodes counted once however many jobs share them, cores,
//! GPUs and rabbit storage summed, and the node-time used, integrated from step to step.
//!
//! Summing each job's node count would count a node shared by two jobs twice, and give
//! node utilization above 100% on traces whose jobs share nodes.

use ff_inputs::SimTime;

use crate::job::Footprint;

#[derive(Debug, Default)]
pub struct Occupancy {
    /// Running jobs on each node (by broker rank).
    jobs_on: Vec<u32>,
    /// Nodes with at least one running job, and the cores and GPUs in use.
    busy: Footprint,
    /// Busy nodes x microseconds up to `since`.
    node_micros: i128,
    since: Option<SimTime>,
}

impl Occupancy {
    pub fn new(nnodes: u32) -> Self {
        Occupancy { jobs_on: vec![0; nnodes as usize], ..Occupancy::default() }
    }

    /// Nodes, cores and GPUs in use now.
    pub fn busy(&self) -> Footprint {
        self.busy
    }

    /// Busy node-microseconds up to the last time the clock was advanced to.
    pub fn node_micros(&self) -> i128 {
        self.node_micros
    }

    /// The clock moves to `t`: the nodes busy until now were busy until `t`.
    pub fn advance_to(&mut self, t: SimTime) {
        if let Some(since) = self.since {
            self.node_micros += i128::from(self.busy.nodes) * i128::from((t.0 - since.0).max(0));
        }
        self.since = Some(t);
    }

    /// A job starts on `ranks`, using `footprint`'s cores and GPUs.
    pub fn take(&mut self, ranks: &[u32], footprint: Footprint) {
        for &rank in ranks {
            if let Some(jobs) = self.jobs_on.get_mut(rank as usize) {
                self.busy.nodes += u64::from(*jobs == 0);
                *jobs += 1;
            }
        }
        self.busy.cores += footprint.cores;
        self.busy.gpus += footprint.gpus;
        self.busy.storage_gib += footprint.storage_gib;
    }

    /// A job that `take` recorded ends.
    pub fn give_back(&mut self, ranks: &[u32], footprint: Footprint) {
        for &rank in ranks {
            if let Some(jobs) = self.jobs_on.get_mut(rank as usize).filter(|jobs| **jobs > 0) {
                *jobs -= 1;
                self.busy.nodes -= u64::from(*jobs == 0);
            }
        }
        self.busy.cores = self.busy.cores.saturating_sub(footprint.cores);
        self.busy.gpus = self.busy.gpus.saturating_sub(footprint.gpus);
        self.busy.storage_gib = self.busy.storage_gib.saturating_sub(footprint.storage_gib);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cores(n: u64) -> Footprint {
        Footprint { nodes: 0, cores: n, gpus: 0, storage_gib: 0 }
    }

    #[test]
    fn a_shared_node_counts_once_and_node_time_follows_the_clock() {
        let mut o = Occupancy::new(4);
        o.advance_to(SimTime(0));
        o.take(&[0, 1], cores(4));
        o.take(&[1], cores(2));
        assert_eq!(o.busy(), Footprint { nodes: 2, cores: 6, gpus: 0, storage_gib: 0 });
        o.advance_to(SimTime(10));
        o.give_back(&[0, 1], cores(4));
        assert_eq!(o.busy(), Footprint { nodes: 1, cores: 2, gpus: 0, storage_gib: 0 });
        o.advance_to(SimTime(15));
        o.give_back(&[1], cores(2));
        o.advance_to(SimTime(100));
        assert_eq!(o.node_micros(), 2 * 10 + 5);
        assert_eq!(o.busy(), Footprint::default());
    }
}
