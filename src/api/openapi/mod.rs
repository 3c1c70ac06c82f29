//! The OpenAPI 3.1 document, generated from the same tables that mount the routes (the
//! content model, its relations, sort fields and filter parameters), so every mounted
//! route and parameter is documented and cannot drift. Served at `/openapi.json`, rendered
//! at `/docs` by the vendored Swagger UI, and committed as `openapi/openapi.json`.

mod admin;
mod drafts;
mod embed;
mod evidence;
mod inputs;
mod limits;
mod paths;
mod reviews;
mod schemas;
mod syndication;
mod webhooks;
mod writes;

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

/// The OpenAPI document of this build.
pub fn document() -> OpenApi {
    let value = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Salve",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Headless content API for health publishers: conditions, massage \
                techniques, benefits, research citations, authors, products and articles, and \
                the links between them.\n\nWithout the `preview` scope only `published` items, \
                and only links whose both ends are published, are visible. Lists use keyset \
                pagination: follow `page.next_cursor` until it is null. Every error is \
                `application/problem+json` with a stable `code`.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "servers": [{ "url": "/" }],
        "tags": paths::tags(),
        "paths": all_paths(),
        "webhooks": webhooks::webhooks(),
        "components": {
            "schemas": all_schemas(),
            "responses": shared_responses(),
            "securitySchemes": {
                "webhookSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "What deliveries to a webhook endpoint carry: space-separated \
                        `v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">` \
                        under the endpoint's secret (Standard Webhooks v1)."
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: `Authorization: Bearer salve_…`. Anonymous \
                        reads of published content are allowed unless the server runs with \
                        `--no-public-read`."
                }
            }
        }
    });
    // Going through utoipa's model checks the document's shape.
    serde_json::from_value(value).unwrap_or_else(|e| panic!("invalid OpenAPI document: {e}"))
}

fn all_paths() -> Value {
    let mut paths = paths::paths();
    if let Some(map) = paths.as_object_mut() {
        writes::add_paths(map);
        syndication::add_paths(map);
        embed::add_paths(map);
        webhooks::add_paths(map);
    }
    limits::apply(&mut paths);
    paths
}

fn shared_responses() -> Value {
    let mut responses = serde_json::Map::new();
    writes::add_responses(&mut responses);
    limits::add_responses(&mut responses);
    Value::Object(responses)
}

fn all_schemas() -> Value {
    let mut schemas = schemas::schemas();
    if let Some(map) = schemas.as_object_mut() {
        inputs::add_schemas(map);
        evidence::add_schemas(map);
        reviews::add_schemas(map);
        syndication::add_schemas(map);
        embed::add_schemas(map);
        webhooks::add_schemas(map);
    }
    schemas
}

/// The document as committed (`openapi/openapi.json`): pretty JSON with a final newline.
pub fn document_json() -> String {
    let value: Value = serde_json::to_value(document()).unwrap_or_default();
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
