//! Prompt management: fetching versioned prompts (cached, with a fallback), compiling them with
//! variables, creating versions and moving labels, as the official SDKs do it over the
//! `/api/public/v2/prompts` API.

mod api;
mod cache;
mod template;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub(crate) use api::PromptApi;
pub(crate) use cache::PromptCache;
use cache::{CacheKey, Selector};
pub use template::{ChatMessage, CompiledMessage, PromptMessage, Variables};

use crate::client::Client;
use crate::json;

/// The label fetched when neither a version nor a label is asked for.
pub const DEFAULT_PROMPT_LABEL: &str = "production";

/// Why a prompt operation failed.
///
/// ```
/// let error = spindle::PromptError::NotFound {
///     name: "support-answer".into(),
///     message: "Prompt not found".into(),
/// };
/// assert_eq!(error.to_string(), "prompt \"support-answer\" not found: Prompt not found");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The client is disabled (no keys, or tracing turned off), so it cannot reach a server.
    #[error("the client is disabled, prompts cannot be fetched")]
    Disabled,
    /// The call was awaited outside a tokio runtime, which the HTTP client needs.
    #[error("prompt calls must be awaited on a tokio runtime")]
    NoRuntime,
    /// No prompt has this name, or none of its versions has the version or label asked for.
    #[error("prompt {name:?} not found: {message}")]
    NotFound {
        /// The prompt's name.
        name: String,
        /// The server's explanation.
        message: String,
    },
    /// The server refused the request (bad input, wrong keys): retrying will not help.
    #[error("the server refused the request ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The server's explanation.
        message: String,
    },
    /// The server could not be reached or kept failing (connection, timeout, 5xx, 429).
    #[error("the server is unavailable: {reason}")]
    Unreachable {
        /// What went wrong on the last attempt.
        reason: String,
    },
    /// The server answered something that is not a prompt.
    #[error("unexpected answer from the server: {reason}")]
    InvalidResponse {
        /// What did not fit.
        reason: String,
    },
    /// A text prompt was used as a chat prompt, or the reverse.
    #[error("prompt {name:?} is a {actual} prompt, not a {expected} prompt")]
    WrongType {
        /// The prompt's name.
        name: String,
        /// The type asked for.
        expected: PromptType,
        /// The prompt's type.
        actual: PromptType,
    },
}

/// Whether a prompt is one text or a list of chat messages.
///
/// ```
/// assert_eq!(spindle::PromptType::Chat.to_string(), "chat");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PromptType {
    /// One text template.
    Text,
    /// A list of chat message templates and placeholders.
    Chat,
}

impl std::fmt::Display for PromptType {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Text => "text",
            Self::Chat => "chat",
        })
    }
}

/// A prompt's template: one text, or chat messages and placeholders.
///
/// ```
/// let template = spindle::PromptTemplate::Text("Hello {{name}}".into());
/// assert_eq!(template.prompt_type(), spindle::PromptType::Text);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PromptTemplate {
    /// A text prompt.
    Text(String),
    /// A chat prompt.
    Chat(Vec<PromptMessage>),
}

impl PromptTemplate {
    /// Text or chat.
    ///
    /// ```
    /// let template = spindle::PromptTemplate::Chat(vec![]);
    /// assert_eq!(template.prompt_type(), spindle::PromptType::Chat);
    /// ```
    pub fn prompt_type(&self) -> PromptType {
        match self {
            Self::Text(_) => PromptType::Text,
            Self::Chat(_) => PromptType::Chat,
        }
    }
}

/// A compiled prompt: the text, or the chat messages.
///
/// ```
/// let compiled = spindle::CompiledPrompt::Text("Hello Alice".into());
/// assert_eq!(serde_json::to_value(&compiled).unwrap(), "Hello Alice");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CompiledPrompt {
    /// A compiled text prompt.
    Text(String),
    /// Compiled chat messages.
    Chat(Vec<CompiledMessage>),
}

/// One version of a prompt, as fetched (or the fallback given for it).
///
/// ```
/// use spindle::{Prompt, PromptTemplate, Variables};
/// let prompt = Prompt::fallback("greeting", None, PromptTemplate::Text("Hi {{name}}".into()));
/// assert!(prompt.is_fallback);
/// assert_eq!(prompt.compile_text(&Variables::new().var("name", "Bo")).unwrap(), "Hi Bo");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Prompt {
    /// The server's id of this version (`None` for a fallback, or when the server sends none).
    pub id: Option<String>,
    /// The prompt's name (folders are `/`-separated).
    pub name: String,
    /// The version, from 1 (0 for a fallback).
    pub version: i64,
    /// The text or chat template.
    pub template: PromptTemplate,
    /// The version's config (model, temperature, anything), `{}` when none was given.
    pub config: Value,
    /// The labels this version holds.
    pub labels: Vec<String>,
    /// The prompt's tags.
    pub tags: Vec<String>,
    /// The version's commit message.
    pub commit_message: Option<String>,
    /// Whether this is the fallback given to [`GetPrompt::fallback`], returned because the
    /// prompt could not be fetched. A fallback is never linked to generations.
    pub is_fallback: bool,
}

