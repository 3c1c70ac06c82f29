//! An embed page: a complete, small HTML document that loads nothing (one inline
//! stylesheet, allowed by its hash), runs nothing, and always carries the attribution,
//! the review, the licence, the canonical page and the disclaimer.

use serde_json::Value as Json;

use super::html::{escape, json_in_script, link, query_value, style_hash};
use crate::domain::Collection;
use crate::domain::embed::{EmbedOptions, EmbedTarget};
use crate::service::embed::Page;
use crate::service::syndication;

const CSS: &str = include_str!("embed.css");

/// Where the page lives and who frames it.
pub struct Context<'a> {
    /// This deployment's origin, e.g. `https://content.example.com`.
    pub origin: &'a str,
    pub language: &'a str,
    pub frame_ancestors: &'a str,
}

/// The page and its `Content-Security-Policy`.
pub struct Html {
    pub body: String,
    pub csp: String,
}

/// The page's stylesheet: the shared one, narrowed to `maxwidth`.
fn stylesheet(options: EmbedOptions) -> String {
    match options.maxwidth {
        Some(width) => format!("{CSS}main{{max-width:{}px}}\n", width.get()),
        None => CSS.to_owned(),
    }
}

/// No script, no frame, no fetch, no form; the one stylesheet; images over https only.
fn policy(style: &str, frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; style-src {}; img-src https:; base-uri 'none'; \
         form-action 'none'; frame-ancestors {frame_ancestors}",
        style_hash(style)
    )
}

pub fn render(target: &EmbedTarget, page: &Page, options: EmbedOptions, cx: &Context) -> Html {
    let item = &page.item;
    let title = text(item, title_field(target.collection)).unwrap_or_default();
    let style = stylesheet(options);
    let url = format!("{}{}", cx.origin, target.embed_path());
    let terms = item.get(syndication::KEY);
    let mut head = format!(
        "<!doctype html>\n<html lang=\"{}\" data-theme=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<base target=\"_blank\">\n",
        escape(cx.language),
        options.theme.as_str(),
        escape(title),
    );
    if let Some(canonical) = terms.and_then(|t| text_of(t, "canonical_url")) {
        head.push_str(&format!(
            "<link rel=\"canonical\" href=\"{}\">\n",
            escape(canonical)
        ));
    }
    head.push_str(&format!(
        "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{}/oembed?url={}&amp;format=json\" title=\"{}\">\n\
         <style>{style}</style>\n<script type=\"application/ld+json\">{}</script>\n</head>\n",
        escape(cx.origin),
        escape(&query_value(&url)),
        escape(title),
        json_in_script(&page.jsonld),
    ));
    let mut body = String::from("<body>\n<main>\n");
    match target.collection {
        Collection::Articles => article(item, &mut body),
        Collection::Techniques => technique(item, &mut body),
        Collection::Conditions => condition(item, &mut body),
        _ => product(item, &mut body),
    }
    attribution(item, terms, &mut body);
    body.push_str("</main>\n</body>\n</html>\n");
    Html {
        body: head + &body,
        csp: policy(&style, cx.frame_ancestors),
    }
}

/// A small page for a failed embed (not found, bad parameters), under the same policy.
pub fn error(status: u16, message: &str, frame_ancestors: &str) -> Html {
    let style = stylesheet(EmbedOptions::default());
    Html {
        body: format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{status}</title>\n<style>{style}</style>\n</head>\n\
             <body>\n<main>\n<p class=\"summary\">{}</p>\n</main>\n</body>\n</html>\n",
            escape(message)
        ),
        csp: policy(&style, frame_ancestors),
    }
}

fn title_field(collection: Collection) -> &'static str {
    match collection {
        Collection::Articles | Collection::Citations => "title",
        _ => "name",
    }
}

fn text<'a>(item: &'a crate::service::item::ItemObject, key: &str) -> Option<&'a str> {
    item.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

fn text_of<'a>(value: &'a Json, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

fn items<'a>(item: &'a crate::service::item::ItemObject, key: &str) -> &'a [Json] {
    item.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The heading, the summary and the sanitised rich text (`field`, read as HTML).
