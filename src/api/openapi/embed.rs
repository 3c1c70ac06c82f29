//! Embeds in the document: the embed pages (HTML) and the oEmbed provider.

use serde_json::{Map, Value, json};

use super::paths::{problem, version_param};
use super::schemas::schema_ref;
use crate::domain::embed::{Pixels, Theme};

fn pixels(description: &str) -> Value {
    json!({ "type": "integer", "minimum": Pixels::MIN, "maximum": Pixels::MAX, "description": description })
}

fn page_error(description: &str) -> Value {
    json!({ "description": description, "content": { "text/html": { "schema": { "type": "string" } } } })
}

fn page(summary: &str, key: &str, key_description: &str, operation: &str) -> Value {
    json!({
        "tags": ["embeds"],
        "operationId": operation,
        "summary": summary,
        "description": "A complete HTML page: the sanitised content, the attribution (author, medical \
            reviewer and review date, publisher, licence, the original), the disclaimer, the JSON-LD \
            and an oEmbed discovery link. It runs no script and loads nothing; `Content-Security-Policy` \
            allows its one stylesheet by hash and images over https. Errors are HTML pages too.",
        "parameters": [
            { "name": key, "in": "path", "required": true, "schema": { "type": "string" }, "description": key_description },
            { "name": "theme", "in": "query", "required": false, "schema": { "type": "string", "enum": Theme::NAMES, "default": "auto" },
              "description": "Colours: the reader's preference (`auto`), `light` or `dark`." },
            { "name": "maxwidth", "in": "query", "required": false, "schema": pixels("Widest the content column may be, in CSS pixels.") },
            version_param(),
        ],
        "responses": {
            "200": {
                "description": "The page.",
                "headers": {
                    "Content-Security-Policy": { "schema": { "type": "string" }, "description": "`default-src 'none'`, the stylesheet's hash, `frame-ancestors` from `--embed-frame-ancestors`." },
                },
                "content": { "text/html": { "schema": { "type": "string" } } },
            },
            "400": {
                "description": "A parameter is malformed or unknown (an HTML page); text no request may \
                    hold, such as control characters, is refused before routing (problem+json).",
                "content": {
                    "text/html": { "schema": { "type": "string" } },
                    "application/problem+json": { "schema": schema_ref("Problem") },
                },
            },
            "401": {
                "description": "Reads need a key (`--no-public-read`), or the key is unknown, expired or \
                    revoked (an HTML page); `version=draft` without a key is refused before routing \
                    (problem+json).",
                "content": {
                    "text/html": { "schema": { "type": "string" } },
                    "application/problem+json": { "schema": schema_ref("Problem") },
                },
            },
            "403": problem("`version=draft` with a key that lacks the `preview` scope."),
            "404": page_error("No such item the caller may see."),
            "503": page_error("The database is unavailable; retry after `Retry-After` seconds."),
        },
        "security": [{}, { "bearer": [] }],
    })
}

pub fn add_paths(paths: &mut Map<String, Value>) {
    let mut item = page(
        "Show an article, technique or condition as an embeddable page",
        "slug",
        "The item's slug.",
        "embed_item",
    );
    item["parameters"]
        .as_array_mut()
        .expect("parameters")
        .insert(
            0,
            json!({ "name": "collection", "in": "path", "required": true,
                "schema": { "type": "string", "enum": ["articles", "techniques", "conditions"] } }),
        );
    paths.insert("/embed/{collection}/{slug}".into(), json!({ "get": item }));
    paths.insert(
        "/embed/products/sku/{sku}".into(),
        json!({ "get": page(
            "Show a product's module: the techniques that use it, their benefits and evidence, who wrote and reviewed it",
            "sku",
            "The product's SKU.",
            "embed_product",
        ) }),
    );
    paths.insert("/oembed".into(), json!({ "get": {
        "tags": ["embeds"],
        "operationId": "oembed",
        "summary": "Tell an oEmbed 1.0 consumer how to embed an item of this deployment",
        "description": "For the URL of an embed page or of an item's API URL on this deployment's \
            origin (`--public-url`, else the request's), a `rich` answer whose `html` is a sandboxed \
            iframe of the embed page.",
        "parameters": [
            { "name": "url", "in": "query", "required": true, "schema": { "type": "string", "format": "uri" },
              "description": "e.g. `https://content.example.com/embed/techniques/foam-rolling`." },
            { "name": "maxwidth", "in": "query", "required": false, "schema": pixels("Widest the consumer can show.") },
            { "name": "maxheight", "in": "query", "required": false, "schema": pixels("Tallest the consumer can show.") },
            { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "xml"], "default": "json" },
              "description": "Only `json` is offered (`xml` answers 501)." },
        ],
        "responses": {
            "200": { "description": "The answer.", "content": { "application/json": { "schema": schema_ref("OEmbed") } } },
            "400": problem("`url` is missing or not an absolute URL, or a parameter is malformed or unknown."),
            "401": problem("Reads need a key (`--no-public-read`), or the key is unknown, expired or revoked."),
            "404": problem("The URL is not an embeddable item of this deployment the caller may see."),
            "501": problem("`format=xml`: only JSON is offered."),
            "503": problem("The database is unavailable; retry after `Retry-After` seconds."),
        },
        "security": [{}, { "bearer": [] }],
    } }));
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    let text = |description: &str| json!({ "type": "string", "description": description });
    schemas.insert("OEmbed".into(), json!({
        "type": "object",
        "description": "An oEmbed 1.0 `rich` answer.",
        "required": ["type", "version", "title", "provider_name", "provider_url", "cache_age", "html", "width", "height"],
        "properties": {
            "type": { "type": "string", "enum": ["rich"] },
            "version": { "type": "string", "enum": ["1.0"] },
            "title": text("The item's title or name."),
            "author_name": text("The article's author; else whom the deployment's terms credit."),
            "author_url": text("Where the author is found."),
            "provider_name": text("`--provider-name`."),
            "provider_url": text("This deployment's origin."),
            "cache_age": { "type": "integer", "description": "Seconds a consumer may keep the answer." },
            "html": text("A sandboxed, lazily loaded `<iframe>` of the embed page."),
            "width": { "type": "integer", "description": "The iframe's width, within `maxwidth`." },
            "height": { "type": "integer", "description": "The iframe's estimated height, within `maxheight`." },
        },
    }));
}
