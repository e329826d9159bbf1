//! The OpenAPI document (`openapi.json`, served at `GET /api/public/openapi.json`) against the
//! code: every route of `src/routes.rs` with the same methods, every query parameter the read
//! handlers parse, resolvable `$ref`s, and response schemas that list exactly the keys the
//! `dto` converters produce, with values of the documented types.

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request};
use serde_json::{json, Map, Value};
use spindle_core::time::parse_iso_strict;
use spindle_core::{
    Level, ObservationRecord, ObservationType, ScoreDataType, ScoreRecord, ScoreSource, TraceRecord,
};
use spindle_server::dto::{self, ObservationFields, PageResponse, TraceFields};
use spindle_store::{
    DailyMetrics, ModelUsage, ObservationView, Page, ScoreView, SessionView, TraceView,
};
use std::collections::{BTreeMap, BTreeSet};
use support::{basic, PK1, SK1};

const DOCUMENT: &str = include_str!("../openapi.json");
const ROUTES: &str = include_str!("../src/routes.rs");
/// The handler modules of `src/routes/`, by the name routes.rs calls them with.
const HANDLER_MODULES: &[(&str, &str)] = &[
    ("read", include_str!("../src/routes/read.rs")),
    ("ingest", include_str!("../src/routes/ingest.rs")),
    ("media", include_str!("../src/routes/media.rs")),
    ("models", include_str!("../src/routes/models.rs")),
    ("prompts", include_str!("../src/routes/prompts.rs")),
    ("datasets", include_str!("../src/routes/datasets.rs")),
    ("reviews", include_str!("../src/routes/reviews.rs")),
    (
        "score_configs",
        include_str!("../src/routes/score_configs.rs"),
    ),
    ("experiments", include_str!("../src/routes/experiments.rs")),
    ("ops", include_str!("../src/routes/ops.rs")),
    ("admin", include_str!("../src/routes/admin.rs")),
];
/// The list-parameter parsers the handlers share (`trace_query(&params, …)`, …).
const SHARED_PARSERS: &str = include_str!("../src/routes/params.rs");

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("openapi.json is valid JSON")
}

// --- routes.rs ---------------------------------------------------------------------------------

/// One `.route(path, method(handler)...)` registration.
#[derive(Debug, Clone)]
struct Route {
    path: String,
    /// `(method, handler)`, e.g. `("get", "read::list_traces")`.
    handlers: Vec<(String, String)>,
}

/// Finds the `)` that closes the `(` at `open`.
fn closing_paren(text: &str, open: usize) -> usize {
    let mut depth = 0;
    for (offset, byte) in text.bytes().enumerate().skip(open) {
        match byte {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return offset;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in src/routes.rs after byte {open}");
}

/// The string literal starting at or after `from`, and the byte after it.
fn string_literal(text: &str, from: usize) -> (String, usize) {
    let start = from + text[from..].find('"').expect("a string literal") + 1;
    let end = start + text[start..].find('"').expect("a closed string literal");
    (text[start..end].to_owned(), end + 1)
}

/// `{id}` (axum 0.8), `:id` (axum 0.7) and `{*rest}` segments as OpenAPI `{name}` segments.
fn openapi_path(axum_path: &str) -> String {
    axum_path
        .split('/')
        .map(|segment| {
            if let Some(name) = segment.strip_prefix(':') {
                format!("{{{name}}}")
            } else if let Some(name) = segment.strip_prefix("{*") {
                format!("{{{name}")
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `post(ingest::create_scores).get(read::list_scores)` → `[(post, ingest::create_scores), ...]`.
fn method_handlers(expression: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = expression.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index].is_ascii_alphabetic() || bytes[index] == b'_' {
            let start = index;
            while index < bytes.len()
                && (bytes[index].is_ascii_alphanumeric()
                    || bytes[index] == b'_'
                    || bytes[index] == b':')
            {
                index += 1;
            }
            let word = &expression[start..index];
            let last = word.rsplit("::").next().unwrap_or(word);
            if index < bytes.len() && bytes[index] == b'(' {
                assert!(
                    HTTP_METHODS.contains(&last),
                    "src/routes.rs: `{word}(...)` in a route is not understood by this test's \
                     parser (only get/post/put/patch/delete/... are); extend it"
                );
                let close = closing_paren(expression, index);
                let handler = expression[index + 1..close].trim().to_owned();
                out.push((last.to_owned(), handler));
                index = close + 1;
            }
        } else {
            index += 1;
        }
    }
    out
}

/// Every route of `src/routes.rs`, with the prefix of the router it is nested in.
fn registered_routes() -> Vec<Route> {
    let source: String = ROUTES
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for unsupported in [".route_service(", ".nest_service(", ".merge("] {
        assert!(
            !source.contains(unsupported),
            "src/routes.rs uses `{unsupported}`, which this test's parser does not follow; \
             extend it"
        );
    }
    // `let NAME = Router::new() ... ;` statements, and `.nest("/prefix", NAME)` calls.
    let mut routers: Vec<(String, usize, usize)> = Vec::new();
    let mut search = 0;
    while let Some(found) = source[search..].find("let ") {
        let start = search + found;
        let rest = &source[start + 4..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after_name = rest[name.len()..].trim_start();
        if after_name.starts_with('=') && after_name[1..].trim_start().starts_with("Router::new()")
        {
            let end = start + source[start..].find(';').expect("a `;` ending the router");
            routers.push((name, start, end));
        }
        search = start + 4;
    }
    let mut prefixes: BTreeMap<String, String> = BTreeMap::new();
    let mut search = 0;
    while let Some(found) = source[search..].find(".nest(") {
        let open = search + found + ".nest".len();
        let close = closing_paren(&source, open);
        let (prefix, after) = string_literal(&source, open);
        let router = source[after..close]
            .trim_start_matches([',', ' ', '\n'])
            .trim();
        prefixes.insert(router.to_owned(), prefix);
        search = close;
    }
    let mut routes = Vec::new();
    let mut search = 0;
    while let Some(found) = source[search..].find(".route(") {
        let position = search + found;
        let open = position + ".route".len();
        let close = closing_paren(&source, open);
        let (path, after) = string_literal(&source, open);
        let prefix = routers
            .iter()
            .find(|(_, start, end)| (*start..*end).contains(&position))
            .map(|(name, _, _)| {
                prefixes.get(name).cloned().unwrap_or_else(|| {
                    panic!("src/routes.rs: router `{name}` is never nested; extend this test")
                })
            })
            .unwrap_or_default();
        let handlers = method_handlers(&source[after..close]);
        assert!(
            !handlers.is_empty(),
            "src/routes.rs: no method found for route {path:?}"
        );
        routes.push(Route {
            path: openapi_path(&format!("{prefix}{path}")),
            handlers,
        });
        search = close;
    }
    assert!(
        routes.len() >= 20,
        "src/routes.rs: only {} routes found; the parser is probably out of date",
        routes.len()
    );
    routes
}

fn documented_methods(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .expect("paths is an object")
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .expect("a path item is an object")
                .keys()
                .filter(|key| HTTP_METHODS.contains(&key.as_str()))
                .cloned()
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

// --- JSON helpers ------------------------------------------------------------------------------

/// Follows `$ref`s (local ones only) until a non-reference value.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("non-local $ref {reference:?}"));
                current = doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("unresolved $ref {reference:?}"));
            }
            None => return current,
        }
    }
    panic!("$ref cycle");
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc.pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("no schema {name}"))
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .expect("the schema has properties")
        .keys()
        .cloned()
        .collect()
}

