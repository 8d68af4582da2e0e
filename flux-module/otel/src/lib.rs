//! Spans of a replay as plain data, for profiling with OpenTelemetry.
//!
//! The broker module records spans with [`SpanIds`] and hands each finished one to a
//! [`SpanSink`], which writes them in batches to `otel_spans.jsonl`, one OTLP
//! `ExportTraceServiceRequest` per line in the OTLP JSON encoding (what an OTLP/HTTP
//! collector accepts with `Content-Type: application/json`), and keeps the durations for
//! `otel_summary.csv` ([`Summary`]). Nothing here does I/O other than writing to the
//! `Write` it is given: exporting to a collector is the separate
//! `flux-fiction-otel-export` process, so no network code runs in the broker.
//!
//! The wire types are those of `opentelemetry-proto` (generated from the OTLP protobufs),
//! whose serde support gives the OTLP JSON mapping.

mod sink;
mod span;
mod summary;

pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use opentelemetry_proto::tonic::common::v1::KeyValue;
pub use opentelemetry_proto::tonic::trace::v1::Span;
pub use opentelemetry_proto::tonic::trace::v1::span::Link;
pub use sink::SpanSink;
pub use span::{SpanIds, end_span, flag, float, int, link_to, set_error, text};
pub use summary::Summary;
