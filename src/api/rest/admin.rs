//! The audit log (`GET /v1/audit`), for admins.

use actix_web::{HttpResponse, web};

use crate::api::request::private;
use crate::api::resource;
use crate::domain::Collection;
use crate::domain::PageSize;
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::editing::audit::{self, AuditQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v1/audit", [web::get().to(list_audit)]));
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