fn required_names(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .map(|name| {
                    name.as_str()
                        .expect("required names are strings")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The properties a schema documents as belonging to a field group ("Group `io`: …").
fn group_properties(schema: &Value, group: &str) -> BTreeSet<String> {
    let marker = format!("Group `{group}`");
    schema["properties"]
        .as_object()
        .expect("properties")
        .iter()
        .filter(|(_, property)| {
            property["description"]
                .as_str()
                .is_some_and(|text| text.starts_with(&marker))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

fn walk<'a>(value: &'a Value, path: String, visit: &mut dyn FnMut(&str, &'a Value)) {
    visit(&path, value);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, format!("{path}/{key}"), visit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, format!("{path}/{index}"), visit);
            }
        }
        _ => {}
    }
}

fn json_type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown JSON schema type {other:?}"),
    }
}

/// Checks `value` against the subset of JSON Schema the document uses for responses:
/// `$ref`, `type`, `const`, `enum`, `format: date-time`, `properties`, `required`,
/// `additionalProperties`, `items`, `anyOf`, `oneOf`, `allOf`. Mismatches go to `errors`.
fn check(doc: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(name) => vec![name.as_str()],
            Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type {types}"),
        };
        if !names.iter().any(|name| json_type_matches(name, value)) {
            errors.push(format!("{path}: {value} is not of type {types}"));
            return;
        }
    }
    if let Some(expected) = schema.get("const") {
        if expected != value {
            errors.push(format!("{path}: {value} is not {expected}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{path}: {value} is not one of {allowed:?}"));
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        if let Some(text) = value.as_str() {
            if parse_iso_strict(text).is_none() {
                errors.push(format!("{path}: {text:?} is not an RFC 3339 date-time"));
            }
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, part, value, path, errors);
        }
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            let matching = options
                .iter()
                .filter(|option| {
                    let mut option_errors = Vec::new();
                    check(doc, option, value, path, &mut option_errors);
                    option_errors.is_empty()
                })
                .count();
            let ok = if keyword == "oneOf" {
                matching == 1
            } else {
                matching >= 1
            };
            if !ok {
                errors.push(format!(
                    "{path}: {value} matches {matching} of the {keyword} options"
                ));
            }
        }
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in required_names(schema) {
            if !object.contains_key(&name) {
                errors.push(format!("{path}: required key {name:?} is missing"));
            }
        }
        for (key, child) in object {
            let child_path = format!("{path}.{key}");
            match properties.and_then(|properties| properties.get(key)) {
                Some(property) => check(doc, property, child, &child_path, errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{path}: key {key:?} is not in the schema"))
                    }
                    Some(additional @ Value::Object(_)) => {
                        check(doc, additional, child, &child_path, errors)
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{path}[{index}]"), errors);
        }
    }
}

/// `value` has exactly the properties of the schema `schema_name`, each of them required, and
/// conforms to it.
fn assert_exact(doc: &Value, schema_name: &str, value: &Value) {
    let properties = schema(doc, schema_name);
    assert_eq!(
        keys(value),
        property_names(properties),
        "{schema_name} keys"
    );
    assert_eq!(
        keys(value),
        required_names(properties),
        "{schema_name} required keys"
    );
    assert_conforms(doc, schema_name, value);
}

fn assert_conforms(doc: &Value, schema_name: &str, value: &Value) {
    let mut errors = Vec::new();
    check(
        doc,
        schema(doc, schema_name),
        value,
        schema_name,
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "the server's JSON does not match schema {schema_name}:\n{}\n\nJSON: {value:#}",
        errors.join("\n")
    );
}

// --- hand-built store views --------------------------------------------------------------------

const T0: i64 = 1_795_236_498_451_113;
const PROJECT: &str = "project-1";

