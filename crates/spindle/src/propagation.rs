//! `propagate_attributes`: trace-level attributes (user, session, tags, metadata, version, trace
//! name) written on the current observation and on every observation started in a scope, with
//! Python's validation, plus optional W3C baggage.

use std::future::Future;
use std::sync::Arc;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use spindle_semconv as semconv;

use crate::context::{self, Ctx, Instrumented};
use crate::json;
use crate::observation::{AttrValue, Attributes};

/// Whether `environment` is a valid tracing environment (`^(?!langfuse)[a-z0-9_-]+$`, ≤ 40).
pub(crate) fn is_valid_environment(environment: &str) -> bool {
    !environment.is_empty()
        && environment.len() <= 40
        && !environment.starts_with("langfuse")
        && environment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn validated(field: &'static str, value: String) -> Option<String> {
    if value.chars().count() > semconv::MAX_PROPAGATED_VALUE_LEN || !value.is_ascii() {
        tracing::warn!(
            field,
            "propagated value is not ascii of at most 200 characters, dropped"
        );
        return None;
    }
    Some(value)
}

/// Trace-level attributes to propagate; invalid values (non-ASCII or longer than 200
/// characters) are dropped with a warning, as in Python.
///
/// ```
/// let attributes = spindle::PropagatedAttributes::new()
///     .user_id("user-42")
///     .session_id("sess-7")
///     .tags(["t1", "t2"])
///     .metadata("tenant", "acme")
///     .version("app-v2")
///     .trace_name("my-trace-name");
/// spindle::propagate_attributes(attributes, || {
///     // every observation started here carries them
/// });
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use]
pub struct PropagatedAttributes {
    user_id: Option<String>,
    session_id: Option<String>,
    version: Option<String>,
    trace_name: Option<String>,
    tags: Vec<String>,
    metadata: Vec<(String, String)>,
    environment: Option<String>,
    prompt: Option<(String, i64)>,
    as_baggage: bool,
}

/// The merged attributes of the current scope.
pub(crate) type Propagated = PropagatedAttributes;

impl PropagatedAttributes {
    /// No attributes.
    ///
    /// ```
    /// let _attributes = spindle::PropagatedAttributes::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Sets the trace's user id (`user.id`).
        ///
        /// ```
        /// let _attributes = spindle::PropagatedAttributes::new().user_id("user_123");
        /// ```
        user_id(user_id: impl Into<String>) => user_id = validated("user_id", user_id.into());

        /// Sets the trace's session id (`session.id`).
        ///
        /// ```
        /// let _attributes = spindle::PropagatedAttributes::new().session_id("session_abc");
        /// ```
        session_id(session_id: impl Into<String>) => session_id = validated("session_id", session_id.into());

        /// Sets the version (`langfuse.version`).
        ///
        /// ```
        /// let _attributes = spindle::PropagatedAttributes::new().version("1.2.0");
        /// ```
        version(version: impl Into<String>) => version = validated("version", version.into());

