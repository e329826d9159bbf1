//! Media uploads as the SDKs do them (wire spec §3.6): register the media, `PUT` the bytes to
//! the returned URL, then `PATCH` the upload status. Blobs are kept by the store. Media of a
//! dataset item (registered with `datasetId`, `datasetItemId` and the item's `field` before the
//! item is created) is linked to the item.

use super::body::{now_micros, read_body};
use super::ingest::JsonRequest;
use crate::auth::FullAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use sha2::Digest;
use spindle_core::time::format_iso;
use spindle_core::Error;
use spindle_ingest::media::{parse_media_body, parse_media_patch_body};
use spindle_store::datasets::ItemMediaLink;
use spindle_store::secret::{constant_time_eq, ServerSecret};
use spindle_store::MediaRecord;

/// The media id Langfuse's SDKs expect: base64url of the SHA-256, first 22 characters.
pub fn media_id_from_hash(sha256_base64: &str) -> String {
    sha256_base64
        .replace('+', "-")
        .replace('/', "_")
        .chars()
        .take(22)
        .collect()
}

/// The largest media registration body.
const MAX_MEDIA_BODY: usize = 1 << 20;

/// `POST /api/public/media`
pub async fn create(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    request: JsonRequest,
) -> ApiResult<Json<Value>> {
    let media = request
        .parse(&state, &auth, MAX_MEDIA_BODY, parse_media_body)
        .await?;
    let content_length = media.content_length;
    if content_length as usize > state.limits.max_body_bytes {
        return Err(Error::invalid(
            "contentLength",
            format!(
                "larger than the limit of {} bytes",
                state.limits.max_body_bytes
            ),
        )
        .into());
    }
    let media_id = media_id_from_hash(&media.sha256_hash);
    let item_link = media.dataset_item.map(|item| ItemMediaLink {
        dataset_id: item.dataset_id,
        dataset_item_id: item.dataset_item_id,
        media_id: media_id.clone(),
        field: item.field,
    });
    if let Some(link) = &item_link {
        // Checks that the dataset is the project's before anything is stored.
        state
            .datasets
            .link_item_media(&auth.project_id, link)
            .await?;
    }
    let record = MediaRecord {
        id: media_id.clone(),
        project_id: auth.project_id.clone(),
        sha256_hash: media.sha256_hash,
        content_type: media.content_type,
        content_length,
        trace_id: media.trace_id,
        observation_id: media.observation_id,
        field: media.field,
        uploaded_at: None,
        upload_http_status: None,
        created_at: now_micros(),
    };
    let stored = state.store.upsert_media(&record).await?;
    let upload_url = if stored.uploaded_at.is_some() {
        Value::Null
    } else {
        Value::String(format!(
            "{}/api/public/media/{}/{}/upload",
            state.public_base_url, auth.project_id, media_id
        ))
    };
    Ok(Json(json!({"mediaId": media_id, "uploadUrl": upload_url})))
}

/// `PUT /api/public/media/{projectId}/{mediaId}/upload`: the upload URL handed out above.
/// Unauthenticated like a presigned URL; only bytes whose SHA-256 matches are accepted.
pub async fn upload(
    State(state): State<AppState>,
    Path((project_id, media_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let media = state
        .store
        .get_media(&project_id, &media_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("media {media_id:?}")))?;
    // Upload URLs need no key: uploads share one fair share per project.
    let mut ticket = state.admission.ticket(format!("media-upload:{project_id}"));
    let bytes = read_body(
        &headers,
        body,
        state.limits.max_body_bytes,
        &mut ticket,
        state.body_read_timeout,
    )
    .await?;
    let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    if digest != media.sha256_hash {
        return Err(
            Error::invalid("body", "content does not match the registered sha256Hash").into(),
        );
    }
    state
        .store
        .put_media_bytes(&project_id, &media_id, bytes, now_micros())
        .await?;
    Ok(StatusCode::OK)
}

/// `PATCH /api/public/media/{mediaId}`: the SDK reports how the upload went.
pub async fn patch(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(media_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let report = parse_media_patch_body(&body)?;
    let uploaded_at = report.uploaded_at.unwrap_or_else(now_micros);
    let status = report.http_status;
    if !state
        .store
        .mark_media_uploaded(&auth.project_id, &media_id, uploaded_at, status)
        .await?
    {
        return Err(Error::not_found(format!("media {media_id:?}")).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// How long a download URL handed out by `GET /api/public/media/{mediaId}` stays valid.
const DOWNLOAD_URL_SECONDS: i64 = 3600;

/// The token of a download URL: an HMAC under the server secret of the project, the media id,
/// the content's SHA-256 and the expiry. Without the secret nobody can make one, change its
/// expiry, or learn from one whether some content is stored.
fn download_token(secret: &ServerSecret, media: &MediaRecord, expires: i64) -> String {
    hex::encode(secret.mac(
        "media-download",
        &[
            media.project_id.as_bytes(),
            media.id.as_bytes(),
            media.sha256_hash.as_bytes(),
            expires.to_string().as_bytes(),
        ],
    ))
}

/// `GET /api/public/media/{mediaId}`: metadata and a download URL that works without
/// credentials until `urlExpiry`, like the presigned URLs the SDKs expect.
pub async fn get(
    State(state): State<AppState>,
    FullAuth(auth): FullAuth,
    Path(media_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let media = state
        .store
        .get_media(&auth.project_id, &media_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("media {media_id:?}")))?;
    let (url, url_expiry) = signed_download_url(&state, &media);
    Ok(Json(json!({
        "mediaId": media.id,
        "contentType": media.content_type,
        "contentLength": media.content_length,
        "uploadedAt": media.uploaded_at.map(format_iso),
        "url": url,
        "urlExpiry": url_expiry,
    })))
}

/// A download URL of `media` that works without credentials for the next
/// [`DOWNLOAD_URL_SECONDS`], and its expiry as ISO-8601.
pub fn signed_download_url(state: &AppState, media: &MediaRecord) -> (String, String) {
    let expires = now_micros() / 1_000_000 + DOWNLOAD_URL_SECONDS;
    let token = download_token(&state.server_secret, media, expires);
    let url = format!(
        "{}/api/public/media/{}/{}/download?expires={expires}&token={token}",
        state.public_base_url, media.project_id, media.id
    );
    (url, format_iso(expires * 1_000_000))
}

/// `GET /api/public/media/{projectId}/{mediaId}/download?expires=&token=`: the bytes.
pub async fn download(
    State(state): State<AppState>,
    Path((project_id, media_id)): Path<(String, String)>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Response> {
    let params = super::params::Params::parse(raw.as_deref())?;
    let expires = params
        .parsed("expires", |text| text.parse::<i64>().ok(), "a Unix time")?
        .ok_or_else(|| Error::invalid("expires", "is required"))?;
    let token = params
        .get("token")
        .ok_or_else(|| Error::invalid("token", "is required"))?;
    let denied = || {
        Error::new(
            spindle_core::ErrorKind::PermissionDenied,
            "this download URL is invalid or has expired",
        )
    };
    let media = state
        .store
        .get_media(&project_id, &media_id)
        .await?
        .ok_or_else(denied)?;
    let expected = download_token(&state.server_secret, &media, expires);
    if expires < now_micros() / 1_000_000
        || !constant_time_eq(expected.as_bytes(), token.as_bytes())
    {
        return Err(denied().into());
    }
    let bytes = state
        .store
        .get_media_bytes(&project_id, &media_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("content of media {media_id:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, media.content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_DISPOSITION, "attachment".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
