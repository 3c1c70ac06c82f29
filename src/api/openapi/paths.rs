//! Operations of the document: one list, one get per collection (plus products by SKU),
//! health, and the document itself — the same loop that mounts the routes.

use serde_json::{Map, Value, json};

use super::schemas::{demo_example, schema_name, schema_ref};
use crate::domain::evidence::Certainty;
use crate::domain::filters::{FilterKind, filter_params};
use crate::domain::listing::{MAX_INCLUDE_DEPTH, sort_fields};
use crate::domain::reference_style::CitationStyle;
use crate::domain::relations::relations;
use crate::domain::rich_text::TextFormat;
use crate::domain::{Collection, ContentVersion, PageSize};

pub fn tags() -> Value {
    let mut tags: Vec<Value> = Collection::ALL
        .iter()
        .map(|c| json!({ "name": c.as_str(), "description": format!("Read and edit {c}.") }))
        .collect();
    tags.push(json!({ "name": "search", "description": "Search across collections." }));
    tags.push(json!({ "name": "service", "description": "Health and the API description." }));
    tags.push(json!({ "name": "admin", "description": "API keys, webhooks and the audit log." }));
    tags.push(json!({ "name": "embeds", "description": "Embed pages and the oEmbed provider." }));
    Value::Array(tags)
}

pub(super) fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": schema_ref("Problem") } },
    })
}

fn cache_headers() -> Value {
    json!({
        "ETag": { "description": "Strong validator of the body.", "schema": { "type": "string" } },
        "Cache-Control": { "schema": { "type": "string" } },
        "Last-Modified": { "description": "Latest update of any item in the body.", "schema": { "type": "string" } },
    })
}

pub(super) fn read_responses(document: &str, with_404: bool) -> Value {
    let mut responses = json!({
        "200": {
            "description": "OK",
            "headers": cache_headers(),
            "content": { "application/json": { "schema": schema_ref(document) } },
        },
        "304": { "description": "Not modified (the `If-None-Match` ETag is current).", "headers": cache_headers() },
        "400": problem("A parameter is unknown or invalid; `detail` names it."),
        "401": problem("The API key is unknown, expired or revoked, or reads need a key."),
        "403": problem("`version=draft` needs a key with the `preview` scope."),
        "406": problem("`Accept` allows no representation this resource has."),
        "414": problem("The query string is too long."),
        "503": problem("The database is unavailable; retry after `Retry-After` seconds."),
    });
    if with_404 {
        responses["404"] = problem("No visible item matches.");
        responses["200"]["content"][JSON_LD] = json!({
            "schema": {
                "type": "object",
                "required": ["@context", "@type"],
                "properties": {
                    "@context": { "type": "string", "enum": [crate::service::jsonld::CONTEXT] },
                    "@type": { "type": "string", "examples": ["MedicalWebPage", "MedicalCondition", "MedicalTherapy", "Product"] },
                },
                "additionalProperties": true,
                "description": "The item as schema.org JSON-LD, for `Accept: application/ld+json`: \
                    articles as MedicalWebPage, conditions as MedicalCondition, techniques as \
                    MedicalTherapy, benefits as MedicalEntity, citations as \
                    MedicalScholarlyArticle, Report or MedicalGuideline, authors as Person, \
                    publishers as Organization, products as Product (identifiers only, never \
                    an offer). Only published items and links are shown.",
            }
        });
    }
    responses
}

const JSON_LD: &str = "application/ld+json";