fn lead(item: &crate::service::item::ItemObject, title: &str, field: &str, out: &mut String) {
    out.push_str(&format!(
        "<article>\n<h1>{}</h1>\n",
        escape(text(item, title).unwrap_or_default())
    ));
    if let Some(summary) = text(item, "summary") {
        out.push_str(&format!("<p class=\"summary\">{}</p>\n", escape(summary)));
    }
    if let Some(html) = text(item, field) {
        // Rendered from Markdown and sanitised when it was written.
        out.push_str(&format!("<div class=\"content\">{html}</div>\n"));
    }
    out.push_str("</article>\n");
}

fn article(item: &crate::service::item::ItemObject, out: &mut String) {
    lead(item, "title", "body", out);
    evidence(items(item, "citations"), out);
}

fn technique(item: &crate::service::item::ItemObject, out: &mut String) {
    lead(item, "name", "description", out);
    named_list("Benefits", items(item, "benefits"), out);
    named_list("Conditions", items(item, "conditions"), out);
    evidence(items(item, "citations"), out);
}

fn condition(item: &crate::service::item::ItemObject, out: &mut String) {
    lead(item, "name", "body", out);
    named_list("Techniques", items(item, "techniques"), out);
    evidence(items(item, "citations"), out);
}

/// The product module: the techniques that use the product, their benefits and
/// evidence, and who wrote and reviewed what the publisher says about it.
fn product(item: &crate::service::item::ItemObject, out: &mut String) {
    lead(item, "name", "description", out);
    let techniques = items(item, "techniques");
    if !techniques.is_empty() {
        out.push_str("<section>\n<h2>Techniques that use it</h2>\n");
        for technique in techniques {
            out.push_str(&format!(
                "<h3>{}</h3>\n",
                escape(text_of(technique, "name").unwrap_or_default())
            ));
            if let Some(summary) = text_of(technique, "summary") {
                out.push_str(&format!("<p>{}</p>\n", escape(summary)));
            }
            let benefits = technique.get("benefits").and_then(Json::as_array);
            named_list("Benefits", benefits.map_or(&[], Vec::as_slice), out);
            let citations = technique.get("citations").and_then(Json::as_array);
            evidence(citations.map_or(&[], Vec::as_slice), out);
        }
        out.push_str("</section>\n");
    }
    let articles = items(item, "articles");
    if !articles.is_empty() {
        out.push_str("<section>\n<h2>Written and reviewed by</h2>\n<ul class=\"items\">\n");
        for article in articles {
            let line = byline(|key| article.get(key));
            out.push_str(&format!(
                "<li><strong>{}</strong>{}</li>\n",
                escape(text_of(article, "title").unwrap_or_default()),
                if line.is_empty() {
                    String::new()
                } else {
                    format!(": {}", line.join("; "))
                }
            ));
        }
        out.push_str("</ul>\n</section>\n");
    }
}

fn named_list(heading: &str, related: &[Json], out: &mut String) {
    if related.is_empty() {
        return;
    }
    out.push_str(&format!(
        "<section>\n<h2>{heading}</h2>\n<ul class=\"items\">\n"
    ));
    for one in related {
        let name = escape(text_of(one, "name").unwrap_or_default());
        let claim = one.pointer("/link/evidence").map_or(String::new(), claim);
        match text_of(one, "summary") {
            Some(summary) => out.push_str(&format!(
                "<li><strong>{name}</strong>: {}{claim}</li>\n",
                escape(summary)
            )),
            None => out.push_str(&format!("<li><strong>{name}</strong>{claim}</li>\n")),
        }
    }
    out.push_str("</ul>\n</section>\n");
}

/// A graded claim's line: its statement, worded for its certainty, then the certainty and
/// how many of its sources the reader may see (`""` for a link without evidence).
fn claim(evidence: &Json) -> String {
    let Some(statement) = text_of(evidence, "statement") else {
        return String::new();
    };
    let certainty = text_of(evidence, "certainty").unwrap_or_default();
    let sources = evidence
        .get("citations")
        .and_then(Json::as_array)
        .map_or(0, Vec::len);
    format!(
        "<span class=\"claim\">{} <em>({} certainty of evidence; {sources} source{})</em></span>",
        escape(statement),
        escape(&certainty.replace('_', " ")),
        if sources == 1 { "" } else { "s" }
    )
}

