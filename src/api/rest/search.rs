//! `GET /v1/search?q=…&type=…`: ranked full-text search across collections.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::http_cache::{read_through, render_json};
use crate::domain::PageSize;
use crate::domain::listing::SearchTerms;
use crate::domain::{Collection, Scope};
use crate::error::{AppError, Result};
use crate::service::{Caller, fulltext, search};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::api::resource(
        "/v1/search",
        [web::get().to(search_all)],
    ));
}

/// Parsed `/v1/search` parameters.
struct SearchParams {
    terms: SearchTerms,
    types: Vec<Collection>,
    limit: PageSize,
    cursor: Option<String>,
}

fn parse(pairs: &[(String, String)]) -> Result<SearchParams> {
    let mut terms = None;
    let mut types: Vec<Collection> = fulltext::searchable().collect();
    let mut limit = PageSize::DEFAULT;
    let mut cursor = None;
    for (i, (key, value)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == key) {
            return Err(AppError::invalid_parameter(format!(
                "{key}: is given more than once"
            )));
        }
        match key.as_str() {
            "q" => terms = Some(SearchTerms::parse(value)?),
            "type" => {
                let requested = value
                    .split(',')
                    .map(|name| Collection::parse(name).ok_or_else(|| search::not_searchable(name)))
                    .collect::<Result<Vec<_>>>()?;
                types = search::search_types(&requested)?;
            }
            "limit" => {
                limit = PageSize::parse(value)
                    .map_err(|e| AppError::invalid_parameter(format!("limit: {e}")))?
            }
            "cursor" => cursor = Some(value.clone()),
            other => {
                return Err(AppError::invalid_parameter(format!(
                    "{other}: unknown parameter (allowed: q, type, limit, cursor)"
                )));
            }
        }
    }
    let terms = terms.ok_or_else(|| AppError::invalid_parameter("q: is required"))?;
    Ok(SearchParams {
        terms,
        types,
        limit,
        cursor,
    })
}

/// Search hits across collections, best first; each hit names its type.
async fn search_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    read_through(&req, &state, &caller, || async {
        let params = parse(&query)?;
        let page = search::search(
            &state.db,
            &state.cursors,
            caller.visibility(),
            &params.terms,
            &params.types,
            params.limit,
            params.cursor.as_deref(),
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
