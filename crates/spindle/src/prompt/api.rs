//! HTTP calls of the prompt API (`/api/public/v2/prompts`): fetch with retries, create, update
//! labels; answers are mapped to [`Prompt`] and failures to [`PromptError`].

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::cache::{Fetched, Selector};
use super::{CreatePrompt, Prompt, PromptError, PromptMessage, PromptTemplate};
use crate::api::{Failure, PublicApi};

/// Wait before the first retry; doubled after each.
const INITIAL_RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// The prompt API of one server, with the client's credentials.
#[derive(Clone, Debug)]
pub(crate) struct PromptApi {
    api: PublicApi,
}

/// A prompt as the server sends it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePrompt {
    #[serde(rename = "type")]
    prompt_type: String,
    #[serde(default)]
    id: Option<String>,
    name: String,
    version: i64,
    prompt: Value,
    #[serde(default)]
    config: Value,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    commit_message: Option<String>,
}

impl WirePrompt {
    fn into_prompt(self) -> Result<Prompt, PromptError> {
        let template = match self.prompt_type.as_str() {
            "text" => match self.prompt {
                Value::String(text) => PromptTemplate::Text(text),
                _ => return Err(invalid("a text prompt's `prompt` is not a string")),
            },
            "chat" => PromptTemplate::Chat(
                serde_json::from_value::<Vec<PromptMessage>>(self.prompt)
                    .map_err(|error| invalid(&format!("chat messages: {error}")))?,
            ),
            other => return Err(invalid(&format!("unknown prompt type {other:?}"))),
        };
        Ok(Prompt {
            id: self.id,
            name: self.name,
            version: self.version,
            template,
            config: match self.config {
                Value::Null => Value::Object(Map::new()),
                config => config,
            },
            labels: self.labels,
            tags: self.tags,
            commit_message: self.commit_message,
            is_fallback: false,
        })
    }
}

fn invalid(reason: &str) -> PromptError {
    PromptError::InvalidResponse {
        reason: reason.to_owned(),
    }
}

/// A failed request for the prompt `name` told as a prompt error.
fn prompt_error(failure: Failure, name: &str) -> PromptError {
    match failure {
        Failure::NotFound { message } => PromptError::NotFound {
            name: name.to_owned(),
            message,
        },
        Failure::Unreachable { reason } => PromptError::Unreachable { reason },
        Failure::Rejected { status, message } => PromptError::Rejected { status, message },
    }
}

/// A request that got no answer, or whose answer broke off.
fn unreachable(error: reqwest::Error) -> PromptError {
    PromptError::Unreachable {
        reason: error.to_string(),
    }
}

/// The prompt of an unconditional request's answer.
pub(crate) fn expect_prompt(fetched: Result<Fetched, PromptError>) -> Result<Prompt, PromptError> {
    match fetched? {
        Fetched::Prompt { prompt, .. } => Ok(*prompt),
        Fetched::NotModified => Err(invalid("304 Not Modified to an unconditional request")),
    }
}

fn create_body(prompt: &CreatePrompt) -> Value {
    let mut body = Map::new();
    body.insert("name".into(), json!(prompt.name));
    match &prompt.template {
        PromptTemplate::Text(text) => {
            body.insert("type".into(), json!("text"));
            body.insert("prompt".into(), json!(text));
        }
        PromptTemplate::Chat(messages) => {
            body.insert("type".into(), json!("chat"));
            body.insert("prompt".into(), json!(messages));
        }
    }
    if let Some(config) = &prompt.config {
        body.insert("config".into(), config.clone());
    }
    body.insert("labels".into(), json!(prompt.labels));
    if let Some(tags) = &prompt.tags {
        body.insert("tags".into(), json!(tags));
    }
    if let Some(message) = &prompt.commit_message {
        body.insert("commitMessage".into(), json!(message));
    }
    Value::Object(body)
}

impl PromptApi {
    pub(crate) fn new(api: PublicApi) -> Self {
        Self { api }
    }

    /// `{base}/api/public/v2/prompts[/{name}[/versions/{version}]]`, the name as one encoded
    /// segment (so folder names keep their slashes).
    fn url(&self, name: Option<&str>, version: Option<i64>) -> Url {
        let version = version.map(|version| version.to_string());
        let mut segments = vec!["v2", "prompts"];
        segments.extend(name);
        if let Some(version) = &version {
            segments.extend(["versions", version.as_str()]);
        }
        self.api.url(&segments)
    }

