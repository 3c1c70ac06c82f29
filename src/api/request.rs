//! What REST and GraphQL handlers read from a request alike: its id, the editor acting
//! for it, a write's precondition, and JSON bodies.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest};
use serde_json::Value as Json;

use crate::api::middleware::RequestId;
use crate::error::{AppError, FieldError, Result};
use crate::service::Caller;
use crate::service::editing::document::Document;
use crate::service::editing::{Editor, Precondition};
use crate::state::AppState;

/// The header naming a retryable create.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The editor acting for this request.
pub fn editor<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    request_id: Option<&'a str>,
) -> Editor<'a> {
    Editor {
        db: &state.editor_db,
        gate: &state.writes,
        cache: &state.cache,
        caller,
        request_id,
        review: state.settings.serve.review,
    }
}

/// The id the request-context middleware gave this request.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.0.clone())
}

/// The write's precondition: its `If-Match` header (a header that is not text matches no
/// version).
pub fn precondition(req: &HttpRequest) -> Precondition {
    Precondition::IfMatch(
        req.headers()
            .get(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or("\u{0}invalid").to_owned()),
    )
}

/// Parses a JSON body of one of `media_types`: malformed JSON is 400, anything but the
/// expected shape is 422.
pub fn json_body(req: &HttpRequest, body: &[u8], media_types: &[&str]) -> Result<Json> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if !content_type
        .as_deref()
        .is_some_and(|t| media_types.contains(&t))
    {
        return Err(AppError::UnsupportedMediaType(format!(
            "the body must be {}",
            media_types.join(" or ")
        )));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("invalid JSON body: {e}")))
}

/// A JSON object body (see [`json_body`]).
pub fn object_body(req: &HttpRequest, body: &[u8], media_types: &[&str]) -> Result<Document> {
    match json_body(req, body, media_types)? {
        Json::Object(map) => Ok(map),
        _ => Err(AppError::Validation(vec![FieldError {
            pointer: String::new(),
            detail: "the body must be a JSON object".into(),
        }])),
    }
}

/// A JSON object body (`application/json`) holding only `allowed` fields; any other is a
/// 422 naming it.
pub fn object_body_with(req: &HttpRequest, body: &[u8], allowed: &[&str]) -> Result<Document> {
    let body = object_body(req, body, &["application/json"])?;
    if let Some(key) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(AppError::invalid_field(
            format!("/{key}"),
            format!("is not a field here ({})", allowed.join(", ")),
        ));
    }
    Ok(body)
}

/// A rotation's `{"overlap_seconds": n}` (the default for an empty body).
pub fn overlap_body(
    req: &HttpRequest,
    body: &[u8],
) -> Result<crate::domain::key_lifetime::Overlap> {
    use crate::domain::key_lifetime::Overlap;
    if body.is_empty() {
        return Ok(Overlap::DEFAULT);
    }
    let body = object_body_with(req, body, &["overlap_seconds"])?;
    match body.get("overlap_seconds") {
        None => Ok(Overlap::DEFAULT),
        Some(value) => value
            .as_i64()
            .ok_or_else(|| "must be a whole number of seconds".to_owned())
            .and_then(Overlap::from_seconds)
            .map_err(|e| AppError::invalid_field("/overlap_seconds", e)),
    }
}

/// A record just issued with its secret (`secret_field` beside its other fields, shown
/// this once), at `location`; never stored by a cache.
pub fn issued(
    status: actix_web::http::StatusCode,
    record: &impl serde::Serialize,
    secret_field: &str,
    secret: String,
    location: String,
) -> Result<actix_web::HttpResponse> {
    let mut data = serde_json::to_value(record).map_err(AppError::internal)?;
    data[secret_field] = Json::String(secret);
    Ok(actix_web::HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, location))
        .json(serde_json::json!({ "data": data })))
}

/// A response that no cache may store (admin reads and writes).
pub fn private(status: actix_web::http::StatusCode, body: Json) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}
