//! Offered load: the one definition that `--load` aims at and `--stats` reports.
//!
//! offered load = sum over jobs of (nodes x run time) / (machine nodes x span), where
//! span = last submit - first submit, in seconds: the share of the machine the jobs
//! would keep busy if each ran as it arrived, over the time they arrive in. (The
//! comment of `m_lublin99.c` divides by the last arrival since time 0; counting from
//! the first submission makes the value independent of where time 0 is.)
//!
//! `--load` changes only when jobs arrive: every model's inter-arrival draws are
//! multiplied by one factor, found here, before they are turned into times, so sizes
//! and run times, and the daily cycle's shape, stay those of the model.

/// The offered load of jobs worth `node_seconds` submitted over `span` seconds.
pub fn offered_load(node_seconds: f64, machine_nodes: u32, span: f64) -> f64 {
    node_seconds / (f64::from(machine_nodes) * span)
}

/// How many halvings or doublings the search for a bracket may take: far more than any
/// load that fits a trace needs, and a bound for the degenerate case of a span that
/// never changes.
const MAX_BRACKET_STEPS: usize = 2000;
/// Bisection steps: the bracket shrinks to f64 resolution well before this.
const BISECTION_STEPS: usize = 200;

/// The factor for the inter-arrival draws that makes the offered load `target`, given
/// `span_at(factor)`: the span of the trace with its draws multiplied by `factor`
/// (continuous, 0 at 0 and growing with it, though not necessarily in proportion: the
/// daily cycle bends it). `None` when no factor gives that span.
pub fn factor_for_load(
    target: f64,
    node_seconds: f64,
    machine_nodes: u32,
    span_at: impl Fn(f64) -> f64,
) -> Option<f64> {
    let wanted_span = node_seconds / (f64::from(machine_nodes) * target);
    // Bracket: span_at(low) <= wanted_span <= span_at(high).
    let (mut low, mut high) = (1.0, 1.0);
    let mut steps = 0;
    while span_at(high) < wanted_span {
        (low, high) = (high, high * 2.0);
        steps += 1;
        if steps > MAX_BRACKET_STEPS || !high.is_finite() {
            return None;
        }
    }
    while span_at(low) > wanted_span {
        (low, high) = (low / 2.0, low);
        steps += 1;
        if steps > MAX_BRACKET_STEPS {
            return None;
        }
    }
    for _ in 0..BISECTION_STEPS {
        let middle = low + (high - low) / 2.0;
        if middle <= low || middle >= high {
            break;
        }
        if span_at(middle) < wanted_span {
            low = middle;
        } else {
            high = middle;
        }
    }
    // Of the two ends, the one whose span is closer.
    let miss = |factor: f64| (span_at(factor) - wanted_span).abs();
    Some(if miss(low) <= miss(high) { low } else { high })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_spans_give_the_exact_factor() {
        // 100 jobs x 4 nodes x 1000 s on 10 nodes at load 0.5: a span of 80,000 s.
        let factor = factor_for_load(0.5, 400_000.0, 10, |f| f * 20_000.0).unwrap();
        assert!((factor - 4.0).abs() < 1e-12, "{factor}");
        assert!((offered_load(400_000.0, 10, factor * 20_000.0) - 0.5).abs() < 1e-12);
        let factor = factor_for_load(50.0, 400_000.0, 10, |f| f * 20_000.0).unwrap();
        assert!((factor - 0.04).abs() < 1e-12, "{factor}");
    }

    #[test]
    fn bent_spans_are_solved_too_and_flat_ones_refused() {
        let bent = |f: f64| f * 1000.0 + 500.0 * libm::sin(f);
        let factor = factor_for_load(1.0, 1e6, 100, bent).unwrap();
        assert!((bent(factor) - 10_000.0).abs() < 1e-6, "{factor}");
        assert_eq!(factor_for_load(1.0, 1e6, 100, |_| 0.0), None);
    }
}
