//! The editorial workflow over REST: `POST /v1/{collection}/{slug}/{submit|publish|
//! unpublish|archive}`, medical reviews (`GET|POST /v1/{collection}/{slug}/reviews` of
//! reviewed collections), and revisions
//! (`…/revisions`, `…/revisions/{n}`, `…/revisions/{n}/diff`, `…/revisions/{n}/restore`),
//! and a published item's draft (`…/discard`, `…/draft/diff`).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::writes::item_response;
use crate::api::http_cache::{read_through, render};
use crate::api::request::{editor, object_body, precondition, request_id};
use crate::api::resource;
use crate::domain::Collection;
use crate::domain::PageSize;
use crate::error::{AppError, Result};
use crate::service::editing::history;
use crate::service::editing::workflow::Transition;
use crate::service::{Caller, reviews};
use crate::state::AppState;

/// The workflow and revision routes of one collection, inside its `/v1/{collection}`
/// scope (which carries the `Collection` as app data).
pub fn configure(cfg: &mut web::ServiceConfig, collection: Collection) {
    for step in Transition::ALL {
        cfg.service(
            resource(
                &format!("/{{slug}}/{}", step.name()),
                [web::post().to(transition)],
            )
            .app_data(web::Data::new(step)),
        );
    }
    cfg.service(resource("/{slug}/discard", [web::post().to(discard)]))
        .service(resource("/{slug}/draft/diff", [web::get().to(draft_diff)]));
    cfg.service(resource(
        "/{slug}/revisions",
        [web::get().to(list_revisions)],
    ))
    .service(resource(
        "/{slug}/revisions/{number}",
        [web::get().to(get_revision)],
    ))
    .service(resource(
        "/{slug}/revisions/{number}/diff",
        [web::get().to(diff_revisions)],
    ))
    .service(resource(
        "/{slug}/revisions/{number}/restore",
        [web::post().to(restore_revision)],
    ));
    if collection.reviewable() {
        cfg.service(resource(
            "/{slug}/reviews",
            [web::get().to(list_reviews), web::post().to(record_review)],
        ));
    }
}

async fn transition(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    step: web::Data<Transition>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let request_id = request_id(&req);
    let written = editor(&state, &caller, request_id.as_deref())
        .transition(**collection, &path, **step, &precondition(&req))
        .await?;
    item_response(StatusCode::OK, &written)
}

async fn discard(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let request_id = request_id(&req);
    let written = editor(&state, &caller, request_id.as_deref())
        .discard(**collection, &path, &precondition(&req))
        .await?;
    item_response(StatusCode::OK, &written)
}

async fn draft_diff(
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let diff = history::draft_diff(&state.db, &caller, **collection, &path).await?;
    Ok(private_json(json!({ "data": diff })))
}

async fn record_review(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller.require(crate::domain::Scope::Publish)?;
    let review = if body.is_empty() {
        Default::default()
    } else {
        object_body(&req, &body, &["application/json"])?
    };
    let request_id = request_id(&req);
    let written = editor(&state, &caller, request_id.as_deref())
        .record_review(**collection, &path, review)
        .await?;
    item_response(StatusCode::OK, &written)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewPage {
    limit: Option<PageSize>,
    cursor: Option<String>,
    /// Read with the caller (`api::auth`): preview readers' `?version=published`.
    #[serde(rename = "version")]
    _version: Option<serde::de::IgnoredAny>,
}

/// An item's review history, newest first: public while the item is published (it is
/// what readers trust), and cached like the item.
async fn list_reviews(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
    query: web::Query<ReviewPage>,
) -> Result<HttpResponse> {
    caller.require(crate::domain::Scope::Read)?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| {
            crate::domain::validate::parse_timestamp(c)
                .map_err(|e| AppError::invalid_parameter(format!("cursor: {e}")))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(PageSize::DEFAULT);
    let representation =
        crate::api::negotiate::negotiate(&req, &[crate::api::negotiate::Representation::Json])?;
    read_through(&req, &state, &caller, representation, || async {
        let history = reviews::history(
            &state.db,
            caller.visibility(),
            **collection,
            &path,
            limit,
            before,
        )
        .await?;
        let body = json!({
            "data": history.reviews,
            "page": { "next_cursor": history.next, "limit": limit.get() },
        });
        render(&body, history.updated_at, history.tags)
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RevisionPage {
    limit: Option<PageSize>,
    cursor: Option<String>,
}

fn revision_number(text: &str, name: &str) -> Result<i64> {
    text.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        AppError::invalid_parameter(format!("{name}: must be a revision number (1, 2, …)"))
    })
}

fn private_json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(body)
}

async fn list_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<String>,
    query: web::Query<RevisionPage>,
) -> Result<HttpResponse> {
    let before = query
        .cursor
        .as_deref()
        .map(|c| revision_number(c, "cursor"))
        .transpose()?;
    let limit = query.limit.unwrap_or(PageSize::DEFAULT);
    let (revisions, next) =
        history::list(&state.db, &caller, **collection, &path, limit, before).await?;
    Ok(private_json(json!({
        "data": revisions,
        "page": { "next_cursor": next.map(|n| n.to_string()), "limit": limit.get() },
    })))
}

async fn get_revision(
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (slug, number) = path.into_inner();
    let number = revision_number(&number, "number")?;
    let revision = history::get(&state.db, &caller, **collection, &slug, number).await?;
    Ok(private_json(json!({ "data": revision })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffParams {
    from: Option<String>,
}

async fn diff_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<(String, String)>,
    query: web::Query<DiffParams>,
) -> Result<HttpResponse> {
    let (slug, number) = path.into_inner();
    let to = revision_number(&number, "number")?;
    let from = match query.from.as_deref() {
        None => None,
        Some("0") => Some(0),
        Some(text) => Some(revision_number(text, "from")?),
    };
    let diff = history::diff(&state.db, &caller, **collection, &slug, to, from).await?;
    Ok(private_json(json!({ "data": diff })))
}

async fn restore_revision(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    collection: web::Data<Collection>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (slug, number) = path.into_inner();
    let number = revision_number(&number, "number")?;
    let request_id = request_id(&req);
    let written = editor(&state, &caller, request_id.as_deref())
        .restore(**collection, &slug, number, &precondition(&req))
        .await?;
    item_response(StatusCode::OK, &written)
}
