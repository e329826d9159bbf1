//! Langfuse batch ingestion (`POST /api/public/ingestion`): envelopes of create and update
//! events, parsed one by one so good events are kept and bad ones reported (wire spec §4).

use crate::fields::{io_text, metadata_map, Fields};
use crate::score::{config_ids, config_of, parse_score, ParsedScore, PendingScore};
use crate::usage;
use serde_json::value::RawValue;
use serde_json::Value;
use spindle_core::merge::{tiebreak_of, Stamp};
use spindle_core::model::normalize_environment;
use spindle_core::score_config::ScoreConfig;
use spindle_core::time::{parse_iso, Micros};
use spindle_core::{Error, Level, ObservationRecord, ObservationType, TraceRecord, WriteBatch};
use std::collections::BTreeMap;

/// One rejected event of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct EventError {
    /// The envelope id, or `unknown` when it had none.
    pub id: String,
    pub status: u16,
    pub message: String,
}

/// What a batch request turned into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub batch: WriteBatch,
    /// Envelope ids of the accepted events, in request order.
    pub successes: Vec<String>,
    pub errors: Vec<EventError>,
    /// Scores that name a config, with their envelope ids: neither accepted nor rejected
    /// until [`Parsed::resolve_pending`] checks them against their configs.
    pub pending: Vec<(String, PendingScore)>,
}

impl Parsed {
    /// The distinct config ids the pending scores name.
    pub fn config_ids(&self) -> Vec<String> {
        config_ids(self.pending.iter().map(|(_, score)| score))
    }

    /// Checks each pending score against its config among `configs`: a valid one joins the
    /// batch and its event the successes, an invalid one is the event's error (400).
    pub fn resolve_pending(&mut self, configs: &[ScoreConfig]) {
        for (envelope_id, score) in std::mem::take(&mut self.pending) {
            let config = config_of(configs, &score.config_id);
            match score.resolve(config) {
                Ok(record) => {
                    self.batch.scores.push(record);
                    self.successes.push(envelope_id);
                }
                Err(error) => self.errors.push(EventError {
                    id: envelope_id,
                    status: 400,
                    message: error.message,
                }),
            }
        }
    }
}

/// Parses a whole request body. Fails as a whole only when the body is not JSON or has no
/// `batch` array; individual bad events land in [`Parsed::errors`].
pub fn parse(body: &[u8], fresh_id: &mut dyn FnMut() -> String) -> Result<Parsed, Error> {
    parse_allowing(body, &|_| true, fresh_id)
}

/// Like [`parse`], but events whose `type` fails `allowed` are refused with status 403
/// (a public key alone may only create scores).
pub fn parse_allowing(
    body: &[u8],
    allowed: &dyn Fn(&str) -> bool,
    fresh_id: &mut dyn FnMut() -> String,
) -> Result<Parsed, Error> {
    let events = batch_events(body)?;
    let mut parsed = Parsed::default();
    for (index, raw_event) in events.into_iter().enumerate() {
        let path = format!("batch[{index}]");
        // One event's tree at a time: the envelope was checked as JSON already.
        let event: Value = serde_json::from_str(raw_event.get())
            .map_err(|error| Error::invalid(&path, format!("invalid JSON: {error}")))?;
        let event = &event;
        let envelope_id = event
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        let event_type = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !allowed(event_type) {
            parsed.errors.push(EventError {
                id: envelope_id,
                status: 403,
                message: format!("{path}.type: {event_type:?} is not allowed with a public key alone; only score-create is"),
            });
            continue;
        }
        match parse_event(event, &path, fresh_id, &mut parsed.batch) {
            Ok(None) => parsed.successes.push(envelope_id),
            Ok(Some(score)) => parsed.pending.push((envelope_id, score)),
            Err(error) => parsed.errors.push(EventError {
                id: envelope_id,
                status: 400,
                message: error.message,
            }),
        }
    }
    Ok(parsed)
}

