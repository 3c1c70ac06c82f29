//! Embed pages (`/embed/{collection}/{slug}`, `/embed/products/sku/{sku}`) and the
//! oEmbed provider (`/oembed`): content a storefront shows by pasting a URL or an iframe.

mod html;
mod oembed;
mod page;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::http_cache::{read_through_for, render_html};
use crate::api::negotiate::Representation;
use crate::api::params::embed_options;
use crate::api::resource;
use crate::domain::embed::{BY_SLUG, EmbedKey, EmbedTarget};
use crate::domain::{Collection, Scope};
use crate::error::{AppError, Result};
use crate::service::{Caller, embed};
use crate::state::AppState;

type QueryPairs = web::Query<Vec<(String, String)>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(
        "/embed/products/sku/{sku}",
        [web::get().to(product_page)],
    ))
    .service(resource(
        "/embed/{collection}/{slug}",
        [web::get().to(item_page)],
    ))
    .service(resource("/oembed", [web::get().to(oembed::answer)]));
}

/// `GET /embed/{collection}/{slug}`: an article, technique or condition.
async fn item_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: Option<QueryPairs>,
) -> HttpResponse {
    let target = Collection::parse(req.match_info().get("collection").unwrap_or_default())
        .filter(|c| BY_SLUG.contains(c))
        .map(|collection| EmbedTarget {
            collection,
            key: EmbedKey::Slug(req.match_info().get("slug").unwrap_or_default().to_owned()),
        });
    match target {
        Some(target) => page_or_error(&req, &state, &caller, target, query).await,
        None => error_page(
            &state,
            &AppError::NotFound("no embed page here (articles, techniques, conditions)".into()),
        ),
    }
}

/// `GET /embed/products/sku/{sku}`: the product module.
async fn product_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: Option<QueryPairs>,
) -> HttpResponse {
    let target = EmbedTarget {
        collection: Collection::Products,
        key: EmbedKey::Sku(req.match_info().get("sku").unwrap_or_default().to_owned()),
    };
    page_or_error(&req, &state, &caller, target, query).await
}

async fn page_or_error(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    target: EmbedTarget,
    query: Option<QueryPairs>,
) -> HttpResponse {
    let Some(query) = query else {
        return error_page(state, &AppError::invalid_parameter("invalid query string"));
    };
    match serve_page(req, state, caller, &target, &query).await {
        Ok(response) => response,
        Err(error) => error_page(state, &error),
    }
}

async fn serve_page(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    target: &EmbedTarget,
    query: &[(String, String)],
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let options = embed_options(query)?;
    let origin = origin(req, state);
    read_through_for(
        req,
        state,
        caller,
        Representation::Html,
        &origin,
        || async {
            let page = load(state, caller, target).await?;
            let html = page::render(target, &page, options, &context(state, &origin));
            render_html(html.body, html.csp, &page.item, page.tags)
        },
    )
    .await
}

async fn load(state: &AppState, caller: &Caller, target: &EmbedTarget) -> Result<embed::Page> {
    let terms = state.syndication_source().await?;
    let language = &state.settings.serve.content_language;
    embed::page(&state.db, caller.visibility(), target, terms, language).await
}

fn context<'a>(state: &'a AppState, origin: &'a str) -> page::Context<'a> {
    page::Context {
        origin,
        language: &state.settings.serve.content_language,
        frame_ancestors: &state.settings.serve.embed.embed_frame_ancestors,
    }
}

/// This deployment's origin: `--public-url`, else the one the request names.
fn origin(req: &HttpRequest, state: &AppState) -> String {
    match &state.settings.serve.embed.public_url {
        Some(url) => url.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// A failed embed as a small page (an iframe shows it), never problem+json.
fn error_page(state: &AppState, error: &AppError) -> HttpResponse {
    use actix_web::ResponseError;
    let mut response = page_response(state, error.status_code(), &error.detail());
    match error {
        AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
        AppError::Unavailable(cause) => {
            tracing::warn!(error = ?cause, "database unavailable");
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::error::RETRY_AFTER_SECONDS),
            );
        }
        _ => {}
    }
    response
}

fn page_response(state: &AppState, status: StatusCode, message: &str) -> HttpResponse {
    let html = page::error(
        status.as_u16(),
        message,
        &state.settings.serve.embed.embed_frame_ancestors,
    );
    let csp = HeaderValue::from_str(&html.csp)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(html.body)
}
