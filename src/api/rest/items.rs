//! `GET /v1/{collection}/{slug}`: one item of any collection.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::{Collection, Scope};
use crate::error::{AppError, Result};
use crate::service::{Caller, content};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v1/{collection}/{slug}")
            .route(web::get().to(get_item))
            .default_service(web::to(super::super::method_not_allowed)),
    );
}

async fn get_item(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let (collection, slug) = path.into_inner();
    let collection = Collection::parse(&collection)
        .ok_or_else(|| AppError::NotFound(format!("no collection named {collection:?}")))?;
    let item = content::get_item(&state.db, caller.visibility(), collection, &slug).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": item })))
}
