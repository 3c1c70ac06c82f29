//! HTTP transport: routing, extractors and middleware. Handlers stay thin and call the
//! service layer.

pub mod auth;
pub mod embed;
pub mod errors;
pub mod graphql;
pub mod health;
pub mod http_cache;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod openapi;
pub mod params;
pub mod request;
pub mod rest;

use actix_web::web;

/// The OpenAPI document as served: serialized once at startup and shared by every
/// worker (the document object itself is large).
#[derive(Clone)]
pub struct OpenApiJson(pub web::Bytes);

impl OpenApiJson {
    pub fn new(document: &utoipa::openapi::OpenApi) -> serde_json::Result<Self> {
        Ok(Self(serde_json::to_vec(document)?.into()))
    }
}

/// Mounts every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig, openapi: OpenApiJson) {
    cfg.configure(health::configure)
        .configure(metrics::configure)
        .configure(rest::configure)
        .configure(embed::configure)
        .configure(graphql::http::configure)
        .service(
            web::resource("/openapi.json")
                .app_data(web::Data::new(openapi))
                .route(web::get().to(openapi_json))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
        .service(web::redirect("/docs", "/docs/"));
}

/// `GET /openapi.json`: the OpenAPI 3.1 document (also committed as `openapi/openapi.json`).
async fn openapi_json(document: web::Data<OpenApiJson>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// A resource serving `routes` at `path`; any other method on the path answers 405.
pub fn resource(
    path: &str,
    routes: impl IntoIterator<Item = actix_web::Route>,
) -> actix_web::Resource {
    routes
        .into_iter()
        .fold(web::resource(path), actix_web::Resource::route)
        .default_service(web::to(method_not_allowed))
}

/// The default service of a resource: the path exists, the method does not.
pub async fn method_not_allowed() -> crate::error::Result<actix_web::HttpResponse> {
    Err(crate::error::AppError::MethodNotAllowed(
        "method not allowed".into(),
    ))
}
