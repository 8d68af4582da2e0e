//! Checks the moments of 100,000 generated jobs against the models' definitions.
//!
//! Every expected value is derived here from the distributions themselves (closed
//! forms, sums over the size distribution, numeric integration of gamma densities),
//! not copied from a run; each tolerance is 5 standard errors for the sample size, plus
//! a stated bound on any bias that rounding to whole seconds adds. The jobs are those
//! the trace writers print (whole seconds and nodes), taken before formatting.

use std::sync::OnceLock;

use crate::lublin::{self, A1, A2, B1, B2, MAX_LOG_INTERARRIVAL, MAX_LOG_RUNTIME, POW2_PROB, SERIAL_PROB, U_PROB};
use crate::options::tests::plan;
use crate::stats::TraceStats;
use crate::workload::{Job, generate};

const JOBS: usize = 100_000;
const SIGMAS: f64 = 5.0;

fn jobs(args: &[&str]) -> Vec<Job> {
    let jobs =
        generate(&plan(&[&["--stats", "--jobs", "100000", "--seed", "20260101"], args].concat()).unwrap()).unwrap();
    assert_eq!(jobs.len(), JOBS);
    jobs
}

/// The Lublin jobs on the fitted machine size (128 nodes), drawn once for the tests
/// that share them.
fn lublin_jobs() -> &'static [Job] {
    static JOBS_ON_128: OnceLock<Vec<Job>> = OnceLock::new();
    JOBS_ON_128.get_or_init(|| jobs(&["--nodes", "128"]))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    values.sum::<f64>() / JOBS as f64
}

#[track_caller]
fn assert_near(what: &str, actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} differs from the model's {expected} by more than {tolerance}"
    );
}

