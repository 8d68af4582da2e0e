//! The gamma distribution's cumulative distribution function, which the Lublin model's
//! daily cycle is defined by (the share of arrivals in each half hour is a difference
//! of two values of it).
//!
//! The regularized lower incomplete gamma function P(a, x), split as the reference
//! program `m_lublin99.c` splits it (its `gamcdf`, after Numerical Recipes §6.2): the
//! power series below x = a + 1, the continued fraction (here evaluated by the modified
//! Lentz method) above. With `libm`'s `lgamma`, `exp` and `log`, so the weights are the
//! same bits on every machine.

/// Iteration cap and relative accuracy, as `ITER_MAX` and `EPS` of the reference program.
const MAX_ITERATIONS: usize = 1000;
const EPSILON: f64 = 1e-10;

/// P(X <= x) for X ~ gamma(shape, scale) (mean shape x scale).
pub fn gamma_cdf(x: f64, shape: f64, scale: f64) -> f64 {
    let x = x / scale;
    if x <= 0.0 {
        0.0
    } else if x < shape + 1.0 {
        lower_series(x, shape)
    } else {
        1.0 - upper_continued_fraction(x, shape)
    }
}

/// x^a e^-x / Gamma(a): the factor both expansions share.
fn prefactor(x: f64, a: f64) -> f64 {
    libm::exp(-x + a * libm::log(x) - libm::lgamma(a))
}

/// P(a, x) = prefactor x sum_n x^n / (a (a+1) ... (a+n)); converges fast for x < a + 1.
fn lower_series(x: f64, a: f64) -> f64 {
    let mut term = 1.0 / a;
    let mut sum = term;
    let mut denominator = a;
    for _ in 0..MAX_ITERATIONS {
        denominator += 1.0;
        term *= x / denominator;
        sum += term;
        if term < sum * EPSILON {
            break;
        }
    }
    sum * prefactor(x, a)
}

/// Q(a, x) = 1 - P(a, x) by its continued fraction (modified Lentz), for x >= a + 1.
fn upper_continued_fraction(x: f64, a: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut fraction = d;
    for i in 1..=MAX_ITERATIONS {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        fraction *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    fraction * prefactor(x, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    #[test]
    fn matches_closed_forms() {
        for x in [0.01, 0.5, 1.0, 2.0, 7.5, 30.0] {
            // Shape 1 is the exponential; shape 3 is Erlang; shape 1/2 is erf(sqrt(x)).
            close(gamma_cdf(x, 1.0, 1.0), 1.0 - libm::exp(-x));
            close(gamma_cdf(x, 3.0, 1.0), 1.0 - libm::exp(-x) * (1.0 + x + x * x / 2.0));
            close(gamma_cdf(x, 0.5, 1.0), libm::erf(libm::sqrt(x)));
            // The scale stretches the axis.
            close(gamma_cdf(2.0 * x, 3.0, 2.0), gamma_cdf(x, 3.0, 1.0));
        }
        assert_eq!(gamma_cdf(0.0, 6.1271, 5.274), 0.0);
        assert_eq!(gamma_cdf(-1.0, 6.1271, 5.274), 0.0);
    }
}