        /// Sets the trace name (`langfuse.trace.name`).
        ///
        /// ```
        /// let _attributes = spindle::PropagatedAttributes::new().trace_name("support-query");
        /// ```
        trace_name(trace_name: impl Into<String>) => trace_name = validated("trace_name", trace_name.into());
    }

    /// Adds tags (`langfuse.trace.tags`); nested scopes add to the outer tags.
    ///
    /// ```
    /// let _attributes = spindle::PropagatedAttributes::new().tags(["support", "production"]);
    /// ```
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for tag in tags {
            if let Some(tag) = validated("tags", tag.into()) {
                if !self.tags.contains(&tag) {
                    self.tags.push(tag);
                }
            }
        }
        self
    }

    /// Adds one trace metadata entry (`langfuse.trace.metadata.<key>`, JSON-encoded as Python 5
    /// does).
    ///
    /// ```
    /// let _attributes = spindle::PropagatedAttributes::new().metadata("plan", "pro");
    /// ```
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        if let Some(value) = validated("metadata", value.into()) {
            match self
                .metadata
                .iter_mut()
                .find(|(existing, _)| *existing == key)
            {
                Some(slot) => slot.1 = value,
                None => self.metadata.push((key, value)),
            }
        }
        self
    }

    /// Sets the environment of the observations in scope (`langfuse.environment`); a value not
    /// matching `^(?!langfuse)[a-z0-9_-]+$` (at most 40 characters) is dropped with a warning.
    ///
    /// ```
    /// let _attributes = spindle::PropagatedAttributes::new().environment("prod-eu");
    /// ```
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        let environment = environment.into();
        if is_valid_environment(&environment) {
            self.environment = Some(environment);
        } else {
            tracing::warn!(environment, "invalid environment, dropped");
        }
        self
    }

    /// Links a prompt (name and version) to the observations in scope.
    ///
    /// ```
    /// let _attributes = spindle::PropagatedAttributes::new().prompt("my-prompt", 3);
    /// ```
    pub fn prompt(mut self, name: impl Into<String>, version: i64) -> Self {
        if let Some(name) = validated("prompt", name.into()) {
            self.prompt = Some((name, version));
        }
        self
    }

    /// Links a fetched prompt (name and version) to the observations in scope; a fallback
    /// prompt is not linked.
    ///
    /// ```
    /// let prompt = spindle::Prompt::fallback("p", None, spindle::PromptTemplate::Text("x".into()));
    /// let _attributes = spindle::PropagatedAttributes::new().linked_prompt(&prompt);
    /// ```
    pub fn linked_prompt(self, prompt: &crate::Prompt) -> Self {
        if prompt.is_fallback {
            return self;
        }
        self.prompt(prompt.name.clone(), prompt.version)
    }

    /// Also carries the attributes as W3C baggage (`langfuse_<key>` entries), readable with
    /// [`current_baggage`] for outgoing requests.
    ///
    /// ```
    /// let _attributes = spindle::PropagatedAttributes::new().user_id("u").as_baggage(true);
    /// ```
    pub fn as_baggage(mut self, as_baggage: bool) -> Self {
        self.as_baggage = as_baggage;
        self
    }

    /// Reads attributes from a W3C `baggage` header carrying `langfuse_*` entries.
    ///
    /// ```
    /// let attributes = spindle::PropagatedAttributes::from_baggage(
    ///     "langfuse_user_id=u1,langfuse_session_id=s1,langfuse_metadata_plan=pro,other=x",
    /// );
    /// assert_eq!(attributes, spindle::PropagatedAttributes::new()
    ///     .user_id("u1").session_id("s1").metadata("plan", "pro"));
    /// ```
    pub fn from_baggage(header: &str) -> Self {
        let mut attributes = Self::new();
        for member in header.split(',') {
            let entry = member.split(';').next().unwrap_or_default();
            let Some((key, value)) = entry.split_once('=') else {
                continue;
            };
            let value = percent_decode(value.trim());
            match key.trim() {
                "langfuse_user_id" => attributes = attributes.user_id(value),
                "langfuse_session_id" => attributes = attributes.session_id(value),
                "langfuse_version" => attributes = attributes.version(value),
                "langfuse_trace_name" => attributes = attributes.trace_name(value),
                "langfuse_tags" => {
                    attributes =
                        attributes.tags(value.split(',').map(str::to_owned).collect::<Vec<_>>())
                }
                other => {
                    if let Some(metadata_key) = other.strip_prefix("langfuse_metadata_") {
                        attributes = attributes.metadata(metadata_key, value);
                    }
                }
            }
        }
        attributes
    }

    fn merged_into(self, outer: Option<&Propagated>) -> Propagated {
        let Some(outer) = outer else {
            return self;
        };
        let mut merged = outer.clone();
        merged.user_id = self.user_id.or(merged.user_id);
        merged.session_id = self.session_id.or(merged.session_id);
        merged.version = self.version.or(merged.version);
        merged.trace_name = self.trace_name.or(merged.trace_name);
        merged.environment = self.environment.or(merged.environment);
        merged.prompt = self.prompt.or(merged.prompt);
        merged.as_baggage |= self.as_baggage;
        let tags = std::mem::take(&mut merged.tags);
        merged.tags = tags;
        merged = merged.tags(self.tags);
        for (key, value) in self.metadata {
            merged = merged.metadata(key, value);
        }
        merged
    }

    /// Writes the attributes the way Python 5 does.
    pub(crate) fn write_to(&self, attributes: &mut Attributes) {
        if let Some(user_id) = &self.user_id {
            attributes.set(semconv::TRACE_USER_ID, AttrValue::Str(user_id.clone()));
        }
        if let Some(session_id) = &self.session_id {
            attributes.set(
                semconv::TRACE_SESSION_ID,
                AttrValue::Str(session_id.clone()),
            );
        }
        for (key, value) in &self.metadata {
            if let Some(text) = json::compact_json(value) {
                attributes.set(
                    format!("{}.{key}", semconv::TRACE_METADATA),
                    AttrValue::Str(text),
                );
            }
        }
        if let Some(version) = &self.version {
            attributes.set(semconv::VERSION, AttrValue::Str(version.clone()));
        }
        if !self.tags.is_empty() {
            attributes.set(semconv::TRACE_TAGS, AttrValue::StrArray(self.tags.clone()));
        }
        if let Some(trace_name) = &self.trace_name {
            attributes.set(semconv::TRACE_NAME, AttrValue::Str(trace_name.clone()));
        }
        if let Some(environment) = &self.environment {
            attributes.set(semconv::ENVIRONMENT, AttrValue::Str(environment.clone()));
        }
        if let Some((name, version)) = &self.prompt {
            attributes.set(
                semconv::OBSERVATION_PROMPT_NAME,
                AttrValue::Str(name.clone()),
            );
            attributes.set(
                semconv::OBSERVATION_PROMPT_VERSION,
                AttrValue::Int(*version),
            );
        }
    }

    fn baggage(&self, trace_id: Option<String>) -> String {
        let mut members = Vec::new();
        let mut push =
            |key: String, value: &str| members.push(format!("{key}={}", percent_encode(value)));
        if let Some(user_id) = &self.user_id {
            push("langfuse_user_id".to_owned(), user_id);
        }
        if let Some(session_id) = &self.session_id {
            push("langfuse_session_id".to_owned(), session_id);
        }
        if let Some(version) = &self.version {
            push("langfuse_version".to_owned(), version);
        }
        if let Some(trace_name) = &self.trace_name {
            push("langfuse_trace_name".to_owned(), trace_name);
        }
        if !self.tags.is_empty() {
            push("langfuse_tags".to_owned(), &self.tags.join(","));
        }
        for (key, value) in &self.metadata {
            push(format!("langfuse_metadata_{key}"), value);
        }
        if let Some(trace_id) = trace_id {
            push("langfuse_trace_id".to_owned(), &trace_id);
        }
        members.join(",")
    }
}

