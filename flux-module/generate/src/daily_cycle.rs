//! The daily cycle of the Lublin–Feitelson arrival process: more jobs arrive at midday
//! than at night.
//!
//! As the reference program `m_lublin99.c` does it (`arrive_init`, `calc_next_arrive`):
//! the day has 48 half-hour buckets, and bucket weights are the probabilities a
//! gamma(`anum`, `bnum`) distribution gives to unit intervals around 11, 12, ..., 58
//! (the day rotated by `CYCLIC_DAY_START` = 11 buckets: value i belongs to bucket
//! (i - 1) mod 48, bucket 0 being 00:00–00:30), normalised to mean 1. Inter-arrival
//! draws are in "rush-hour seconds"; 1,800 of them make one point, and spending a
//! bucket's weight in points moves the clock through its 1,800 seconds. So time runs
//! fast through light night buckets and slowly through busy ones, and a whole day
//! costs 48 points, i.e. one rush-hour second is one second on average.
//!
//! Unlike the program, which advances a bucket index with a running remainder, the
//! clock here is a function of the total points spent since the start: the same
//! piecewise-linear map, but one that a load factor can rescale afterwards (see
//! `offered_load`), and without the program's truncation of each arrival to a whole
//! second (submit times are rounded once, at the end).

use crate::gamma_cdf::gamma_cdf;

pub const BUCKETS: usize = 48;
pub const SECONDS_PER_BUCKET: f64 = 1800.0;
const SECONDS_PER_DAY: f64 = 86_400.0;
/// `CYCLIC_DAY_START` of the reference program.
const CYCLIC_DAY_START: usize = 11;

/// The bucket weights of one day and where each bucket starts in points.
#[derive(Debug, Clone)]
pub struct DailyCycle {
    /// Points each half hour costs, bucket 0 = 00:00–00:30; mean 1.
    weights: [f64; BUCKETS],
    /// Points spent from midnight to the start of each bucket; the last entry is a day.
    starts: [f64; BUCKETS + 1],
}

impl DailyCycle {
    /// The cycle whose arrival shares follow gamma(`shape`, `scale`) over the rotated
    /// day (`anum`, `bnum` of the reference program).
    pub fn new(shape: f64, scale: f64) -> DailyCycle {
        let mut weights = [0.0; BUCKETS];
        for i in CYCLIC_DAY_START..BUCKETS + CYCLIC_DAY_START {
            let x = i as f64;
            weights[(i - 1) % BUCKETS] = gamma_cdf(x + 0.5, shape, scale) - gamma_cdf(x - 0.5, shape, scale);
        }
        let mean = weights.iter().sum::<f64>() / BUCKETS as f64;
        for weight in &mut weights {
            *weight /= mean;
        }
        let mut starts = [0.0; BUCKETS + 1];
        for bucket in 0..BUCKETS {
            starts[bucket + 1] = starts[bucket] + weights[bucket];
        }
        DailyCycle { weights, starts }
    }

    #[cfg(test)]
    fn weights(&self) -> &[f64; BUCKETS] {
        &self.weights
    }

    /// Points spent from midnight to `second_of_day` (0..86400).
    fn points_since_midnight(&self, second_of_day: f64) -> f64 {
        let bucket = ((second_of_day / SECONDS_PER_BUCKET) as usize).min(BUCKETS - 1);
        let into_bucket = (second_of_day - bucket as f64 * SECONDS_PER_BUCKET) / SECONDS_PER_BUCKET;
        self.starts[bucket] + into_bucket * self.weights[bucket]
    }

    /// Seconds from midnight until `points` (>= 0) have been spent.
    fn seconds_since_midnight(&self, points: f64) -> f64 {
        let points_per_day = self.starts[BUCKETS];
        let days = libm::floor(points / points_per_day);
        let rest = points - days * points_per_day;
        // The last bucket whose start is not after `rest` (rounding may leave `rest` a
        // hair past the day's total: then it is the end of the last bucket).
        let bucket = self.starts[1..BUCKETS].partition_point(|&start| start <= rest);
        let into_bucket = (rest - self.starts[bucket]) / self.weights[bucket];
        days * SECONDS_PER_DAY + (bucket as f64 + into_bucket) * SECONDS_PER_BUCKET
    }

