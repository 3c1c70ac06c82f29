//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::{AppError, Result};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [("/healthz", 0), ("/readyz", 1)] {
        let route = if handler == 0 {
            web::get().to(healthz)
        } else {
            web::get().to(readyz)
        };
        cfg.service(
            web::resource(path)
                .route(route)
                .default_service(web::to(super::method_not_allowed)),
        );
    }
}

/// The process is up and serving HTTP.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// The service can take traffic: the database answers, every migration is applied, and
/// the process is not shutting down.
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    if state.is_shutting_down() {
        return Err(AppError::Unavailable(None));
    }
    crate::db::check_ready(&state.db, state.settings.database.acquire_timeout()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "status": "ready" })))
}
