//! JSON Schemas of the response bodies, derived from the content model.

use serde_json::{Map, Value, json};

use crate::domain::model::{COMMON_FIELDS, STATUSES};
use crate::domain::relations::relations;
use crate::domain::{Collection, FieldKind};
use crate::error::{FieldError, Problem};
use crate::service::item::REVIEW_STATUS;

/// `Technique` for techniques.
pub fn schema_name(collection: Collection) -> String {
    let singular = collection.singular();
    let mut chars = singular.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `formatted` on a citation: its reference in the style asked for, or null.
pub fn formatted_reference() -> Value {
    json!({
        "description": "With `style`: the citation's reference in that style, as plain text \
            and as HTML (italics, and the DOI as a link).",
        "anyOf": [{
            "type": "object",
            "required": ["text", "html"],
            "properties": {
                "text": { "type": "string" },
                "html": { "type": "string" },
            },
        }, { "type": "null" }],
    })
}

pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(kind: &str) -> Value {
    json!([kind, "null"])
}

/// The first demo row of a collection, as an example.
pub fn demo_example(collection: Collection) -> Option<Value> {
    let file = format!("{collection}.ndjson");
    let text = crate::service::interchange::DEMO
        .0
        .iter()
        .find(|(name, _)| *name == file)?
        .1;
    let mut row: serde_json::Map<String, Value> =
        serde_json::from_str(text.lines().next()?).ok()?;
    if collection == Collection::Citations {
        // As stored and served: authors in parts, the DOI in its normal form.
        crate::domain::citation::normalize(&mut row);
    }
    Some(Value::Object(row))
}

fn field_schema(kind: FieldKind, required: bool, name: &str) -> Value {
    let of = |t: &str| if required { json!(t) } else { nullable(t) };
    match kind {
        FieldKind::Text => json!({ "type": of("string") }),
        FieldKind::Markdown(_) => json!({
            "type": of("string"),
            "description": "CommonMark as stored; with `format=html` sanitised HTML (safe to \
                insert into a page), with `format=text` plain text.",
        }),
        FieldKind::Integer => json!({ "type": of("integer"), "minimum": 0 }),
        FieldKind::Enum(values) => {
            let mut allowed: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            if !required {
                allowed.push(Value::Null);
            }
            json!({ "type": of("string"), "enum": allowed })
        }
        FieldKind::StringList => json!({ "type": "array", "items": { "type": "string" } }),
        FieldKind::Statistics => json!({ "type": "array", "items": schema_ref("Statistic") }),
        FieldKind::Names { .. } => json!({ "type": "array", "items": schema_ref("PersonName") }),
        FieldKind::Reference(target) => json!({
            "type": of("string"),
            "description": format!(
                "Slug of the {} (`{name}`); null when absent or not visible to the caller. \
                 `include={name}` embeds the item instead.",
                target.singular()
            ),
        }),
        FieldKind::Timestamp => json!({ "type": of("string"), "format": "date-time" }),
    }
}

fn item_schema(collection: Collection) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "id".into(),
        json!({ "type": "string", "format": "uuid", "description": "Stable identifier." }),
    );
    properties.insert(
        "slug".into(),
        json!({
            "type": "string",
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "maxLength": 120,
            "description": format!("Unique among {collection}; used in URLs and references."),
        }),
    );
    properties.insert(
        "status".into(),
        json!({ "type": "string", "enum": STATUSES }),
    );
    properties.insert(
        "published_at".into(),
        json!({ "type": nullable("string"), "format": "date-time" }),
    );
    properties.insert(
        "created_at".into(),
        json!({ "type": "string", "format": "date-time" }),
    );
    properties.insert(
        "updated_at".into(),
        json!({ "type": "string", "format": "date-time" }),
    );
    properties.insert(
        "version".into(),
        json!({ "type": "integer", "minimum": 1, "description": "Bumped on every change." }),
    );
    // Every item read carries these (null where unset), unless `fields` picks others.
    let mut required: Vec<&str> = COMMON_FIELDS.to_vec();
    for field in collection.fields() {
        properties.insert(
            field.name.into(),
            field_schema(field.kind, field.required, field.name),
        );
        required.push(field.name);
    }
    if collection.reviewable() {
        properties.insert(
            REVIEW_STATUS.into(),
            json!({
                "type": "string",
                "enum": crate::service::item::ReviewStatus::NAMES,
                "description": "`reviewed` when the item names a medical reviewer you may see; \
                    `unreviewed` otherwise (published under the deployment's `optional` \
                    medical-review policy, or its reviewer is no longer shown).",
            }),
        );
        required.push(REVIEW_STATUS);
    }
    properties.insert(
        "syndication".into(),
        json!({
            "allOf": [schema_ref("Syndication")],
            "description": "On items read directly (an item, list or search result; not on \
                embedded ones): the terms a storefront showing it follows.",
        }),
    );
    if collection == Collection::Citations {
        properties.insert("formatted".into(), formatted_reference());
    }
    properties.insert(
        "link".into(),
        json!({
            "type": "object",
            "description": "Present on items embedded through a link: the link's own data.",
            "properties": {
                "note": { "type": nullable("string") },
                "evidence": {
                    "anyOf": [schema_ref("Evidence"), { "type": "null" }],
                    "description": "On links that make a claim (a technique helps with a \
                        condition, a technique brings a benefit): the evidence behind it, \
                        or null.",
                },
            },
        }),
    );
    for relation in relations(collection) {
        let target = schema_ref(&schema_name(relation.to));
        let schema = if relation.is_to_one() {
            // The reference field of the same name holds the slug unless included.
            json!({ "anyOf": [{ "type": "string" }, target, { "type": "null" }] })
        } else {
            json!({ "type": "array", "items": target })
        };
        let mut schema = schema.as_object().cloned().unwrap_or_default();
        schema.insert(
            "description".into(),
            json!(format!(
                "Embedded with `include={}` (nested with dots).",
                relation.name
            )),
        );
        properties.insert(relation.name.into(), Value::Object(schema));
    }
    let mut schema = json!({
        "type": "object",
        "description": format!(
            "One of {collection}. Every field is present (null when absent) unless `fields` \
             selects some; relations appear only when included."
        ),
        "required": required,
        "properties": properties,
    });
    if let Some(example) = read_example(collection) {
        schema["examples"] = json!([example]);
    }
    schema
}

