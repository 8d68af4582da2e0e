//! The Lublin–Feitelson model of rigid batch jobs: U. Lublin, D. G. Feitelson, "The
//! workload on parallel supercomputers: modeling the characteristics of rigid jobs",
//! JPDC 63(11):1105–1122, 2003; as its authors' reference program `m_lublin99.c`
//! implements it, with that program's batch-job parameters (the `*_BATCH` constants).
//!
//! * Size: serial with probability `SERIAL_PROB`; otherwise log2(size) is drawn from a
//!   two-stage uniform (on [ULow, UMed] with probability `UPROB`, else on [UMed, UHi]),
//!   rounded to an integer first when the same uniform draw falls in the next
//!   `POW2_PROB` (a power-of-two job), and size = round(2^that).
//! * Run time: ln(run time) is hyper-gamma, gamma(A1, B1) with probability p, else
//!   gamma(A2, B2), where p = PA x size + PB clamped to [0, 1]: bigger jobs run longer.
//!   Draws above ln(run time) = 12 (1.9 days) are drawn again (`TOO_MUCH_TIME`).
//! * Arrivals: ln(inter-arrival) is gamma(AARR x ARAR, BARR), drawn again above 13
//!   (`TOO_MUCH_ARRIVE_TIME`), spent through the daily cycle ([`DailyCycle`]).
//!
//! Fitted to a 128-node machine (`UHI_BATCH` = 7). Sizes here are nodes of the
//! machine being generated for: UHi = log2(nodes) and UMed = UHi - 2, the fitted
//! distance (`UMED_BATCH` = 5); ULow stays 1.2 (smallest parallel job 2 nodes). On
//! machines under 10 nodes UMed is raised to ULow (and ULow lowered to UHi below 2.3
//! nodes); sizes above the machine are capped at its node count.
//!
//! Where this differs from the program (none changes a distribution): gamma variates
//! by Marsaglia–Tsang rather than the program's sum of exponentials (the same
//! distribution, fewer draws); run times are rounded to the nearest second rather than
//! truncated, so no job runs 0 s and ln(run time) has no half-second bias; only the
//! batch stream is generated (the program interleaves interactive jobs from a second
//! stream with its own parameters).

use crate::daily_cycle::DailyCycle;
use crate::random::Random;

// Sizes: `SERIAL_PROB_BATCH`, `POW2_PROB_BATCH`, `ULOW_BATCH`, `UMED_BATCH` -
// `UHI_BATCH`, `UPROB_BATCH`.
pub const SERIAL_PROB: f64 = 0.2927;
pub const POW2_PROB: f64 = 0.6686;
pub const U_LOW: f64 = 1.2;
pub const U_MED_BELOW_U_HI: f64 = 2.0;
pub const U_PROB: f64 = 0.875;

// Run times: `A1_BATCH`, `B1_BATCH`, `A2_BATCH`, `B2_BATCH`, `PA_BATCH`, `PB_BATCH`.
pub const A1: f64 = 6.57;
pub const B1: f64 = 0.823;
pub const A2: f64 = 639.1;
pub const B2: f64 = 0.0156;
pub const PA: f64 = -0.003;
pub const PB: f64 = 0.6986;
/// `TOO_MUCH_TIME`: the largest ln(run time).
pub const MAX_LOG_RUNTIME: f64 = 12.0;

// Arrivals: `AARR_BATCH`, `BARR_BATCH`, `ANUM_BATCH`, `BNUM_BATCH`, `ARAR_BATCH`
// (ARAR, "arrive-rush-all ratio", multiplies AARR in the program's `init`).
pub const AARR: f64 = 6.0415;
pub const BARR: f64 = 0.8531;
pub const ANUM: f64 = 6.1271;
pub const BNUM: f64 = 5.2740;
pub const ARAR: f64 = 1.0519;
/// `TOO_MUCH_ARRIVE_TIME`: the largest ln(inter-arrival time).
pub const MAX_LOG_INTERARRIVAL: f64 = 13.0;