/// Composite Simpson's rule with `intervals` (even) steps.
fn integrate(f: impl Fn(f64) -> f64, low: f64, high: f64, intervals: usize) -> f64 {
    let step = (high - low) / intervals as f64;
    let inner: f64 = (1..intervals).map(|i| f(low + i as f64 * step) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
    (f(low) + inner + f(high)) * step / 3.0
}

fn gamma_density(x: f64, shape: f64, scale: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    libm::exp((shape - 1.0) * libm::log(x) - x / scale - libm::lgamma(shape) - shape * libm::log(scale))
}

/// E[g(X) | X <= limit] for X ~ gamma(shape, scale).
fn truncated_gamma_mean(shape: f64, scale: f64, limit: f64, g: impl Fn(f64) -> f64) -> f64 {
    const INTERVALS: usize = 40_000;
    let mass = integrate(|x| gamma_density(x, shape, scale), 0.0, limit, INTERVALS);
    integrate(|x| g(x) * gamma_density(x, shape, scale), 0.0, limit, INTERVALS) / mass
}

/// E[ln(round(e^X)) | X <= limit] for X ~ gamma(shape, scale): the mean log of a run
/// time as written, in whole seconds. Exact over the run times up to `EXACT_UP_TO` s,
/// where rounding matters (round(e^X) = k while X is in [ln(k - 0.5), ln(k + 0.5))),
/// and X itself beyond, where |ln(round(y)) - ln(y)| <= 0.5 / y <= ROUNDING_TAIL_ERROR.
fn truncated_mean_log_rounded(shape: f64, scale: f64, limit: f64) -> f64 {
    let density = |x: f64| gamma_density(x, shape, scale);
    let mass = integrate(density, 0.0, limit, 40_000);
    let mut sum = 0.0;
    for k in 1..=EXACT_UP_TO {
        let seconds = k as f64;
        let low = if k == 1 { 0.0 } else { libm::log(seconds - 0.5) };
        sum += libm::log(seconds) * integrate(density, low, libm::log(seconds + 0.5), 32);
    }
    sum += integrate(|x| x * density(x), libm::log(EXACT_UP_TO as f64 + 0.5), limit, 40_000);
    sum / mass
}
const EXACT_UP_TO: usize = 1000;
const ROUNDING_TAIL_ERROR: f64 = 0.5 / EXACT_UP_TO as f64;

#[test]
fn uniform_model_moments_are_the_closed_forms() {
    let (min_nodes, max_nodes, min_runtime, max_runtime, mean_gap) = (2.0, 33.0, 10.0, 5000.0, 300.0);
    let jobs = jobs(&[
        "--model",
        "uniform",
        "--nodes",
        "64",
        "--min-nodes",
        "2",
        "--max-nodes",
        "33",
        "--min-runtime",
        "10",
        "--max-runtime",
        "5000",
        "--mean-interarrival",
        "300",
    ]);
    // A discrete uniform on a..=b: mean (a + b) / 2, variance ((b - a + 1)^2 - 1) / 12.
    let check_uniform = |what: &str, actual: f64, low: f64, high: f64| {
        let variance = ((high - low + 1.0).powi(2) - 1.0) / 12.0;
        assert_near(what, actual, (low + high) / 2.0, SIGMAS * (variance / JOBS as f64).sqrt());
    };
    check_uniform("mean run time", mean(jobs.iter().map(|j| j.runtime as f64)), min_runtime, max_runtime);
    check_uniform("mean size", mean(jobs.iter().map(|j| f64::from(j.nodes))), min_nodes, max_nodes);
    assert!(jobs.iter().all(|j| (2..=33).contains(&j.nodes) && (10..=5000).contains(&j.runtime)));

    // Exponential gaps: the mean of JOBS - 1 of them has standard error mean / sqrt(n);
    // rounding each submit to a second moves the span by at most 1 s.
    let gaps = (JOBS - 1) as f64;
    let mean_interarrival = (jobs[JOBS - 1].submit - jobs[0].submit) as f64 / gaps;
    assert_near("mean inter-arrival", mean_interarrival, mean_gap, SIGMAS * mean_gap / gaps.sqrt() + 1.0 / gaps);
}

/// The size distribution of the Lublin model on a machine of `nodes` nodes, as
/// probabilities indexed by size, from the model's definition: serial with SERIAL_PROB;
/// else log2(size) two-stage uniform, rounded to an integer with POW2_PROB, and
/// size = round(2^log2(size)), at most the machine.
fn lublin_size_distribution(nodes: u32) -> Vec<f64> {
    let (low, medium, high) = lublin::size_bounds(nodes);
    let clamp01 = |x: f64| x.clamp(0.0, 1.0);
    let two_stage_cdf = |x: f64| {
        U_PROB * clamp01((x - low) / (medium - low)) + (1.0 - U_PROB) * clamp01((x - medium) / (high - medium))
    };
    let mut probability = vec![0.0; nodes as usize + 1];
    let mut add = |size: f64, p: f64| probability[(size as usize).clamp(1, nodes as usize)] += p;
    add(1.0, SERIAL_PROB);
    for k in 0..=high.ceil() as i32 {
        let k = f64::from(k);
        add(2f64.powf(k), POW2_PROB * (two_stage_cdf(k + 0.5) - two_stage_cdf(k - 0.5)));
    }
    let other = 1.0 - SERIAL_PROB - POW2_PROB;
    for size in 1..=nodes {
        let size = f64::from(size);
        let upper = if size == f64::from(nodes) { f64::INFINITY } else { (size + 0.5).log2() };
        add(size, other * (two_stage_cdf(upper) - two_stage_cdf((size - 0.5).log2())));
    }
    probability
}

#[test]
fn lublin_sizes_follow_the_model() {
    let nodes = 128;
    let jobs = lublin_jobs();
    let distribution = lublin_size_distribution(nodes);
    assert!((distribution.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(jobs.iter().all(|j| (1..=nodes).contains(&j.nodes)));
    let stats = TraceStats::of(jobs, nodes);

    // Shares are binomial: standard error sqrt(p (1 - p) / n).
    let check_share = |what: &str, actual: f64, expected: f64| {
        assert_near(what, actual, expected, SIGMAS * (expected * (1.0 - expected) / JOBS as f64).sqrt());
    };
    check_share("serial share", stats.serial_fraction, distribution[1]);
    assert!((distribution[1] - SERIAL_PROB).abs() < 1e-12, "only the serial branch makes 1-node jobs here");
    let power_of_two: f64 = (1..=7).map(|k| distribution[1 << k]).sum();
    check_share("power-of-two share", stats.power_of_two_fraction, power_of_two);
    // Rounding 2^u to a whole number hits powers of two too, so the share exceeds POW2_PROB.
    assert!(power_of_two > POW2_PROB && stats.power_of_two_fraction > POW2_PROB);

    let size_mean: f64 = distribution.iter().enumerate().map(|(size, p)| size as f64 * p).sum();
    let size_variance: f64 =
        distribution.iter().enumerate().map(|(size, p)| (size as f64 - size_mean).powi(2) * p).sum();
    assert_near("mean size", stats.size_mean, size_mean, SIGMAS * (size_variance / JOBS as f64).sqrt());
}

#[test]
fn lublin_log_runtimes_follow_the_hyper_gamma() {
    let nodes = 128;
    let jobs = lublin_jobs();
    // ln(run time) is gamma(A1, B1) with probability p(size), else gamma(A2, B2), each
    // drawn again above MAX_LOG_RUNTIME, and the run time e^X is rounded to a second:
    // mix the two truncated gammas' moments over the size distribution.
    let first_mean = truncated_mean_log_rounded(A1, B1, MAX_LOG_RUNTIME);
    let second_mean = truncated_mean_log_rounded(A2, B2, MAX_LOG_RUNTIME);
    // The variance, for the standard error, of X itself (rounding barely changes it).
    let first_square = truncated_gamma_mean(A1, B1, MAX_LOG_RUNTIME, |x| x * x);
    let second_square = truncated_gamma_mean(A2, B2, MAX_LOG_RUNTIME, |x| x * x);
    let (mut log_mean, mut log_square) = (0.0, 0.0);
    for (size, p_size) in lublin_size_distribution(nodes).into_iter().enumerate().skip(1) {
        let p = lublin::short_runtime_probability(size as u32);
        log_mean += p_size * (p * first_mean + (1.0 - p) * second_mean);
        log_square += p_size * (p * first_square + (1.0 - p) * second_square);
    }
    let standard_error = ((log_square - log_mean * log_mean) / JOBS as f64).sqrt();
    let actual = mean(jobs.iter().map(|j| libm::log(j.runtime as f64)));
    assert_near("mean ln(run time)", actual, log_mean, SIGMAS * standard_error + ROUNDING_TAIL_ERROR);
    assert!(jobs.iter().all(|j| (1..=libm::exp(MAX_LOG_RUNTIME).round() as u64).contains(&j.runtime)));
}

#[test]
fn lublin_arrivals_follow_the_gamma_and_the_daily_cycle() {
    let jobs = lublin_jobs();
    // ln(gap) is gamma(AARR x ARAR, BARR), drawn again above MAX_LOG_INTERARRIVAL. The
    // daily cycle spends 48 points a day, one point per 1,800 gap-seconds, so in the long
    // run a gap-second is a second: the mean inter-arrival time is E[e^Y]. The cycle
    // bends the clock by less than a day at either end of the trace, and rounding
    // submits moves each end by 0.5 s.
    let (shape, scale) = (lublin::AARR * lublin::ARAR, lublin::BARR);
    let gap_mean = truncated_gamma_mean(shape, scale, MAX_LOG_INTERARRIVAL, libm::exp);
    let gap_square = truncated_gamma_mean(shape, scale, MAX_LOG_INTERARRIVAL, |y| libm::exp(2.0 * y));
    let gap_variance = gap_square - gap_mean * gap_mean;
    let gaps = (JOBS - 1) as f64;
    let actual = (jobs[JOBS - 1].submit - jobs[0].submit) as f64 / gaps;
    let clock_bend = (2.0 * 86_400.0 + 1.0) / gaps;
    assert_near("mean inter-arrival", actual, gap_mean, SIGMAS * (gap_variance / gaps).sqrt() + clock_bend);

    // Time of day: arrivals fall into each half hour in proportion to its weight, the
    // gamma(ANUM, BNUM) mass of the unit interval around 11, 12, ..., 58 (value i is
    // half hour (i - 1) mod 48 after midnight UTC). The trace starts at midnight.
    let mut weight = [0.0; 48];
    for i in 11..59 {
        let x = i as f64;
        weight[(i - 1) % 48] = integrate(|t| gamma_density(t, lublin::ANUM, lublin::BNUM), x - 0.5, x + 0.5, 2000);
    }
    let total: f64 = weight.iter().sum();
    // Counts of a renewal process vary CV^2 times more than binomial counts.
    let dispersion = gap_variance / (gap_mean * gap_mean);
    let share_in = |hours: std::ops::Range<u64>| {
        let in_hours = |submit: u64| hours.contains(&(submit % 86_400 / 3600));
        let actual = jobs.iter().filter(|j| in_hours(j.submit)).count() as f64 / JOBS as f64;
        let expected = (hours.start * 2..hours.end * 2).map(|b| weight[b as usize]).sum::<f64>() / total;
        (actual, expected)
    };
    for hours in [0..5, 5..10, 10..16, 16..24] {
        let (actual, expected) = share_in(hours.clone());
        let tolerance = SIGMAS * (dispersion * expected * (1.0 - expected) / JOBS as f64).sqrt();
        assert_near(&format!("share of arrivals in hours {hours:?}"), actual, expected, tolerance);
    }
}

#[test]
fn load_is_met_for_both_models() {
    for (model, target) in [(["--nodes", "128"], "0.7"), (["--model", "uniform"], "1.3")] {
        let jobs = jobs(&[&model[..], &["--load", target]].concat());
        let load = TraceStats::of(&jobs, 128).offered_load.unwrap();
        let target: f64 = target.parse().unwrap();
        assert!((load / target - 1.0).abs() < 0.01, "{model:?}: load {load}, target {target}");
    }
}
