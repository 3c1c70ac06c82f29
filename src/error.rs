//! One error type for the whole service, rendered as RFC 9457 `application/problem+json`
//! with a stable machine-readable `code` (GraphQL reuses the same codes in `extensions`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;
use serde::Serialize;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Seconds a client should wait before retrying while the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// One violated rule in a request body, located by a JSON pointer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer to the offending value, e.g. `/slug`.
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// A workflow step refused because of the listed blockers (409).
    #[error("{0}")]
    Blocked(String, Vec<FieldError>),
    /// `If-Match` / `expectedVersion` names a version that is no longer current (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A write without `If-Match` (428).
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    #[error("the database is unavailable")]
    Unavailable(#[source] Option<DbErr>),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "bad_request",
            detail: detail.into(),
        }
    }

    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "invalid_parameter",
            detail: detail.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    pub fn internal_msg(message: String) -> Self {
        Self::Internal(anyhow::anyhow!(message))
    }

    /// The stable machine-readable code, shared by REST (`code`) and GraphQL
    /// (`extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::Blocked(..) => "blocked",
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::PreconditionRequired(_) => "precondition_required",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UriTooLong(_) => "uri_too_long",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Validation(_) => "validation_failed",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "Bad request",
            AppError::Unauthorized(_) => "Unauthorized",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound(_) => "Not found",
            AppError::MethodNotAllowed => "Method not allowed",
            AppError::Conflict(_) => "Conflict",
            AppError::Blocked(..) => "Blocked",
            AppError::PreconditionFailed(_) => "Precondition failed",
            AppError::PreconditionRequired(_) => "Precondition required",
            AppError::PayloadTooLarge(_) => "Payload too large",
            AppError::UriTooLong(_) => "URI too long",
            AppError::UnsupportedMediaType(_) => "Unsupported media type",
            AppError::Validation(_) => "Validation failed",
            AppError::Unavailable(_) => "Service unavailable",
            AppError::Internal(_) => "Internal server error",
        }
    }

    /// Public detail: never the cause of a 5xx, which is logged instead.
    fn detail(&self) -> String {
        match self {
            AppError::Unavailable(_) => {
                "The database is temporarily unavailable; retry shortly.".into()
            }
            AppError::Internal(_) => "An unexpected error occurred.".into(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:salve:problem:{}", self.code()),
            title: self.title(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors: match self {
                AppError::Validation(errors) | AppError::Blocked(_, errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

/// The body of every error response (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI identifying the problem type: `urn:salve:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable error code.
    pub code: &'static str,
    /// Every violated rule, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) | AppError::Blocked(..) => StatusCode::CONFLICT,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            AppError::Unavailable(cause) => {
                tracing::warn!(error = ?cause, "database unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            AppError::Unavailable(_) => {
                response
                    .insert_header((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS)));
            }
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        if is_unavailable(&error) {
            AppError::Unavailable(Some(error))
        } else if is_foreign_key_violation(&error) {
            // An item this write refers to was deleted between the check and the write.
            AppError::Conflict("an item this write refers to was deleted meanwhile; retry".into())
        } else if is_unique_violation(&error) {
            // A concurrent write took the slug (or SKU) between our check and our insert.
            AppError::Conflict("another item already uses this slug or unique value".into())
        } else {
            AppError::Internal(error.into())
        }
    }
}

/// A foreign-key violation (PostgreSQL 23503, SQLite 787).
pub fn is_foreign_key_violation(error: &DbErr) -> bool {
    database_code(error).is_some_and(|code| code == "23503" || code == "787")
}

fn database_code(error: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                SqlxError::Database(db) => db.code().map(|c| c.into_owned()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A unique-constraint violation (PostgreSQL 23505, SQLite 2067 / 1555).
pub fn is_unique_violation(error: &DbErr) -> bool {
    database_code(error).is_some_and(|code| matches!(code.as_str(), "23505" | "2067" | "1555"))
}

/// Whether a database error means "the database cannot be reached right now" (pool
/// timeout, refused or dropped connection) rather than a bug or bad data.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                SqlxError::Io(_)
                | SqlxError::Tls(_)
                | SqlxError::Protocol(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::WorkerCrashed => true,
                SqlxError::Database(db) => db.code().as_deref().is_some_and(unavailable_code),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Database error codes that mean "not now" rather than a bug or bad data. PostgreSQL:
/// connection exceptions (class 08), insufficient resources (53: too many connections,
/// disk full), operator intervention (57P: shutdown, crash, "cannot connect now"), and
/// statement or lock timeouts. SQLite (extended codes; the primary code is the low byte):
/// busy, locked, I/O errors, disk full, a file that cannot be opened or is read-only.
fn unavailable_code(code: &str) -> bool {
    if code.len() != 5 {
        // SQLite's codes are numbers of at most four digits; SQLSTATEs have five characters.
        return code
            .parse::<u32>()
            .is_ok_and(|extended| matches!(extended & 0xff, 5 | 6 | 8 | 10 | 13 | 14));
    }
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || matches!(code, "57014" | "55P03")
}

#[cfg(test)]
mod tests {
    use super::unavailable_code;

    #[test]
    fn transient_database_codes_are_unavailable() {
        for code in ["5", "517", "6", "10", "266", "778", "13", "14", "8", "1032"] {
            assert!(unavailable_code(code), "SQLite {code}");
        }
        for code in [
            "08006", "08003", "53300", "53100", "57P01", "57P03", "57014", "55P03",
        ] {
            assert!(unavailable_code(code), "PostgreSQL {code}");
        }
        for code in [
            "19", "787", "2067", "1", "11", "23505", "23503", "42P01", "22021",
        ] {
            assert!(!unavailable_code(code), "{code}");
        }
    }
}
