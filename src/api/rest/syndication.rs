//! `GET /v1/syndication` (anyone who may read) and `PUT /v1/syndication` (admin): the terms
//! the deployment offers its content under.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::request::{editor, object_body, request_id};
use crate::api::resource;
use crate::domain::Scope;
use crate::domain::syndication::Terms;
use crate::error::{AppError, FieldError, Result};
use crate::service::{Caller, syndication};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        "/v1/syndication",
        [web::get().to(get_terms), web::put().to(put_terms)],
    ));
}

async fn get_terms(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let terms = syndication::terms(&state.db).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(json!({ "data": terms })))
}

/// Replaces every term: absent or null clears it.
async fn put_terms(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller.require(Scope::Admin)?;
    let body = object_body(&req, &body, &["application/json"])?;
    let terms: Terms = serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| AppError::Validation(vec![FieldError::new("", e.to_string())]))?;
    let id = request_id(&req);
    let terms = editor(&state, &caller, id.as_deref())
        .update_syndication(terms)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "data": terms })))
}