/// The request envelope, read without building a tree of the events: each stays a slice of
/// the body until it is parsed on its own.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    batch: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// The events of a batch body, as slices of it.
fn batch_events(body: &[u8]) -> Result<Vec<&RawValue>, Error> {
    // A struct also deserializes from an array: anything but an object is refused first.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => Error::invalid("body", "expected a JSON object"),
                Err(error) => Error::invalid("body", format!("invalid JSON: {error}")),
            },
        );
    }
    // JSON is UTF-8 throughout; the envelope's parse skips the fields it ignores without
    // checking their strings, so the whole body is checked here.
    let body = std::str::from_utf8(body).map_err(|error| {
        Error::invalid(
            "body",
            format!("invalid JSON: not UTF-8 at byte {}", error.valid_up_to()),
        )
    })?;
    let envelope: Envelope<'_> = serde_json::from_str(body).map_err(|error| {
        if error.classify() == serde_json::error::Category::Data {
            Error::invalid("body", "expected a JSON object")
        } else {
            Error::invalid("body", format!("invalid JSON: {error}"))
        }
    })?;
    let batch = envelope
        .batch
        .ok_or_else(|| Error::invalid("batch", "is required"))?;
    serde_json::from_str(batch.get()).map_err(|_| Error::invalid("batch", "expected an array"))
}

fn parse_event(
    event: &Value,
    path: &str,
    fresh_id: &mut dyn FnMut() -> String,
    out: &mut WriteBatch,
) -> Result<Option<PendingScore>, Error> {
    let Value::Object(envelope) = event else {
        return Err(Error::invalid(path, "expected an object"));
    };
    let envelope_fields = Fields::new(envelope, path);
    let event_type = envelope_fields.required("type", Fields::string)?;
    let timestamp_text = envelope_fields.required("timestamp", Fields::string)?;
    let timestamp = parse_iso(&timestamp_text).ok_or_else(|| {
        Error::invalid(
            envelope_fields.field("timestamp"),
            "not an ISO-8601 timestamp",
        )
    })?;
    let envelope_id = envelope_fields.string_lenient("id")?.unwrap_or_default();
    let body_path = format!("{path}.body");
    let body = match envelope.get("body") {
        Some(Value::Object(body)) => body,
        Some(_) => return Err(Error::invalid(&body_path, "expected an object")),
        None => return Err(Error::invalid(&body_path, "is required")),
    };
    let tiebreak = tiebreak_of(format!("{envelope_id}\u{0}{event_type}").as_bytes());
    let kind = EventKind::parse(&event_type).ok_or_else(|| {
        Error::invalid(
            envelope_fields.field("type"),
            format!(
                "unknown event type {:?}",
                event_type.chars().take(60).collect::<String>()
            ),
        )
    })?;
    let rank = if kind.is_update() {
        Stamp::RANK_UPDATE
    } else {
        Stamp::RANK_CREATE
    };
    let stamp = Stamp::explicit(timestamp, rank, tiebreak);
    let fields = Fields::new(body, &body_path);
    match kind {
        EventKind::Trace => out.traces.push(parse_trace(&fields, timestamp, stamp)?),
        EventKind::Observation {
            observation_type,
            update,
        } => {
            let (observation, trace) =
                parse_observation(&fields, observation_type, update, timestamp, stamp)?;
            out.observations.push(observation);
            out.traces.push(trace);
        }
        EventKind::Score => match parse_score(body, &body_path, timestamp, stamp, fresh_id)? {
            ParsedScore::Ready(score) => out.scores.push(score),
            ParsedScore::Pending(score) => return Ok(Some(score)),
        },
        EventKind::SdkLog => {}
        EventKind::DatasetRunItem => {
            return Err(Error::invalid(
                envelope_fields.field("type"),
                "dataset-run-item-create is not accepted on the public ingestion endpoint",
            ))
        }
    }
    Ok(None)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum EventKind {
    Trace,
    /// `observation_type` is `None` for legacy `observation-*` events (type in the body).
    Observation {
        observation_type: Option<ObservationType>,
        update: bool,
    },
    Score,
    SdkLog,
    DatasetRunItem,
}

impl EventKind {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "trace-create" => EventKind::Trace,
            "score-create" => EventKind::Score,
            "sdk-log" => EventKind::SdkLog,
            "dataset-run-item-create" => EventKind::DatasetRunItem,
            "observation-create" => EventKind::Observation {
                observation_type: None,
                update: false,
            },
            "observation-update" => EventKind::Observation {
                observation_type: None,
                update: true,
            },
            other => {
                let (type_name, action) = other.rsplit_once('-')?;
                let update = match action {
                    "create" => false,
                    "update" if matches!(type_name, "span" | "generation") => true,
                    _ => return None,
                };
                let observation_type = ObservationType::parse(type_name)?;
                EventKind::Observation {
                    observation_type: Some(observation_type),
                    update,
                }
            }
        })
    }

    fn is_update(self) -> bool {
        matches!(self, EventKind::Observation { update: true, .. })
    }
}

