//! `--stats`: the moments of a generated trace, to compare with a model or a real log
//! (count; mean and coefficient of variation of run times and sizes; serial and
//! power-of-two shares; mean inter-arrival time; offered load as `offered_load`
//! defines it).

use std::fmt;

use crate::offered_load::offered_load;
use crate::workload::Job;

#[derive(Debug, Clone, PartialEq)]
pub struct TraceStats {
    pub jobs: usize,
    pub runtime_mean: f64,
    pub runtime_cv: f64,
    pub size_mean: f64,
    pub size_cv: f64,
    /// Jobs of 1 node.
    pub serial_fraction: f64,
    /// Jobs of 2, 4, 8, ... nodes (serial jobs are counted apart).
    pub power_of_two_fraction: f64,
    /// Last submit - first submit, seconds.
    pub span: u64,
    /// span / (jobs - 1); `None` for one job.
    pub interarrival_mean: Option<f64>,
    /// `None` when the span is 0.
    pub offered_load: Option<f64>,
}

/// Mean and coefficient of variation (population standard deviation over mean).
fn mean_and_cv(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let count = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / count;
    let variance = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / count;
    (mean, libm::sqrt(variance) / mean)
}

impl TraceStats {
    /// The moments of `jobs` (at least one, in submit order) on a machine of `machine_nodes`.
    pub fn of(jobs: &[Job], machine_nodes: u32) -> TraceStats {
        let count = jobs.len();
        let share = |test: fn(&Job) -> bool| jobs.iter().filter(|job| test(job)).count() as f64 / count as f64;
        let (runtime_mean, runtime_cv) = mean_and_cv(jobs.iter().map(|job| job.runtime as f64));
        let (size_mean, size_cv) = mean_and_cv(jobs.iter().map(|job| f64::from(job.nodes)));
        let span = jobs[count - 1].submit - jobs[0].submit;
        let node_seconds: f64 = jobs.iter().map(|job| f64::from(job.nodes) * job.runtime as f64).sum();
        TraceStats {
            jobs: count,
            runtime_mean,
            runtime_cv,
            size_mean,
            size_cv,
            serial_fraction: share(|job| job.nodes == 1),
            power_of_two_fraction: share(|job| job.nodes > 1 && job.nodes.is_power_of_two()),
            span,
            interarrival_mean: (count > 1).then(|| span as f64 / (count - 1) as f64),
            offered_load: (span > 0).then(|| offered_load(node_seconds, machine_nodes, span as f64)),
        }
    }
}

impl fmt::Display for TraceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let optional = |value: Option<f64>| value.map_or("n/a".to_string(), |v| format!("{v:.4}"));
        writeln!(f, "jobs: {}", self.jobs)?;
        writeln!(f, "runtime_mean_s: {:.4}", self.runtime_mean)?;
        writeln!(f, "runtime_cv: {:.4}", self.runtime_cv)?;
        writeln!(f, "size_mean_nodes: {:.4}", self.size_mean)?;
        writeln!(f, "size_cv: {:.4}", self.size_cv)?;
        writeln!(f, "serial_fraction: {:.4}", self.serial_fraction)?;
        writeln!(f, "power_of_two_fraction: {:.4}", self.power_of_two_fraction)?;
        writeln!(f, "interarrival_mean_s: {}", optional(self.interarrival_mean))?;
        writeln!(f, "span_s: {}", self.span)?;
        writeln!(f, "offered_load: {}", optional(self.offered_load))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_a_small_trace() {
        let job = |submit, runtime, nodes| Job { submit, runtime, nodes, time_limit: 3600, storage_gib: 0 };
        let jobs = [job(100, 10, 1), job(150, 30, 2), job(300, 20, 3)];
        let stats = TraceStats::of(&jobs, 4);
        assert_eq!((stats.jobs, stats.span), (3, 200));
        assert_eq!((stats.runtime_mean, stats.size_mean), (20.0, 2.0));
        assert!((stats.runtime_cv - libm::sqrt(200.0 / 3.0) / 20.0).abs() < 1e-12);
        assert_eq!((stats.serial_fraction, stats.power_of_two_fraction), (1.0 / 3.0, 1.0 / 3.0));
        assert_eq!(stats.interarrival_mean, Some(100.0));
        // (10 + 60 + 60) node-seconds over 4 nodes x 200 s.
        assert_eq!(stats.offered_load, Some(130.0 / 800.0));
        let single = TraceStats::of(&jobs[..1], 4);
        assert_eq!((single.interarrival_mean, single.offered_load), (None, None));
        assert!(single.to_string().ends_with("offered_load: n/a\n"));
    }
}