fn observation_view(full: bool) -> ObservationView {
    let mut record = ObservationRecord::new("obs-1");
    record.trace_id = Some("trace-1".into());
    if full {
        record.start_time = Some(T0);
        record.environment = Some("staging".into());
        record.observation_type = Some(ObservationType::Generation);
        record.parent_observation_id = Some("obs-0".into());
        record.name = Some("llm".into());
        record.end_time = Some(T0 + 2_500_000);
        record.completion_start_time = Some(T0 + 500_000);
        record.level = Some(Level::Warning);
        record.status_message = Some("slow".into());
        record.version = Some("v1".into());
        record.model = Some("gpt-4o".into());
        record.model_parameters = Some(r#"{"temperature":"0.5","max_tokens":10}"#.into());
        record.usage_details = Some(BTreeMap::from([
            ("input".to_owned(), 10),
            ("output".to_owned(), 20),
            ("input_cached_tokens".to_owned(), 2),
        ]));
        record.cost_details = Some(BTreeMap::from([
            ("input".to_owned(), 0.1),
            ("output".to_owned(), 0.2),
        ]));
        record.prompt_name = Some("greeting".into());
        record.prompt_version = Some(3);
        record.input = Some(r#"[{"role":"user","content":"hi"}]"#.into());
        record.output = Some("plain text".into());
        record.metadata = BTreeMap::from([
            ("json".to_owned(), r#"{"a":1}"#.to_owned()),
            ("text".to_owned(), "x".to_owned()),
        ]);
    }
    ObservationView {
        record,
        created_at: T0,
        updated_at: T0 + 1_000,
        trace_name: full.then(|| "chat".into()),
        user_id: full.then(|| "user-1".into()),
        session_id: full.then(|| "session-1".into()),
        tags: if full { vec!["a".into()] } else { Vec::new() },
        release: full.then(|| "rel-1".into()),
    }
}

fn score_view(full: bool, on_trace: bool) -> ScoreView {
    let mut record = ScoreRecord::new("score-1");
    if on_trace {
        record.trace_id = Some("trace-1".into());
    } else {
        record.session_id = Some("session-1".into());
    }
    if full {
        record.timestamp = Some(T0);
        record.environment = Some("staging".into());
        record.name = Some("quality".into());
        record.value = Some(1.0);
        record.string_value = Some("True".into());
        record.data_type = Some(ScoreDataType::Boolean);
        record.source = Some(ScoreSource::Eval);
        record.observation_id = on_trace.then(|| "obs-1".into());
        record.dataset_run_id = Some("run-1".into());
        record.comment = Some("good".into());
        record.config_id = Some("config-1".into());
        record.queue_id = Some("queue-1".into());
        record.author_user_id = Some("author-1".into());
        record.execution_trace_id = Some("exec-1".into());
        record.metadata = BTreeMap::from([("judge".to_owned(), "\"llm\"".to_owned())]);
    }
    ScoreView {
        record,
        created_at: T0,
        updated_at: T0,
        trace_user_id: full.then(|| "user-1".into()),
        trace_tags: if full { vec!["a".into()] } else { Vec::new() },
        trace_environment: full.then(|| "staging".into()),
        trace_session_id: full.then(|| "session-1".into()),
    }
}

fn trace_view(full: bool) -> TraceView {
    let mut record = TraceRecord::new("trace-1");
    if full {
        record.timestamp = Some(T0);
        record.environment = Some("staging".into());
        record.name = Some("chat".into());
        record.user_id = Some("user-1".into());
        record.session_id = Some("session-1".into());
        record.release = Some("rel-1".into());
        record.version = Some("v2".into());
        record.public = Some(true);
        record.bookmarked = Some(false);
        record.input = Some(r#"{"q":"hi"}"#.into());
        record.output = Some("yo".into());
        record.external_id = Some("ext-1".into());
        record.tags = BTreeSet::from(["a".to_owned(), "b".to_owned()]);
        record.metadata = BTreeMap::from([("m".to_owned(), "1".to_owned())]);
    }
    TraceView {
        record,
        created_at: T0,
        updated_at: T0 + 5,
        latency_seconds: full.then_some(2.5),
        total_cost: if full { 0.3 } else { 0.0 },
        level: if full { Level::Warning } else { Level::Default },
        observation_ids: vec!["obs-1".into()],
        score_ids: vec!["score-1".into()],
        observations: vec![observation_view(full)],
        scores: vec![score_view(full, true), score_view(full, false)],
    }
}

fn to_json(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("serializable")
}

// --- tests -------------------------------------------------------------------------------------

#[test]
fn document_is_openapi_3_1() {
    let doc = document();
    let version = doc["openapi"]
        .as_str()
        .expect("an `openapi` version string");
    assert!(
        version.starts_with("3.1."),
        "openapi is {version:?}, expected 3.1.x"
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basicAuth"]["type"], "http");
    assert_eq!(schemes["basicAuth"]["scheme"], "basic");
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
}

#[test]
fn every_route_is_documented_with_its_methods_and_nothing_else() {
    let doc = document();
    let mut registered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for route in registered_routes() {
        let methods = registered.entry(route.path.clone()).or_default();
        for (method, _) in &route.handlers {
            assert!(
                methods.insert(method.clone()),
                "{method} {} registered twice",
                route.path
            );
        }
    }
    let documented = documented_methods(&doc);
    let only_registered: Vec<_> = registered
        .keys()
        .filter(|path| !documented.contains_key(*path))
        .collect();
    let only_documented: Vec<_> = documented
        .keys()
        .filter(|path| !registered.contains_key(*path))
        .collect();
    assert!(
        only_registered.is_empty() && only_documented.is_empty(),
        "routes missing from openapi.json: {only_registered:?}; documented paths that \
         src/routes.rs does not register: {only_documented:?}"
    );
    assert_eq!(
        registered, documented,
        "methods differ between src/routes.rs (left) and openapi.json (right)"
    );
}

#[test]
fn route_parser_reads_the_shapes_used_in_routes_rs() {
    assert_eq!(
        openapi_path("/api/public/traces/{id}"),
        "/api/public/traces/{id}"
    );
    assert_eq!(openapi_path("/a/:id/b"), "/a/{id}/b");
    assert_eq!(openapi_path("/files/{*rest}"), "/files/{rest}");
    assert_eq!(
        method_handlers("post(ingest::create_scores).get(read::list_scores)"),
        vec![
            ("post".to_owned(), "ingest::create_scores".to_owned()),
            ("get".to_owned(), "read::list_scores".to_owned())
        ]
    );
    let routes = registered_routes();
    let health = routes
        .iter()
        .find(|route| route.path == "/api/public/health")
        .expect("the health route, nested under /api/public");
    assert_eq!(health.handlers, vec![("get".into(), "ops::health".into())]);
    assert!(routes.iter().any(|route| route.path == "/livez"));
}

#[test]
fn path_parameters_match_the_path_templates() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect();
        for (method, operation) in item.as_object().expect("a path item") {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let parameters: Vec<&Value> = operation["parameters"]
                .as_array()
                .map(|list| list.iter().map(|p| resolve(&doc, p)).collect())
                .unwrap_or_default();
            let declared: BTreeSet<String> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(
                        p["required"], true,
                        "{method} {path}: path parameters are required"
                    );
                    p["name"].as_str().expect("a name").to_owned()
                })
                .collect();
            assert_eq!(in_template, declared, "{method} {path}: path parameters");
            let mut seen = BTreeSet::new();
            for parameter in &parameters {
                let key = (parameter["in"].to_string(), parameter["name"].to_string());
                assert!(
                    seen.insert(key),
                    "{method} {path}: duplicate parameter {parameter}"
                );
            }
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path}: no responses"
            );
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if HTTP_METHODS.contains(&method.as_str()) {
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
                assert!(seen.insert(id.to_owned()), "operationId {id:?} used twice");
            }
        }
    }
}

