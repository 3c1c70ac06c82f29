//! Syndication terms in the document: `/v1/syndication` and the `syndication` object every
//! item read carries.

use serde_json::{Map, Value, json};

use super::paths::problem;
use super::schemas::schema_ref;
use crate::domain::syndication::{DEPLOYMENT_TERMS, ITEM_TERMS};

fn strings(terms: &[(&str, &str)]) -> Map<String, Value> {
    terms
        .iter()
        .map(|(name, description)| {
            let schema = json!({ "type": ["string", "null"], "description": description });
            ((*name).to_owned(), schema)
        })
        .collect()
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    schemas.insert("Syndication".into(), json!({
        "type": "object",
        "description": "What a storefront owes when it shows the item: the deployment's terms, \
            the publisher's own for its articles, the item's canonical page. Null where not set.",
        "required": ITEM_TERMS.map(|(name, _)| name),
        "properties": strings(&ITEM_TERMS),
    }));
    let names = DEPLOYMENT_TERMS.map(|(name, _)| name);
    schemas.insert(
        "SyndicationTerms".into(),
        json!({
            "type": "object",
            "description": "The deployment's syndication terms, null where not set.",
            "required": names,
            "properties": strings(&DEPLOYMENT_TERMS),
        }),
    );
    schemas.insert(
        "SyndicationTermsInput".into(),
        json!({
            "type": "object",
            "description": "The deployment's syndication terms: an absent or null term is cleared.",
            "additionalProperties": false,
            "properties": strings(&DEPLOYMENT_TERMS),
        }),
    );
    schemas.insert(
        "SyndicationTermsDocument".into(),
        json!({
            "type": "object",
            "required": ["data"],
            "properties": { "data": schema_ref("SyndicationTerms") },
        }),
    );
}

pub fn add_paths(paths: &mut Map<String, Value>) {
    let ok = json!({ "description": "The terms.", "content": { "application/json": { "schema": schema_ref("SyndicationTermsDocument") } } });
    let unavailable = problem("The database is unavailable; retry after `Retry-After` seconds.");
    paths.insert("/v1/syndication".into(), json!({
        "get": {
            "tags": ["service"],
            "operationId": "get_syndication_terms",
            "summary": "Get the terms the deployment offers its content under",
            "responses": { "200": ok, "401": problem("The API key is unknown, expired or revoked, or reads need a key."), "503": unavailable },
            "security": [{}, { "bearer": [] }],
        },
        "put": {
            "tags": ["admin"],
            "operationId": "put_syndication_terms",
            "summary": "Replace the deployment's syndication terms",
            "description": "Needs the `admin` scope. Every response showing the terms is invalidated.",
            "x-required-scope": "admin",
            "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("SyndicationTermsInput") } } },
            "responses": {
                "200": ok,
                "400": problem("Malformed JSON."),
                "401": problem("No API key, or it is unknown, expired or revoked."),
                "403": problem("The API key lacks the `admin` scope."),
                "413": problem("The body is too large."),
                "415": problem("The body is not JSON."),
                "422": problem("A term breaks a rule (https URLs, lengths, control characters); `errors` points at it."),
                "503": unavailable,
            },
            "security": [{ "bearer": [] }],
        },
    }));
}
