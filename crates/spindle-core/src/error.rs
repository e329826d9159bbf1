//! The error type shared by every Spindle layer, with a kind that maps to an HTTP status.

use std::fmt;

/// What went wrong, in domain terms. The HTTP layer maps each kind to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed: a field has the wrong type, shape or value.
    InvalidArgument,
    /// Credentials are missing or wrong.
    Unauthenticated,
    /// Credentials are valid but do not allow this operation.
    PermissionDenied,
    /// The entity does not exist (or belongs to another project).
    NotFound,
    /// The request conflicts with what is stored (a name taken, the last owner).
    Conflict,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// The content type is not one this endpoint accepts.
    UnsupportedMediaType,
    /// The request body did not arrive within the time allowed.
    RequestTimeout,
    /// Too many requests are being processed; the client should retry later.
    RateLimited,
    /// The write path is saturated; the client should retry later.
    Overloaded,
    /// The service is shutting down or its storage is unreachable.
    Unavailable,
    /// A bug or an unexpected storage failure.
    Internal,
}

/// An error with its kind, a stable client-facing message and, for invalid input, the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// An invalid field: the message reads `field: reason`.
    pub fn invalid(field: impl fmt::Display, reason: impl fmt::Display) -> Self {
        Error::new(ErrorKind::InvalidArgument, format!("{field}: {reason}"))
    }

    pub fn not_found(what: impl fmt::Display) -> Self {
        Error::new(ErrorKind::NotFound, format!("{what} not found"))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
