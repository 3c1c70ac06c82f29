//! Request ids, structured request logs, and problem+json for every error response.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};
use tracing::Instrument;

use crate::api::errors::from_status;
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
        .app_data::<actix_web::web::Data<crate::startup::AppState>>()
        .map_or(usize::MAX, |state| state.settings.serve.max_query_bytes);
    async move {
        if req.query_string().len() > max_query {
            let error = crate::error::AppError::UriTooLong(format!(
                "the query string is longer than {max_query} bytes"
            ));
            let response = req.into_response(error.error_response());
            return Ok(with_request_id(response, &request_id));
        }
        let response = next.call(req).await?;
        let response = with_request_id(
            ensure_problem_body(response.map_into_boxed_body()),
            &request_id,
        );
        let status = response.status().as_u16();
        let elapsed = started.elapsed().as_secs_f64();
        let elapsed_ms = elapsed * 1000.0;
        if let Some(state) = response
            .request()
            .app_data::<actix_web::web::Data<crate::startup::AppState>>()
        {
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            let method = response.request().method().as_str();
            state.metrics.observe(method, &route, status, elapsed);
        }
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

fn with_request_id(
    mut response: ServiceResponse<BoxBody>,
    request_id: &str,
) -> ServiceResponse<BoxBody> {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Error responses produced by actix itself (405 on a known path, payload limits, …)
/// carry no body or a plain-text one; give them the same problem+json as ours.
fn ensure_problem_body(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    match from_status(status) {
        Some(error) => response.into_response(error.error_response()),
        None => response,
    }
}
