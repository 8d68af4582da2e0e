//! `otel_summary.csv`: per span name, how many and how long (wall milliseconds).
//!
//! Every duration is kept (8 bytes a span, against the hundreds the span itself takes in
//! `otel_spans.jsonl`) so that the percentiles are exact.

use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Debug, Default)]
pub struct Summary {
    durations_ms: BTreeMap<String, Vec<f64>>,
}

impl Summary {
    pub fn add(&mut self, name: &str, ms: f64) {
        match self.durations_ms.get_mut(name) {
            Some(v) => v.push(ms),
            None => {
                self.durations_ms.insert(name.to_string(), vec![ms]);
            }
        }
    }

    /// One row per span name, in name order: count, total, mean, p50, p95, max (ms).
    pub fn write_csv(&self, mut out: impl Write) -> io::Result<()> {
        writeln!(out, "span,count,total_ms,mean_ms,p50_ms,p95_ms,max_ms")?;
        for (name, v) in &self.durations_ms {
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let total: f64 = sorted.iter().sum();
            let n = sorted.len();
            writeln!(
                out,
                "{name},{n},{total:.3},{:.3},{:.3},{:.3},{:.3}",
                total / n as f64,
                nearest_rank(&sorted, 0.50),
                nearest_rank(&sorted, 0.95),
                sorted[n - 1]
            )?;
        }
        out.flush()
    }
}

/// The nearest-rank percentile of a sorted, non-empty slice.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_give_count_total_mean_and_nearest_rank_percentiles() {
        let mut s = Summary::default();
        for ms in (1..=20).rev() {
            s.add("step", ms as f64);
        }
        s.add("job", 2.5);
        let mut out = Vec::new();
        s.write_csv(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "span,count,total_ms,mean_ms,p50_ms,p95_ms,max_ms\n\
             job,1,2.500,2.500,2.500,2.500,2.500\n\
             step,20,210.000,10.500,10.000,19.000,20.000\n"
        );
    }
}