#[test]
fn every_ref_resolves_and_every_component_is_used() {
    let doc = document();
    let mut references = BTreeSet::new();
    let mut unresolved = Vec::new();
    walk(&doc, String::new(), &mut |path, value| {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            references.insert(reference.to_owned());
            let resolves = reference
                .strip_prefix('#')
                .is_some_and(|pointer| doc.pointer(pointer).is_some());
            if !resolves {
                unresolved.push(format!("{path}: {reference}"));
            }
        }
    });
    assert!(
        unresolved.is_empty(),
        "unresolved $refs:\n{}",
        unresolved.join("\n")
    );
    for section in ["schemas", "parameters", "responses"] {
        for name in doc["components"][section]
            .as_object()
            .expect("a components section")
            .keys()
        {
            let reference = format!("#/components/{section}/{name}");
            assert!(
                references.contains(&reference),
                "{reference} is never referenced"
            );
        }
    }
    // Security requirements name declared schemes.
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    walk(&doc["paths"], String::new(), &mut |path, value| {
        if path.ends_with("/security") {
            for requirement in value.as_array().expect("a list of requirements") {
                for scheme in keys(requirement) {
                    assert!(
                        schemes.contains_key(&scheme),
                        "{path}: unknown scheme {scheme}"
                    );
                }
            }
        }
    });
}

#[test]
fn overload_and_error_responses_carry_the_documented_shape() {
    let doc = document();
    let responses = &doc["components"]["responses"];
    for name in ["TooManyRequests", "ServiceUnavailable"] {
        assert!(
            responses[name]["headers"]["Retry-After"].is_object(),
            "{name} must document Retry-After"
        );
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let response = resolve(&doc, response);
                if status == "429"
                    || (status == "503"
                        && path.starts_with("/api/public/")
                        && path != "/api/public/health")
                {
                    assert!(
                        response["headers"]["Retry-After"].is_object(),
                        "{method} {path} {status}: no Retry-After header"
                    );
                }
                if status.starts_with('4') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{method} {path} {status}: errors use the Error schema"
                    );
                }
            }
            let ingests = [
                "/api/public/otel/v1/traces",
                "/api/public/ingestion",
                "/api/public/scores",
            ]
            .contains(&path.as_str())
                && method == "post";
            if ingests {
                for status in ["400", "401", "413", "415", "429", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: status {status} is not documented"
                    );
                }
            }
        }
    }
    // The error body is what `ApiError` sends: {message, error} with a known kind name.
    let error = schema(&doc, "Error");
    assert_eq!(
        property_names(error),
        BTreeSet::from(["message".to_owned(), "error".to_owned()])
    );
}

/// `params\n    .get("x")` (rustfmt's chains) as `params.get("x")`.
fn join_method_chains(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(found) = rest.find("params") {
        let after = &rest[found + "params".len()..];
        out.push_str(&rest[..found + "params".len()]);
        let trimmed = after.trim_start();
        rest = if trimmed.starts_with('.') {
            trimmed
        } else {
            after
        };
    }
    out.push_str(rest);
    out
}