/// The first demo item as a read shows it: its own fields (null where unset) with the
/// fields every item has; the demo's link sets are input, not what a read shows.
fn read_example(collection: Collection) -> Option<Value> {
    let row = demo_example(collection)?;
    let mut example = Map::new();
    example.insert("id".into(), json!("0190b4a0-5c3e-7d2a-9f1e-2b6c8d4e0a11"));
    example.insert("slug".into(), row.get("slug")?.clone());
    example.insert("status".into(), json!("published"));
    let published = row
        .get("published_at")
        .cloned()
        .unwrap_or(json!("2024-03-04T09:00:00Z"));
    for key in ["published_at", "created_at", "updated_at"] {
        example.insert(key.into(), published.clone());
    }
    example.insert("version".into(), json!(1));
    for field in collection.fields() {
        let empty = match field.kind {
            FieldKind::StringList | FieldKind::Statistics => json!([]),
            _ => Value::Null,
        };
        let value = row.get(field.name).cloned().unwrap_or(empty);
        example.insert(field.name.into(), value);
    }
    if collection.reviewable() {
        let reviewed = row.get("reviewer").is_some_and(|r| !r.is_null());
        let status = crate::service::item::ReviewStatus::of(reviewed).as_str();
        example.insert(REVIEW_STATUS.into(), json!(status));
    }
    Some(Value::Object(example))
}

pub fn schemas() -> Value {
    let mut schemas = Map::new();
    for collection in Collection::ALL {
        let name = schema_name(collection);
        schemas.insert(name.clone(), item_schema(collection));
        schemas.insert(
            format!("{name}Page"),
            json!({
                "type": "object",
                "required": ["data", "page"],
                "properties": {
                    "data": { "type": "array", "items": schema_ref(&name) },
                    "page": schema_ref("PageInfo"),
                },
            }),
        );
        schemas.insert(
            format!("{name}Document"),
            json!({
                "type": "object",
                "required": ["data"],
                "properties": { "data": schema_ref(&name) },
            }),
        );
    }
    schemas.insert(
        "PageInfo".into(),
        json!({
            "type": "object",
            "required": ["next_cursor", "limit"],
            "properties": {
                "next_cursor": {
                    "type": nullable("string"),
                    "description": "Pass as `cursor` for the next page; null on the last page.",
                },
                "limit": { "type": "integer", "minimum": 1, "maximum": 100 },
                "total": { "type": "integer", "minimum": 0, "description": "With `count=true`." },
            },
        }),
    );
    schemas.insert(
        "PersonName".into(),
        json!({
            "type": "object",
            "description": "A person (`family`, and `given` when known) or a body (`literal`), \
                as CSL-JSON names them.",
            "properties": {
                "family": { "type": "string" },
                "given": { "type": "string" },
                "literal": { "type": "string" },
            },
        }),
    );
    schemas.insert(
        "Statistic".into(),
        json!({
            "type": "object",
            "required": ["label", "value"],
            "properties": {
                "label": { "type": "string" },
                "value": { "type": "number" },
                "unit": { "type": nullable("string") },
                "year": { "type": nullable("integer") },
                "citation": { "type": nullable("string"), "description": "Slug of the backing citation." },
            },
        }),
    );
    let hit_types: Vec<Value> = crate::service::fulltext::searchable()
        .map(|c| {
            json!({
                "type": "object",
                "required": ["type", "score", "item"],
                "properties": {
                    "type": { "type": "string", "enum": [c.as_str()] },
                    "score": { "type": "number", "description": "Relevance; higher is better." },
                    "item": schema_ref(&schema_name(c)),
                },
            })
        })
        .collect();
    schemas.insert(
        "SearchHit".into(),
        json!({ "description": "A search hit: its collection, relevance and item.", "oneOf": hit_types }),
    );
    schemas.insert(
        "SearchPage".into(),
        json!({
            "type": "object",
            "required": ["data", "page"],
            "properties": {
                "data": { "type": "array", "items": schema_ref("SearchHit") },
                "page": schema_ref("PageInfo"),
            },
        }),
    );
    schemas.insert(
        "Health".into(),
        json!({
            "type": "object",
            "required": ["status"],
            "properties": { "status": { "type": "string" } },
        }),
    );
    for (name, schema) in [
        ("Problem", <Problem as utoipa::PartialSchema>::schema()),
        (
            "FieldError",
            <FieldError as utoipa::PartialSchema>::schema(),
        ),
    ] {
        schemas.insert(
            name.into(),
            serde_json::to_value(schema).unwrap_or_default(),
        );
    }
    Value::Object(schemas)
}