impl Prompt {
    /// A fallback prompt: version 0, empty config, the label if one was asked for.
    ///
    /// ```
    /// let prompt = spindle::Prompt::fallback(
    ///     "greeting",
    ///     Some("staging"),
    ///     spindle::PromptTemplate::Text("Hi".into()),
    /// );
    /// assert_eq!(prompt.labels, vec!["staging"]);
    /// ```
    pub fn fallback(
        name: impl Into<String>,
        label: Option<&str>,
        template: PromptTemplate,
    ) -> Self {
        Self {
            id: None,
            name: name.into(),
            version: 0,
            template,
            config: Value::Object(serde_json::Map::new()),
            labels: label
                .map(|label| vec![label.to_owned()])
                .unwrap_or_default(),
            tags: Vec::new(),
            commit_message: None,
            is_fallback: true,
        }
    }

    #[cfg(test)]
    pub(crate) fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// Text or chat.
    ///
    /// ```
    /// let prompt = spindle::Prompt::fallback("p", None, spindle::PromptTemplate::Chat(vec![]));
    /// assert_eq!(prompt.prompt_type(), spindle::PromptType::Chat);
    /// ```
    pub fn prompt_type(&self) -> PromptType {
        self.template.prompt_type()
    }

    /// Fills the template: `{{variables}}` everywhere, placeholders of a chat prompt with their
    /// messages. Variables and placeholders without a value stay as written.
    ///
    /// ```
    /// use spindle::{CompiledPrompt, Prompt, PromptTemplate, Variables};
    /// let prompt = Prompt::fallback("p", None, PromptTemplate::Text("{{a}} {{b}}".into()));
    /// let compiled = prompt.compile(&Variables::new().var("a", 1));
    /// assert_eq!(compiled, CompiledPrompt::Text("1 {{b}}".into()));
    /// ```
    pub fn compile(&self, variables: &Variables) -> CompiledPrompt {
        match &self.template {
            PromptTemplate::Text(text) => {
                CompiledPrompt::Text(template::compile_template(text, &variables.values))
            }
            PromptTemplate::Chat(messages) => {
                CompiledPrompt::Chat(template::compile_chat(messages, variables))
            }
        }
    }

    /// Compiles a text prompt; a chat prompt is a [`PromptError::WrongType`].
    ///
    /// ```
    /// let prompt = spindle::Prompt::fallback("p", None, spindle::PromptTemplate::Chat(vec![]));
    /// assert!(prompt.compile_text(&spindle::Variables::new()).is_err());
    /// ```
    pub fn compile_text(&self, variables: &Variables) -> Result<String, PromptError> {
        match self.compile(variables) {
            CompiledPrompt::Text(text) => Ok(text),
            CompiledPrompt::Chat(_) => Err(self.wrong_type(PromptType::Text)),
        }
    }

    /// Compiles a chat prompt; a text prompt is a [`PromptError::WrongType`].
    ///
    /// ```
    /// use spindle::{ChatMessage, Prompt, PromptMessage, PromptTemplate, Variables};
    /// let prompt = Prompt::fallback(
    ///     "p",
    ///     None,
    ///     PromptTemplate::Chat(vec![
    ///         PromptMessage::message("system", "Answer as {{persona}}."),
    ///         PromptMessage::placeholder("history"),
    ///     ]),
    /// );
    /// let variables = Variables::new()
    ///     .var("persona", "a pirate")
    ///     .placeholder("history", vec![ChatMessage::new("user", "Ahoy?")]);
    /// let messages = prompt.compile_chat(&variables).unwrap();
    /// assert_eq!(messages[0].as_message().unwrap().content, "Answer as a pirate.");
    /// assert_eq!(messages[1].as_message().unwrap().content, "Ahoy?");
    /// ```
    pub fn compile_chat(&self, variables: &Variables) -> Result<Vec<CompiledMessage>, PromptError> {
        match self.compile(variables) {
            CompiledPrompt::Chat(messages) => Ok(messages),
            CompiledPrompt::Text(_) => Err(self.wrong_type(PromptType::Chat)),
        }
    }

