//! Request-body schemas of the write operations, derived from the content model:
//! `{Type}Input` (create), `{Type}Patch` (merge patch), link lists, reviews, revisions.

use serde_json::{Map, Value, json};

use super::schemas::{schema_name, schema_ref};
use crate::domain::validate::{MAX_LIST_ITEMS, MAX_SHORT_TEXT, max_length};
use crate::domain::{Collection, FieldKind};
use crate::service::editing::document::{MAX_LINKS, MAX_NOTE, link_relations, server_fields};

fn input_field(name: &str, kind: FieldKind) -> Value {
    let text = || json!({ "type": ["string", "null"], "maxLength": max_length(name) });
    let mut schema = match kind {
        FieldKind::Text | FieldKind::Markdown(_) => text(),
        FieldKind::Integer => json!({ "type": ["integer", "null"], "minimum": 0 }),
        FieldKind::Enum(values) => {
            let mut allowed: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            allowed.push(Value::Null);
            json!({ "type": ["string", "null"], "enum": allowed })
        }
        FieldKind::StringList => json!({
            "type": ["array", "null"], "maxItems": MAX_LIST_ITEMS,
            "items": { "type": "string", "minLength": 1, "maxLength": max_length(name) },
        }),
        FieldKind::Statistics => {
            json!({ "type": ["array", "null"], "maxItems": MAX_LIST_ITEMS, "items": schema_ref("Statistic") })
        }
        FieldKind::Names { .. } => json!({
            "type": ["array", "null"], "maxItems": MAX_LIST_ITEMS,
            "description": "Names in order: objects (`{family, given}` or `{literal}` for a \
                body), or strings, split as `Family, Given`, `Family INITIALS` (`Kowalski H`) \
                or `Given Family`; an organisation's name stays whole.",
            "items": { "oneOf": [
                { "type": "string", "minLength": 1, "maxLength": MAX_SHORT_TEXT },
                {
                    "type": "object", "additionalProperties": false,
                    "properties": {
                        "family": { "type": "string", "minLength": 1, "maxLength": MAX_SHORT_TEXT },
                        "given": { "type": ["string", "null"], "maxLength": MAX_SHORT_TEXT },
                        "literal": { "type": "string", "minLength": 1, "maxLength": MAX_SHORT_TEXT },
                    },
                },
            ] },
        }),
        FieldKind::Reference(target) => json!({
            "type": ["string", "null"], "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120,
            "description": format!("Slug of an existing {}.", target.singular()),
        }),
        FieldKind::Timestamp => json!({ "type": ["string", "null"], "format": "date-time" }),
    };
    let format_note = match name {
        "doi" => Some("A DOI: `10.NNNN/suffix`."),
        "pmid" => Some("A PubMed id (digits)."),
        "currency" => Some("An ISO 4217 code, e.g. `USD`."),
        "gtin" => Some("A GTIN-8/12/13/14 with a valid check digit."),
        "url" | "logo_url" | "image_url" => Some("An `https://` URL."),
        "same_as" => Some("`https://` profile URLs."),
        "icd10" => Some("ICD-10 codes, e.g. `M54.5`."),
        "year" => Some("A year from 1800 to next year."),
        _ => None,
    };
    if let Some(note) = format_note {
        schema["description"] = json!(note);
    }
    schema
}

fn input_schema(collection: Collection, patch: bool) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "slug".into(),
        json!({ "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120 }),
    );
    let mut required = vec![json!("slug")];
    for field in collection.fields() {
        if server_fields(collection).contains(&field.name) {
            continue;
        }
        properties.insert(field.name.into(), input_field(field.name, field.kind));
        if field.required {
            required.push(json!(field.name));
        }
    }
    for relation in link_relations(collection) {
        properties.insert(
            relation.name.into(),
            schema_ref(relation.link_list_schema()),
        );
    }
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "description": format!(
            "Writable fields of {collection}; `id`, `status`, `version`, timestamps and review \
             dates are read-only (a body carrying them is refused with 422). Link sets \
             (`{}`) list slugs of the other end.",
            link_relations(collection).iter().map(|r| r.name).collect::<Vec<_>>().join("`, `")
        ),
    });
    if patch {
        schema["minProperties"] = json!(1);
    } else {
        schema["required"] = Value::Array(required);
    }
    schema
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    for collection in Collection::ALL {
        let name = schema_name(collection);
        schemas.insert(format!("{name}Input"), input_schema(collection, false));
        schemas.insert(format!("{name}Patch"), input_schema(collection, true));
    }
    schemas.insert("LinkList".into(), json!({
        "type": ["array", "null"],
        "maxItems": MAX_LINKS,
        "description": "Linked items in order: slugs, or objects with the link's note.",
        "items": { "oneOf": [
            { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120 },
            {
                "type": "object", "additionalProperties": false, "required": ["slug"],
                "properties": {
                    "slug": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120 },
                    "note": { "type": ["string", "null"], "maxLength": MAX_NOTE },
                },
            },
        ] },
    }));
    schemas.insert("ClaimLinkList".into(), json!({
        "type": ["array", "null"],
        "maxItems": MAX_LINKS,
        "description": "Linked items in order: slugs, or objects with the link's note and the \
            claim's evidence.",
        "items": { "oneOf": [
            { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120 },
            {
                "type": "object", "additionalProperties": false, "required": ["slug"],
                "properties": {
                    "slug": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120 },
                    "note": { "type": ["string", "null"], "maxLength": MAX_NOTE },
                    "evidence": { "anyOf": [schema_ref("EvidenceInput"), { "type": "null" }] },
                },
            },
        ] },
    }));
    schemas.insert("ReviewInput".into(), json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "reviewer": { "type": ["string", "null"], "description": "Slug of an author with credentials (default: the current reviewer)." },
            "reviewed_at": { "type": ["string", "null"], "format": "date-time", "description": "Default: now; not in the future." },
            "note": { "type": ["string", "null"], "maxLength": 2000 },
        },
    }));
    let revision = json!({
        "type": "object",
        "required": ["number", "version", "status", "draft", "created_at", "actor", "summary"],
        "properties": {
            "number": { "type": "integer", "minimum": 1 },
            "version": { "type": "integer" },
            "status": { "type": "string" },
            "draft": { "type": "boolean", "description": "Whether it is a revision of a published item's draft (readers did not see it)." },
            "created_at": { "type": "string", "format": "date-time" },
            "actor": { "type": ["string", "null"], "description": "Name of the API key that wrote it." },
            "summary": { "type": "string" },
            "request_id": { "type": ["string", "null"] },
            "document": { "type": "object", "description": "The full editable document (single revision only)." },
        },
    });
    schemas.insert("Revision".into(), revision);
    schemas.insert("RevisionPage".into(), json!({
        "type": "object", "required": ["data", "page"],
        "properties": { "data": { "type": "array", "items": schema_ref("Revision") }, "page": schema_ref("PageInfo") },
    }));
    schemas.insert("RevisionDocument".into(), json!({
        "type": "object", "required": ["data"], "properties": { "data": schema_ref("Revision") },
    }));
    schemas.insert("DiffDocument".into(), json!({
        "type": "object", "required": ["data"],
        "properties": { "data": {
            "type": "object", "required": ["from", "to", "changes"],
            "properties": {
                "from": { "type": "integer" },
                "to": { "type": "integer" },
                "changes": { "type": "array", "items": {
                    "type": "object", "required": ["pointer", "before", "after"],
                    "properties": { "pointer": { "type": "string" }, "before": {}, "after": {} },
                } },
            },
        } },
    }));
    super::drafts::add_schemas(schemas);
    super::admin::add_schemas(schemas);
}
