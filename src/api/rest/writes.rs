//! `POST /v1/{collection}`, `PATCH` and `DELETE /v1/{collection}/{slug}`,
//! `PUT /v1/{collection}/{slug}/{link}`: thin handlers over `service::editing`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value as Json;

use crate::api::request::{
    IDEMPOTENCY_KEY, editor, json_body, object_body, precondition, request_id,
};
use crate::domain::Collection;
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::editing::Written;
use crate::service::editing::idempotency::{self, Claim, StoredResponse};
use crate::service::item::ItemBody;
use crate::state::AppState;

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
