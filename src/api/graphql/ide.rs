//! The in-browser IDE at `GET /graphql`: one self-contained page (no CDN, no external
//! assets), so it works with no internet. It runs queries, takes an API key and lists the
//! schema from introspection.

use actix_web::HttpResponse;
use actix_web::http::header;

const PAGE: &str = include_str!("../../../assets/graphql/ide.html");

pub fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ))
        .body(PAGE)
}