/// What baggage values keep unescaped: letters, digits and `-_.~` (RFC 3986's unreserved).
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, ESCAPED).to_string()
}

/// Decodes `%XX` escapes; a `%` without two hex digits stays as it is.
fn percent_decode(value: &str) -> String {
    percent_decode_str(value).decode_utf8_lossy().into_owned()
}

/// Enters a scope with `attributes` merged into the current ones and returns the context.
fn enter_scope(attributes: PropagatedAttributes) -> Ctx {
    let current = context::current();
    let merged = attributes.merged_into(current.propagated.as_deref());
    if let Some(observation) = &current.observation {
        let mut written = Attributes::default();
        merged.write_to(&mut written);
        observation.apply(written);
    }
    Ctx {
        observation: current.observation,
        propagated: Some(Arc::new(merged)),
    }
}

/// Runs `body` with `attributes` propagated: they are written on the current observation now
/// and on every observation started inside. Nested calls merge (tags added, metadata merged).
///
/// ```
/// let attributes = spindle::PropagatedAttributes::new().user_id("user-42");
/// let value = spindle::propagate_attributes(attributes, || 7);
/// assert_eq!(value, 7);
/// ```
pub fn propagate_attributes<R>(attributes: PropagatedAttributes, body: impl FnOnce() -> R) -> R {
    let ctx = enter_scope(attributes);
    let _guard = context::enter(ctx);
    body()
}

/// Async form of [`propagate_attributes`]: the attributes apply on every poll of `future`.
///
/// ```
/// # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # runtime.block_on(async {
/// let attributes = spindle::PropagatedAttributes::new().session_id("sess-7");
/// let value = spindle::propagate_attributes_async(attributes, async { 7 }).await;
/// assert_eq!(value, 7);
/// # });
/// ```
pub async fn propagate_attributes_async<F: Future>(
    attributes: PropagatedAttributes,
    future: F,
) -> F::Output {
    let ctx = enter_scope(attributes);
    Instrumented::new(future, Some(ctx), false).await
}

/// The W3C `baggage` value of the current scope when it propagates as baggage
/// ([`PropagatedAttributes::as_baggage`]), including `langfuse_trace_id`.
///
/// ```
/// let attributes = spindle::PropagatedAttributes::new().user_id("u 1").as_baggage(true);
/// let baggage = spindle::propagate_attributes(attributes, spindle::current_baggage);
/// assert_eq!(baggage.as_deref(), Some("langfuse_user_id=u%201"));
/// ```
pub fn current_baggage() -> Option<String> {
    let current = context::current();
    let propagated = current.propagated?;
    if !propagated.as_baggage {
        return None;
    }
    let trace_id = current
        .observation
        .map(|observation| hex::encode(observation.trace_id));
    Some(propagated.baggage(trace_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_drops_long_and_non_ascii_values() {
        let attributes = PropagatedAttributes::new()
            .user_id("x".repeat(201))
            .session_id("é")
            .metadata("k", "ok");
        assert_eq!(attributes.user_id, None);
        assert_eq!(attributes.session_id, None);
        assert_eq!(attributes.metadata, vec![("k".to_owned(), "ok".to_owned())]);
        assert!(PropagatedAttributes::new()
            .user_id("x".repeat(200))
            .user_id
            .is_some());
    }

    #[test]
    fn nested_scopes_merge() {
        let outer = PropagatedAttributes::new()
            .tags(["t1", "t2"])
            .metadata("tenant", "acme")
            .user_id("u");
        let inner = PropagatedAttributes::new()
            .tags(["t3", "t1"])
            .metadata("extra", "1");
        let merged = inner.merged_into(Some(&outer));
        assert_eq!(merged.tags, vec!["t1", "t2", "t3"]);
        assert_eq!(merged.metadata.len(), 2);
        assert_eq!(merged.user_id.as_deref(), Some("u"));
    }

    #[test]
    fn environments() {
        assert!(is_valid_environment("prod-eu"));
        assert!(!is_valid_environment("langfuse-x"));
        assert!(!is_valid_environment("Prod"));
        assert!(!is_valid_environment(&"a".repeat(41)));
    }

    #[test]
    fn percent_round_trip() {
        assert_eq!(percent_decode(&percent_encode("a b,c=é")), "a b,c=é");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("100%2x%4"), "100%2x%4");
        assert_eq!(percent_encode("a-b_c.d~e f"), "a-b_c.d~e%20f");
    }
}
