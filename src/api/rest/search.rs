//! `GET /v1/search?q=…&type=…`: ranked full-text search across collections.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::http_cache::{read_through, render_json};
use crate::api::negotiate::{Representation, negotiate};
use crate::api::params::search_params;
use crate::domain::Scope;
use crate::error::Result;
use crate::service::{Caller, search};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::api::resource(
        "/v1/search",
        [web::get().to(search_all)],
    ));
}

/// Search hits across collections, best first; each hit names its type.
async fn search_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let json = negotiate(&req, &[Representation::Json])?;
    read_through(&req, &state, &caller, json, || async {
        let mut params = search_params(&query)?;
        params.syndication = Some(state.syndication_source().await?);
        let page = search::search(
            &state.db,
            &state.cursors,
            caller.visibility(),
            &params,
        )
        .await?;
        let hits: Vec<_> = page
            .hits
            .into_iter()
            .map(|hit| json!({ "type": hit.collection.as_str(), "score": hit.score, "item": hit.item }))
            .collect();
        let body = json!({
            "data": hits,
            "page": { "next_cursor": page.next_cursor, "limit": page.limit },
        });
        render_json(&body, page.tags)
    })
    .await
}
