//! `otel_spans.jsonl`: finished spans, batched into OTLP export requests, one per line.
//!
//! A line is written when `batch` spans are waiting (and at the end), so memory stays
//! bounded however long the run, and a reader following the file (the exporter) sees
//! whole requests: each line is serialized in full before it is written and flushed.

use std::io::{self, Write};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use crate::Summary;

pub struct SpanSink<W: Write> {
    out: W,
    resource: Resource,
    scope: InstrumentationScope,
    pending: Vec<Span>,
    batch: usize,
    line: Vec<u8>,
    summary: Summary,
}

impl<W: Write> SpanSink<W> {
    /// Spans go to `out` as coming from `resource` (its attributes, e.g. `service.name`),
    /// recorded by instrumentation `scope`, `batch` to a line.
    pub fn new(out: W, resource: Vec<KeyValue>, scope: &str, batch: usize) -> Self {
        SpanSink {
            out,
            resource: Resource { attributes: resource, ..Resource::default() },
            scope: InstrumentationScope { name: scope.to_string(), ..InstrumentationScope::default() },
            pending: Vec::with_capacity(batch),
            batch: batch.max(1),
            line: Vec::new(),
            summary: Summary::default(),
        }
    }

    pub fn push(&mut self, span: Span) -> io::Result<()> {
        let ms = span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano) as f64 / 1e6;
        self.summary.add(&span.name, ms);
        self.pending.push(span);
        if self.pending.len() >= self.batch { self.flush() } else { Ok(()) }
    }

    /// Writes the waiting spans as one line (nothing when none wait).
    pub fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans: std::mem::take(&mut self.pending),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        self.line.clear();
        serde_json::to_writer(&mut self.line, &request)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SpanIds, end_span, text};

    #[test]
    fn lines_are_otlp_json_requests_of_at_most_batch_spans() {
        let mut sink = SpanSink::new(Vec::new(), vec![text("service.name", "ff")], "ff-emu", 2);
        let mut ids = SpanIds::new(7);
        for i in 0..3u64 {
            let mut s = ids.start("step", None, 1_000 + i, vec![]);
            end_span(&mut s, 2_000_000 + i, []);
            sink.push(s).unwrap();
        }
        sink.flush().unwrap();
        sink.flush().unwrap(); // nothing left: no empty line
        let text = String::from_utf8(sink.out.clone()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        let spans = |l: &serde_json::Value| l["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap().len();
        assert_eq!((spans(&lines[0]), spans(&lines[1])), (2, 1));
        let rs = &lines[0]["resourceSpans"][0];
        assert_eq!(rs["resource"]["attributes"][0]["value"]["stringValue"], "ff");
        assert_eq!(rs["scopeSpans"][0]["scope"]["name"], "ff-emu");
        let span = &rs["scopeSpans"][0]["spans"][0];
        // The OTLP JSON mapping: hex ids, 64-bit integers as strings.
        assert_eq!(span["spanId"], "0000000000000001");
        assert_eq!(span["traceId"].as_str().unwrap().len(), 32);
        assert_eq!((&span["startTimeUnixNano"], &span["endTimeUnixNano"]), (&"1000".into(), &"2000000".into()));
        // And it reads back as the same request.
        let back: ExportTraceServiceRequest = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(back.resource_spans[0].scope_spans[0].spans[1].end_time_unix_nano, 2_000_001);
        let mut csv = Vec::new();
        sink.summary().write_csv(&mut csv).unwrap();
        assert!(String::from_utf8(csv).unwrap().contains("\nstep,3,5.997,1.999,1.999,1.999,1.999\n"));
    }
}
