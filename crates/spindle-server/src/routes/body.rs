//! Reading request bodies: size limits, gzip, and moving CPU-heavy parsing off the runtime.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use spindle_core::{Error, ErrorKind};

/// Now, for the handlers that stamp what they write.
pub use spindle_core::time::now_micros;

/// Reads the whole body (chunked or not), failing with 413 past `limit` bytes, and gunzips it
/// when `Content-Encoding: gzip` says so.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        Error::new(
            ErrorKind::PayloadTooLarge,
            format!("body: larger than the limit of {limit} bytes"),
        )
    };
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok())
    {
        if length > limit {
            return Err(too_large().into());
        }
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|error| {
        let is_limit = std::error::Error::source(&error)
            .map(|source| source.to_string().contains("length limit"))
            .unwrap_or(false)
            || error.to_string().contains("length limit");
        if is_limit {
            too_large()
        } else {
            Error::invalid("body", format!("could not read the request body: {error}"))
        }
    })?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(bytes.to_vec()),
        "gzip" | "x-gzip" => {
            blocking(move || spindle_ingest::compression::gunzip(&bytes, limit)).await
        }
        other => Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            format!("Content-Encoding: {other:?} is not supported; send gzip or no encoding"),
        )
        .into()),
    }
}

/// Runs CPU-heavy work (decompression, parsing) on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| {
            tracing::error!(%error, "parsing task failed");
            ApiError(Error::internal("parsing task failed"))
        })?
        .map_err(ApiError)
}

/// The request's content type, lower-cased (empty when absent).
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Fails unless the body is declared as JSON.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = content_type(headers);
    if content_type.is_empty() || content_type.contains("json") {
        Ok(())
    } else {
        Err(Error::invalid(
            "Content-Type",
            format!("Invalid content type: expected application/json, got {content_type:?}"),
        )
        .into())
    }
}

/// A fresh entity id.
pub fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
