//! Building spans: ids, attributes, links.
//!
//! Ids come from a counter, not a random source: a run is one trace (its id a hash of a
//! seed the caller makes unique, such as the run directory and its start time), and span
//! ids only need to be unique within it.

use std::hash::{DefaultHasher, Hash, Hasher};

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::span::{Link, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, status::StatusCode};

/// The ids of one trace: its trace id and a counter of span ids.
pub struct SpanIds {
    trace_id: Vec<u8>,
    last: u64,
}

impl SpanIds {
    pub fn new(seed: impl Hash) -> Self {
        let half = |salt: u8| {
            let mut h = DefaultHasher::new();
            (salt, &seed).hash(&mut h);
            h.finish().to_be_bytes()
        };
        SpanIds { trace_id: [half(1), half(2)].concat(), last: 0 }
    }

    /// A new span of this trace beginning at `start_ns` (Unix nanoseconds), under `parent`.
    pub fn start(&mut self, name: &str, parent: Option<&Span>, start_ns: u64, attributes: Vec<KeyValue>) -> Span {
        self.last += 1;
        Span {
            trace_id: self.trace_id.clone(),
            span_id: self.last.to_be_bytes().to_vec(),
            parent_span_id: parent.map(|p| p.span_id.clone()).unwrap_or_default(),
            name: name.to_string(),
            kind: SpanKind::Internal as i32,
            start_time_unix_nano: start_ns,
            end_time_unix_nano: start_ns,
            attributes,
            ..Span::default()
        }
    }
}

/// Ends `span` at `end_ns` (never before it began) with more attributes.
pub fn end_span(span: &mut Span, end_ns: u64, attributes: impl IntoIterator<Item = KeyValue>) {
    span.end_time_unix_nano = end_ns.max(span.start_time_unix_nano);
    span.attributes.extend(attributes);
}

/// Marks `span` as failed, with why.
pub fn set_error(span: &mut Span, message: &str) {
    span.status = Some(Status { message: message.to_string(), code: StatusCode::Error as i32 });
}

/// A link from a span to `to`; `role` says what the linked span was to it.
pub fn link_to(to: &Span, role: &str) -> Link {
    Link {
        trace_id: to.trace_id.clone(),
        span_id: to.span_id.clone(),
        attributes: vec![text("ff.link", role)],
        ..Link::default()
    }
}

fn attribute(key: &str, value: Value) -> KeyValue {
    KeyValue { key: key.to_string(), value: Some(AnyValue { value: Some(value) }) }
}

pub fn text(key: &str, value: impl Into<String>) -> KeyValue {
    attribute(key, Value::StringValue(value.into()))
}

pub fn int(key: &str, value: impl TryInto<i64>) -> KeyValue {
    attribute(key, Value::IntValue(value.try_into().unwrap_or(i64::MAX)))
}

pub fn float(key: &str, value: f64) -> KeyValue {
    attribute(key, Value::DoubleValue(value))
}

pub fn flag(key: &str, value: bool) -> KeyValue {
    attribute(key, Value::BoolValue(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_one_trace_have_distinct_ids_and_their_parents() {
        let mut ids = SpanIds::new(("/runs/a", 1));
        let root = ids.start("run", None, 10, vec![]);
        let child = ids.start("step", Some(&root), 20, vec![int("ff.step", 1u64)]);
        assert_eq!(root.trace_id.len(), 16);
        assert_eq!(root.span_id.len(), 8);
        assert_eq!(child.trace_id, root.trace_id);
        assert_ne!(child.span_id, root.span_id);
        assert_eq!(child.parent_span_id, root.span_id);
        assert!(root.parent_span_id.is_empty());
        assert_ne!(SpanIds::new(("/runs/b", 1)).trace_id, root.trace_id);
    }

    #[test]
    fn a_span_never_ends_before_it_began() {
        let mut s = SpanIds::new(0).start("x", None, 100, vec![]);
        end_span(&mut s, 50, [flag("late", true)]);
        assert_eq!((s.start_time_unix_nano, s.end_time_unix_nano, s.attributes.len()), (100, 100, 1));
    }
}
