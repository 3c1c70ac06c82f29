//! Errors as REST answers them: every [`AppError`] as RFC 9457 problem+json with the
//! status of its row in the error table, and actix's own failures (bad JSON, bad query or
//! path, oversized bodies, unknown routes, wrong methods) turned into the same body.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::{AppError, PROBLEM_JSON, RETRY_AFTER_SECONDS};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.kind().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
            AppError::RateLimited(seconds) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*seconds)));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|error, _req| json_error(error).into())
}

fn json_error(error: JsonPayloadError) -> AppError {
    match error {
        JsonPayloadError::OverflowKnownLength { length, limit } => AppError::PayloadTooLarge(
            format!("the body is {length} bytes; the limit is {limit} bytes"),
        ),
        JsonPayloadError::Overflow { limit } => {
            AppError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("the body must be application/json".into())
        }
        JsonPayloadError::Deserialize(e) => {
            AppError::bad_request(format!("invalid JSON body: {e}"))
        }
        JsonPayloadError::Serialize(e) => AppError::internal(e),
        other => AppError::bad_request(format!("cannot read the body: {other}")),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        let detail = match error {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::invalid_parameter(format!("invalid query string: {detail}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _req| {
        let detail = match error {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::invalid_parameter(format!("invalid path: {detail}")).into()
    })
}

/// The default service: no route matches.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!("no resource at {}", req.path())))
}

/// Maps a bare error status produced outside our handlers to an [`AppError`].
pub fn from_status(status: StatusCode) -> Option<AppError> {
    Some(match status {
        StatusCode::NOT_FOUND => AppError::NotFound("no such resource".into()),
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed("method not allowed".into()),
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge("the request body is too large".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::UnsupportedMediaType("unsupported content type".into())
        }
        StatusCode::BAD_REQUEST => AppError::bad_request("the request is malformed"),
        StatusCode::INTERNAL_SERVER_ERROR => {
            AppError::internal(anyhow::anyhow!("unhandled internal error"))
        }
        _ => return None,
    })
}
