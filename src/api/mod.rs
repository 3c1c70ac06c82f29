//! HTTP transport: routing, extractors and middleware. Handlers stay thin and call the
//! service layer.

pub mod auth;
pub mod errors;
pub mod graphql;
pub mod health;
pub mod http_cache;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod rest;

use actix_web::web;

/// Mounts every route of the service; `openapi` is the document built once at startup.
pub fn configure(cfg: &mut web::ServiceConfig, openapi: utoipa::openapi::OpenApi) {
    cfg.configure(health::configure)
        .configure(metrics::configure)
        .configure(rest::configure)
        .configure(graphql::http::configure)
        .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi))
        .service(web::redirect("/docs", "/docs/"));
}

/// The default service of a resource: the path exists, the method does not.
pub async fn method_not_allowed() -> crate::error::Result<actix_web::HttpResponse> {
    Err(crate::error::AppError::MethodNotAllowed)
}