fn query(name: &str, description: String, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn include_param(collection: Collection) -> Value {
    let names: Vec<&str> = relations(collection).iter().map(|r| r.name).collect();
    query(
        "include",
        format!(
            "Comma-separated relations to embed, dotted up to {MAX_INCLUDE_DEPTH} levels \
             (e.g. `{}`). Relations: {}.",
            names.first().copied().unwrap_or_default(),
            names.join(", ")
        ),
        json!({ "type": "string" }),
    )
}

fn fields_param(collection: Collection) -> Value {
    query(
        "fields",
        format!(
            "Comma-separated fields to return (sparse fieldset), e.g. `slug,{}`; name \
             `syndication` to keep the terms. Items then carry the named fields only (and \
             `formatted` when `style` is asked): the item schema's other required fields \
             are absent.",
            sort_fields(collection)[0].name
        ),
        json!({ "type": "string" }),
    )
}

fn min_certainty_param() -> Value {
    query(
        "min_certainty",
        "Only the claims (a technique helps with a condition, a technique brings a benefit) \
         whose evidence is at least this certain: in the relations `include` embeds and in \
         relation filters through a claim (`/v1/techniques?benefit=…&min_certainty=moderate`)."
            .into(),
        json!({ "type": "string", "enum": Certainty::NAMES }),
    )
}

fn style_param() -> Value {
    query(
        "style",
        "Citations (the items read, those `include` embeds and the works behind embedded \
         claims' evidence) carry `formatted: {text, html}`, their reference in this style: `ama` (AMA Manual of Style, 11th edition), \
         `apa` (APA Style, 7th edition) or `vancouver` (NLM Citing Medicine)."
            .into(),
        json!({ "type": "string", "enum": CitationStyle::NAMES }),
    )
}

pub(super) fn version_param() -> Value {
    query(
        ContentVersion::PARAM,
        "Which version of content a key with the `preview` scope reads: `draft` (its \
         default) shows the draft of a published item where it has one (its fields, status \
         and version), `published` what readers see. `draft` needs the `preview` scope."
            .into(),
        json!({ "type": "string", "enum": ContentVersion::NAMES }),
    )
}

fn format_param() -> Value {
    query(
        "format",
        "The form of Markdown fields (article body, technique description, …), embedded items' \
         included: `markdown` as stored, `html` rendered and sanitised (no script, event \
         handler or `javascript:` URL; links `rel=\"noopener noreferrer nofollow\"`; images \
         over https only), `text` plain text for previews."
            .into(),
        json!({ "type": "string", "enum": TextFormat::NAMES, "default": "markdown" }),
    )
}

fn demo_slug(collection: Collection) -> Value {
    demo_example(collection)
        .and_then(|row| row.get("slug").cloned())
        .unwrap_or_else(|| json!("an-example-slug"))
}

fn list_parameters(collection: Collection) -> Vec<Value> {
    let sorts: Vec<String> = sort_fields(collection)
        .iter()
        .flat_map(|f| [f.name.to_owned(), format!("-{}", f.name)])
        .collect();
    let mut params = vec![
        query(
            "limit",
            format!(
                "Page size (default {}, at most {}).",
                PageSize::DEFAULT.get(),
                PageSize::MAX
            ),
            json!({ "type": "integer", "minimum": 1, "maximum": PageSize::MAX, "default": PageSize::DEFAULT.get() }),
        ),
        query(
            "cursor",
            "`page.next_cursor` of the previous page; valid only with the same filters, \
             search and sort."
                .into(),
            json!({ "type": "string" }),
        ),
        query(
            "sort",
            format!(
                "Comma-separated sort keys, `-` for descending, ties broken by id; default \
                 `{}` (by relevance with `q`). Keys: {}.",
                sort_fields(collection)[0].name,
                sorts.join(", ")
            ),
            json!({ "type": "string" }),
        ),
        query(
            "count",
            "Add `page.total`, the number of matching items.".into(),
            json!({ "type": "boolean", "default": false }),
        ),
        include_param(collection),
        fields_param(collection),
        format_param(),
        min_certainty_param(),
        style_param(),
        version_param(),
    ];
    if migration::SEARCHABLE
        .iter()
        .any(|(t, _)| *t == collection.table())
    {
        params.push(query(
            "q",
            "Full-text search (stemmed; `word*` for a prefix), ranked by relevance.".into(),
            json!({ "type": "string", "maxLength": 512 }),
        ));
    }
    for filter in filter_params(collection) {
        let (description, schema) = match &filter.kind {
            FilterKind::OneOf { allowed, .. } => (
                format!("One or more of {} (comma-separated).", allowed.join(", ")),
                json!({ "type": "string" }),
            ),
            FilterKind::Text { .. } => (
                "Exact value (comma-separated for several).".to_owned(),
                json!({ "type": "string" }),
            ),
            FilterKind::Exactly { .. } => ("Exact value.".to_owned(), json!({ "type": "integer" })),
            FilterKind::AtLeast { .. } => (
                "Lower bound (inclusive).".to_owned(),
                json!({ "type": "integer" }),
            ),
            FilterKind::AtMost { .. } => (
                "Upper bound (inclusive).".to_owned(),
                json!({ "type": "integer" }),
            ),
            FilterKind::Related(relation) => (
                format!(
                    "Only {collection} related to the {} with this slug.",
                    relation.to.singular()
                ),
                json!({ "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "examples": [demo_slug(relation.to)] }),
            ),
            FilterKind::ReviewOverdue { .. } => (
                "`overdue`: only items whose next medical review date has passed.".to_owned(),
                json!({ "type": "string", "enum": ["overdue"] }),
            ),
            FilterKind::DueWithin { .. } => (
                "Only items whose next medical review is due within this many days \
                 (overdue included), e.g. `30d`."
                    .to_owned(),
                json!({ "type": "string", "pattern": "^[0-9]{1,4}d$", "examples": ["30d"] }),
            ),
        };
        params.push(query(&filter.name, description, schema));
    }
    params
}

fn operation(
    tag: &str,
    id: String,
    summary: String,
    params: Vec<Value>,
    responses: Value,
) -> Value {
    json!({
        "get": {
            "tags": [tag],
            "operationId": id,
            "summary": summary,
            "parameters": params,
            "responses": responses,
            "security": [{}, { "bearer": [] }],
        }
    })
}

pub fn paths() -> Value {
    let mut paths = Map::new();
    for collection in Collection::ALL {
        let name = schema_name(collection);
        let tag = collection.as_str();
        paths.insert(
            format!("/v1/{collection}"),
            operation(
                tag,
                format!("list_{collection}"),
                format!("List {collection}"),
                list_parameters(collection),
                read_responses(&format!("{name}Page"), false),
            ),
        );
        let slug = json!({
            "name": "slug", "in": "path", "required": true,
            "schema": { "type": "string", "maxLength": 120, "examples": [demo_slug(collection)] },
        });
        paths.insert(
            format!("/v1/{collection}/{{slug}}"),
            operation(
                tag,
                format!("get_{}", collection.singular()),
                format!("Get one {} by slug", collection.singular()),
                vec![
                    slug,
                    include_param(collection),
                    fields_param(collection),
                    format_param(),
                    min_certainty_param(),
                    style_param(),
                    version_param(),
                ],
                read_responses(&format!("{name}Document"), true),
            ),
        );
    }
    let sku = json!({
        "name": "sku", "in": "path", "required": true,
        "schema": { "type": "string", "maxLength": 200, "examples": ["DEMO-FR-SMOOTH"] },
    });
    paths.insert(
        "/v1/products/sku/{sku}".into(),
        operation(
            "products",
            "get_product_by_sku".into(),
            "Get one product by SKU (for a storefront's product page)".into(),
            vec![
                sku,
                include_param(Collection::Products),
                fields_param(Collection::Products),
                format_param(),
                min_certainty_param(),
                style_param(),
                version_param(),
            ],
            read_responses("ProductDocument", true),
        ),
    );
    let gtin = json!({
        "name": "gtin", "in": "path", "required": true,
        "description": "GTIN-8, -12, -13 or -14; the forms of one number find the same product.",
        "schema": { "type": "string", "pattern": "^([0-9]{8}|[0-9]{12,14})$", "examples": ["0036000291452"] },
    });
    let mut by_gtin = operation(
        "products",
        "get_product_by_gtin".into(),
        "Get one product by GTIN (retail barcode)".into(),
        vec![
            gtin,
            include_param(Collection::Products),
            fields_param(Collection::Products),
            format_param(),
            min_certainty_param(),
            style_param(),
            version_param(),
        ],
        read_responses("ProductDocument", true),
    );
    by_gtin["get"]["responses"]["400"] = problem(
        "A parameter is invalid, or the GTIN is malformed (length, digits or check digit; \
         `detail` says which).",
    );
    paths.insert("/v1/products/gtin/{gtin}".into(), by_gtin);
    let searchable: Vec<&str> = crate::service::fulltext::searchable()
        .map(|c| c.as_str())
        .collect();
    paths.insert(
        "/v1/search".into(),
        operation(
            "search",
            "search".into(),
            "Search across collections, best hits first".into(),
            vec![
                json!({
                    "name": "q", "in": "query", "required": true,
                    "description": "Words to find (stemmed; `word*` for a prefix).",
                    "schema": { "type": "string", "minLength": 1, "maxLength": 512, "examples": ["massage"] },
                }),
                query(
                    "type",
                    format!("Comma-separated collections to search (default all): {}.", searchable.join(", ")),
                    json!({ "type": "string" }),
                ),
                query(
                    "limit",
                    format!("Page size (default {}, at most {}).", PageSize::DEFAULT.get(), PageSize::MAX),
                    json!({ "type": "integer", "minimum": 1, "maximum": PageSize::MAX, "default": PageSize::DEFAULT.get() }),
                ),
                query("cursor", "`page.next_cursor` of the previous page.".into(), json!({ "type": "string" })),
                format_param(),
                style_param(),
                version_param(),
            ],
            read_responses("SearchPage", false),
        ),
    );
    let health = |operation: &str, summary: &str| {
        json!({
            "get": {
                "tags": ["service"],
                "operationId": operation,
                "summary": summary,
                "security": [],
                "responses": {
                    "200": { "description": "OK", "content": { "application/json": { "schema": schema_ref("Health") } } },
                    "414": problem("The query string is too long."),
                    "503": problem("Not ready: the database is unreachable, migrations are pending, or the process is shutting down."),
                },
            }
        })
    };
    paths.insert(
        "/healthz".into(),
        health("healthz", "Check that the process is up"),
    );
    paths.insert(
        "/readyz".into(),
        health("readyz", "Check that the service can take traffic"),
    );
    paths.insert(
        "/metrics".into(),
        json!({
            "get": {
                "tags": ["service"],
                "operationId": "metrics",
                "summary": "Read the Prometheus metrics: requests and latency per route, SQL statements, pool usage, read-cache hits, misses and evictions",
                "description": "Needs an API key with the `metrics` scope (or `admin`).",
                "security": [{ "bearer": [] }],
                "responses": {
                    "200": { "description": "OK", "content": { "text/plain": { "schema": { "type": "string" } } } },
                    "401": problem("No API key, or it is unknown, expired or revoked."),
                    "403": problem("The API key lacks the `metrics` scope."),
                },
            }
        }),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({
            "get": {
                "tags": ["service"],
                "operationId": "openapi",
                "summary": "Get this OpenAPI document",
                "security": [],
                "responses": {
                    "200": { "description": "OK", "content": { "application/json": {} } },
                    "414": problem("The query string is too long."),
                },
            }
        }),
    );
    Value::Object(paths)
}