    fn wrong_type(&self, expected: PromptType) -> PromptError {
        PromptError::WrongType {
            name: self.name.clone(),
            expected,
            actual: self.prompt_type(),
        }
    }

    /// The `{{variable}}` names of the template, in order (message contents of a chat prompt).
    ///
    /// ```
    /// let prompt = spindle::Prompt::fallback(
    ///     "p",
    ///     None,
    ///     spindle::PromptTemplate::Text("{{ a }} and {{b}}".into()),
    /// );
    /// assert_eq!(prompt.variables(), vec!["a", "b"]);
    /// ```
    pub fn variables(&self) -> Vec<String> {
        match &self.template {
            PromptTemplate::Text(text) => template::variable_names(text),
            PromptTemplate::Chat(messages) => messages
                .iter()
                .filter_map(|message| match message {
                    PromptMessage::Message(message) => Some(&message.content),
                    PromptMessage::Placeholder { .. } => None,
                })
                .flat_map(|content| template::variable_names(content))
                .collect(),
        }
    }
}

/// The prompt side of a client: its HTTP API and its cache.
pub(crate) struct Prompts {
    pub(crate) api: PromptApi,
    pub(crate) cache: Arc<PromptCache>,
    pub(crate) default_ttl: Duration,
}

/// A prompt fetch, configured with builder methods and run by awaiting it (see
/// [`Client::get_prompt`]).
///
/// ```no_run
/// # async fn example() -> Result<(), spindle::PromptError> {
/// let client = spindle::get_client();
/// let prompt = client
///     .get_prompt("support-answer")
///     .label("staging")
///     .cache_ttl(std::time::Duration::from_secs(300))
///     .fallback_text("Answer the question: {{question}}")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a prompt fetch does nothing until awaited"]
#[derive(Debug)]
pub struct GetPrompt<'a> {
    client: &'a Client,
    name: String,
    selector: Selector,
    cache_ttl: Option<Duration>,
    fallback: Option<PromptTemplate>,
    max_retries: u32,
    fetch_timeout: Option<Duration>,
}

impl<'a> GetPrompt<'a> {
    pub(crate) fn new(client: &'a Client, name: String) -> Self {
        Self {
            client,
            name,
            selector: Selector::Label(DEFAULT_PROMPT_LABEL.to_owned()),
            cache_ttl: None,
            fallback: None,
            max_retries: 2,
            fetch_timeout: None,
        }
    }

    setters! {
        /// Fetches this version (instead of a label).
        ///
        /// ```
        /// let client = spindle::Client::disabled();
        /// let _fetch = client.get_prompt("support-answer").version(3);
        /// ```
        version(version: i64) => selector = Selector::Version(version);

        /// Fetches the version holding this label (default `production`; `latest` is the newest).
        ///
        /// ```
        /// let client = spindle::Client::disabled();
        /// let _fetch = client.get_prompt("support-answer").label("latest");
        /// ```
        label(label: impl Into<String>) => selector = Selector::Label(label.into());

        /// Serves the fetched prompt from the cache for this long (the client's
        /// [`prompt_cache_ttl`](crate::ClientBuilder::prompt_cache_ttl) by default); zero fetches
        /// every time.
        ///
        /// ```
        /// let client = spindle::Client::disabled();
        /// let _fetch = client.get_prompt("p").cache_ttl(std::time::Duration::ZERO);
        /// ```
        cache_ttl(ttl: Duration) => cache_ttl = Some(ttl);
    }

    /// Returned (with [`Prompt::is_fallback`] set) when the prompt cannot be fetched and
    /// nothing is cached: a text template.
    ///
    /// ```
    /// let client = spindle::Client::disabled();
    /// let _fetch = client.get_prompt("p").fallback_text("Answer: {{question}}");
    /// ```
    pub fn fallback_text(self, text: impl Into<String>) -> Self {
        self.fallback(PromptTemplate::Text(text.into()))
    }

    /// Like [`fallback_text`](Self::fallback_text), with chat messages.
    ///
    /// ```
    /// use spindle::PromptMessage;
    /// let client = spindle::Client::disabled();
    /// let _fetch = client
    ///     .get_prompt("p")
    ///     .fallback_chat(vec![PromptMessage::message("system", "Be helpful.")]);
    /// ```
    pub fn fallback_chat(self, messages: Vec<PromptMessage>) -> Self {
        self.fallback(PromptTemplate::Chat(messages))
    }

