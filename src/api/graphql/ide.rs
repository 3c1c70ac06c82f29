//! GraphiQL at `GET /graphql` from a browser: the reference IDE (completion, the docs
//! explorer, history, a headers editor for the API key), with every file it loads served
//! from the binary, so it works offline and asks no other host for anything. The GraphiQL,
//! React and React DOM files are copied from pinned npm packages (`tools/graphiql/`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

const PAGE: &str = include_str!("../../../assets/graphql/ide.html");

/// The IDE's files: name, media type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "ide.js",
        "text/javascript",
        include_bytes!("../../../assets/graphql/ide.js"),
    ),
    (
        "ide.css",
        "text/css",
        include_bytes!("../../../assets/graphql/ide.css"),
    ),
    (
        "graphiql.min.js",
        "text/javascript",
        include_bytes!("../../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css",
        include_bytes!("../../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript",
        include_bytes!("../../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "LICENSE.graphiql",
        "text/plain; charset=utf-8",
        include_bytes!("../../../assets/graphiql/LICENSE.graphiql"),
    ),
    (
        "LICENSE.react",
        "text/plain; charset=utf-8",
        include_bytes!("../../../assets/graphiql/LICENSE.react"),
    ),
    (
        "LICENSE.react-dom",
        "text/plain; charset=utf-8",
        include_bytes!("../../../assets/graphiql/LICENSE.react-dom"),
    ),
];

/// Scripts and styles from this server only (GraphiQL sets styles inline as it lays out
/// its panes), requests to this server only, no frames, no forms.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::api::resource(
        "/graphql/ide/{file}",
        [web::get().to(file)],
    ));
}

pub fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .body(PAGE)
}

/// `GET /graphql/ide/{file}`: one of the IDE's files, cacheable for a day (a new release
/// may ship new ones under the same names).
async fn file(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("file").unwrap_or_default();
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, media_type, bytes)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, *media_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
            .body(*bytes),
        None => actix_web::ResponseError::error_response(&crate::error::AppError::NotFound(
            format!("the IDE has no file {name:?}"),
        )),
    }
}
