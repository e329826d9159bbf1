//! OTLP/HTTP protobuf bodies to the [`Export`] view.

use super::decoded::{Attr, Attrs, Event, Export, ResourceSpans, Scope, ScopeSpans, Span};
use super::proto;
use prost::Message;
use spindle_core::Error;

/// Decodes an `ExportTraceServiceRequest`. Errors name the offending field.
pub fn decode(body: &[u8]) -> Result<Export, Error> {
    let request = proto::ExportTraceServiceRequest::decode(body)
        .map_err(|error| Error::invalid("body", format!("invalid OTLP protobuf: {error}")))?;
    let mut export = Export::default();
    for (resource_index, resource_spans) in request.resource_spans.into_iter().enumerate() {
        let resource = attrs(
            resource_spans
                .resource
                .map(|resource| resource.attributes)
                .unwrap_or_default(),
        );
        let mut scope_spans_out = Vec::with_capacity(resource_spans.scope_spans.len());
        for (scope_index, scope_spans) in resource_spans.scope_spans.into_iter().enumerate() {
            let scope = scope_spans
                .scope
                .map(|scope| Scope {
                    name: scope.name,
                    version: scope.version,
                    attributes: attrs(scope.attributes),
                })
                .unwrap_or_default();
            let mut spans = Vec::with_capacity(scope_spans.spans.len());
            for (span_index, span) in scope_spans.spans.into_iter().enumerate() {
                let path = format!(
                    "resourceSpans[{resource_index}].scopeSpans[{scope_index}].spans[{span_index}]"
                );
                spans.push(convert_span(span, &path)?);
            }
            scope_spans_out.push(ScopeSpans { scope, spans });
        }
        export.resource_spans.push(ResourceSpans {
            resource,
            scope_spans: scope_spans_out,
        });
    }
    Ok(export)
}

fn convert_span(span: proto::Span, path: &str) -> Result<Span, Error> {
    let trace_id = id_hex(&span.trace_id, 16).ok_or_else(|| {
        Error::invalid(
            format!("{path}.traceId"),
            format!("expected 16 bytes, got {}", span.trace_id.len()),
        )
    })?;
    let span_id = id_hex(&span.span_id, 8).ok_or_else(|| {
        Error::invalid(
            format!("{path}.spanId"),
            format!("expected 8 bytes, got {}", span.span_id.len()),
        )
    })?;
    let parent_span_id =
        if span.parent_span_id.is_empty() || span.parent_span_id.iter().all(|b| *b == 0) {
            None
        } else {
            Some(id_hex(&span.parent_span_id, 8).ok_or_else(|| {
                Error::invalid(
                    format!("{path}.parentSpanId"),
                    format!("expected 8 bytes, got {}", span.parent_span_id.len()),
                )
            })?)
        };
    let (status_code, status_message) = span
        .status
        .map(|status| (status.code, status.message))
        .unwrap_or_default();
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name: span.name,
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        attributes: attrs(span.attributes),
        events: span
            .events
            .into_iter()
            .map(|event| Event {
                name: event.name,
                time_unix_nano: event.time_unix_nano,
                attributes: attrs(event.attributes),
            })
            .collect(),
        status_code,
        status_message,
    })
}

fn id_hex(bytes: &[u8], expected_len: usize) -> Option<String> {
    if bytes.len() != expected_len || bytes.iter().all(|b| *b == 0) {
        return None;
    }
    Some(hex::encode(bytes))
}

fn attrs(key_values: Vec<proto::KeyValue>) -> Attrs {
    Attrs(
        key_values
            .into_iter()
            .filter_map(|kv| Some((kv.key, value(kv.value?)?)))
            .collect(),
    )
}

fn value(any: proto::AnyValue) -> Option<Attr> {
    use proto::any_value::Value;
    Some(match any.value? {
        Value::StringValue(text) => Attr::Str(text),
        Value::BoolValue(flag) => Attr::Bool(flag),
        Value::IntValue(number) => Attr::Int(number),
        Value::DoubleValue(number) => Attr::Double(number),
        Value::ArrayValue(array) => {
            Attr::Array(array.values.into_iter().filter_map(value).collect())
        }
        Value::KvlistValue(list) => Attr::Map(
            list.values
                .into_iter()
                .filter_map(|kv| Some((kv.key, value(kv.value?)?)))
                .collect(),
        ),
        Value::BytesValue(bytes) => Attr::Bytes(bytes),
    })
}
