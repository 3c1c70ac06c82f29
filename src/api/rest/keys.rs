//! API keys (`/v1/keys`, mirroring `salve keys`): create, list, change the expiry,
//! rotate, revoke. Secrets appear only in the responses that issue them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value as Json, json};

use crate::api::request::{self, object_body_with, overlap_body, private, request_id};
use crate::api::resource;
use crate::domain::Scopes;
use crate::domain::rate_limit::RateQuota;
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::keys::{KeyAdmin, KeyChange, NewKey};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        "/v1/keys",
        [web::get().to(list_keys), web::post().to(create_key)],
    ))
    .service(resource(
        "/v1/keys/{name}",
        [
            web::get().to(get_key),
            web::patch().to(update_key),
            web::delete().to(revoke_key),
        ],
    ))
    .service(resource(
        "/v1/keys/{name}/rotate",
        [web::post().to(rotate_key)],
    ));
}

/// The admin an admin caller is; anyone else gets 401/403.
fn admin<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    request_id: Option<&'a str>,
) -> Result<KeyAdmin<'a>> {
    KeyAdmin::for_caller(&state.db, &state.key_usage, caller, request_id)
}

/// `expires_at`: an RFC 3339 instant, or null for none.
fn expiry(body: &Map<String, Json>) -> Result<Option<Option<chrono::DateTime<chrono::Utc>>>> {
    match body.get("expires_at") {
        None => Ok(None),
        Some(Json::Null) => Ok(Some(None)),
        Some(Json::String(text)) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| Some(Some(t.with_timezone(&chrono::Utc))))
            .map_err(|_| {
                AppError::invalid_field("/expires_at", "must be an RFC 3339 date-time or null")
            }),
        Some(_) => Err(AppError::invalid_field(
            "/expires_at",
            "must be an RFC 3339 date-time or null",
        )),
    }
}

/// `rate_limit`: `N/<window>` (e.g. `600/1m`), or null for the key class's limit.
fn rate_limit(body: &Map<String, Json>) -> Result<Option<Option<RateQuota>>> {
    let message =
        "must be a quota such as \"600/1m\" (1 to 10000000 requests per 1s to 1d), or null";
    match body.get("rate_limit") {
        None => Ok(None),
        Some(Json::Null) => Ok(Some(None)),
        Some(Json::String(text)) => RateQuota::parse(text)
            .map(|q| Some(Some(q)))
            .map_err(|e| AppError::invalid_field("/rate_limit", e)),
        Some(_) => Err(AppError::invalid_field("/rate_limit", message)),
    }
}

fn issued(status: StatusCode, issued: NewKey) -> Result<HttpResponse> {
    let location = format!("/v1/keys/{}", issued.info.name);
    request::issued(status, &issued.info, "key", issued.secret, location)
}

async fn list_keys(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse> {
    let keys = admin(&state, &caller, None)?.list().await?;
    Ok(private(StatusCode::OK, json!({ "data": keys })))
}

async fn get_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let key = admin(&state, &caller, None)?.get(&path).await?;
    Ok(private(StatusCode::OK, json!({ "data": key })))
}

/// Creates a key; the secret is in this response and nowhere else, ever.
async fn create_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let admin = admin(&state, &caller, id.as_deref())?;
    let body = object_body_with(&req, &body, &["name", "scopes", "expires_at", "rate_limit"])?;
    let name = body
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| AppError::invalid_field("/name", "is required (a string)"))?;
    let scopes = match body.get("scopes") {
        Some(Json::Array(list)) => {
            let names: Option<Vec<&str>> = list.iter().map(Json::as_str).collect();
            let names = names.ok_or_else(|| {
                AppError::invalid_field("/scopes", "must be a list of scope names")
            })?;
            Scopes::parse_list(&names.join(","))
                .map_err(|e| AppError::invalid_field("/scopes", e))?
        }
        _ => {
            return Err(AppError::invalid_field(
                "/scopes",
                "is required (a list of scope names)",
            ));
        }
    };
    let expires_at = expiry(&body)?.flatten();
    let limit = rate_limit(&body)?.flatten();
    issued(
        StatusCode::CREATED,
        admin.create(name, &scopes, expires_at, limit).await?,
    )
}

async fn update_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let admin = admin(&state, &caller, id.as_deref())?;
    let body = object_body_with(&req, &body, &["expires_at", "rate_limit"])?;
    let change = KeyChange {
        expires_at: expiry(&body)?,
        rate_limit: rate_limit(&body)?,
    };
    let key = admin.update(&path, &change).await?;
    Ok(private(StatusCode::OK, json!({ "data": key })))
}

/// Issues a new secret; the replaced one works until `overlap_seconds` have passed.
async fn rotate_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let admin = admin(&state, &caller, id.as_deref())?;
    let overlap = overlap_body(&req, &body)?;
    issued(StatusCode::OK, admin.rotate(&path, overlap).await?)
}

async fn revoke_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let key = admin(&state, &caller, id.as_deref())?.revoke(&path).await?;
    Ok(private(StatusCode::OK, json!({ "data": key })))
}
