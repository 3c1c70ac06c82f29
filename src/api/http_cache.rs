//! HTTP caching for reads: a strong ETag derived from the body (so the same content has
//! the same ETag on every instance and after restarts), `If-None-Match` → 304,
//! `Last-Modified`, and `Cache-Control` by audience.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, Result};
use crate::service::content::{ItemObject, strong_etag};
use crate::service::{Caller, Visibility};
use crate::startup::AppState;

pub fn cached_json(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    body: &Value,
) -> Result<HttpResponse> {
    cached_body(req, state, caller, body, latest_update(body))
}

/// Like [`cached_json`] for a body of items, serialized straight from the service-layer
/// objects (no intermediate JSON tree).
pub fn cached_items(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    body: &impl Serialize,
    items: &[ItemObject],
) -> Result<HttpResponse> {
    let latest = items
        .iter()
        .flat_map(|item| {
            item.values()
                .filter_map(latest_update)
                .chain(own_update(item))
        })
        .max();
    cached_body(req, state, caller, body, latest)
}

fn own_update(item: &ItemObject) -> Option<DateTime<Utc>> {
    item.get("updated_at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn cached_body(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    body: &impl Serialize,
    latest: Option<DateTime<Utc>>,
) -> Result<HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(AppError::internal)?;
    let etag = strong_etag(&bytes);
    let cache_control = match caller.visibility() {
        Visibility::All => "private, no-store".to_owned(),
        Visibility::PublishedOnly => state.settings.serve.cache_control.clone(),
    };
    let last_modified = latest.map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        });
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((
            header::VARY,
            HeaderValue::from_static("Authorization, Accept"),
        ));
    if let Some(last_modified) = last_modified {
        response.insert_header((header::LAST_MODIFIED, last_modified));
    }
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type("application/json").body(bytes))
}

/// The latest `updated_at` anywhere in the body (items and their includes).
fn latest_update(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Object(map) => {
            let own = map
                .get("updated_at")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc));
            map.values().filter_map(latest_update).chain(own).max()
        }
        Value::Array(items) => items.iter().filter_map(latest_update).max(),
        _ => None,
    }
}
