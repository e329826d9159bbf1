//! The smaller bodies of the public API: a media registration (`POST /api/public/media`), its
//! upload report (`PATCH /api/public/media/{mediaId}`) and a bulk trace deletion
//! (`DELETE /api/public/traces` `{traceIds}`). Errors name the field.

use crate::fields::Fields;
use base64::Engine;
use serde_json::Value;
use spindle_core::dataset::ITEM_MEDIA_FIELDS;
use spindle_core::time::{parse_iso, Micros};
use spindle_core::Error;

/// Trace ids a bulk deletion names at most.
pub const MAX_DELETED_TRACES: usize = 1000;

/// A media registration.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMediaBody {
    /// The base64 SHA-256 of the content (32 bytes).
    pub sha256_hash: String,
    pub content_type: String,
    /// Not negative; the caller checks it against its body limit.
    pub content_length: i64,
    pub trace_id: Option<String>,
    pub observation_id: Option<String>,
    pub field: Option<String>,
    /// The dataset item the media is for, instead of a trace.
    pub dataset_item: Option<MediaItem>,
}

/// The dataset item of a media registration (`datasetId`, `datasetItemId`) and the item's
/// field it is in (one of [`ITEM_MEDIA_FIELDS`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaItem {
    pub dataset_id: String,
    pub dataset_item_id: String,
    pub field: String,
}

/// An upload report: when (the caller's clock when absent) and the upload's HTTP status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediaUploadReport {
    pub uploaded_at: Option<Micros>,
    pub http_status: Option<i64>,
}

fn json(bytes: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(bytes)
        .map_err(|error| Error::invalid("body", format!("invalid JSON: {error}")))
}

/// Reads a media registration: `sha256Hash`, `contentType` and `contentLength` (required),
/// `traceId`, `observationId` and `field`, or `datasetId` and `datasetItemId` with the item's
/// `field` instead of a trace.
pub fn parse_media_body(bytes: &[u8]) -> Result<NewMediaBody, Error> {
    let value = json(bytes)?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let sha256_hash =
        text("sha256Hash").ok_or_else(|| Error::invalid("sha256Hash", "is required"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&sha256_hash)
        .map_err(|_| Error::invalid("sha256Hash", "expected the base64 SHA-256 of the content"))?;
    if decoded.len() != 32 {
        return Err(Error::invalid(
            "sha256Hash",
            "expected the base64 SHA-256 of the content",
        ));
    }
    let content_type =
        text("contentType").ok_or_else(|| Error::invalid("contentType", "is required"))?;
    let content_length = value
        .get("contentLength")
        .and_then(Value::as_i64)
        .filter(|length| *length >= 0)
        .ok_or_else(|| {
            Error::invalid(
                "contentLength",
                "is required and must be a non-negative integer",
            )
        })?;
    Ok(NewMediaBody {
        sha256_hash,
        content_type,
        content_length,
        dataset_item: dataset_item(&value)?,
        trace_id: text("traceId"),
        observation_id: text("observationId"),
        field: text("field"),
    })
}

/// The dataset item a media registration names (`datasetId` and `datasetItemId`, instead of
/// a trace), with its `field`: `None` for media of a trace or observation.
fn dataset_item(body: &Value) -> Result<Option<MediaItem>, Error> {
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    };
    let (dataset_id, item_id) = match (text("datasetId"), text("datasetItemId")) {
        (None, None) => return Ok(None),
        (Some(dataset_id), Some(item_id)) => (dataset_id, item_id),
        (None, Some(_)) => {
            return Err(Error::invalid(
                "datasetId",
                "is required with datasetItemId",
            ))
        }
        (Some(_), None) => {
            return Err(Error::invalid(
                "datasetItemId",
                "is required with datasetId",
            ))
        }
    };
    for key in ["traceId", "observationId"] {
        if text(key).is_some() {
            return Err(Error::invalid(
                key,
                "must be absent for media of a dataset item (name a trace or a dataset item)",
            ));
        }
    }
    let field = text("field")
        .filter(|field| ITEM_MEDIA_FIELDS.contains(field))
        .ok_or_else(|| {
            Error::invalid(
                "field",
                format!(
                    "must be one of {} for media of a dataset item",
                    ITEM_MEDIA_FIELDS.join(", ")
                ),
            )
        })?;
    Ok(Some(MediaItem {
        dataset_id: dataset_id.to_owned(),
        dataset_item_id: item_id.to_owned(),
        field: field.to_owned(),
    }))
}

