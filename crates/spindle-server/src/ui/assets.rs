//! Serving the embedded bundle: hashed files under `/assets/` with a year-long cache, and
//! `index.html` (never cached) for every other `GET` path so the app can route itself.

use axum::extract::Path;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use spindle_core::Error;

use super::bundle::FILES;
use crate::error::ApiError;

/// A year: asset names carry a content hash, so a file never changes under its name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Scripts and styles come only from this server; data can never become script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn find(path: &str) -> Option<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .find(|(name, _, _)| *name == path)
        .map(|(_, content_type, bytes)| (*content_type, *bytes))
}

fn file_response(
    content_type: &'static str,
    bytes: &'static [u8],
    cache: &'static str,
) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /assets/{*path}`.
pub async fn asset(Path(path): Path<String>) -> Response {
    match find(&format!("assets/{path}")) {
        Some((content_type, bytes)) => file_response(content_type, bytes, IMMUTABLE),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// `index.html` with the headers that keep it fresh and script-safe.
pub fn index() -> Response {
    let Some((content_type, bytes)) = find("index.html") else {
        return (
            StatusCode::NOT_FOUND,
            "the web UI is not built into this binary",
        )
            .into_response();
    };
    let mut response = file_response(content_type, bytes, "no-cache");
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Every path no route claims: a top-level file of the bundle (`favicon.svg`), else
/// `index.html` for `GET`s outside `/api`, else 404.
pub async fn spa(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    if path.starts_with("/api/") || path == "/api" {
        return api_not_found(uri).await;
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty() && file != "index.html" && !file.contains('/') {
        if let Some((content_type, bytes)) = find(file) {
            return file_response(content_type, bytes, "public, max-age=3600");
        }
    }
    index()
}

/// Unknown `/api/...` paths answer JSON, never the app.
pub async fn api_not_found(uri: Uri) -> Response {
    ApiError(Error::not_found(format!("route {}", uri.path()))).into_response()
}

/// The content type of a bundle file, by extension.
pub fn content_type_of(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::{content_type_of, FILES};

    #[test]
    fn bundle_content_types_match_extensions() {
        for (name, content_type, _) in FILES {
            assert_eq!(*content_type, content_type_of(name), "{name}");
        }
        assert!(FILES.iter().any(|(name, _, _)| *name == "index.html"));
    }
}
