//! The one source of randomness: a seeded ChaCha8 stream and the few distributions the
//! models draw from (uniform, exponential, normal, gamma).
//!
//! A trace must be the same bytes for the same seed on every machine. ChaCha8's output
//! is specified bit for bit; every step from its words to a sample here is IEEE basic
//! arithmetic (exactly rounded, so portable) or a function of the pure-Rust `libm`.
//! That is why the samplers are written here instead of taken from `rand_distr`: its
//! floating-point code calls std's `ln`/`exp`/`powf`, which use the platform's libm and
//! may differ in the last bit between systems.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The seeded random stream a trace is drawn from.
pub struct Random {
    stream: ChaCha8Rng,
}

impl Random {
    /// The stream for `seed`: the seed's little-endian bytes as the start of the ChaCha
    /// key, the rest zero. Spelt out rather than `seed_from_u64`, whose key expansion
    /// belongs to `rand_core` and is not part of this trace format's promise.
    pub fn seeded(seed: u64) -> Random {
        Random::seeded_stream(seed, 0)
    }

    /// Another stream for the same seed: `stream`'s little-endian bytes as the key's next
    /// eight. Draws for optional parts of a trace come from their own stream, so turning
    /// them on leaves every other draw, and so the rest of the trace, unchanged.
    pub fn seeded_stream(seed: u64, stream: u64) -> Random {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&stream.to_le_bytes());
        Random { stream: ChaCha8Rng::from_seed(key) }
    }

    /// Uniform on [0, 1): the top 53 bits of one output word, so every value is exact.
    pub fn unit(&mut self) -> f64 {
        const TWO_TO_MINUS_53: f64 = 1.0 / (1u64 << 53) as f64;
        (self.stream.next_u64() >> 11) as f64 * TWO_TO_MINUS_53
    }

    /// Uniform on [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform on the integers low..=high, without modulo bias: words from the
    /// incomplete last stretch of the u64 range are drawn again.
    pub fn integer(&mut self, low: u64, high: u64) -> u64 {
        debug_assert!(low <= high);
        let Some(count) = (high - low).checked_add(1) else {
            return self.stream.next_u64(); // the whole u64 range
        };
        let unbiased_end = u64::MAX - u64::MAX % count;
        loop {
            let word = self.stream.next_u64();
            if word < unbiased_end {
                return low + word % count;
            }
        }
    }

    /// Exponential with the given mean, by inversion (1 - u is in (0, 1], so the log
    /// is finite).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.unit())
    }

    /// Standard normal, by Marsaglia's polar method (no trigonometry, so only `log` and
    /// `sqrt` are needed). Of each accepted pair only the first value is used: simpler
    /// than carrying the second over, and the stream stays a pure function of the seed.
    fn standard_normal(&mut self) -> f64 {
        loop {
            let x = self.uniform(-1.0, 1.0);
            let y = self.uniform(-1.0, 1.0);
            let radius_squared = x * x + y * y;
            if radius_squared > 0.0 && radius_squared < 1.0 {
                return x * libm::sqrt(-2.0 * libm::log(radius_squared) / radius_squared);
            }
        }
    }

    /// Gamma with shape `shape` >= 1 and scale `scale` (mean shape x scale), by
    /// Marsaglia and Tsang, "A simple method for generating gamma variables", ACM TOMS
    /// 26(3), 2000. Every gamma of the Lublin model has a shape above 1, so the
    /// shape < 1 boost is not needed.
    pub fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        assert!(shape >= 1.0, "gamma shape {shape} < 1 is not supported");
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / libm::sqrt(9.0 * d);
        loop {
            let x = self.standard_normal();
            let base = 1.0 + c * x;
            if base <= 0.0 {
                continue;
            }
            let v = base * base * base;
            let u = self.unit();
            let x2 = x * x;
            // The squeeze accepts most draws without a logarithm.
            if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
                return d * v * scale;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_fixes_the_stream_and_seeds_differ() {
        let draw = |seed| {
            let mut random = Random::seeded(seed);
            (0..8).map(|_| random.unit().to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn integers_cover_the_range_and_stay_inside_it() {
        let mut random = Random::seeded(1);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            let value = random.integer(3, 7);
            seen[(value - 3) as usize] += 1;
        }
        // Each of the 5 values expects 1000 (sd about 28).
        assert!(seen.iter().all(|&count| (850..1150).contains(&count)), "{seen:?}");
        assert_eq!(random.integer(9, 9), 9);
    }

    /// Sample mean and variance of `n` draws.
    fn moments(n: usize, mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let values: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        (mean, variance)
    }

    #[test]
    fn samplers_have_their_distributions_moments() {
        // Means within 5 standard errors (sd / sqrt(n)). A sample variance's relative
        // standard error is sqrt((kurtosis - 1) / n): at most 1.4 % here (the exponential,
        // kurtosis 9), so variances within 7 %.
        let n = 40_000;
        let mut random = Random::seeded(11);
        let (mean, variance) = moments(n, || random.standard_normal());
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "normal mean {mean}");
        assert!((variance - 1.0).abs() < 0.07, "normal variance {variance}");

        let (mean, variance) = moments(n, || random.exponential(3.0));
        assert!((mean - 3.0).abs() < 5.0 * 3.0 / (n as f64).sqrt(), "exponential mean {mean}");
        assert!((variance / 9.0 - 1.0).abs() < 0.07, "exponential variance {variance}");

        for (shape, scale) in [(1.0, 2.0), (6.57, 0.823), (639.1, 0.0156)] {
            let (mean, variance) = moments(n, || random.gamma(shape, scale));
            let (expected_mean, expected_variance) = (shape * scale, shape * scale * scale);
            let standard_error = (expected_variance / n as f64).sqrt();
            assert!((mean - expected_mean).abs() < 5.0 * standard_error, "gamma({shape}, {scale}) mean {mean}");
            assert!((variance / expected_variance - 1.0).abs() < 0.07, "gamma({shape}, {scale}) variance {variance}");
        }
    }
}
