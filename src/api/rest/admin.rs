//! Admin endpoints: API keys (`POST/GET /v1/keys`, `DELETE /v1/keys/{name}`, mirroring
//! `salve keys`) and the audit log (`GET /v1/audit`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value as Json, json};

use crate::api::request::{object_body, request_id};
use crate::api::resource;
use crate::domain::PageSize;
use crate::domain::{Collection, Scope, Scopes};
use crate::error::{AppError, FieldError, Result};
use crate::service::editing::audit::{self, AuditQuery};
use crate::service::{Caller, keys};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        "/v1/keys",
        [web::get().to(list_keys), web::post().to(create_key)],
    ))
    .service(resource("/v1/keys/{name}", [web::delete().to(revoke_key)]))
    .service(resource("/v1/audit", [web::get().to(list_audit)]));
}

fn private(status: actix_web::http::StatusCode, body: Json) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

fn invalid(pointer: &str, detail: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError {
        pointer: pointer.into(),
        detail: detail.into(),
    }])
}

async fn list_keys(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse> {
    caller.require(Scope::Admin)?;
    let keys = keys::list(&state.db).await?;
    Ok(private(
        actix_web::http::StatusCode::OK,
        json!({ "data": keys }),
    ))
}

/// Creates a key; the secret is in this response and nowhere else, ever.
async fn create_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller.require(Scope::Admin)?;
    let body = object_body(&req, &body, &["application/json"])?;
    if let Some(key) = body.keys().find(|k| *k != "name" && *k != "scopes") {
        return Err(invalid(
            &format!("/{key}"),
            "is not a key field (name, scopes)",
        ));
    }
    let name = body
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid("/name", "is required (a string)"))?;
    let scopes = match body.get("scopes") {
        Some(Json::Array(list)) => {
            let names: Option<Vec<&str>> = list.iter().map(Json::as_str).collect();
            let names = names.ok_or_else(|| invalid("/scopes", "must be a list of scope names"))?;
            Scopes::parse_list(&names.join(",")).map_err(|e| invalid("/scopes", e))?
        }
        _ => return Err(invalid("/scopes", "is required (a list of scope names)")),
    };
    let created = keys::create(&state.db, name, &scopes)
        .await
        .map_err(|e| match e {
            AppError::BadRequest { detail, .. } => invalid("/name", detail),
            other => other,
        })?;
    audit::record_raw(
        &state.db,
        caller.key_name.as_deref(),
        request_id(&req).as_deref(),
        "key.create",
        None,
        None,
        Some(name),
        json!({ "scopes": created.info.scopes }),
    )
    .await?;
    let mut data = serde_json::to_value(&created.info).map_err(AppError::internal)?;
    data["key"] = Json::String(created.secret);
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, format!("/v1/keys/{name}")))
        .json(json!({ "data": data })))
}

async fn revoke_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    caller.require(Scope::Admin)?;
    let info = keys::revoke(&state.db, &path).await?;
    audit::record_raw(
        &state.db,
        caller.key_name.as_deref(),
        request_id(&req).as_deref(),
        "key.revoke",
        None,
        None,
        Some(&info.name),
        json!({}),
    )
    .await?;
    Ok(private(
        actix_web::http::StatusCode::OK,
        json!({ "data": info }),
    ))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    collection: Option<String>,
    slug: Option<String>,
    action: Option<String>,
    limit: Option<PageSize>,
    cursor: Option<String>,
}

async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditParams>,
) -> Result<HttpResponse> {
    let collection = query
        .collection
        .as_deref()
        .map(|c| {
            Collection::parse(c)
                .ok_or_else(|| AppError::invalid_parameter(format!("collection: unknown {c:?}")))
        })
        .transpose()?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| {
            uuid::Uuid::parse_str(c)
                .map_err(|_| AppError::invalid_parameter("cursor: not a cursor from this list"))
        })
        .transpose()?;
    let page = audit::list(
        &state.db,
        &caller,
        &AuditQuery {
            collection,
            slug: query.slug.clone(),
            action: query.action.clone(),
            limit: query.limit.unwrap_or(PageSize::DEFAULT),
            before,
        },
    )
    .await?;
    Ok(private(
        actix_web::http::StatusCode::OK,
        serde_json::to_value(page).map_err(AppError::internal)?,
    ))
}