    setters! {
        /// Like [`fallback_text`](Self::fallback_text), with any template.
        ///
        /// ```
        /// let client = spindle::Client::disabled();
        /// let _fetch = client.get_prompt("p").fallback(spindle::PromptTemplate::Text("Hi".into()));
        /// ```
        fallback(template: PromptTemplate) => fallback = Some(template);

        /// How often a fetch is retried after a connection error, timeout, 429 or 5xx (default 2,
        /// at most 4), waiting 100 ms before the first retry and doubling.
        ///
        /// ```
        /// let client = spindle::Client::disabled();
        /// let _fetch = client.get_prompt("p").max_retries(0);
        /// ```
        max_retries(max_retries: u32) => max_retries = max_retries.min(4);

        /// The timeout of one fetch attempt (the client's timeout by default).
        ///
        /// ```
        /// let client = spindle::Client::disabled();
        /// let _fetch = client.get_prompt("p").fetch_timeout(std::time::Duration::from_secs(1));
        /// ```
        fetch_timeout(timeout: Duration) => fetch_timeout = Some(timeout);
    }

    async fn run(self) -> Result<Prompt, PromptError> {
        let result = self.fetch_or_cached().await;
        match (result, self.fallback) {
            (Ok(prompt), _) => Ok(prompt),
            (Err(error), Some(template)) => {
                tracing::warn!(prompt = %self.name, %error, "prompt not fetched, using the fallback");
                let label = match &self.selector {
                    Selector::Label(label) => Some(label.as_str()),
                    Selector::Version(_) => None,
                };
                Ok(Prompt::fallback(self.name, label, template))
            }
            (Err(error), None) => Err(error),
        }
    }

    async fn fetch_or_cached(&self) -> Result<Prompt, PromptError> {
        let prompts = self.client.prompts()?;
        let ttl = self.cache_ttl.unwrap_or(prompts.default_ttl);
        let api = prompts.api.clone();
        let name = self.name.clone();
        let selector = self.selector.clone();
        let (max_retries, timeout) = (self.max_retries, self.fetch_timeout);
        let fetch = move |etag: Option<String>| {
            let (api, name, selector) = (api.clone(), name.clone(), selector.clone());
            async move {
                api.get(&name, &selector, max_retries, timeout, etag.as_deref())
                    .await
            }
        };
        if ttl.is_zero() {
            return api::expect_prompt(fetch(None).await);
        }
        let key = CacheKey {
            name: self.name.clone(),
            selector: self.selector.clone(),
        };
        let prompt = prompts.cache.get_or_fetch(key, ttl, fetch).await?;
        Ok(Prompt::clone(&prompt))
    }
}

impl<'a> IntoFuture for GetPrompt<'a> {
    type Output = Result<Prompt, PromptError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A new prompt version to create with [`Client::create_prompt`].
///
/// ```
/// use spindle::{CreatePrompt, PromptMessage};
/// let _text = CreatePrompt::text("support-answer", "Answer {{question}} briefly.")
///     .labels(["production"])
///     .tags(["support"])
///     .config(&serde_json::json!({"model": "gpt-4o", "temperature": 0.2}))
///     .commit_message("shorter answers");
/// let _chat = CreatePrompt::chat(
///     "support-chat",
///     vec![
///         PromptMessage::message("system", "You are {{persona}}."),
///         PromptMessage::placeholder("history"),
///     ],
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct CreatePrompt {
    pub(crate) name: String,
    pub(crate) template: PromptTemplate,
    pub(crate) config: Option<Value>,
    pub(crate) labels: Vec<String>,
    pub(crate) tags: Option<Vec<String>>,
    pub(crate) commit_message: Option<String>,
}

impl CreatePrompt {
    /// A text prompt version.
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::text("p", "Hello {{name}}");
    /// ```
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(name, PromptTemplate::Text(text.into()))
    }

