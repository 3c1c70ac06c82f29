//! HTTP caching for reads: a strong ETag derived from the body (so the same content has
//! the same ETag on every instance and after restarts), `If-None-Match` → 304,
//! `Last-Modified`, `Cache-Control` by audience, `Surrogate-Key` / `Cache-Tag` naming the
//! items shown (for CDN purges), and the server's own read cache for published content.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::api::negotiate::Representation;
use crate::error::{AppError, Result};
use crate::service::cache::Cached;
use crate::service::item::{ItemObject, strong_etag};
use crate::service::{Caller, Visibility};
use crate::state::AppState;

const SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");
const CACHE_TAG: HeaderName = HeaderName::from_static("cache-tag");
/// CDNs cap these headers (Fastly: 16 KB); past this, collection-level keys are sent.
const MAX_SURROGATE_BYTES: usize = 16_000;

/// A rendered response and the cache tags of what it shows.
pub type Rendered = (Cached, Vec<String>);

/// Serves a read: from the read cache when the caller sees only published content and
/// the response is cached, else computed by `compute` (and cached for the next reader).
/// Preview readers never touch the cache, so nothing a draft-seeing key sees can reach
/// a reader without that scope.
pub async fn read_through<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    representation: Representation,
    compute: F,
) -> Result<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Rendered>>,
{
    read_through_for(req, state, caller, representation, "", compute).await
}

/// [`read_through`] for a response that also depends on `variant` (the origin an embed
/// page links to), which becomes part of the cache key.
pub async fn read_through_for<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    representation: Representation,
    variant: &str,
    compute: F,
) -> Result<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Rendered>>,
{
    let cache = &state.cache;
    if caller.visibility() != Visibility::PublishedOnly || !cache.enabled() {
        cache
            .stats
            .bypasses
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (cached, _) = compute().await?;
        return Ok(respond(req, state, caller, &cached));
    }
    let key = format!(
        "{} {}?{} {} {variant}",
        req.method(),
        req.path(),
        req.query_string(),
        representation.media_type()
    );
    let ticket = match cache.get(&key) {
        Ok(hit) => return Ok(respond(req, state, caller, &hit)),
        Err(ticket) => ticket,
    };
    let (cached, tags) = compute().await?;
    let cached = Arc::new(cached);
    cache.put(&key, &tags, cached.clone(), ticket);
    Ok(respond(req, state, caller, &cached))
}

/// Serializes `body` once: its bytes, ETag, `Last-Modified` and surrogate keys.
pub fn render(
    body: &impl Serialize,
    latest: Option<DateTime<Utc>>,
    tags: Vec<String>,
) -> Result<Rendered> {
    render_as(Representation::Json, body, latest, tags)
}

/// [`render`] as `representation`.
pub fn render_as(
    representation: Representation,
    body: &impl Serialize,
    latest: Option<DateTime<Utc>>,
    tags: Vec<String>,
) -> Result<Rendered> {
    let bytes = serde_json::to_vec(body).map_err(AppError::internal)?;
    let surrogate_keys = surrogate_keys(&tags);
    let cached = Cached {
        content_type: HeaderValue::from_static(representation.media_type()),
        links: None,
        csp: None,
        etag: header_value(strong_etag(&bytes))?,
        cache_tags: header_value(surrogate_keys.replace(' ', ","))?,
        surrogate_keys: header_value(surrogate_keys)?,
        // Exactly sized: a cached body must not keep serde's spare capacity alive.
        body: bytes::Bytes::from(bytes.into_boxed_slice()),
        last_modified: latest
            .map(|t| header_value(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()))
            .transpose()?,
    };
    Ok((cached, tags))
}

/// Tags as a header value; when too long for CDNs, the collection-level keys they imply
/// (`technique:foam-rolling` → `technique`), which a purge on publish also sends.
fn surrogate_keys(tags: &[String]) -> String {
    let all = tags.join(" ");
    if all.len() <= MAX_SURROGATE_BYTES {
        return all;
    }
    let mut coarse: Vec<&str> = tags
        .iter()
        .map(|t| t.split_once(':').map_or(t.as_str(), |(kind, _)| kind))
        .collect();
    coarse.sort_unstable();
    coarse.dedup();
    coarse.join(" ")
}

/// A body of items (REST item and list responses).
pub fn render_items(
    body: &impl Serialize,
    items: &[ItemObject],
    tags: Vec<String>,
) -> Result<Rendered> {
    render(body, latest(items), tags)
}

/// The latest update of `items` and everything embedded in them.
fn latest(items: &[ItemObject]) -> Option<DateTime<Utc>> {
    items
        .iter()
        .flat_map(|item| {
            item.values()
                .filter_map(latest_update)
                .chain(own_update(item))
        })
        .max()
}

