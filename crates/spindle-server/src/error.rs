//! The one place where error kinds become HTTP statuses and JSON error bodies.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use spindle_core::{Error, ErrorKind};

/// Seconds a client is asked to wait before retrying an overloaded request.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The HTTP status of each error kind.
pub fn http_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A stable name for each kind, sent as the `error` field.
pub fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidRequestError",
        ErrorKind::Unauthenticated => "UnauthorizedError",
        ErrorKind::PermissionDenied => "ForbiddenError",
        ErrorKind::NotFound => "LangfuseNotFoundError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::PayloadTooLarge => "PayloadTooLargeError",
        ErrorKind::UnsupportedMediaType => "UnsupportedMediaTypeError",
        ErrorKind::RequestTimeout => "RequestTimeoutError",
        ErrorKind::RateLimited => "TooManyRequestsError",
        ErrorKind::Overloaded => "OverloadedError",
        ErrorKind::Unavailable => "ServiceUnavailableError",
        ErrorKind::Internal => "InternalServerError",
    }
}

/// What a lookup found, or "not found" naming the `entity` and its `id`.
pub fn found<T>(lookup: Option<T>, entity: &str, id: &str) -> Result<T, Error> {
    lookup.ok_or_else(|| Error::not_found(format!("{entity} {id:?}")))
}

/// An error on its way out of a handler.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = http_status(self.0.kind);
        // Internal details were logged where they happened; clients get a stable message.
        let message = if self.0.kind == ErrorKind::Internal {
            "Internal Server Error".to_owned()
        } else {
            self.0.message.clone()
        };
        let body = serde_json::json!({"message": message, "error": kind_name(self.0.kind)});
        let mut response = (status, axum::Json(body)).into_response();
        if matches!(
            self.0.kind,
            ErrorKind::RateLimited | ErrorKind::Overloaded | ErrorKind::Unavailable
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response.extensions_mut().insert(RejectReason(self.0));
        response
    }
}

/// Attached to error responses so the logging middleware can say why a request failed.
#[derive(Debug, Clone)]
pub struct RejectReason(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;