fn parse_trace(
    fields: &Fields<'_>,
    envelope_time: Micros,
    stamp: Stamp,
) -> Result<TraceRecord, Error> {
    let id = fields.required("id", Fields::id)?;
    let mut trace = TraceRecord::new(id);
    trace.name = fields.string("name")?;
    if let Some(name) = &trace.name {
        if name.chars().count() > 1000 {
            return Err(Error::invalid(
                fields.field("name"),
                "longer than 1000 characters",
            ));
        }
    }
    trace.external_id = fields.string("externalId")?;
    trace.input = io_text(fields.value("input"));
    trace.output = io_text(fields.value("output"));
    trace.session_id = fields.id("sessionId")?;
    trace.user_id = fields.string_lenient("userId")?;
    trace.release = fields.string_lenient("release")?;
    trace.version = fields.string_lenient("version")?;
    trace.public = fields.boolean("public")?;
    trace.tags = fields
        .string_array("tags")?
        .unwrap_or_default()
        .into_iter()
        .collect();
    trace.metadata = metadata_map(fields.value("metadata"));
    let environment = fields.string("environment")?;
    let explicit_timestamp = fields.timestamp("timestamp")?;
    trace.timestamp = explicit_timestamp;
    if environment.is_some() {
        trace.environment = Some(normalize_environment(environment.as_deref()));
    }
    trace.stamp_unstamped(stamp);
    // Defaults for what the body left out rank below any explicit value.
    let mut defaults = TraceRecord::new(trace.id.clone());
    defaults.timestamp = Some(envelope_time);
    defaults.environment = Some(normalize_environment(None));
    defaults.stamp_unstamped(stamp.implicit());
    trace.merge(defaults);
    Ok(trace)
}