/// The query parameters each handler of a module parses (`params.string("userId")`,
/// `params.page()`, ...), including those parsed by the helper functions it calls.
fn parsed_query_parameters(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    // Split the module into its top-level functions.
    let mut functions: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in source.lines() {
        let header = ["pub async fn ", "pub fn ", "async fn ", "fn "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix));
        if let Some(rest) = header {
            if let Some((name, body)) = current.take() {
                functions.insert(name, body);
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            current = Some((name, String::new()));
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some((name, body)) = current {
        functions.insert(name, body);
    }
    let direct = |body: &str| -> BTreeSet<String> {
        let joined = join_method_chains(body);
        let body = joined.as_str();
        let mut names = BTreeSet::new();
        for (call, implied) in [
            ("params.page()", "page"),
            ("params.limit(", "limit"),
            ("params.order_by()", "orderBy"),
            ("params.filters()", "filter"),
        ] {
            if body.contains(call) {
                names.insert(implied.to_owned());
            }
        }
        for accessor in [
            "get",
            "string",
            "all",
            "each",
            "timestamp",
            "boolean",
            "parsed",
        ] {
            let call = format!("params.{accessor}(");
            let mut rest = body;
            while let Some(found) = rest.find(&call) {
                rest = &rest[found + call.len()..];
                let argument = rest.trim_start();
                if let Some(literal) = argument.strip_prefix('"') {
                    let end = literal.find('"').expect("a closed string literal");
                    names.insert(literal[..end].to_owned());
                } else {
                    let variable: String = argument
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let bound = literals_bound_to(body, &variable).unwrap_or_else(|| {
                        panic!(
                            "routes: `{call}{variable}`: cannot tell which parameter names \
                             `{variable}` takes; extend this test"
                        )
                    });
                    names.extend(bound);
                }
            }
        }
        names
    };
    functions
        .iter()
        .map(|(name, body)| {
            let mut names = direct(body);
            for (helper, helper_body) in &functions {
                if helper != name && body.contains(&format!("{helper}(&params")) {
                    names.extend(direct(helper_body));
                }
            }
            (name.clone(), names)
        })
        .collect()
}

/// The first string literal of each element of the bracketed list starting at `open`: `["a", "b"]`
/// gives a and b, `[("a", 1), ("b", 2)]` gives a and b.
fn leading_literals(text: &str, open: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expecting = false;
    let mut index = open;
    let bytes = text.as_bytes();
    while index < bytes.len() {
        match bytes[index] {
            b'[' | b'(' => {
                depth += 1;
                expecting = depth <= 2;
            }
            b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => expecting = true,
            b'"' => {
                let end = index + 1 + text[index + 1..].find('"').expect("a closed literal");
                if expecting {
                    out.push(text[index + 1..end].to_owned());
                    expecting = false;
                }
                index = end;
            }
            byte if !byte.is_ascii_whitespace() => expecting = false,
            _ => {}
        }
        index += 1;
    }
    out
}

/// The parameter names a variable passed to a `params` accessor takes: the first argument of
/// each call of the closure it is a parameter of (`let any_of = |parameter: &str| ...;
/// any_of("id")`), or the items of the array a `for` loop binds it from
/// (`for (parameter, _) in [("valueMin", ">="), ...]`).
fn literals_bound_to(body: &str, variable: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for pattern in [format!("for ({variable},"), format!("for {variable} in")] {
        let mut search = 0;
        while let Some(found) = body[search..].find(&pattern) {
            let start = search + found;
            if let Some(open) = body[start..].find('[') {
                out.extend(leading_literals(body, start + open));
            }
            search = start + pattern.len();
        }
    }
    let mut search = 0;
    while let Some(found) = body[search..].find(&format!("|{variable}")) {
        let closure_start = search + found;
        search = closure_start + 1;
        let Some(before) = body[..closure_start].trim_end().strip_suffix('=') else {
            continue;
        };
        let name: String = before
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let call = format!("{name}(");
        let mut rest = &body[closure_start..];
        while let Some(found) = rest.find(&call) {
            let preceded_by_identifier = rest[..found]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            rest = &rest[found + call.len()..];
            if !preceded_by_identifier {
                if let Some(literal) = rest.trim_start().strip_prefix('"') {
                    out.push(literal[..literal.find('"')?].to_owned());
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

#[test]
fn every_query_parameter_the_handlers_parse_is_documented() {
    let doc = document();
    let parsed: BTreeMap<&str, BTreeMap<String, BTreeSet<String>>> = HANDLER_MODULES
        .iter()
        .map(|(module, source)| {
            let with_parsers = format!("{source}\n{SHARED_PARSERS}");
            (*module, parsed_query_parameters(&with_parsers))
        })
        .collect();
    assert!(
        parsed["read"]["list_traces"].contains("orderBy")
            && parsed["read"]["list_scores"].contains("operator"),
        "the handler scanner is out of date: {parsed:?}"
    );
    let mut with_parameters = 0;
    for route in registered_routes() {
        for (method, handler) in &route.handlers {
            let (module, function) = handler
                .split_once("::")
                .unwrap_or_else(|| panic!("handler {handler:?} is not module::function"));
            let expected = parsed
                .get(module)
                .unwrap_or_else(|| panic!("no source for handler module {module}; add it"))
                .get(function)
                .unwrap_or_else(|| panic!("{module}.rs has no function {function}"));
            let operation = &doc["paths"][&route.path][method];
            let documented: BTreeSet<String> = operation["parameters"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|p| resolve(&doc, p))
                        .filter(|p| p["in"] == "query")
                        .map(|p| p["name"].as_str().expect("a name").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                expected, &documented,
                "{method} {}: query parameters parsed by {handler} (left) vs documented (right)",
                route.path
            );
            with_parameters += usize::from(!expected.is_empty());
        }
    }
    assert!(
        with_parameters >= 8,
        "only {with_parameters} operations with query parameters"
    );
}

#[test]
fn trace_schemas_list_exactly_the_keys_the_server_produces() {
    let doc = document();
    for full in [true, false] {
        let summary = to_json(dto::trace_summary(
            trace_view(full),
            PROJECT,
            TraceFields::ALL,
        ));
        assert_exact(&doc, "Trace", &summary);

        let detail = to_json(dto::trace_detail(trace_view(full), PROJECT));
        assert_exact(&doc, "TraceWithDetails", &detail);
    }
    // Excluded field groups read as null, [] and -1, which the schema must allow.
    let core_only = to_json(dto::trace_summary(
        trace_view(true),
        PROJECT,
        TraceFields::parse(Some("core")),
    ));
    assert_eq!(core_only["latency"], -1.0);
    assert_conforms(&doc, "Trace", &core_only);
    let page = to_json(PageResponse::from_page(
        Page {
            items: vec![trace_view(true)],
            page: 1,
            limit: 50,
            total_items: 1,
            total_is_estimate: false,
            next_cursor: None,
        },
        |view| dto::trace_summary(view, PROJECT, TraceFields::ALL),
    ));
    assert_conforms(&doc, "TracePage", &page);
}

#[test]
fn observation_schemas_list_exactly_the_keys_the_server_produces() {
    let doc = document();
    for full in [true, false] {
        let observation = to_json(dto::observation_v1(observation_view(full), PROJECT));
        assert_exact(&doc, "Observation", &observation);

        let all = ObservationFields::parse(None).expect("all groups");
        for expand in [false, true] {
            let v2 = dto::observation_v2(observation_view(full), PROJECT, &all, expand);
            assert_eq!(keys(&v2), property_names(schema(&doc, "ObservationV2")));
            assert_conforms(&doc, "ObservationV2", &v2);
        }
    }
    // Each v2 field group adds exactly the properties documented as belonging to it.
    let v2_schema = schema(&doc, "ObservationV2");
    let core = required_names(v2_schema);
    for group in ObservationFields::GROUPS {
        let fields = ObservationFields::parse(Some(group)).expect("a known group");
        let produced = keys(&dto::observation_v2(
            observation_view(true),
            PROJECT,
            &fields,
            false,
        ));
        let documented = group_properties(v2_schema, group);
        let expected: BTreeSet<String> = core.union(&documented).cloned().collect();
        assert_eq!(produced, expected, "v2 field group {group:?}");
        let v2_get = &doc["paths"]["/api/public/v2/observations"]["get"];
        let fields_parameter = support::item_where(v2_get, "parameters", "name", "fields");
        assert!(
            fields_parameter["description"]
                .as_str()
                .is_some_and(|text| text.contains(&format!("`{group}`"))),
            "the v2 `fields` parameter does not name group {group}"
        );
    }
}

#[test]
fn score_session_and_metrics_schemas_match_the_server() {
    let doc = document();
    for (full, on_trace) in [(true, true), (true, false), (false, true), (false, false)] {
        let score = to_json(dto::score_v1(score_view(full, on_trace), PROJECT));
        assert_exact(&doc, "Score", &score);
        if on_trace {
            assert_eq!(
                keys(&score["trace"]),
                property_names(schema(&doc, "ScoreTrace"))
            );
        }
    }
    let session_view = SessionView {
        id: "session-1".into(),
        created_at: T0,
        environment: "default".into(),
        traces: vec![trace_view(true)],
    };
    let listed = to_json(dto::session(session_view.clone(), PROJECT, false));
    assert_eq!(keys(&listed), property_names(schema(&doc, "Session")));
    assert_conforms(&doc, "Session", &listed);
    let detailed = to_json(dto::session(session_view, PROJECT, true));
    assert_eq!(
        keys(&detailed),
        property_names(schema(&doc, "SessionWithTraces"))
    );
    assert_conforms(&doc, "SessionWithTraces", &detailed);

    let day = to_json(dto::daily_metrics(DailyMetrics {
        date: "2026-11-21".into(),
        count_traces: 2,
        count_observations: 5,
        total_cost: 0.5,
        usage: vec![ModelUsage {
            model: "gpt-4o".into(),
            input_usage: 10,
            output_usage: 20,
            total_usage: 30,
            count_traces: 1,
            count_observations: 2,
            total_cost: 0.5,
        }],
    }));
    assert_eq!(keys(&day), property_names(schema(&doc, "DailyMetrics")));
    assert_eq!(
        keys(&day["usage"][0]),
        property_names(schema(&doc, "ModelUsage"))
    );
    assert_conforms(&doc, "DailyMetrics", &day);
}

#[test]
fn schema_checker_rejects_what_it_should() {
    let doc = document();
    let mut trace = to_json(dto::trace_summary(
        trace_view(true),
        PROJECT,
        TraceFields::ALL,
    ));
    let object: &mut Map<String, Value> = trace.as_object_mut().expect("an object");
    object.insert("surprise".into(), Value::Bool(true));
    object.insert("public".into(), Value::String("yes".into()));
    object.remove("htmlPath");
    let mut errors = Vec::new();
    check(&doc, schema(&doc, "Trace"), &trace, "Trace", &mut errors);
    let text = errors.join("\n");
    assert!(text.contains("\"surprise\" is not in the schema"), "{text}");
    assert!(text.contains("Trace.public"), "{text}");
    assert!(text.contains("\"htmlPath\" is missing"), "{text}");
}

#[test]
fn score_v3_schema_lists_the_keys_of_each_field_group() {
    let doc = document();
    let v3_schema = schema(&doc, "ScoreV3");
    let core = required_names(v3_schema);
    let all = dto::ScoreV3Fields::parse(Some("details,subject,annotation")).expect("groups");
    for (full, on_trace) in [(true, true), (true, false), (false, true), (false, false)] {
        let bare = dto::score_v3(
            score_view(full, on_trace),
            PROJECT,
            dto::ScoreV3Fields::parse(None).expect("no groups"),
        );
        assert_eq!(keys(&bare), core, "v3 core keys");
        assert_conforms(&doc, "ScoreV3", &bare);
        let everything = dto::score_v3(score_view(full, on_trace), PROJECT, all);
        assert_eq!(keys(&everything), property_names(v3_schema), "v3 keys");
        assert_conforms(&doc, "ScoreV3", &everything);
    }
    for group in ["details", "subject", "annotation"] {
        let fields = dto::ScoreV3Fields::parse(Some(group)).expect("a known group");
        let produced = keys(&dto::score_v3(score_view(true, true), PROJECT, fields));
        let documented = group_properties(v3_schema, group);
        assert!(!documented.is_empty(), "no property of group {group}");
        let expected: BTreeSet<String> = core.union(&documented).cloned().collect();
        assert_eq!(produced, expected, "v3 field group {group:?}");
    }
}

#[test]
fn read_rs_scanner_follows_loops_and_closures() {
    assert_eq!(
        leading_literals(r#"[("valueMin", ">="), ("valueMax", "<=")]"#, 0),
        vec!["valueMin", "valueMax"]
    );
    assert_eq!(leading_literals(r#"["a", "b"]"#, 0), vec!["a", "b"]);
    let body = r#"
        let mut any_of = |parameter: &str, column: &str| {
            let values = params.all(parameter);
        };
        any_of("id", "id");
        any_of("experimentId", "datasetRunId");
        for (parameter, operator) in [("valueMin", ">="), ("valueMax", "<=")] {
            params.parsed(parameter, parse, "a number");
        }
    "#;
    let mut bound = literals_bound_to(body, "parameter").expect("bound names");
    bound.sort();
    assert_eq!(bound, vec!["experimentId", "id", "valueMax", "valueMin"]);
    assert!(literals_bound_to(body, "unknown").is_none());
    assert_eq!(
        join_method_chains("let t = params\n        .get(\"token\");"),
        "let t = params.get(\"token\");"
    );
}

// --- the document against the running app ------------------------------------------------------

/// `path` with each `{…}` segment replaced by an id the seed stored (`seeded` holds the ids
/// the server chose: the score config, the queue, its item and the comment), or unknown ones.
fn concrete_path(path: &str, seeded: &Seeded) -> String {
    let id = match path {
        "/api/public/score-configs/{id}" => seeded.score_config_id.as_str(),
        "/api/public/traces/{id}" => "trace-1",
        "/api/public/observations/{id}" => "obs-1",
        "/api/public/scores/{id}" | "/api/public/v2/scores/{id}" => "score-1",
        "/api/public/sessions/{id}" => "session-1",
        "/api/public/models/{id}" => "openai-gpt-4o",
        "/api/public/dataset-items/{id}" => "item-1",
        _ => "unknown-id",
    };
    path.replace("{id}", id)
        // The administration routes change and delete `p2`; the others read `p1`.
        .replace("{projectId}", "p2")
        .replace("{apiKeyId}", "unknown-id")
        .replace("{project}", "p1")
        .replace("{name}", "greeting")
        .replace("{version}", "1")
        .replace("{run}", "run-1")
        .replace("{queueId}", &seeded.queue_id)
        .replace("{itemId}", &seeded.item_id)
        .replace("{commentId}", &seeded.comment_id)
}

/// The ids the server chose for what the seed created.
struct Seeded {
    score_config_id: String,
    queue_id: String,
    item_id: String,
    comment_id: String,
}

/// The documented JSON example of an operation's request body, else `{}`.
fn example_body(operation: &Value) -> Value {
    match &operation["requestBody"]["content"]["application/json"]["example"] {
        Value::Null => json!({}),
        example => example.clone(),
    }
}

fn security_schemes(doc: &Value, operation: &Value) -> BTreeSet<String> {
    let requirements = operation
        .get("security")
        .unwrap_or(&doc["security"])
        .as_array()
        .expect("security requirements");
    requirements.iter().flat_map(keys).collect()
}

async fn request(
    app: &support::TestApp,
    method: &str,
    path: &str,
    authorization: Option<String>,
    body: &Value,
) -> support::Response {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("a method");
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    app.send(
        builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request"),
    )
    .await
}

/// Checks a response against the operation's documented responses: a documented status, and a
/// body matching the documented JSON schema of that status.
fn check_response(doc: &Value, label: &str, operation: &Value, response: &support::Response) {
    let status = response.status.as_u16().to_string();
    let documented = operation["responses"]
        .get(&status)
        .map(|documented| resolve(doc, documented))
        .unwrap_or_else(|| {
            panic!(
                "{label}: status {status} is not documented; body: {}",
                String::from_utf8_lossy(&response.body)
            )
        });
    if let Some(schema) = documented["content"]["application/json"].get("schema") {
        let body = response.json();
        let mut errors = Vec::new();
        check(doc, schema, &body, label, &mut errors);
        assert!(
            errors.is_empty(),
            "{label}: the {status} body does not match the documented schema:\n{}\n\n{body:#}",
            errors.join("\n")
        );
    }
    if let Some(headers) = documented["headers"].as_object() {
        for name in headers.keys() {
            assert!(
                response.headers.contains_key(name.as_str()),
                "{label}: documented header {name} is missing"
            );
        }
    }
}

/// The organization key of the organization of `p1` and `p2` that [`seed`] stores.
const ORGANIZATION_PK: &str = "pk-lf-openapi-org";
const ORGANIZATION_SK: &str = "sk-lf-openapi-org";

/// Stores the organization key, a trace with a generation and a score through the ingestion
/// API, a prompt, a dataset with an item and a run, a score config, an annotation queue with an
/// item, and a comment.
async fn seed(app: &support::TestApp) -> Seeded {
    let key = spindle_server::bootstrap::organization_api_key(
        &app.state.server_secret,
        "org",
        ORGANIZATION_PK,
        ORGANIZATION_SK,
        None,
        1,
    );
    app.store
        .insert_organization_api_key(&key)
        .await
        .expect("organization key");
    let response = app
        .post_json(
            "/api/public/ingestion",
            &json!({"batch": [
                {"id": "e1", "type": "trace-create", "timestamp": "2026-11-21T04:48:18.451Z",
                 "body": {"id": "trace-1", "name": "chat", "sessionId": "session-1",
                          "userId": "user-1", "tags": ["a"], "input": {"q": "hi"}}},
                {"id": "e2", "type": "generation-create", "timestamp": "2026-11-21T04:48:18.5Z",
                 "body": {"id": "obs-1", "traceId": "trace-1", "name": "llm", "model": "gpt-4o",
                          "usageDetails": {"input": 3, "output": 5},
                          "costDetails": {"input": 0.1}, "endTime": "2026-11-21T04:48:19Z"}},
                {"id": "e3", "type": "score-create", "timestamp": "2026-11-21T04:48:20Z",
                 "body": {"id": "score-1", "traceId": "trace-1", "observationId": "obs-1",
                          "name": "quality", "value": 0.9}},
            ]}),
        )
        .await;
    assert_eq!(response.status.as_u16(), 207);
    assert_eq!(response.json()["errors"], json!([]), "seed batch rejected");
    let prompt = app
        .post_json(
            "/api/public/v2/prompts",
            &json!({"name": "greeting", "prompt": "Hi {{name}}", "labels": ["production"]}),
        )
        .await;
    assert_eq!(prompt.status.as_u16(), 201, "seed prompt rejected");
    for (path, body) in [
        ("/api/public/v2/datasets", json!({"name": "greeting"})),
        (
            "/api/public/dataset-items",
            json!({"datasetName": "greeting", "id": "item-1", "input": "hi"}),
        ),
        (
            "/api/public/dataset-run-items",
            json!({"runName": "run-1", "datasetItemId": "item-1", "traceId": "trace-1"}),
        ),
    ] {
        let response = app.post_json(path, &body).await;
        assert_eq!(response.status.as_u16(), 200, "seed {path} rejected");
    }
    let config = app
        .post_json(
            "/api/public/score-configs",
            &json!({"name": "quality", "dataType": "NUMERIC"}),
        )
        .await;
    assert_eq!(config.status.as_u16(), 200, "seed score config rejected");
    let score_config_id = config.json()["id"].as_str().expect("config id").to_owned();
    let created_id = |response: support::Response, what: &str| {
        assert_eq!(response.status.as_u16(), 200, "seed {what} rejected");
        response.json()["id"].as_str().expect("an id").to_owned()
    };
    let queue = app
        .post_json(
            "/api/public/annotation-queues",
            &json!({"name": "seeded", "scoreConfigIds": [score_config_id]}),
        )
        .await;
    let queue_id = created_id(queue, "queue");
    let item = app
        .post_json(
            &format!("/api/public/annotation-queues/{queue_id}/items"),
            &json!({"objectId": "trace-1", "objectType": "TRACE"}),
        )
        .await;
    let item_id = created_id(item, "queue item");
    let comment = app
        .post_json(
            "/api/public/comments",
            &json!({"projectId": "p1", "objectType": "TRACE", "objectId": "trace-1",
                    "content": "seeded"}),
        )
        .await;
    let comment_id = created_id(comment, "comment");
    Seeded {
        score_config_id,
        queue_id,
        item_id,
        comment_id,
    }
}

#[tokio::test]
async fn every_operation_answers_as_documented() {
    let doc = document();
    let app = support::app().await;
    let seeded = seed(&app).await;
    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if HTTP_METHODS.contains(&method.as_str()) {
                operations.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    // Reads first, deletions last, so every read sees the seeded data.
    let rank = |method: &str| match method {
        "get" => 0,
        "delete" => 2,
        _ => 1,
    };
    operations.sort_by_key(|(path, method, _)| (rank(method), path.clone()));
    // Undocumented methods get 405; unknown paths under /api/public get a 404 `Error`.
    for (path, methods) in documented_methods(&doc) {
        let other = ["patch", "put", "delete", "post"]
            .into_iter()
            .find(|method| !methods.contains(*method))
            .expect("some method is not documented");
        let response = request(
            &app,
            other,
            &concrete_path(&path, &seeded),
            Some(basic(PK1, SK1)),
            &json!({}),
        )
        .await;
        assert_eq!(response.status.as_u16(), 405, "{other} {path}");
    }
    let unknown = request(
        &app,
        "get",
        "/api/public/nope",
        Some(basic(PK1, SK1)),
        &json!({}),
    )
    .await;
    assert_eq!(unknown.status.as_u16(), 404);
    let mut errors = Vec::new();
    check(
        &doc,
        schema(&doc, "Error"),
        &unknown.json(),
        "404",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    for (path, method, operation) in &operations {
        let url = concrete_path(path, &seeded);
        let label = format!("{} {url}", method.to_uppercase());
        let schemes = security_schemes(&doc, operation);
        let body = example_body(operation);

        // Without credentials: 401 exactly where authentication is documented.
        let anonymous = request(&app, method, &url, None, &body).await;
        if schemes.is_empty() {
            assert_ne!(
                anonymous.status.as_u16(),
                401,
                "{label}: documented as open"
            );
        } else {
            assert_eq!(
                anonymous.status.as_u16(),
                401,
                "{label} without credentials"
            );
            check_response(&doc, &label, operation, &anonymous);
        }
        // A public key alone: accepted where bearerAuth is documented, else 403.
        if !schemes.is_empty() {
            let bearer = request(&app, method, &url, Some(format!("Bearer {PK1}")), &body).await;
            if schemes.contains("bearerAuth") {
                assert!(
                    ![401, 403].contains(&bearer.status.as_u16()),
                    "{label}: documented as open to a public key alone, got {}",
                    bearer.status
                );
            } else {
                assert_eq!(
                    bearer.status.as_u16(),
                    403,
                    "{label} with a public key alone"
                );
            }
            check_response(&doc, &label, operation, &bearer);
        }
        // With the key pair (of the organization for the administration routes, where a
        // project key gets 403): a documented status and body.
        let administration = operation["tags"][0] == "Administration";
        let credentials = if administration {
            let refused = request(&app, method, &url, Some(basic(PK1, SK1)), &body).await;
            assert_eq!(refused.status.as_u16(), 403, "{label} with a project key");
            check_response(&doc, &label, operation, &refused);
            basic(ORGANIZATION_PK, ORGANIZATION_SK)
        } else {
            basic(PK1, SK1)
        };
        let response = request(&app, method, &url, Some(credentials), &body).await;
        check_response(&doc, &label, operation, &response);
        if path == "/api/public/ingestion" {
            assert_eq!(
                response.json()["errors"],
                json!([]),
                "{label}: the example is valid"
            );
        }
        if path == "/api/public/openapi.json" {
            assert_eq!(response.json(), doc, "the served document is openapi.json");
        }
        // A read succeeds, unless it needs query parameters only a client knows (ids).
        let needs_query = operation["parameters"].as_array().is_some_and(|list| {
            list.iter()
                .any(|p| p["in"] == "query" && p["required"] == true)
        });
        if method == "get"
            && !needs_query
            && !path.contains("/media")
            && path.starts_with("/api/public/")
        {
            assert!(
                response.status.is_success(),
                "{label}: {} {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
    }
}

#[test]
fn every_example_matches_its_schema() {
    let doc = document();
    let mut examples = Vec::new();
    walk(&doc, String::new(), &mut |path, value| {
        if let (Some(example), Some(schema)) = (value.get("example"), value.get("schema")) {
            examples.push((path.to_owned(), example.clone(), schema.clone()));
        }
    });
    assert!(
        examples.len() >= 10,
        "only {} examples found",
        examples.len()
    );
    for (path, example, schema) in examples {
        let mut errors = Vec::new();
        check(&doc, &schema, &example, &path, &mut errors);
        assert!(
            errors.is_empty(),
            "the example at {path} does not match its schema:\n{}",
            errors.join("\n")
        );
    }
}