    /// One request; a 2xx body is parsed as a prompt, a 304 is `NotModified`.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        timeout: Option<Duration>,
        if_none_match: Option<&str>,
        name: &str,
    ) -> Result<Fetched, PromptError> {
        let mut request = self.api.request(method, url);
        if let Some(etag) = if_none_match {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.map_err(unreachable)?;
        if status.is_success() {
            let wire: WirePrompt = serde_json::from_str(&text)
                .map_err(|error| invalid(&format!("not a prompt: {error}")))?;
            return Ok(Fetched::Prompt {
                prompt: Box::new(wire.into_prompt()?),
                etag,
            });
        }
        Err(prompt_error(Failure::of_answer(status, &text), name))
    }

    /// Fetches one version (conditionally, given the cached `ETag`), retrying connection
    /// errors, timeouts, 429 and 5xx.
    pub(crate) async fn get(
        &self,
        name: &str,
        selector: &Selector,
        max_retries: u32,
        timeout: Option<Duration>,
        if_none_match: Option<&str>,
    ) -> Result<Fetched, PromptError> {
        let mut url = self.url(Some(name), None);
        match selector {
            Selector::Version(version) => url
                .query_pairs_mut()
                .append_pair("version", &version.to_string()),
            Selector::Label(label) => url.query_pairs_mut().append_pair("label", label),
        };
        let mut backoff = INITIAL_RETRY_BACKOFF;
        let mut attempt = 0;
        loop {
            let result = self
                .send(Method::GET, url.clone(), None, timeout, if_none_match, name)
                .await;
            match result {
                Err(PromptError::Unreachable { reason }) if attempt < max_retries => {
                    tracing::debug!(prompt = %name, %reason, attempt, "prompt fetch failed, retrying");
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                result => return result,
            }
        }
    }

    pub(crate) async fn create(&self, prompt: &CreatePrompt) -> Result<Prompt, PromptError> {
        let body = create_body(prompt);
        let url = self.url(None, None);
        expect_prompt(
            self.send(Method::POST, url, Some(&body), None, None, &prompt.name)
                .await,
        )
    }

    pub(crate) async fn update_labels(
        &self,
        name: &str,
        version: i64,
        labels: &[String],
    ) -> Result<Prompt, PromptError> {
        let body = json!({ "newLabels": labels });
        let url = self.url(Some(name), Some(version));
        expect_prompt(
            self.send(Method::PATCH, url, Some(&body), None, None, name)
                .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(base_url: &str) -> PromptApi {
        let config = crate::ClientBuilder::new()
            .public_key("pk")
            .secret_key("sk")
            .base_url(base_url)
            .validate()
            .unwrap()
            .unwrap();
        PromptApi::new(PublicApi::new(&config).unwrap())
    }

    #[test]
    fn urls_encode_the_name_as_one_segment() {
        let api = api("http://localhost:3000/langfuse/");
        assert_eq!(
            api.url(Some("folder/sub prompt"), None).as_str(),
            "http://localhost:3000/langfuse/api/public/v2/prompts/folder%2Fsub%20prompt"
        );
        assert_eq!(
            api.url(Some("p"), Some(3)).as_str(),
            "http://localhost:3000/langfuse/api/public/v2/prompts/p/versions/3"
        );
        assert_eq!(
            api.url(None, None).as_str(),
            "http://localhost:3000/langfuse/api/public/v2/prompts"
        );
    }

    #[test]
    fn wire_prompts_become_typed_prompts() {
        let text: WirePrompt = serde_json::from_value(json!({
            "type": "text", "name": "t", "version": 2, "prompt": "Hi {{name}}",
            "config": null, "labels": ["production", "latest"], "tags": ["a"],
            "commitMessage": "second", "resolutionGraph": null
        }))
        .unwrap();
        let text = text.into_prompt().unwrap();
        assert_eq!(text.template, PromptTemplate::Text("Hi {{name}}".into()));
        assert_eq!(text.config, json!({}));
        assert_eq!(text.commit_message.as_deref(), Some("second"));
        assert!(!text.is_fallback);
        let chat: WirePrompt = serde_json::from_value(json!({
            "type": "chat", "name": "c", "version": 1, "config": {"model": "m"},
            "labels": [], "tags": [],
            "prompt": [{"role": "system", "content": "s"}, {"type": "placeholder", "name": "h"}]
        }))
        .unwrap();
        let chat = chat.into_prompt().unwrap();
        assert_eq!(
            chat.template,
            PromptTemplate::Chat(vec![
                PromptMessage::message("system", "s"),
                PromptMessage::placeholder("h")
            ])
        );
        let bad: WirePrompt = serde_json::from_value(json!({
            "type": "text", "name": "t", "version": 1, "prompt": ["not", "text"]
        }))
        .unwrap();
        assert!(matches!(
            bad.into_prompt(),
            Err(PromptError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn create_bodies_match_the_api() {
        let body = create_body(
            &CreatePrompt::chat("c", vec![PromptMessage::placeholder("h")])
                .labels(["production"])
                .tags(["t"])
                .config(&json!({"temperature": 0.1}))
                .commit_message("m"),
        );
        assert_eq!(
            body,
            json!({
                "name": "c", "type": "chat",
                "prompt": [{"type": "placeholder", "name": "h"}],
                "config": {"temperature": 0.1}, "labels": ["production"], "tags": ["t"],
                "commitMessage": "m"
            })
        );
        let body = create_body(&CreatePrompt::text("t", "x"));
        assert_eq!(
            body,
            json!({"name": "t", "type": "text", "prompt": "x", "labels": []})
        );
    }
}