/// The size bounds for a machine of `nodes` nodes: (ULow, UMed, UHi) in log2(nodes).
pub fn size_bounds(nodes: u32) -> (f64, f64, f64) {
    let u_hi = libm::log2(f64::from(nodes));
    let u_low = U_LOW.min(u_hi);
    let u_med = (u_hi - U_MED_BELOW_U_HI).max(u_low);
    (u_low, u_med, u_hi)
}

/// p of the hyper-gamma for a job of `nodes` nodes: the probability of the first
/// (shorter) gamma.
pub fn short_runtime_probability(nodes: u32) -> f64 {
    (PA * f64::from(nodes) + PB).clamp(0.0, 1.0)
}

/// The model for one machine.
#[derive(Debug, Clone)]
pub struct LublinModel {
    machine_nodes: u32,
    u_low: f64,
    u_med: f64,
    u_hi: f64,
    cycle: DailyCycle,
}

impl LublinModel {
    pub fn new(machine_nodes: u32) -> LublinModel {
        let (u_low, u_med, u_hi) = size_bounds(machine_nodes);
        LublinModel { machine_nodes, u_low, u_med, u_hi, cycle: DailyCycle::new(ANUM, BNUM) }
    }

    /// Rush-hour seconds until the next arrival (see [`DailyCycle`]).
    pub fn draw_gap(&self, random: &mut Random) -> f64 {
        loop {
            let log_gap = random.gamma(AARR * ARAR, BARR);
            if log_gap <= MAX_LOG_INTERARRIVAL {
                return libm::exp(log_gap);
            }
        }
    }

    /// `calc_number_of_nodes`: one uniform decides serial / power of two / other.
    pub fn draw_nodes(&self, random: &mut Random) -> u32 {
        let kind = random.unit();
        if kind <= SERIAL_PROB {
            return 1;
        }
        let mut log_size = self.two_stage_uniform(random);
        if kind <= SERIAL_PROB + POW2_PROB {
            log_size = libm::floor(log_size + 0.5);
        }
        let size = libm::floor(libm::pow(2.0, log_size) + 0.5);
        // At least 1 (the cast saturates), at most the machine.
        (size as u32).clamp(1, self.machine_nodes)
    }

    fn two_stage_uniform(&self, random: &mut Random) -> f64 {
        if random.unit() <= U_PROB {
            random.uniform(self.u_low, self.u_med)
        } else {
            random.uniform(self.u_med, self.u_hi)
        }
    }

    /// `time_from_nodes`: seconds, at least 1.
    pub fn draw_runtime(&self, random: &mut Random, nodes: u32) -> u64 {
        let short_probability = short_runtime_probability(nodes);
        loop {
            let log_runtime =
                if random.unit() <= short_probability { random.gamma(A1, B1) } else { random.gamma(A2, B2) };
            if log_runtime <= MAX_LOG_RUNTIME {
                return (libm::round(libm::exp(log_runtime)) as u64).max(1);
            }
        }
    }

    /// Seconds after a start at `start_second_of_day` until `rush_seconds` of gaps.
    pub fn seconds_after_start(&self, start_second_of_day: f64, rush_seconds: f64) -> f64 {
        self.cycle.seconds_after_start(start_second_of_day, rush_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bounds_scale_with_the_machine() {
        // The fitted machine gets the fitted values.
        assert_eq!(size_bounds(128), (1.2, 5.0, 7.0));
        assert_eq!(size_bounds(1024), (1.2, 8.0, 10.0));
        // Small machines keep ULow <= UMed <= UHi.
        assert_eq!(size_bounds(4), (1.2, 1.2, 2.0));
        assert_eq!(size_bounds(1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn sizes_stay_on_the_machine() {
        let mut random = Random::seeded(3);
        for nodes in [1, 2, 3, 5, 100, 128] {
            let model = LublinModel::new(nodes);
            for _ in 0..2000 {
                let size = model.draw_nodes(&mut random);
                assert!((1..=nodes).contains(&size), "{size} on {nodes}");
            }
        }
    }

    #[test]
    fn bigger_jobs_are_more_likely_long() {
        assert_eq!(short_runtime_probability(1), 0.6956);
        assert!((short_runtime_probability(128) - 0.3146).abs() < 1e-12);
        assert_eq!(short_runtime_probability(1000), 0.0);
    }
}
