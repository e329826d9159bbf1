//! The public API's HTTP client, shared by prompts and datasets: the client's credentials and
//! SDK headers on every request, URLs built from encoded path segments, and the server's
//! explanation taken from an error body.

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, USER_AGENT};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde_json::Value;
use spindle_semconv as semconv;

use crate::config::Config;

/// Longest server message kept in an error.
const MAX_MESSAGE_CHARS: usize = 500;

/// The `/api/public` endpoints of one server, with the client's credentials.
#[derive(Clone, Debug)]
pub(crate) struct PublicApi {
    http: reqwest::Client,
    base_url: Url,
}

impl PublicApi {
    /// `None` (logged) when the base URL cannot address the API or no HTTP client can be built.
    pub(crate) fn new(config: &Config) -> Option<Self> {
        let base_url = match Url::parse(&config.base_url) {
            Ok(url) if !url.cannot_be_a_base() => url,
            _ => {
                tracing::error!(base_url = %config.base_url, "base url not usable, the public api cannot be called");
                return None;
            }
        };
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", config.public_key, config.secret_key));
        let mut headers = HeaderMap::new();
        let values = [
            (AUTHORIZATION.as_str(), format!("Basic {credentials}")),
            (semconv::HEADER_SDK_NAME, crate::SDK_NAME.to_owned()),
            (semconv::HEADER_SDK_VERSION, crate::SDK_VERSION.to_owned()),
            (semconv::HEADER_PUBLIC_KEY, config.public_key.clone()),
            (
                USER_AGENT.as_str(),
                format!("spindle-rust/{}", crate::SDK_VERSION),
            ),
        ];
        for (name, value) in values {
            match HeaderValue::from_str(&value) {
                Ok(value) => {
                    headers.insert(name, value);
                }
                Err(_) => tracing::warn!(header = name, "header value not valid, header skipped"),
            }
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .build()
            .map_err(|error| tracing::error!(%error, "could not build the api http client"))
            .ok()?;
        Some(Self { http, base_url })
    }

    /// `{base}/api/public/{segments…}`, each segment encoded as one (so names keep their
    /// slashes).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "public"])
                .extend(segments);
        }
        url
    }

    /// A request with the client's headers.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.http.request(method, url)
    }
}

/// Why a public API request failed, before the prompt or dataset API tells it as its own error.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A 404: the thing asked for does not exist.
    NotFound { message: String },
    /// No answer, an answer that broke off, a 429 or a 5xx: worth retrying.
    Unreachable { reason: String },
    /// Any other refusal: retrying will not help.
    Rejected { status: u16, message: String },
}

impl Failure {
    /// The failure an error answer stands for, with the server's explanation from its body.
    pub(crate) fn of_answer(status: StatusCode, body: &str) -> Self {
        let message = error_message(body);
        if status == StatusCode::NOT_FOUND {
            Self::NotFound { message }
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Self::Unreachable {
                reason: format!("{status}: {message}"),
            }
        } else {
            Self::Rejected {
                status: status.as_u16(),
                message,
            }
        }
    }
}

/// The server's explanation from an error body (`message`, else `error`, else the text).
pub(crate) fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|value| {
        ["message", "error"]
            .iter()
            .find_map(|field| value.get(field).and_then(Value::as_str).map(str::to_owned))
    });
    let message = from_json.unwrap_or_else(|| body.trim().to_owned());
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_each_segment_as_one() {
        let config = crate::ClientBuilder::new()
            .public_key("pk")
            .secret_key("sk")
            .base_url("http://localhost:3000/langfuse/")
            .validate()
            .unwrap()
            .unwrap();
        let api = PublicApi::new(&config).unwrap();
        assert_eq!(
            api.url(&["v2", "datasets", "qa/capitals"]).as_str(),
            "http://localhost:3000/langfuse/api/public/v2/datasets/qa%2Fcapitals"
        );
        assert_eq!(
            api.url(&["dataset-items"]).as_str(),
            "http://localhost:3000/langfuse/api/public/dataset-items"
        );
    }

    #[test]
    fn error_messages_come_from_the_body() {
        assert_eq!(
            error_message(r#"{"error":"LangfuseNotFoundError","message":"Prompt not found"}"#),
            "Prompt not found"
        );
        assert_eq!(error_message(r#"{"error":"bad"}"#), "bad");
        assert_eq!(error_message(" plain text "), "plain text");
    }
}