/// Reads an upload report: `uploadedAt` (an ISO-8601 timestamp, optional) and
/// `uploadHttpStatus`.
pub fn parse_media_patch_body(bytes: &[u8]) -> Result<MediaUploadReport, Error> {
    let value = json(bytes)?;
    let uploaded_at = match value.get("uploadedAt").and_then(Value::as_str) {
        Some(text) => Some(
            parse_iso(text)
                .ok_or_else(|| Error::invalid("uploadedAt", "not an ISO-8601 timestamp"))?,
        ),
        None => None,
    };
    Ok(MediaUploadReport {
        uploaded_at,
        http_status: value.get("uploadHttpStatus").and_then(Value::as_i64),
    })
}

/// Reads a bulk trace deletion: `traceIds`, 1 to [`MAX_DELETED_TRACES`] strings.
pub fn parse_trace_ids_body(bytes: &[u8]) -> Result<Vec<String>, Error> {
    let value = json(bytes)?;
    let object = value
        .as_object()
        .filter(|object| object.get("traceIds").is_some_and(Value::is_array))
        .ok_or_else(|| Error::invalid("traceIds", "is required and must be an array of strings"))?;
    let ids = Fields::new(object, "")
        .string_array("traceIds")?
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > MAX_DELETED_TRACES {
        return Err(Error::invalid(
            "traceIds",
            format!("must hold 1 to {MAX_DELETED_TRACES} ids"),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
        result.expect_err("an error").message
    }

    #[test]
    fn media_of_a_trace_or_of_a_dataset_item() {
        let body = format!(
            r#"{{"sha256Hash": "{HASH}", "contentType": "image/png", "contentLength": 3,
                "traceId": "t", "field": "input"}}"#
        );
        let media = parse_media_body(body.as_bytes()).expect("media of a trace");
        assert_eq!(
            (
                media.trace_id.as_deref(),
                media.content_length,
                media.dataset_item
            ),
            (Some("t"), 3, None)
        );
        let body = format!(
            r#"{{"sha256Hash": "{HASH}", "contentType": "image/png", "contentLength": 3,
                "datasetId": "d", "datasetItemId": "i", "field": "expectedOutput"}}"#
        );
        let item = parse_media_body(body.as_bytes())
            .expect("media of an item")
            .dataset_item
            .expect("its item");
        assert_eq!(
            (item.dataset_id.as_str(), item.field.as_str()),
            ("d", "expectedOutput")
        );
        assert_eq!(
            message(parse_media_body(br#"{"sha256Hash": "abc"}"#)),
            "sha256Hash: expected the base64 SHA-256 of the content"
        );
        let negative =
            format!(r#"{{"sha256Hash": "{HASH}", "contentType": "a/b", "contentLength": -1}}"#);
        assert!(message(parse_media_body(negative.as_bytes())).starts_with("contentLength:"));
        let both = format!(
            r#"{{"sha256Hash": "{HASH}", "contentType": "a/b", "contentLength": 1,
                "datasetId": "d", "datasetItemId": "i", "traceId": "t", "field": "input"}}"#
        );
        assert!(message(parse_media_body(both.as_bytes())).starts_with("traceId: must be absent"));
    }

    #[test]
    fn upload_reports_and_trace_ids() {
        let report = parse_media_patch_body(
            br#"{"uploadedAt": "2026-01-01T00:00:00Z", "uploadHttpStatus": 200}"#,
        )
        .expect("a report");
        assert_eq!(report.http_status, Some(200));
        assert!(report.uploaded_at.is_some());
        assert_eq!(
            message(parse_media_patch_body(br#"{"uploadedAt": "yesterday"}"#)),
            "uploadedAt: not an ISO-8601 timestamp"
        );
        assert_eq!(
            parse_trace_ids_body(br#"{"traceIds": ["a", "b"]}"#).expect("ids"),
            vec!["a", "b"]
        );
        assert_eq!(
            message(parse_trace_ids_body(br#"{"traceIds": ["a", 1]}"#)),
            "traceIds[1]: expected a string"
        );
        assert_eq!(
            message(parse_trace_ids_body(br#"{"traceIds": []}"#)),
            "traceIds: must hold 1 to 1000 ids"
        );
    }
}