fn parse_observation(
    fields: &Fields<'_>,
    event_type: Option<ObservationType>,
    update: bool,
    envelope_time: Micros,
    stamp: Stamp,
) -> Result<(ObservationRecord, TraceRecord), Error> {
    let id = fields.required("id", Fields::id)?;
    let mut observation = ObservationRecord::new(id);
    let body_type = match fields.string("type")? {
        Some(text) => Some(
            ObservationType::parse(&text)
                .ok_or_else(|| Error::invalid(fields.field("type"), "unknown observation type"))?,
        ),
        None => None,
    };
    observation.observation_type = event_type.or(body_type);
    // An update that names no type must not turn a generation back into a span.
    if update && event_type == Some(ObservationType::Span) && body_type.is_none() {
        observation.observation_type = None;
    }
    let trace_id = match fields.id("traceId")? {
        Some(trace_id) => trace_id,
        None => derived_trace_id(&observation.id),
    };
    observation.trace_id = Some(trace_id.clone());
    observation.name = fields.string("name")?;
    observation.parent_observation_id = fields.id("parentObservationId")?;
    observation.start_time = fields.timestamp("startTime")?;
    observation.end_time = fields.timestamp("endTime")?;
    observation.completion_start_time = fields.timestamp("completionStartTime")?;
    observation.input = io_text(fields.value("input"));
    observation.output = io_text(fields.value("output"));
    observation.metadata = metadata_map(fields.value("metadata"));
    observation.level = match fields.string("level")? {
        Some(text) => Some(Level::parse(&text).ok_or_else(|| {
            Error::invalid(
                fields.field("level"),
                "expected one of DEBUG, DEFAULT, WARNING, ERROR",
            )
        })?),
        None => None,
    };
    observation.status_message = fields.string_lenient("statusMessage")?;
    observation.version = fields.string_lenient("version")?;
    observation.model = fields.string("model")?;
    if let Some(parameters) = fields.object("modelParameters")? {
        observation.model_parameters = Some(Value::Object(parameters.clone()).to_string());
    }
    let (usage_details, usage_costs) = parse_usage(fields)?;
    observation.usage_details = usage_details;
    let mut cost_details = usage_costs;
    if let Some(costs) = fields.object("costDetails")? {
        let mut parsed = BTreeMap::new();
        for (key, value) in costs {
            if value.is_null() {
                continue;
            }
            let number = value.as_f64().filter(|v| *v >= 0.0).ok_or_else(|| {
                Error::invalid(
                    format!("{}.{key}", fields.field("costDetails")),
                    "expected a non-negative number",
                )
            })?;
            parsed.insert(key.clone(), number);
        }
        if !parsed.is_empty() {
            cost_details = Some(parsed);
        }
    }
    observation.cost_details = cost_details;
    observation.prompt_name = fields.string("promptName")?;
    observation.prompt_version = fields.integer("promptVersion")?;
    let environment = fields.string("environment")?;
    if environment.is_some() {
        observation.environment = Some(normalize_environment(environment.as_deref()));
    }
    observation.stamp_unstamped(stamp);

    let mut defaults = ObservationRecord::new(observation.id.clone());
    if !update {
        defaults.start_time = Some(envelope_time);
    }
    defaults.environment = Some(normalize_environment(None));
    defaults.stamp_unstamped(stamp.implicit());
    observation.merge(defaults);

    let first_seen = observation.start_time.unwrap_or(envelope_time);
    let mut trace = TraceRecord::shallow(trace_id, first_seen, stamp);
    if let Some(environment) = &observation.environment {
        let mut environment_patch = TraceRecord::new(trace.id.clone());
        environment_patch.environment = Some(environment.clone());
        environment_patch.stamp_unstamped(stamp.implicit());
        trace.merge(environment_patch);
    }
    Ok((observation, trace))
}

/// A stable trace id for an observation sent without one, so retries land in one trace.
fn derived_trace_id(observation_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("spindle-orphan:{observation_id}").as_bytes());
    hex::encode(&digest[..16])
}

type UsageAndCost = (Option<BTreeMap<String, i64>>, Option<BTreeMap<String, f64>>);

/// `usageDetails` (a map or a provider object) or the legacy `usage` object
/// (`{input, output, total, unit, inputCost, outputCost, totalCost}` or
/// `{promptTokens, completionTokens, totalTokens}`).
fn parse_usage(fields: &Fields<'_>) -> Result<UsageAndCost, Error> {
    if let Some(details) = fields.object("usageDetails")? {
        let map = usage::from_json_map(details);
        return Ok(((!map.is_empty()).then_some(map), None));
    }
    let Some(legacy) = fields.object("usage")? else {
        return Ok((None, None));
    };
    let legacy_fields = Fields::new(legacy, "");
    let mut usage_map = BTreeMap::new();
    for (key, target) in [
        ("input", "input"),
        ("output", "output"),
        ("total", "total"),
        ("promptTokens", "input"),
        ("completionTokens", "output"),
        ("totalTokens", "total"),
    ] {
        if let Some(number) = legacy.get(key).and_then(Value::as_f64) {
            if number >= 0.0 {
                usage_map.insert(target.to_owned(), number.round() as i64);
            }
        }
    }
    if usage_map.is_empty() {
        let flattened = usage::from_json_map(legacy);
        usage_map = flattened
            .into_iter()
            .filter(|(key, _)| key != "unit")
            .collect();
    }
    let usage_map = usage::with_total(usage_map);
    let mut costs = BTreeMap::new();
    for (key, target) in [
        ("inputCost", "input"),
        ("outputCost", "output"),
        ("totalCost", "total"),
    ] {
        if let Some(number) = legacy_fields.value(key).and_then(Value::as_f64) {
            if number >= 0.0 {
                costs.insert(target.to_owned(), number);
            }
        }
    }
    Ok((
        (!usage_map.is_empty()).then_some(usage_map),
        (!costs.is_empty()).then_some(costs),
    ))
}

#[cfg(test)]
mod tests;
