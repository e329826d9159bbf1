//! HTTP delivery of one batch: encoding, gzip, headers, and retries with backoff honouring
//! `Retry-After` on 429, 502, 503, 504 and transport errors.

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use prost::Message as _;
use reqwest::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use spindle_semconv as semconv;

use super::otlp;
use crate::config::Config;

/// Longest wait the SDK accepts from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Longest backoff between two attempts when the server gives no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

pub(crate) struct HttpSender {
    http: reqwest::Client,
    traces_url: String,
    scores_url: String,
    gzip: bool,
    max_attempts: u32,
    initial_backoff: Duration,
    resource: otlp::Resource,
    scope: otlp::InstrumentationScope,
}

fn string_attribute(key: &str, value: &str) -> otlp::KeyValue {
    otlp::KeyValue {
        key: key.to_owned(),
        value: Some(otlp::AnyValue {
            value: Some(otlp::any_value::Value::StringValue(value.to_owned())),
        }),
    }
}

/// What one attempt came to.
enum Attempt {
    Done,
    Retry(Option<Duration>),
    GiveUp,
}

impl HttpSender {
    pub(crate) fn new(config: &Config) -> Option<Self> {
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", config.public_key, config.secret_key));
        let mut headers = HeaderMap::new();
        let mut insert = |name: &'static str, value: &str| match HeaderValue::from_str(value) {
            Ok(value) => {
                headers.insert(name, value);
            }
            Err(_) => tracing::warn!(header = name, "header value not valid, header skipped"),
        };
        insert(AUTHORIZATION.as_str(), &format!("Basic {credentials}"));
        insert(semconv::HEADER_SDK_NAME, crate::SDK_NAME);
        insert(semconv::HEADER_SDK_VERSION, crate::SDK_VERSION);
        insert(semconv::HEADER_PUBLIC_KEY, &config.public_key);
        insert(
            USER_AGENT.as_str(),
            &format!("spindle-rust/{}", crate::SDK_VERSION),
        );
        let http = match reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .build()
        {
            Ok(http) => http,
            Err(error) => {
                tracing::error!(%error, "could not build the http client, nothing will be sent");
                return None;
            }
        };
        let mut resource_attributes = vec![
            string_attribute(semconv::RESOURCE_SDK_LANGUAGE, "rust"),
            string_attribute(semconv::RESOURCE_SDK_NAME, "spindle"),
            string_attribute(semconv::RESOURCE_SDK_VERSION, crate::SDK_VERSION),
            string_attribute(semconv::RESOURCE_SERVICE_NAME, &config.service_name),
            string_attribute(
                semconv::RESOURCE_SERVICE_INSTANCE_ID,
                &crate::ids::new_trace_id(),
            ),
        ];
        if let Some(environment) = &config.environment {
            resource_attributes.push(string_attribute(semconv::ENVIRONMENT, environment));
        }
        if let Some(release) = &config.release {
            resource_attributes.push(string_attribute(semconv::RELEASE, release));
        }
        Some(Self {
            http,
            traces_url: format!("{}{}", config.base_url, semconv::OTEL_TRACES_PATH),
            scores_url: format!("{}{}", config.base_url, semconv::SCORES_PATH),
            gzip: config.gzip,
            max_attempts: config.max_attempts,
            initial_backoff: config.retry_initial_backoff,
            resource: otlp::Resource {
                attributes: resource_attributes,
                dropped_attributes_count: 0,
            },
            scope: otlp::InstrumentationScope {
                name: semconv::SCOPE_NAME.to_owned(),
                version: crate::SDK_VERSION.to_owned(),
                attributes: vec![string_attribute(
                    semconv::SCOPE_PUBLIC_KEY,
                    &config.public_key,
                )],
                dropped_attributes_count: 0,
            },
        })
    }

    /// Encodes one OTLP request; spans move in and out so no copy is made.
    pub(crate) fn encode_spans(&self, spans: Vec<otlp::Span>) -> Vec<u8> {
        let request = otlp::ExportTraceServiceRequest {
            resource_spans: vec![otlp::ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![otlp::ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        request.encode_to_vec()
    }

    pub(crate) async fn send_spans(&self, spans: Vec<otlp::Span>) {
        let span_count = spans.len();
        let mut body = self.encode_spans(spans);
        if self.gzip {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            let compressed = encoder.write_all(&body).and_then(|()| encoder.finish());
            match compressed {
                Ok(compressed) => body = compressed,
                Err(error) => {
                    tracing::warn!(%error, span_count, "gzip failed, batch dropped");
                    return;
                }
            }
        }
        let body = bytes_of(body);
        let gzip = self.gzip;
        self.send_with_retries("spans", span_count, || {
            let mut request = self
                .http
                .post(&self.traces_url)
                .header(CONTENT_TYPE, "application/x-protobuf")
                .header(
                    semconv::HEADER_INGESTION_VERSION,
                    semconv::INGESTION_VERSION,
                )
                .body(body.clone());
            if gzip {
                request = request.header(CONTENT_ENCODING, "gzip");
            }
            request
        })
        .await;
    }

    pub(crate) async fn send_scores(&self, scores: Vec<serde_json::Value>) {
        let score_count = scores.len();
        let body = match serde_json::to_vec(&scores) {
            Ok(body) => bytes_of(body),
            Err(error) => {
                tracing::warn!(%error, score_count, "scores not serializable, batch dropped");
                return;
            }
        };
        self.send_with_retries("scores", score_count, || {
            self.http
                .post(&self.scores_url)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await;
    }

    async fn send_with_retries(
        &self,
        what: &'static str,
        item_count: usize,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) {
        let mut backoff = self.initial_backoff;
        for attempt in 1..=self.max_attempts {
            let outcome = match request().send().await {
                Ok(response) => classify(
                    response.status().as_u16(),
                    response.headers().get(RETRY_AFTER),
                ),
                Err(error) => {
                    tracing::debug!(%error, what, attempt, "export attempt failed");
                    Attempt::Retry(None)
                }
            };
            match outcome {
                Attempt::Done => return,
                Attempt::GiveUp => {
                    tracing::error!(what, item_count, "server refused the batch, batch dropped");
                    return;
                }
                Attempt::Retry(retry_after) => {
                    if attempt == self.max_attempts {
                        break;
                    }
                    let delay = retry_after
                        .map(|d| d.min(MAX_RETRY_AFTER))
                        .unwrap_or(backoff);
                    tokio::time::sleep(delay).await;
                    backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
                }
            }
        }
        tracing::error!(
            what,
            item_count,
            attempts = self.max_attempts,
            "export failed after retries, batch dropped"
        );
    }
}

/// Wraps a body so that each retry clones a reference count, not the bytes.
fn bytes_of(body: Vec<u8>) -> bytes::Bytes {
    bytes::Bytes::from(body)
}

fn classify(status: u16, retry_after: Option<&HeaderValue>) -> Attempt {
    match status {
        200..=399 => Attempt::Done,
        429 | 502 | 503 | 504 => Attempt::Retry(
            retry_after
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.trim().parse::<f64>().ok())
                .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok()),
        ),
        _ => {
            tracing::error!(status, "export refused by the server");
            Attempt::GiveUp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: u16, retry_after: Option<&str>, expected: &str) {
        let header = retry_after.map(|value| HeaderValue::from_str(value).unwrap());
        let outcome = match classify(status, header.as_ref()) {
            Attempt::Done => "done".to_owned(),
            Attempt::GiveUp => "give up".to_owned(),
            Attempt::Retry(None) => "retry".to_owned(),
            Attempt::Retry(Some(delay)) => format!("retry after {}ms", delay.as_millis()),
        };
        assert_eq!(
            outcome, expected,
            "status {status}, retry-after {retry_after:?}"
        );
    }

    #[test]
    fn statuses_and_retry_after() {
        check(200, None, "done");
        check(202, None, "done");
        check(400, None, "give up");
        check(401, None, "give up");
        check(500, None, "give up");
        check(429, None, "retry");
        check(502, None, "retry");
        check(503, Some("2"), "retry after 2000ms");
        check(504, Some("0.5"), "retry after 500ms");
        check(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), "retry");
        check(503, Some("-1"), "retry");
    }
}
