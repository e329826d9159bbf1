#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the captured SDK requests.

Reads crates/spindle-ingest/tests/fixtures/*.jsonl (one captured request per line) and writes
fuzz/corpus/<target>/seed-*:

* ingestion_json: the JSON bodies sent to /api/public/ingestion, as they were sent;
* score_json:     the JSON bodies sent to /api/public/scores, plus each score-create body;
* model_json:     a few hand-made /api/public/models bodies (flat prices, prices, tiers);
* prompt_json:    a few hand-made /api/public/v2/prompts bodies (text, chat with a
                  placeholder, a reference) and label updates;
* score_config_json: a few hand-made /api/public/score-configs bodies (numeric with a range,
                  categorical, boolean) and patches;
* admin_media_json: a few hand-made bodies of the administration API (projects, memberships,
                  keys), of /api/public/media (a trace's and a dataset item's media, an upload
                  report) and of a bulk trace deletion;
* otlp_json:      the JSON bodies sent to /api/public/otel/v1/traces, plus every captured
                  protobuf export re-encoded as OTLP/JSON;
* otlp_protobuf:  every captured protobuf export (stored decoded in the fixtures) encoded
                  back to protobuf by the small encoder below;
* usage_json:     every usageDetails object of the ingestion bodies, and the usage_details
                  attributes of the OTLP exports;
* gunzip:         gzip of a few of the bodies above, one of them split into two gzip members.

It also writes fuzz/dicts/<target>.dict, libFuzzer dictionaries of the string literals of the
parsers' sources (attribute keys such as `langfuse.observation.usage_details` or
`ai.response.msToFirstChunk`, event types, field names), so mutations reach the code behind
each key quickly. run.sh passes them with -dict=.

Usage: python3 fuzz/seed.py   (from anywhere; needs only the standard library)
"""

import glob
import gzip
import hashlib
import json
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "crates", "spindle-ingest", "tests", "fixtures")
CORPUS = os.path.join(HERE, "corpus")
DICTS = os.path.join(HERE, "dicts")
INGEST_SRC = os.path.join(HERE, "..", "crates", "spindle-ingest", "src")
CORE_SRC = os.path.join(HERE, "..", "crates", "spindle-core", "src")
# The attribute keys the OTLP mapper reads are spelled in spindle-semconv.
SEMCONV = os.path.join("..", "..", "spindle-semconv", "src", "lib.rs")

# Which sources' literals go into which target's dictionary (relative to INGEST_SRC).
DICT_SOURCES = {
    "otlp_protobuf": ["otlp/*.rs", "usage.rs", "fields.rs", SEMCONV],
    "otlp_json": ["otlp/*.rs", "usage.rs", "fields.rs", SEMCONV],
    "ingestion_json": ["batch.rs", "score.rs", "usage.rs", "fields.rs"],
    "score_json": ["score.rs", "fields.rs"],
    "model_json": ["model.rs"],
    "prompt_json": ["prompt.rs"],
    "score_config_json": ["score_config.rs", "fields.rs"],
    "usage_json": ["usage.rs"],
    "admin_media_json": ["admin.rs", "media.rs"],
}

SPAN_KINDS = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}


# --- a minimal protobuf writer, enough for ExportTraceServiceRequest -------------------------

def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field, wire_type):
    return varint((field << 3) | wire_type)


def f_varint(field, value):
    return key(field, 0) + varint(value) if value else b""


def f_bytes(field, data):
    return key(field, 2) + varint(len(data)) + data if data else b""


def f_message(field, data):
    # Sub-messages are written even when empty: presence matters for optional ones.
    return key(field, 2) + varint(len(data)) + data


def f_string(field, text):
    return f_bytes(field, text.encode("utf-8"))


def f_fixed64(field, value):
    return key(field, 1) + struct.pack("<Q", value) if value else b""


def f_fixed32(field, value):
    return key(field, 5) + struct.pack("<I", value) if value else b""


def f_double(field, value):
    return key(field, 1) + struct.pack("<d", value)


def any_value(value):
    (kind, inner), = value.items()
    if kind == "string":
        return key(1, 2) + varint(len(inner.encode())) + inner.encode()
    if kind == "bool":
        return key(2, 0) + varint(1 if inner else 0)
    if kind == "int":
        return key(3, 0) + varint(inner)
    if kind == "double":
        return f_double(4, inner)
    if kind == "array":
        return f_message(5, b"".join(f_message(1, any_value(item)) for item in inner))
    if kind == "kvlist":
        return f_message(6, b"".join(f_message(1, key_value(k, v)) for k, v in inner.items()))
    if kind == "bytes":
        return key(7, 2) + varint(len(bytes.fromhex(inner))) + bytes.fromhex(inner)
    raise ValueError(f"unknown attribute kind {kind}")


def key_value(name, value):
    return f_string(1, name) + f_message(2, any_value(value))


def attributes(field, attrs):
    return b"".join(f_message(field, key_value(k, v)) for k, v in (attrs or {}).items())


def span_proto(span):
    status = span.get("status") or {}
    code = status.get("code", 0)
    code = STATUS_CODES.get(code, 0) if isinstance(code, str) else code
    kind = span.get("kind", 0)
    kind = SPAN_KINDS.get(kind, 0) if isinstance(kind, str) else kind
    out = b"".join([
        f_bytes(1, bytes.fromhex(span["trace_id"])),
        f_bytes(2, bytes.fromhex(span["span_id"])),
        f_string(3, span.get("trace_state", "")),
        f_bytes(4, bytes.fromhex(span.get("parent_span_id") or "")),
        f_string(5, span.get("name", "")),
        f_varint(6, kind),
        f_fixed64(7, span.get("start_time_unix_nano", 0)),
        f_fixed64(8, span.get("end_time_unix_nano", 0)),
        attributes(9, span.get("attributes")),
        f_varint(10, span.get("dropped_attributes_count", 0)),
    ])
    for event in span.get("events") or []:
        out += f_message(11, f_fixed64(1, event.get("time_unix_nano", 0))
                         + f_string(2, event.get("name", ""))
                         + attributes(3, event.get("attributes")))
    out += f_message(15, f_string(2, status.get("message", "")) + f_varint(3, code))
    out += f_fixed32(16, span.get("flags", 0))
    return out


def export_proto(export):
    out = b""
    for resource_spans in export.get("resource_spans", []):
        resource = resource_spans.get("resource") or {}
        body = f_message(1, attributes(1, resource.get("attributes")))
        for scope_spans in resource_spans.get("scope_spans", []):
            scope = scope_spans.get("scope") or {}
            inner = f_message(1, f_string(1, scope.get("name", ""))
                              + f_string(2, scope.get("version", ""))
                              + attributes(3, scope.get("attributes")))
            inner += b"".join(f_message(2, span_proto(span)) for span in scope_spans.get("spans", []))
            inner += f_string(3, scope_spans.get("schema_url", ""))
            body += f_message(2, inner)
        body += f_string(3, resource_spans.get("schema_url", ""))
        out += f_message(1, body)
    return out


# --- the same exports as OTLP/JSON --------------------------------------------------------

def any_value_json(value):
    (kind, inner), = value.items()
    if kind == "string":
        return {"stringValue": inner}
    if kind == "bool":
        return {"boolValue": inner}
    if kind == "int":
        return {"intValue": str(inner)}
    if kind == "double":
        return {"doubleValue": inner}
    if kind == "array":
        return {"arrayValue": {"values": [any_value_json(item) for item in inner]}}
    if kind == "kvlist":
        return {"kvlistValue": {"values": attributes_json(inner)}}
    if kind == "bytes":
        return {"bytesValue": inner}
    raise ValueError(f"unknown attribute kind {kind}")


def attributes_json(attrs):
    return [{"key": k, "value": any_value_json(v)} for k, v in (attrs or {}).items()]


def span_json(span):
    status = span.get("status") or {}
    code = status.get("code", 0)
    code = STATUS_CODES.get(code, 0) if isinstance(code, str) else code
    out = {
        "traceId": span["trace_id"],
        "spanId": span["span_id"],
        "name": span.get("name", ""),
        "kind": SPAN_KINDS.get(span.get("kind"), 1) if isinstance(span.get("kind"), str) else span.get("kind", 1),
        "startTimeUnixNano": str(span.get("start_time_unix_nano", 0)),
        "endTimeUnixNano": str(span.get("end_time_unix_nano", 0)),
        "attributes": attributes_json(span.get("attributes")),
        "status": {"code": code, "message": status.get("message", "")},
        "events": [],
        "flags": span.get("flags", 0),
    }
    if span.get("parent_span_id"):
        out["parentSpanId"] = span["parent_span_id"]
    return out


def export_json(export):
    return {"resourceSpans": [{
        "resource": {"attributes": attributes_json((rs.get("resource") or {}).get("attributes"))},
        "scopeSpans": [{
            "scope": {
                "name": (ss.get("scope") or {}).get("name", ""),
                "version": (ss.get("scope") or {}).get("version", ""),
                "attributes": attributes_json((ss.get("scope") or {}).get("attributes")),
            },
            "spans": [span_json(span) for span in ss.get("spans", [])],
        } for ss in rs.get("scope_spans", [])],
    } for rs in export.get("resource_spans", [])]}


# --- corpus files ---------------------------------------------------------------------------

def usage_objects(value):
    """usageDetails / usage objects, and usage_details attributes (JSON strings), anywhere."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("usageDetails", "usage") and isinstance(inner, dict):
                yield inner
            elif "usage" in key and isinstance(inner, dict) and isinstance(inner.get("string"), str):
                try:
                    parsed = json.loads(inner["string"])
                except ValueError:
                    continue
                if isinstance(parsed, dict):
                    yield parsed
            else:
                yield from usage_objects(inner)
    elif isinstance(value, list):
        for item in value:
            yield from usage_objects(item)


def dumps(value):
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def write(target, data, counts):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)
    counts[target] = counts.get(target, 0) + 1


def dictionary_entry(text, quoted):
    raw = f'"{text}"' if quoted else text
    escaped = "".join(c if c.isprintable() and c not in '"\\' else "\\x%02x" % ord(c) for c in raw)
    return f'"{escaped}"'


def write_dictionaries():
    literal = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
    wanted = re.compile(r"^[A-Za-z0-9_.:/ -]{2,64}$")
    enum_sources = [os.path.join(CORE_SRC, "model.rs")]
    os.makedirs(DICTS, exist_ok=True)
    for target, patterns in DICT_SOURCES.items():
        words = set()
        files = enum_sources + [f for p in patterns for f in glob.glob(os.path.join(INGEST_SRC, p))]
        for path in sorted(files):
            with open(path, encoding="utf-8") as source:
                for match in literal.finditer(source.read()):
                    if wanted.match(match.group(1)):
                        words.add(match.group(1))
        entries = sorted({dictionary_entry(w, False) for w in words}
                         | ({dictionary_entry(w, True) for w in words} if "json" in target else set()))
        if "json" in target:
            entries += ['"1e308"', '"-1e308"', '"9223372036854775807"', '"18446744073709551615"',
                        '"-9223372036854775808"', '"null"', '"true"', '"[]"', '"{}"']
        with open(os.path.join(DICTS, f"{target}.dict"), "w", encoding="utf-8") as out:
            out.write("# Generated by fuzz/seed.py from the parsers' string literals.\n")
            out.write("\n".join(entries) + "\n")
        print(f"{target}.dict: {len(entries)} entries")


def main():
    write_dictionaries()
    counts = {}
    gzip_inputs = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*.jsonl"))):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                request = json.loads(line)
                body, kind, route = request.get("body"), request.get("body_kind"), request.get("path")
                if body is None:
                    continue
                for usage in usage_objects(body):
                    write("usage_json", dumps(usage), counts)
                if route == "/api/public/ingestion" and kind == "json":
                    data = dumps(body)
                    write("ingestion_json", data, counts)
                    gzip_inputs.append(data)
                    for event in body.get("batch", []):
                        if event.get("type") == "score-create":
                            write("score_json", dumps(event.get("body")), counts)
                elif route == "/api/public/scores" and kind == "json":
                    write("score_json", dumps(body), counts)
                    for item in body if isinstance(body, list) else [body]:
                        write("score_json", dumps(item), counts)
                elif route == "/api/public/otel/v1/traces" and kind == "json":
                    data = dumps(body)
                    write("otlp_json", data, counts)
                    gzip_inputs.append(data)
                elif route == "/api/public/otel/v1/traces" and kind == "otlp-protobuf":
                    proto = export_proto(body)
                    write("otlp_protobuf", proto, counts)
                    write("otlp_json", dumps(export_json(body)), counts)
                    gzip_inputs.append(proto)
    # Small hand-made edge cases.
    write("ingestion_json", b'{"batch":[]}', counts)
    write("ingestion_json", dumps({"batch": [
        {"id": "e1", "type": "generation-update", "timestamp": "2026-11-21T04:48:18.5Z",
         "body": {"id": "g1", "traceId": "t1", "usage": {"promptTokens": 3, "completionTokens": 4}}},
        {"id": "e2", "type": "generation-create", "timestamp": "2026-11-21T04:48:18.4Z",
         "body": {"id": "g1", "traceId": "t1", "usageDetails": {
             "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
             "prompt_tokens_details": {"cached_tokens": 2}}, "costDetails": {"input": 0.1}}},
        {"id": "e3", "type": "observation-create", "timestamp": "2026-11-21T04:48:18Z",
         "body": {"id": "o1", "type": "EVENT", "level": "WARNING", "modelParameters": {"t": "0.5"}}},
        {"id": "e4", "type": "sdk-log", "timestamp": "2026-11-21T04:48:18Z", "body": {"log": {}}},
    ]}), counts)
    write("usage_json", dumps({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                               "prompt_tokens_details": {"cached_tokens": 2},
                               "completion_tokens_details": {"reasoning_tokens": 1}}), counts)
    write("usage_json", dumps({"input_tokens": 10, "output_tokens": 5,
                               "cache_read_input_tokens": 3}), counts)
    write("otlp_protobuf", b"", counts)
    write("otlp_json", b'{"resourceSpans":[]}', counts)
    write("score_json", dumps({"name": "t", "value": "x" * 10, "dataType": "TEXT", "sessionId": "s"}), counts)
    write("model_json", dumps({"modelName": "m", "matchPattern": "(?i)^m$", "unit": "TOKENS",
                               "inputPrice": 0.5, "outputPrice": "1.5",
                               "startDate": "2026-01-01T00:00:00Z"}), counts)
    write("model_json", dumps({"modelName": "m", "matchPattern": "m",
                               "prices": {"input": {"price": 1}, "input_cached_tokens": {"price": 0.1}},
                               "tokenizerId": "openai", "tokenizerConfig": {"tokenizerModel": "gpt-4o"}}), counts)
    write("model_json", dumps({"modelName": "m", "matchPattern": "m", "pricingTiers": [
        {"name": "default", "isDefault": True, "priority": 0, "conditions": [], "prices": {"input": 1}},
        {"name": "long", "isDefault": False, "priority": 1, "prices": {"input": 2},
         "conditions": [{"usageDetailPattern": "input", "operator": "gt", "value": 200000,
                         "caseSensitive": False}]}]}), counts)
    write("prompt_json", dumps({"name": "folder/critic", "prompt": "Rate {{movie}}",
                                "labels": ["production"], "tags": ["a"], "config": {"t": 1},
                                "commitMessage": "c"}), counts)
    write("prompt_json", dumps({"name": "chat", "type": "chat", "prompt": [
        {"role": "system", "content": "@@@langfusePrompt:name=base|label=production@@@ {{x}}"},
        {"type": "placeholder", "name": "history"},
        {"type": "chatmessage", "role": "user", "content": "q"}]}), counts)
    write("prompt_json", dumps({"newLabels": ["production", "staging"]}), counts)
    write("score_config_json", dumps({"name": "accuracy", "dataType": "NUMERIC", "minValue": 0,
                                      "maxValue": 1, "description": "d"}), counts)
    write("score_config_json", dumps({"name": "tone", "dataType": "CATEGORICAL", "categories": [
        {"label": "rude", "value": 0}, {"label": "polite", "value": 1}]}), counts)
    write("score_config_json", dumps({"name": "correct", "dataType": "BOOLEAN"}), counts)
    write("score_config_json", dumps({"isArchived": True, "maxValue": 5}), counts)
    hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    for body in [
        {"name": "my project", "retention": 30, "metadata": {"team": "a"}},
        {"name": "abc", "retention": 0, "metadata": "{\"a\": 1}"},
        {"userId": "u1", "role": "ADMIN"},
        {"userId": "u1"},
        {"note": "ci", "publicKey": "pk-lf-1", "secretKey": "sk-lf-2"},
        {"sha256Hash": hash, "contentType": "image/png", "contentLength": 3, "traceId": "t",
         "observationId": "o", "field": "input"},
        {"sha256Hash": hash, "contentType": "audio/wav", "contentLength": 9, "datasetId": "d",
         "datasetItemId": "i", "field": "expectedOutput"},
        {"uploadedAt": "2026-01-01T00:00:00.000Z", "uploadHttpStatus": 200},
        {"traceIds": ["t1", "t2"]},
    ]:
        write("admin_media_json", dumps(body), counts)
    write("admin_media_json", b"", counts)
    for data in gzip_inputs[:6]:
        write("gunzip", gzip.compress(data, mtime=0), counts)
    if gzip_inputs:
        half = len(gzip_inputs[0]) // 2
        write("gunzip", gzip.compress(gzip_inputs[0][:half], mtime=0)
              + gzip.compress(gzip_inputs[0][half:], mtime=0), counts)
    write("gunzip", gzip.compress(b"", mtime=0), counts)
    for target, count in sorted(counts.items()):
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