/// The citations, one line each: title, journal and year, DOI or PubMed link.
fn evidence(citations: &[Json], out: &mut String) {
    if citations.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Evidence</h2>\n<ol class=\"items\">\n");
    for citation in citations {
        let title = text_of(citation, "title").unwrap_or_default();
        let doi = text_of(citation, "doi").map(|d| format!("https://doi.org/{d}"));
        let pubmed =
            text_of(citation, "pmid").map(|p| format!("https://pubmed.ncbi.nlm.nih.gov/{p}/"));
        let url = text_of(citation, "url")
            .map(str::to_owned)
            .or(doi)
            .or(pubmed);
        let source: Vec<String> = [
            text_of(citation, "journal").map(escape),
            citation
                .get("year")
                .and_then(Json::as_i64)
                .map(|y| y.to_string()),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.push_str(&format!(
            "<li>{}{}</li>\n",
            link(url.as_deref(), title, "noopener noreferrer nofollow"),
            if source.is_empty() {
                String::new()
            } else {
                format!(". <em>{}</em>", source.join(", "))
            }
        ));
    }
    out.push_str("</ol>\n</section>\n");
}

/// `written by A, MD`, `medically reviewed by B, RN on 5 March 2026` for an article whose
/// fields `get` reads (`last reviewed on …` when no reviewer the reader may see is named).
fn byline<'a>(get: impl Fn(&str) -> Option<&'a Json>) -> Vec<String> {
    let person = |key: &str| {
        get(key).filter(|p| p.is_object()).map(|p| {
            let name = escape(text_of(p, "name").unwrap_or_default());
            match text_of(p, "credentials") {
                Some(credentials) => format!("{name}, {}", escape(credentials)),
                None => name,
            }
        })
    };
    let mut parts = Vec::new();
    if let Some(author) = person("author") {
        parts.push(format!("written by {author}"));
    }
    let date = review_date(get("last_reviewed_at"))
        .map(|(iso, shown)| format!(" on <time datetime=\"{iso}\">{shown}</time>"))
        .unwrap_or_default();
    match person("reviewer") {
        Some(reviewer) => parts.push(format!("medically reviewed by {reviewer}{date}")),
        None if !date.is_empty() => parts.push(format!("last reviewed{date}")),
        None => {}
    }
    parts
}

/// The last medical review's date, as `2026-03-05` and as `5 March 2026`.
fn review_date(at: Option<&Json>) -> Option<(String, String)> {
    let at = chrono::DateTime::parse_from_rfc3339(at?.as_str()?).ok()?;
    Some((
        at.format("%Y-%m-%d").to_string(),
        at.format("%-d %B %Y").to_string(),
    ))
}

/// The footer every page carries: byline (articles), attribution, licence, the original,
/// and the disclaimer.
fn attribution(item: &crate::service::item::ItemObject, terms: Option<&Json>, out: &mut String) {
    out.push_str("<footer>\n");
    let line = byline(|key| item.get(key)).join("; ");
    if let Some(first) = line.get(..1) {
        out.push_str(&format!("<p>{}{}.</p>\n", first.to_uppercase(), &line[1..]));
    }
    if let Some(publisher) = item.get("publisher").filter(|p| p.is_object()) {
        out.push_str(&format!(
            "<p>Published by {}.</p>\n",
            link(
                text_of(publisher, "url"),
                text_of(publisher, "name").unwrap_or_default(),
                "noopener"
            )
        ));
    }
    let term = |key: &str| terms.and_then(|t| text_of(t, key));
    if let Some(attribution) = term("attribution_text") {
        out.push_str(&format!(
            "<p>{}</p>\n",
            link(term("attribution_url"), attribution, "noopener")
        ));
    }
    if let Some(licence) = term("licence_url") {
        out.push_str(&format!(
            "<p>Licence: {}</p>\n",
            link(Some(licence), licence, "license noopener")
        ));
    }
    if let Some(canonical) = term("canonical_url") {
        out.push_str(&format!(
            "<p>{}</p>\n",
            link(Some(canonical), "Read the original", "canonical noopener")
        ));
    }
    out.push_str("</footer>\n");
    if let Some(disclaimer) = term("disclaimer") {
        out.push_str(&format!(
            "<aside class=\"disclaimer\">{}</aside>\n",
            escape(disclaimer)
        ));
    }
}
