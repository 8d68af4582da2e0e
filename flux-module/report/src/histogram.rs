//! Fixed-bucket histograms of per-job quantities for `report.html`, and their bar charts as inline
//! SVG. A bucket is a count, never a list of jobs: the page is the same size for ten jobs or ten
//! million, and one `<rect>` is drawn per bucket.

use std::fmt::Write as _;

use crate::report_text::escape;

/// Inclusive upper bounds and their labels; a value above every bound goes to the last bucket.
pub(crate) type Buckets = &'static [(f64, &'static str)];

/// Wait (submission to start), seconds.
pub(crate) const WAIT_BUCKETS: Buckets = &[
    (0.0, "0 s"),
    (60.0, "≤ 1 min"),
    (600.0, "≤ 10 min"),
    (3600.0, "≤ 1 h"),
    (6.0 * 3600.0, "≤ 6 h"),
    (86400.0, "≤ 1 d"),
    (7.0 * 86400.0, "≤ 1 wk"),
    (f64::INFINITY, "> 1 wk"),
];

/// Bounded slowdown (at least 1 by definition).
pub(crate) const SLOWDOWN_BUCKETS: Buckets = &[
    (1.0, "1"),
    (2.0, "≤ 2"),
    (5.0, "≤ 5"),
    (10.0, "≤ 10"),
    (100.0, "≤ 100"),
    (1000.0, "≤ 1000"),
    (f64::INFINITY, "> 1000"),
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    buckets: Buckets,
    counts: Vec<u64>,
}

impl Histogram {
    pub fn new(buckets: Buckets) -> Self {
        Histogram { buckets, counts: vec![0; buckets.len()] }
    }

    pub fn add(&mut self, value: f64) {
        let last = self.buckets.len() - 1;
        let bucket = self.buckets.iter().position(|(bound, _)| value <= *bound).unwrap_or(last);
        self.counts[bucket] += 1;
    }

    #[cfg(test)]
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// A bar chart, one bar per bucket with its count above it; `x_label` names the quantity.
    pub fn bar_chart_svg(&self, x_label: &str) -> String {
        let (width, height, left, bottom, top) = (550.0, 280.0, 50.0, 40.0, 20.0);
        let most = self.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
        let slot = (width - left - 10.0) / self.counts.len() as f64;
        let plot_h = height - bottom - top;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
             xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#000\"/>",
            y = height - bottom,
            x2 = width - 10.0
        );
        let mid_y = top + plot_h / 2.0;
        let _ = writeln!(
            svg,
            "<text x=\"14\" y=\"{mid_y}\" transform=\"rotate(-90 14 {mid_y})\" text-anchor=\"middle\">jobs</text>"
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            left + (width - left) / 2.0,
            height - 4.0,
            escape(x_label)
        );
        for (i, (&n, (_, label))) in self.counts.iter().zip(self.buckets).enumerate() {
            let bar_h = plot_h * n as f64 / most;
            let x = left + i as f64 * slot + slot * 0.15;
            let y = height - bottom - bar_h;
            let mid = x + slot * 0.35;
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bar_h:.1}\" fill=\"#4a7ab5\"/>\
                 <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>\
                 <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                slot * 0.7,
                y - 4.0,
                height - bottom + 16.0,
                escape(label)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_the_first_bucket_that_holds_them() {
        let mut waits = Histogram::new(WAIT_BUCKETS);
        for wait in [0.0, 0.5, 60.0, 60.5, 1e9] {
            waits.add(wait);
        }
        assert_eq!(waits.counts(), [1, 2, 1, 0, 0, 0, 0, 1]);
        let mut slowdowns = Histogram::new(SLOWDOWN_BUCKETS);
        [1.0, 1.5, 10.5, 5000.0].into_iter().for_each(|s| slowdowns.add(s));
        assert_eq!(slowdowns.counts(), [1, 1, 0, 0, 1, 0, 1]);
    }

    #[test]
    fn the_chart_has_one_bar_per_bucket_whatever_the_count() {
        let mut waits = Histogram::new(WAIT_BUCKETS);
        (0..100_000).for_each(|i| waits.add(f64::from(i)));
        let svg = waits.bar_chart_svg("wait <s>");
        assert_eq!(svg.matches("<rect").count(), WAIT_BUCKETS.len());
        assert!(svg.contains(">wait &lt;s&gt;</text>") && svg.contains(">≤ 1 wk</text>"));
        assert!(svg.contains(">64800</text>"), "21601 s to 86400 s: {svg}");
    }
}
