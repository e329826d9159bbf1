//! Reading request bodies: size limits, gzip, and moving CPU-heavy parsing off the runtime.

use crate::admission::Ticket;
use crate::auth::ProjectAuth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use futures::StreamExt;
use spindle_core::{Error, ErrorKind};
use std::time::Duration;

/// Now, for the handlers that stamp what they write.
pub use spindle_core::time::now_micros;

/// The declared `Content-Length`, when there is one.
pub fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<usize>().ok())
}

/// Reads the whole body (chunked or not) into one buffer, charging `ticket` for every byte as
/// it arrives; fails with 413 past `limit` bytes, with 408 when the body has not arrived by
/// `timeout`, and with 429 when the ticket cannot be charged. Gunzips it when
/// `Content-Encoding: gzip` says so, charging the decompressed bytes and giving back the
/// compressed ones.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    ticket: &mut Ticket,
    timeout: Duration,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        Error::new(
            ErrorKind::PayloadTooLarge,
            format!("body: larger than the limit of {limit} bytes"),
        )
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let gzip = match encoding.as_str() {
        "" | "identity" => false,
        "gzip" | "x-gzip" => true,
        other => {
            return Err(Error::new(
                ErrorKind::UnsupportedMediaType,
                format!("Content-Encoding: {other:?} is not supported; send gzip or no encoding"),
            )
            .into())
        }
    };
    let declared = content_length(headers);
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large().into());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    // With a declared length the buffer is reserved once the first bytes arrive (memory the
    // kernel hands out only as it is written, charged chunk by chunk); otherwise it doubles,
    // charged as it grows.
    let mut buffer: Vec<u8> = Vec::new();
    let mut charged = 0usize;
    let mut stream = body.into_data_stream();
    loop {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::RequestTimeout,
                    format!(
                        "body: not received within {} s ({} bytes arrived)",
                        timeout.as_secs(),
                        buffer.len()
                    ),
                )
            })?;
        let chunk = match next {
            None => break,
            Some(Ok(chunk)) => chunk,
            Some(Err(error)) => {
                return Err(Error::invalid(
                    "body",
                    format!("could not read the request body: {error}"),
                )
                .into())
            }
        };
        let needed = buffer.len() + chunk.len();
        if needed > limit {
            return Err(too_large().into());
        }
        if let Some(length) = declared {
            ticket.charge_bytes(chunk.len())?;
            charged += chunk.len();
            if buffer.capacity() == 0 {
                buffer.reserve_exact(length);
            }
        } else if needed > buffer.capacity() {
            let target = needed
                .max(buffer.capacity().saturating_mul(2))
                .max(64 * 1024)
                .min(limit);
            ticket.charge_bytes(target - charged)?;
            charged = target;
            buffer.reserve_exact(target - buffer.len());
        }
        buffer.extend_from_slice(&chunk);
    }
    if !gzip {
        return Ok(buffer);
    }
    let mut output_ticket = ticket.sibling();
    let (decompressed, output_ticket) = blocking(move || {
        let decompressed =
            spindle_ingest::compression::gunzip_charged(&buffer, limit, &mut |bytes| {
                output_ticket.charge_bytes(bytes)
            })?;
        Ok((decompressed, output_ticket))
    })
    .await?;
    ticket.release_bytes(charged);
    ticket.absorb(output_ticket);
    Ok(decompressed)
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

/// Reads the body of a public API request of `auth`'s key (at most `limit` bytes), charged
/// to the key's share of the byte budget like every other body.
pub async fn read_api_body(
    state: &AppState,
    auth: &ProjectAuth,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut ticket = state.admission.ticket(super::ingest::fairness_key(auth));
    read_body(headers, body, limit, &mut ticket, state.body_read_timeout).await
}

/// A fresh entity id.
pub fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
