//! The oEmbed 1.0 provider: for the URL of an item of this deployment (its embed page or
//! its API URL), a `rich` answer whose HTML is a sandboxed iframe of the embed page.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value as Json, json};

use super::html::escape;
use super::{QueryPairs, context, load, origin, page};
use crate::api::http_cache::{read_through_for, render_json};
use crate::api::negotiate::Representation;
use crate::api::params::oembed_params;
use crate::domain::Scope;
use crate::domain::embed::{EmbedOptions, EmbedTarget, Pixels};
use crate::error::{AppError, Result};
use crate::service::{Caller, syndication};
use crate::state::AppState;

/// How long consumers may keep an answer (seconds).
const CACHE_AGE: u32 = 3600;
/// The embed page's own widest layout (`main` in embed.css).
const PAGE_WIDTH: u32 = 720;

/// `GET /oembed?url=…&maxwidth=&maxheight=&format=json`.
pub async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryPairs,
) -> Result<HttpResponse> {
    caller.require(Scope::Read)?;
    let request = oembed_params(&query)?;
    let origin = origin(&req, &state);
    // Checked before the cache: an answer is only ever for this deployment's own URLs.
    let target = own_target(&request.url, &origin)?;
    read_through_for(
        &req,
        &state,
        &caller,
        Representation::Json,
        &origin,
        || async {
            let page = load(&state, &caller, &target).await?;
            let width = request
                .maxwidth
                .map_or(PAGE_WIDTH, |w| w.get().min(PAGE_WIDTH));
            let options = EmbedOptions {
                maxwidth: Some(Pixels::parse("maxwidth", &width.to_string())?),
                ..EmbedOptions::default()
            };
            let html = page::render(&target, &page, options, &context(&state, &origin));
            let height = estimated_height(&html.body, width, request.maxheight);
            let body = document(&state, &origin, &target, &page, width, height);
            render_json(&body, page.tags)
        },
    )
    .await
}

/// The item `url` names, if it is an embed or API URL of this deployment: a malformed
/// URL is a 400, any other URL (another host included) a 404.
fn own_target(url: &str, origin: &str) -> Result<EmbedTarget> {
    let parsed = url::Url::parse(url)
        .map_err(|e| AppError::invalid_parameter(format!("url: not an absolute URL ({e})")))?;
    let not_ours = || AppError::NotFound(format!("{url} is not an embeddable item of {origin}"));
    if parsed.origin().ascii_serialization() != origin {
        return Err(not_ours());
    }
    EmbedTarget::from_path(parsed.path()).ok_or_else(not_ours)
}

fn document(
    state: &AppState,
    origin: &str,
    target: &EmbedTarget,
    page: &crate::service::embed::Page,
    width: u32,
    height: u32,
) -> Json {
    let item = &page.item;
    let text = |value: Option<&Json>, key: &str| {
        value
            .and_then(|v| v.get(key))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let title = item
        .get("title")
        .or_else(|| item.get("name"))
        .and_then(Json::as_str)
        .unwrap_or_default();
    let terms = item.get(syndication::KEY);
    // An article's author; else whom the deployment's terms credit.
    let author = item.get("author").filter(|a| a.is_object());
    let (author_name, author_url) = match author {
        Some(author) => (
            text(Some(author), "name"),
            author
                .get("same_as")
                .and_then(Json::as_array)
                .and_then(|urls| urls.first())
                .and_then(Json::as_str)
                .map(str::to_owned),
        ),
        None => (
            text(terms, "attribution_text"),
            text(terms, "attribution_url"),
        ),
    };
    let src = format!("{origin}{}?maxwidth={width}", target.embed_path());
    let iframe = format!(
        "<iframe src=\"{}\" width=\"{width}\" height=\"{height}\" title=\"{}\" \
         sandbox=\"allow-popups allow-popups-to-escape-sandbox\" loading=\"lazy\" \
         referrerpolicy=\"no-referrer\" style=\"border:0;max-width:100%\"></iframe>",
        escape(&src),
        escape(title)
    );
    let mut body = json!({
        "type": "rich",
        "version": "1.0",
        "title": title,
        "provider_name": state.settings.serve.embed.provider_name,
        "provider_url": format!("{origin}/"),
        "cache_age": CACHE_AGE,
        "html": iframe,
        "width": width,
        "height": height,
    });
    let fields = body.as_object_mut().expect("an object");
    if let Some(name) = author_name {
        fields.insert("author_name".into(), json!(name));
    }
    if let Some(url) = author_url.filter(|u| super::html::safe_href(u).is_some()) {
        fields.insert("author_url".into(), json!(url));
    }
    body
}

/// The page's height at `width`, at most `maxheight`: no script runs in the page to tell
/// its consumer, so the answer estimates it, generously (a little space below the page
/// is better than an attribution cut off). Each block of text takes whole lines of about
/// 8.5 px a character and 26 px a line, plus its margins.
fn estimated_height(page: &str, width: u32, maxheight: Option<Pixels>) -> u32 {
    const BLOCKS: &[&str] = &[
        "p",
        "li",
        "h1",
        "h2",
        "h3",
        "div",
        "aside",
        "footer",
        "section",
        "article",
        "ol",
        "ul",
        "blockquote",
        "pre",
        "table",
        "tr",
    ];
    let per_line = (f64::from(width.saturating_sub(32)) / 8.5).max(10.0);
    let body = page.split_once("<body>").map_or(page, |(_, b)| b);
    let mut height = 32.0;
    let mut chars = 0usize;
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        chars += rest[..open].trim().chars().count();
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        let tag = rest[open + 1..close.saturating_sub(1)].trim_start_matches('/');
        let name = tag.split([' ', '>']).next().unwrap_or_default();
        if BLOCKS.contains(&name) {
            if chars > 0 {
                let line = if name.starts_with('h') { 36.0 } else { 26.0 };
                height += (chars as f64 / per_line).ceil() * line;
                chars = 0;
            }
            height += 6.0;
        }
        rest = &rest[close..];
    }
    let estimate = height.ceil() as u32;
    let cap = maxheight.map_or(u32::MAX, Pixels::get);
    estimate.clamp(Pixels::MIN, cap.max(Pixels::MIN))
}
