//! Webhook endpoints (`/v1/webhooks`, admin): register, list, change, rotate the signing
//! secret, delete; list an endpoint's deliveries and replay one. The secret appears only
//! in the responses that issue it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value as Json, json};

use crate::api::request::{self, object_body_with, overlap_body, private, request_id};
use crate::api::resource;
use crate::domain::PageSize;
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::webhooks::deliveries::DeliveryStatus;
use crate::service::webhooks::endpoints::Issued;
use crate::service::webhooks::{
    DeliveryFilter, EndpointChange, NewEndpoint, WebhookAdmin, url_policy,
};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        "/v1/webhooks",
        [web::get().to(list), web::post().to(create)],
    ))
    .service(resource(
        "/v1/webhooks/{id}",
        [
            web::get().to(get),
            web::patch().to(update),
            web::delete().to(delete),
        ],
    ))
    .service(resource(
        "/v1/webhooks/{id}/rotate-secret",
        [web::post().to(rotate_secret)],
    ))
    .service(resource(
        "/v1/webhooks/{id}/deliveries",
        [web::get().to(deliveries)],
    ))
    .service(resource(
        "/v1/webhooks/{id}/deliveries/{delivery}/replay",
        [web::post().to(replay)],
    ));
}

fn admin<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    request_id: Option<&'a str>,
) -> Result<WebhookAdmin<'a>> {
    let policy = url_policy(&state.settings.serve.webhooks);
    WebhookAdmin::for_caller(&state.db, policy, caller, request_id)
}

fn string(body: &Map<String, Json>, field: &str) -> Result<Option<String>> {
    match body.get(field) {
        None => Ok(None),
        Some(Json::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(AppError::invalid_field(
            format!("/{field}"),
            "must be a string",
        )),
    }
}

/// A list of strings; `Some(None)` for an explicit null.
fn strings(body: &Map<String, Json>, field: &str) -> Result<Option<Option<Vec<String>>>> {
    let bad = || AppError::invalid_field(format!("/{field}"), "must be a list of strings");
    match body.get(field) {
        None => Ok(None),
        Some(Json::Null) => Ok(Some(None)),
        Some(Json::Array(items)) if items.len() <= 64 => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(bad))
            .collect::<Result<Vec<_>>>()
            .map(|list| Some(Some(list))),
        Some(_) => Err(bad()),
    }
}

fn issued(status: StatusCode, issued: Issued) -> Result<HttpResponse> {
    let location = format!("/v1/webhooks/{}", issued.info.id);
    request::issued(status, &issued.info, "secret", issued.secret, location)
}

async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse> {
    let endpoints = admin(&state, &caller, None)?.list().await?;
    Ok(private(StatusCode::OK, json!({ "data": endpoints })))
}

async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let endpoint = admin(&state, &caller, None)?.get(&path).await?;
    Ok(private(StatusCode::OK, json!({ "data": endpoint })))
}

/// Registers an endpoint; its signing secret is in this response and nowhere else.
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let admin = admin(&state, &caller, id.as_deref())?;
    let body = object_body_with(
        &req,
        &body,
        &["url", "events", "collections", "description"],
    )?;
    let new = NewEndpoint {
        url: string(&body, "url")?
            .ok_or_else(|| AppError::invalid_field("/url", "is required (an https URL)"))?,
        events: strings(&body, "events")?.flatten().ok_or_else(|| {
            AppError::invalid_field("/events", "is required (a list of event types)")
        })?,
        collections: strings(&body, "collections")?.flatten(),
        description: string(&body, "description")?,
    };
    issued(StatusCode::CREATED, admin.create(new).await?)
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let admin = admin(&state, &caller, id.as_deref())?;
    let allowed = ["url", "events", "collections", "description", "enabled"];
    let body = object_body_with(&req, &body, &allowed)?;
    let enabled = match body.get("enabled") {
        None => None,
        Some(Json::Bool(on)) => Some(*on),
        Some(_) => return Err(AppError::invalid_field("/enabled", "must be true or false")),
    };
    let events = match strings(&body, "events")? {
        Some(None) => return Err(AppError::invalid_field("/events", "cannot be null")),
        other => other.flatten(),
    };
    let description = match body.get("description") {
        Some(Json::Null) => Some(None),
        _ => string(&body, "description")?.map(Some),
    };
    let change = EndpointChange {
        url: string(&body, "url")?,
        events,
        collections: strings(&body, "collections")?,
        description,
        enabled,
    };
    let endpoint = admin.update(&path, change).await?;
    Ok(private(StatusCode::OK, json!({ "data": endpoint })))
}

/// Issues a new signing secret; deliveries are signed with both until the overlap ends.
async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let admin = admin(&state, &caller, id.as_deref())?;
    let overlap = overlap_body(&req, &body)?;
    issued(StatusCode::OK, admin.rotate_secret(&path, overlap).await?)
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let endpoint = admin(&state, &caller, id.as_deref())?.delete(&path).await?;
    Ok(private(StatusCode::OK, json!({ "data": endpoint })))
}

#[derive(serde::Deserialize)]
struct DeliveryQuery {
    status: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse> {
    let filter = DeliveryFilter {
        status: query
            .status
            .as_deref()
            .map(DeliveryStatus::parse)
            .transpose()?,
        limit: match query.limit.as_deref() {
            None => PageSize::DEFAULT,
            Some(text) => PageSize::parse(text).map_err(|_| {
                AppError::invalid_parameter(format!("limit: must be 1 to {}", PageSize::MAX))
            })?,
        },
        before: query.before.clone(),
    };
    let page = admin(&state, &caller, None)?
        .deliveries(&path, &filter)
        .await?;
    Ok(private(StatusCode::OK, json!(page)))
}

/// Sends a delivery again, with the same `webhook-id`.
async fn replay(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let id = request_id(&req);
    let (endpoint, delivery) = path.into_inner();
    let admin = admin(&state, &caller, id.as_deref())?;
    let replayed = admin.replay(&endpoint, &delivery).await?;
    Ok(private(StatusCode::ACCEPTED, json!({ "data": replayed })))
}