    /// Seconds after a start at `start_second_of_day` (UTC) until `rush_seconds` of
    /// inter-arrival time have been spent. Continuous and increasing in `rush_seconds`.
    pub fn seconds_after_start(&self, start_second_of_day: f64, rush_seconds: f64) -> f64 {
        let start_points = self.points_since_midnight(start_second_of_day);
        self.seconds_since_midnight(start_points + rush_seconds / SECONDS_PER_BUCKET) - start_second_of_day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ANUM_BATCH`, `BNUM_BATCH` of the reference program.
    fn batch_cycle() -> DailyCycle {
        DailyCycle::new(6.1271, 5.2740)
    }

    #[test]
    fn weights_follow_the_rotated_gamma_and_average_one() {
        let cycle = batch_cycle();
        let weights = cycle.weights();
        assert!((weights.iter().sum::<f64>() - BUCKETS as f64).abs() < 1e-9);
        // The gamma's mode, (6.1271 - 1) x 5.274 = 27.04, is value 27: bucket 26, 13:00.
        let busiest = (0..BUCKETS).max_by(|&a, &b| weights[a].total_cmp(&weights[b])).unwrap();
        assert_eq!(busiest, 26);
        // Value 11 (the rotated day's first) is bucket 10, 05:00; value 58, the last and
        // smallest, is bucket 9, 04:30: the quietest half hour.
        let share = |value: f64| gamma_cdf(value + 0.5, 6.1271, 5.274) - gamma_cdf(value - 0.5, 6.1271, 5.274);
        assert!((weights[10] / weights[9] - share(11.0) / share(58.0)).abs() < 1e-12);
        let quietest = (0..BUCKETS).min_by(|&a, &b| weights[a].total_cmp(&weights[b])).unwrap();
        assert_eq!(quietest, 9);
        assert!(weights[26] / weights[9] > 7.0, "{weights:?}");
    }

    #[test]
    fn time_is_slow_in_busy_hours_and_a_day_is_48_points() {
        let cycle = batch_cycle();
        let day = 48.0 * SECONDS_PER_BUCKET;
        for start in [0.0, 1234.5, 45_000.0, 86_399.0] {
            let one_day = cycle.seconds_after_start(start, day);
            assert!((one_day - SECONDS_PER_DAY).abs() < 1e-6, "{start}: {one_day}");
            assert!((cycle.seconds_after_start(start, 3.0 * day) - 3.0 * SECONDS_PER_DAY).abs() < 1e-6);
            assert!(cycle.seconds_after_start(start, 0.0).abs() < 1e-6);
        }
        // Spending the 13:00 bucket's weight in points takes exactly that half hour.
        let weights = cycle.weights();
        let at_13 = 26.0 * SECONDS_PER_BUCKET;
        let spent = cycle.seconds_after_start(at_13, weights[26] * SECONDS_PER_BUCKET);
        assert!((spent - SECONDS_PER_BUCKET).abs() < 1e-6, "{spent}");
        // Half of that weight takes half of it: linear inside a bucket.
        let half = cycle.seconds_after_start(at_13, weights[26] * SECONDS_PER_BUCKET / 2.0);
        assert!((half - SECONDS_PER_BUCKET / 2.0).abs() < 1e-6, "{half}");
    }

    #[test]
    fn the_clock_never_goes_back() {
        let cycle = batch_cycle();
        let mut previous = 0.0;
        for step in 1..20_000 {
            let now = cycle.seconds_after_start(3600.0, step as f64 * 17.0);
            assert!(now >= previous, "step {step}: {now} < {previous}");
            previous = now;
        }
    }
}
