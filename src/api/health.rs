//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::error::{AppError, Result};
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// The process is up and serving HTTP.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// The service can take traffic: the database answers, every migration is applied, and
/// the process is not shutting down.
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    if state.is_shutting_down() {
        return Err(AppError::Unavailable(None));
    }
    crate::db::check_ready(&state.db, state.settings.database.acquire_timeout()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "status": "ready" })))
}
