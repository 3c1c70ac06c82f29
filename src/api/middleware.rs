//! Request ids, structured request logs, and problem+json for every error response.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};
use tracing::Instrument;

use crate::api::errors::from_status;
use crate::domain::text::{TextKind, check_controls};
use crate::error::PROBLEM_JSON;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request: the caller's `x-request-id` when it is sane, else a
/// new UUID. Echoed on the response and attached to every log line of the request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn accepted_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let sane = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    sane.then(|| text.to_owned())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(accepted_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let max_query = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(usize::MAX, |state| state.settings.serve.max_query_bytes);
    async move {
        if req.query_string().len() > max_query {
            let error = crate::error::AppError::UriTooLong(format!(
                "the query string is longer than {max_query} bytes"
            ));
            let response = req.into_response(error.error_response());
            return Ok(with_common_headers(response, &request_id));
        }
        if let Err(detail) = check_request_text(&req) {
            let error = crate::error::AppError::invalid_parameter(detail);
            let response = req.into_response(error.error_response());
            return Ok(with_common_headers(response, &request_id));
        }
        let response = next.call(req).await?;
        let response = with_rate_limit_fields(with_common_headers(
            ensure_problem_body(response.map_into_boxed_body()),
            &request_id,
        ));
        let status = response.status().as_u16();
        let elapsed = started.elapsed().as_secs_f64();
        let elapsed_ms = elapsed * 1000.0;
        if let Some(state) = response
            .request()
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
        {
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            let method = response.request().method().as_str();
            state.metrics.observe(method, &route, status, elapsed);
        }
        // 501 answers a standard option Salve does not offer (oEmbed's XML): not a fault.
        if status >= 500 && status != 501 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

/// The path and query string, percent-decoded, are UTF-8 without control characters:
/// checked once here, so no handler, log line or cache tag ever meets one. GraphQL's GET
/// parameters carry documents and JSON, which may break lines.
fn check_request_text(req: &ServiceRequest) -> Result<(), String> {
    let decoded_path = percent_decode(req.path(), false);
    let path = std::str::from_utf8(&decoded_path)
        .map_err(|_| "the path is not valid UTF-8 once percent-decoded".to_owned())?;
    check_controls(path, TextKind::Line).map_err(|e| format!("the path {e}"))?;
    let kind = if req.path() == "/graphql" {
        TextKind::Prose
    } else {
        TextKind::Line
    };
    for pair in req.query_string().split('&') {
        let decoded = percent_decode(pair, true);
        let text = std::str::from_utf8(&decoded)
            .map_err(|_| "the query string is not valid UTF-8 once percent-decoded".to_owned())?;
        check_controls(text, kind).map_err(|e| {
            let name = text.split('=').next().unwrap_or_default();
            let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
            format!("query parameter {name:?} {e}")
        })?;
    }
    Ok(())
}

/// `%XX` escapes decoded (and `+` as a space in a query string); a malformed escape stays
/// as written.
fn percent_decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The request id, and `nosniff` so that no browser reads a body as another type than
/// the one it is sent as.
fn with_common_headers(
    mut response: ServiceResponse<BoxBody>,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response.headers_mut().insert(
        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `RateLimit-Policy` and `RateLimit`, where the request was counted against a limit.
fn with_rate_limit_fields(mut response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let fields = response
        .request()
        .extensions()
        .get::<crate::service::rate_limit::Decision>()
        .map(crate::service::rate_limit::Decision::fields);
    if let Some((policy, state)) = fields {
        for (name, value) in [("ratelimit-policy", &*policy), ("ratelimit", &state)] {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static(name),
                    value,
                );
            }
        }
    }
    response
}

/// Error responses produced by actix itself (405 on a known path, payload limits, …)
/// carry no body or a plain-text one; give them the same problem+json as ours. Embed
/// pages answer their errors as HTML pages, which stay.
fn ensure_problem_body(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let ours = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || v.as_bytes().starts_with(b"text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || ours {
        return response;
    }
    match from_status(status) {
        Some(error) => response.into_response(error.error_response()),
        None => response,
    }
}
