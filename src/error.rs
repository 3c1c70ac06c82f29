//! One error type for the whole service and one table of error codes: each code's HTTP
//! status and title. REST renders an error as RFC 9457 `application/problem+json` with
//! the code in `code` (`api::errors`); GraphQL puts the same code, upper-cased, in
//! `extensions.code` (`api::graphql::errors`).

use sea_orm::DbErr;
use serde::Serialize;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Seconds a client should wait before retrying while the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// One row of the error table: the stable machine-readable code (REST `code`; GraphQL
/// `extensions.code`, upper-cased), the HTTP status and the problem title.
#[derive(Debug, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
}

impl ErrorCode {
    /// The code as GraphQL shows it in `extensions.code`.
    pub fn graphql(&self) -> String {
        self.code.to_ascii_uppercase()
    }
}

macro_rules! error_table {
    ($($(#[$doc:meta])* $name:ident = ($code:literal, $status:literal, $title:literal);)*) => {
        /// Every error code Salve answers with.
        pub mod codes {
            use super::ErrorCode;
            $($(#[$doc])* pub const $name: ErrorCode =
                ErrorCode { code: $code, status: $status, title: $title };)*
        }
        /// The whole table, in declaration order.
        pub const ERROR_TABLE: &[ErrorCode] = &[$(codes::$name),*];
    };
}

error_table! {
    BAD_REQUEST = ("bad_request", 400, "Bad request");
    INVALID_PARAMETER = ("invalid_parameter", 400, "Bad request");
    UNAUTHORIZED = ("unauthorized", 401, "Unauthorized");
    FORBIDDEN = ("forbidden", 403, "Forbidden");
    NOT_FOUND = ("not_found", 404, "Not found");
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, "Method not allowed");
    /// No representation the resource has matches `Accept`.
    NOT_ACCEPTABLE = ("not_acceptable", 406, "Not acceptable");
    CONFLICT = ("conflict", 409, "Conflict");
    /// A workflow step refused because of the listed blockers.
    BLOCKED = ("blocked", 409, "Blocked");
    /// `If-Match` / `expectedVersion` names a version that is no longer current.
    PRECONDITION_FAILED = ("precondition_failed", 412, "Precondition failed");
    PAYLOAD_TOO_LARGE = ("payload_too_large", 413, "Payload too large");
    URI_TOO_LONG = ("uri_too_long", 414, "URI too long");
    UNSUPPORTED_MEDIA_TYPE = ("unsupported_media_type", 415, "Unsupported media type");
    VALIDATION_FAILED = ("validation_failed", 422, "Validation failed");
    /// A write without `If-Match`.
    PRECONDITION_REQUIRED = ("precondition_required", 428, "Precondition required");
    /// Over the caller's rate limit; retry after `Retry-After` seconds.
    RATE_LIMITED = ("rate_limited", 429, "Too many requests");
    INTERNAL_ERROR = ("internal_error", 500, "Internal server error");
    /// A standard option Salve does not offer (oEmbed's `format=xml`).
    NOT_IMPLEMENTED = ("not_implemented", 501, "Not implemented");
    SERVICE_UNAVAILABLE = ("service_unavailable", 503, "Service unavailable");
    // GraphQL request errors: no field ran (400 with `application/graphql-response+json`).
    GRAPHQL_PARSE_FAILED = ("graphql_parse_failed", 400, "The document does not parse");
    GRAPHQL_VALIDATION_FAILED = ("graphql_validation_failed", 400, "The document is not valid");
    DOCUMENT_TOO_LARGE = ("document_too_large", 400, "The document is too large");
    TOKEN_LIMIT_EXCEEDED = ("token_limit_exceeded", 400, "The document has too many tokens");
    DEPTH_LIMIT_EXCEEDED = ("depth_limit_exceeded", 400, "The selection is nested too deep");
    COMPLEXITY_LIMIT_EXCEEDED = ("complexity_limit_exceeded", 400, "The query costs too much");
    ALIAS_LIMIT_EXCEEDED = ("alias_limit_exceeded", 400, "The document has too many aliases");
    ROOT_FIELD_LIMIT_EXCEEDED = ("root_field_limit_exceeded", 400, "Too many root fields");
    DIRECTIVE_LIMIT_EXCEEDED = ("directive_limit_exceeded", 400, "Too many directives on a field");
    PAGE_SIZE_EXCEEDED = ("page_size_exceeded", 400, "Page size out of range");
    FRAGMENT_CYCLE = ("fragment_cycle", 400, "Fragments spread each other");
    OPERATION_NOT_FOUND = ("operation_not_found", 400, "No such operation");
    PERSISTED_QUERY_NOT_FOUND = ("persisted_query_not_found", 400, "Persisted query not found");
    PERSISTED_QUERY_HASH_MISMATCH = ("persisted_query_hash_mismatch", 400, "Hash mismatch");
    PERSISTED_QUERY_ONLY = ("persisted_query_only", 400, "Only persisted queries run here");
}

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
    BadRequest {
        code: &'static ErrorCode,
        detail: String,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    NotAcceptable(String),
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
    #[error("{0}")]
    NotImplemented(String),
    /// Over the caller's rate limit (429); retry after this many seconds.
    #[error("over the rate limit: retry in {0} s")]
    RateLimited(u64),
    #[error("the database is unavailable")]
    Unavailable(#[source] Option<DbErr>),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code: &codes::BAD_REQUEST,
            detail: detail.into(),
        }
    }

    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code: &codes::INVALID_PARAMETER,
            detail: detail.into(),
        }
    }

    /// A 422 for one field, located by a JSON pointer.
    pub fn invalid_field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(pointer, detail)])
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    pub fn internal_msg(message: String) -> Self {
        Self::Internal(anyhow::anyhow!(message))
    }

    /// The error's row of the error table.
    pub fn kind(&self) -> &'static ErrorCode {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized(_) => &codes::UNAUTHORIZED,
            AppError::Forbidden(_) => &codes::FORBIDDEN,
            AppError::NotFound(_) => &codes::NOT_FOUND,
            AppError::MethodNotAllowed(_) => &codes::METHOD_NOT_ALLOWED,
            AppError::NotAcceptable(_) => &codes::NOT_ACCEPTABLE,
            AppError::Conflict(_) => &codes::CONFLICT,
            AppError::Blocked(..) => &codes::BLOCKED,
            AppError::PreconditionFailed(_) => &codes::PRECONDITION_FAILED,
            AppError::PreconditionRequired(_) => &codes::PRECONDITION_REQUIRED,
            AppError::PayloadTooLarge(_) => &codes::PAYLOAD_TOO_LARGE,
            AppError::UriTooLong(_) => &codes::URI_TOO_LONG,
            AppError::UnsupportedMediaType(_) => &codes::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) => &codes::VALIDATION_FAILED,
            AppError::NotImplemented(_) => &codes::NOT_IMPLEMENTED,
            AppError::RateLimited(_) => &codes::RATE_LIMITED,
            AppError::Unavailable(_) => &codes::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => &codes::INTERNAL_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.kind().code
    }

    /// Public detail: never the cause of a 5xx, which is logged instead.
    pub fn detail(&self) -> String {
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
            title: self.kind().title,
            status: self.kind().status,
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
    use super::{ERROR_TABLE, unavailable_code};

    #[test]
    fn error_codes_are_unique_and_lower_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for row in ERROR_TABLE {
            assert!(seen.insert(row.code), "{} twice", row.code);
            assert!(
                row.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
            assert!((400..600).contains(&row.status), "{}", row.code);
        }
    }

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