/// `Link: <canonical>; rel="canonical", <licence>; rel="license"` for an item carrying
/// syndication terms (their URLs are checked https URLs: nothing to escape).
pub fn with_links(mut rendered: Rendered, item: &ItemObject) -> Result<Rendered> {
    let terms = item.get(crate::service::syndication::KEY);
    let link = |name: &str, rel: &str| {
        terms
            .and_then(|t| t.get(name))
            .and_then(Value::as_str)
            .map(|url| format!("<{url}>; rel=\"{rel}\""))
    };
    let links: Vec<String> = [
        link("canonical_url", "canonical"),
        link("licence_url", "license"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !links.is_empty() {
        rendered.0.links = Some(header_value(links.join(", "))?);
    }
    Ok(rendered)
}

/// An HTML page under its `Content-Security-Policy`.
pub fn render_html(
    body: String,
    csp: String,
    item: &ItemObject,
    tags: Vec<String>,
) -> Result<Rendered> {
    let bytes = body.into_bytes();
    let surrogate_keys = surrogate_keys(&tags);
    let cached = Cached {
        content_type: HeaderValue::from_static("text/html; charset=utf-8"),
        links: None,
        csp: Some(header_value(csp)?),
        etag: header_value(strong_etag(&bytes))?,
        cache_tags: header_value(surrogate_keys.replace(' ', ","))?,
        surrogate_keys: header_value(surrogate_keys)?,
        body: bytes::Bytes::from(bytes.into_boxed_slice()),
        last_modified: latest(std::slice::from_ref(item))
            .map(|t| header_value(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()))
            .transpose()?,
    };
    Ok((cached, tags))
}

/// A JSON-LD document made of `item`: `Last-Modified` from the item and everything it
/// shows.
pub fn render_jsonld(document: &Value, item: &ItemObject, tags: Vec<String>) -> Result<Rendered> {
    render_as(
        Representation::JsonLd,
        document,
        latest(std::slice::from_ref(item)),
        tags,
    )
}

/// Citations as CSL-JSON: an item, or a page's items (an array).
pub fn render_csl(body: &Value, items: &[ItemObject], tags: Vec<String>) -> Result<Rendered> {
    render_as(Representation::CslJson, body, latest(items), tags)
}

/// `Link: <…>; rel="next"`: this request's URL for the page after it (`cursor`), added to
/// the links the response has.
pub fn with_next(
    mut rendered: Rendered,
    req: &actix_web::HttpRequest,
    query: &[(String, String)],
    cursor: Option<&str>,
) -> Result<Rendered> {
    let Some(cursor) = cursor else {
        return Ok(rendered);
    };
    let mut next = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in query.iter().filter(|(key, _)| key != "cursor") {
        next.append_pair(key, value);
    }
    next.append_pair("cursor", cursor);
    let link = format!("<{}?{}>; rel=\"next\"", req.path(), next.finish());
    let links = match rendered.0.links.as_ref().and_then(|l| l.to_str().ok()) {
        Some(existing) => format!("{existing}, {link}"),
        None => link,
    };
    rendered.0.links = Some(header_value(links)?);
    Ok(rendered)
}

/// A JSON body (search pages).
pub fn render_json(body: &Value, tags: Vec<String>) -> Result<Rendered> {
    render(body, latest_update(body), tags)
}

fn own_update(item: &ItemObject) -> Option<DateTime<Utc>> {
    item.get("updated_at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Sends `cached` with its validators; 304 without a body when `If-None-Match` matches.
pub fn respond(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    cached: &Cached,
) -> HttpResponse {
    let cache_control = match caller.visibility() {
        Visibility::All => HeaderValue::from_static("private, no-store"),
        Visibility::PublishedOnly => state.public_cache_control.clone(),
    };
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| {
            list.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| cached.etag == tag || tag == "*")
        });
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, cached.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((
            header::VARY,
            HeaderValue::from_static("Authorization, Accept"),
        ));
    if let Some(last_modified) = &cached.last_modified {
        response.insert_header((header::LAST_MODIFIED, last_modified.clone()));
    }
    if let Some(links) = &cached.links {
        response.insert_header((header::LINK, links.clone()));
    }
    if let Some(csp) = &cached.csp {
        // The reader's page address is nobody's business (health content).
        response
            .insert_header((header::CONTENT_SECURITY_POLICY, csp.clone()))
            .insert_header((
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ));
    }
    if !cached.surrogate_keys.is_empty() {
        response
            .insert_header((SURROGATE_KEY, cached.surrogate_keys.clone()))
            .insert_header((CACHE_TAG, cached.cache_tags.clone()));
    }
    if not_modified {
        return response.finish();
    }
    response
        .insert_header((header::CONTENT_TYPE, cached.content_type.clone()))
        .body(cached.body.clone())
}

/// Header text built here (ETags, HTTP dates, slugs) is always valid; an invalid one
/// would be a bug, reported as such rather than sent.
fn header_value(text: String) -> Result<HeaderValue> {
    HeaderValue::try_from(text).map_err(AppError::internal)
}

/// The latest `updated_at` anywhere in the body (items and their includes).
fn latest_update(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Object(map) => {
            let own = map
                .get("updated_at")
                .and_then(Value::as_str)
                .and_then(parse_timestamp);
            map.values().filter_map(latest_update).chain(own).max()
        }
        Value::Array(items) => items.iter().filter_map(latest_update).max(),
        _ => None,
    }
}

/// The newest `updatedAt` a GraphQL response shows (its `Last-Modified`): GraphQL names
/// the field in camel case and keeps its own value type.
pub fn latest_graphql_update(value: &async_graphql::Value) -> Option<DateTime<Utc>> {
    use async_graphql::Value as Gql;
    match value {
        Gql::Object(map) => {
            let own = match map.get("updatedAt") {
                Some(Gql::String(text)) => parse_timestamp(text),
                _ => None,
            };
            map.values()
                .filter_map(latest_graphql_update)
                .chain(own)
                .max()
        }
        Gql::List(items) => items.iter().filter_map(latest_graphql_update).max(),
        _ => None,
    }
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