    /// A chat prompt version.
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::chat(
    ///     "p",
    ///     vec![spindle::PromptMessage::message("user", "{{question}}")],
    /// );
    /// ```
    pub fn chat(name: impl Into<String>, messages: Vec<PromptMessage>) -> Self {
        Self::new(name, PromptTemplate::Chat(messages))
    }

    /// A version with any template.
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::new("p", spindle::PromptTemplate::Text("x".into()));
    /// ```
    pub fn new(name: impl Into<String>, template: PromptTemplate) -> Self {
        Self {
            name: name.into(),
            template,
            config: None,
            labels: Vec::new(),
            tags: None,
            commit_message: None,
        }
    }

    /// Labels for the new version (moved away from the versions holding them).
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::text("p", "x").labels(["production", "staging"]);
    /// ```
    pub fn labels<I: IntoIterator<Item = S>, S: Into<String>>(mut self, labels: I) -> Self {
        self.labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// The prompt's tags (they apply to every version).
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::text("p", "x").tags(["support"]);
    /// ```
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags = Some(tags.into_iter().map(Into::into).collect());
        self
    }

    /// The version's config: any JSON (a value that does not serialize is left out, with a
    /// warning).
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::text("p", "x").config(&serde_json::json!({"model": "m"}));
    /// ```
    pub fn config<T: Serialize + ?Sized>(mut self, config: &T) -> Self {
        if let Some(value) = json::json_value(config, "prompt config") {
            self.config = Some(value);
        }
        self
    }

    /// The version's commit message.
    ///
    /// ```
    /// let _create = spindle::CreatePrompt::text("p", "x").commit_message("first version");
    /// ```
    pub fn commit_message(mut self, message: impl Into<String>) -> Self {
        self.commit_message = Some(message.into());
        self
    }
}

impl Client {
    /// The prompt API and cache, usable from here: the client is enabled and a tokio runtime
    /// is current (the HTTP client would panic without one).
    pub(crate) fn prompts(&self) -> Result<&Prompts, PromptError> {
        let prompts = self
            .inner
            .as_ref()
            .and_then(|inner| inner.prompts.as_ref())
            .ok_or(PromptError::Disabled)?;
        tokio::runtime::Handle::try_current().map_err(|_| PromptError::NoRuntime)?;
        Ok(prompts)
    }

    /// Fetches a prompt: by default the version labelled `production`, served from the cache
    /// for 60 s, then refreshed in the background while the cached one is still returned.
    /// Await the returned [`GetPrompt`] after choosing a version, label, TTL or fallback.
    ///
    /// ```
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # runtime.block_on(async {
    /// let client = spindle::Client::disabled();
    /// let prompt = client
    ///     .get_prompt("support-answer")
    ///     .fallback_text("Answer {{question}}")
    ///     .await
    ///     .unwrap();
    /// assert!(prompt.is_fallback);
    /// let error = client.get_prompt("support-answer").await.unwrap_err();
    /// assert_eq!(error, spindle::PromptError::Disabled);
    /// # });
    /// ```
    pub fn get_prompt(&self, name: impl Into<String>) -> GetPrompt<'_> {
        GetPrompt::new(self, name.into())
    }

    /// Creates the next version of a prompt (version 1 for a new name); the newest version
    /// holds `latest`. The client's cached versions of that prompt are dropped.
    ///
    /// ```
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # runtime.block_on(async {
    /// let client = spindle::Client::disabled();
    /// let created = client.create_prompt(spindle::CreatePrompt::text("p", "Hi")).await;
    /// assert_eq!(created.unwrap_err(), spindle::PromptError::Disabled);
    /// # });
    /// ```
    pub async fn create_prompt(&self, prompt: CreatePrompt) -> Result<Prompt, PromptError> {
        let prompts = self.prompts()?;
        let created = prompts.api.create(&prompt).await;
        prompts.cache.invalidate(&prompt.name);
        created
    }

    /// Sets the labels of one version (each label moves away from the version holding it);
    /// returns that version. The client's cached versions of that prompt are dropped.
    ///
    /// ```
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # runtime.block_on(async {
    /// let client = spindle::Client::disabled();
    /// let updated = client.update_prompt_labels("p", 2, ["production"]).await;
    /// assert_eq!(updated.unwrap_err(), spindle::PromptError::Disabled);
    /// # });
    /// ```
    pub async fn update_prompt_labels<I, S>(
        &self,
        name: &str,
        version: i64,
        labels: I,
    ) -> Result<Prompt, PromptError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let labels: Vec<String> = labels.into_iter().map(Into::into).collect();
        let prompts = self.prompts()?;
        let updated = prompts.api.update_labels(name, version, &labels).await;
        prompts.cache.invalidate(name);
        updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_tokio_runtime_the_fallback_is_used_and_nothing_panics() {
        let client = Client::builder()
            .public_key("pk")
            .secret_key("sk")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let fallback = futures::executor::block_on(
            client
                .get_prompt("p")
                .fallback_text("offline {{x}}")
                .into_future(),
        )
        .unwrap();
        assert!(fallback.is_fallback);
        let error = futures::executor::block_on(client.get_prompt("p").into_future());
        assert_eq!(error.unwrap_err(), PromptError::NoRuntime);
        let created =
            futures::executor::block_on(client.create_prompt(CreatePrompt::text("p", "x")));
        assert_eq!(created.unwrap_err(), PromptError::NoRuntime);
        client.shutdown();
    }
}
