//! The uniform model, for tests and simple experiments: Poisson arrivals (exponential
//! inter-arrival times with a given mean), sizes uniform on whole numbers of nodes in
//! [min, max], run times uniform on whole seconds in [min, max]. Every moment has a
//! closed form, so a replay's expectations are easy to derive.

use crate::random::Random;

/// The bounds of the uniform model (`--min-nodes` ... `--mean-interarrival`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UniformModel {
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub min_runtime: u64,
    pub max_runtime: u64,
    pub mean_interarrival: f64,
}

impl UniformModel {
    /// Seconds until the next arrival.
    pub fn draw_gap(&self, random: &mut Random) -> f64 {
        random.exponential(self.mean_interarrival)
    }

    pub fn draw_nodes(&self, random: &mut Random) -> u32 {
        // Within the u32 bounds it was drawn between.
        random.integer(u64::from(self.min_nodes), u64::from(self.max_nodes)) as u32
    }

    pub fn draw_runtime(&self, random: &mut Random) -> u64 {
        random.integer(self.min_runtime, self.max_runtime)
    }
}
