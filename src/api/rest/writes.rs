//! `POST /v1/{collection}`, `PATCH` and `DELETE /v1/{collection}/{slug}`,
//! `PUT /v1/{collection}/{slug}/{link}`: thin handlers over `service::editing`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::Value as Json;

use crate::api::middleware::RequestId;
use crate::domain::Collection;
use crate::error::{AppError, FieldError, Result};
use crate::service::Caller;
use crate::service::content::ItemBody;
use crate::service::editing::document::Document;
use crate::service::editing::idempotency::{self, Claim, StoredResponse};
use crate::service::editing::{Editor, Precondition, Written};
use crate::startup::AppState;

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
        review_interval_days: state.settings.serve.review_interval_days,
    }
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.0.clone())
}

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

pub fn object_body(req: &HttpRequest, body: &[u8], media_types: &[&str]) -> Result<Document> {
    match json_body(req, body, media_types)? {
        Json::Object(map) => Ok(map),
        _ => Err(AppError::Validation(vec![FieldError {
            pointer: String::new(),
            detail: "the body must be a JSON object".into(),
        }])),
    }
}

/// `{"data": item}` with the item's ETag; never cached by intermediaries.
pub fn item_response(status: StatusCode, written: &Written) -> Result<HttpResponse> {
    let body = serde_json::to_vec(&ItemBody {
        data: &written.item,
    })
    .map_err(AppError::internal)?;
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::ETAG, written.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if status == StatusCode::CREATED {
        let slug = written
            .item
            .get("slug")
            .and_then(Json::as_str)
            .unwrap_or_default();
        response.insert_header((
            header::LOCATION,
            format!("/v1/{}/{slug}", written.collection),
        ));
    }
    Ok(response.content_type("application/json").body(body))
}

/// Creates a draft; honours `Idempotency-Key`.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller.require(crate::domain::Scope::Write)?;
    let document = object_body(&req, &body, &["application/json"])?;
    let request_id = request_id(&req);
    let editor = editor(&state, &caller, request_id.as_deref());
    let Some(key) = req.headers().get(IDEMPOTENCY_KEY) else {
        let written = editor.create(**collection, document).await?;
        return item_response(StatusCode::CREATED, &written);
    };
    let key = key
        .to_str()
        .map_err(|_| AppError::bad_request("Idempotency-Key must be visible ASCII"))?;
    let fingerprint = idempotency::request_hash(Method::POST.as_str(), req.path(), &body);
    match idempotency::claim(
        &state.editor_db,
        caller.key_name.as_deref(),
        key,
        &fingerprint,
    )
    .await?
    {
        Claim::Replay(stored) => Ok(replay(&stored)),
        Claim::Fresh(key_hash) => match editor.create(**collection, document).await {
            Ok(written) => {
                let response = item_response(StatusCode::CREATED, &written)?;
                let stored = StoredResponse {
                    status: StatusCode::CREATED.as_u16(),
                    body: serde_json::to_string(&ItemBody {
                        data: &written.item,
                    })
                    .map_err(AppError::internal)?,
                    location: header_text(&response, header::LOCATION),
                    etag: Some(written.etag.clone()),
                };
                idempotency::complete(&state.editor_db, &key_hash, &stored).await?;
                Ok(response)
            }
            Err(error) => {
                idempotency::release(&state.editor_db, &key_hash).await?;
                Err(error)
            }
        },
    }
}

fn header_text(response: &HttpResponse, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("idempotent-replayed", HeaderValue::from_static("true")));
    if let Some(location) = &stored.location {
        response.insert_header((header::LOCATION, location.clone()));
    }
    if let Some(etag) = &stored.etag {
        response.insert_header((header::ETAG, etag.clone()));
    }
    response
        .content_type("application/json")
        .body(stored.body.clone())
}

/// JSON merge patch (`application/merge-patch+json`; `application/json` is accepted).
pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller.require(crate::domain::Scope::Write)?;
    let patch = object_body(
        &req,
        &body,
        &["application/merge-patch+json", "application/json"],
    )?;
    let request_id = request_id(&req);
    let written = editor(&state, &caller, request_id.as_deref())
        .update(**collection, &path, patch, &precondition(&req))
        .await?;
    item_response(StatusCode::OK, &written)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    #[serde(default)]
    hard: bool,
    cascade: Option<String>,
}

/// Archives (publish scope); `?hard=true` deletes for good (admin), refused while
/// published items point at the item unless `cascade=links`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
    query: web::Query<DeleteParams>,
) -> Result<HttpResponse> {
    let cascade = match query.cascade.as_deref() {
        None => false,
        Some("links") => true,
        Some(other) => {
            return Err(AppError::invalid_parameter(format!(
                "cascade: {other:?} is not supported; the only value is `links`"
            )));
        }
    };
    if cascade && !query.hard {
        return Err(AppError::invalid_parameter(
            "cascade: only applies with hard=true",
        ));
    }
    let request_id = request_id(&req);
    let editor = editor(&state, &caller, request_id.as_deref());
    if query.hard {
        editor
            .hard_delete(**collection, &path, cascade, &precondition(&req))
            .await?;
        return Ok(HttpResponse::NoContent().finish());
    }
    let written = editor
        .transition(
            **collection,
            &path,
            crate::service::editing::workflow::Transition::Archive,
            &precondition(&req),
        )
        .await?;
    item_response(StatusCode::OK, &written)
}

/// Replaces one link set: a list of slugs or `{"slug", "note"}` objects, in order.
pub async fn put_links(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller.require(crate::domain::Scope::Write)?;
    let links = json_body(&req, &body, &["application/json"])?;
    let (slug, link) = path.into_inner();
    let request_id = request_id(&req);
    let written = editor(&state, &caller, request_id.as_deref())
        .replace_links(**collection, &slug, &link, links, &precondition(&req))
        .await?;
    item_response(StatusCode::OK, &written)
}
