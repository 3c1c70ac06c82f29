//! Medical review operations of reviewed collections: `POST …/{slug}/reviews` records one,
//! `GET …/{slug}/reviews` lists an item's history (public while the item is published).

use serde_json::{Map, Value, json};

use super::paths::{problem, read_responses};
use super::schemas::schema_ref;
use super::writes::{
    CONFLICT, NOT_FOUND, STALE, VALIDATION, add, item_response, ok, op, slug_param, write_responses,
};
use crate::domain::Collection;
use crate::domain::docs::a;

pub fn add_paths(paths: &mut Map<String, Value>) {
    for collection in Collection::ALL.into_iter().filter(|c| c.reviewable()) {
        let path = format!("/v1/{collection}/{{slug}}/reviews");
        add(paths, path.clone(), "get", list_op(collection));
        add(paths, path, "post", record_op(collection));
    }
}

/// `POST /v1/{collection}/{slug}/reviews`.
fn record_op(collection: Collection) -> Value {
    let one = collection.singular();
    let mut operation = op(
        collection.as_str(),
        format!("record_{one}_review"),
        format!("Record a medical review of {}", a(one)),
        "Sets the reviewer, `last_reviewed_at` and `next_review_due` (review date + the \
     review interval), and adds the review to the item's history with the reviewer's name \
     and credentials as they are now. The content is unchanged; the version and \
     `updated_at` move, as for any change readers can see. One review per item and \
     instant (409 for a second at the same `reviewed_at`); 412 if the item changed \
     meanwhile. Without a body, the review is now and by the item's current reviewer.",
        "publish",
        vec![slug_param()],
        Some(schema_ref("ReviewInput")),
        write_responses(
            ok(
                "200",
                item_response(collection, "The item with its review dates."),
            ),
            &[NOT_FOUND, CONFLICT, STALE, VALIDATION],
        ),
    );
    // No body: a review now, by the item's current reviewer.
    operation["requestBody"]["required"] = json!(false);
    operation
}

/// `GET /v1/{collection}/{slug}/reviews`.
fn list_op(collection: Collection) -> Value {
    let one = collection.singular();
    let mut responses = read_responses("ReviewPage", false);
    responses["404"] = problem(&format!("No {one} you may see has this slug."));
    json!({
        "tags": [collection.as_str()],
        "operationId": format!("list_{one}_reviews"),
        "summary": format!("List the medical reviews of {}", a(one)),
        "description": "Newest first: who reviewed (with the name and credentials they had \
            then; `null` when they are no longer an author you may see), when, the note, and \
            the version the review made. Public for published items; drafts need `preview`, \
            which also shows reviews of a published item's draft (`draft: true`).",
        "parameters": [
            slug_param(),
            { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 } },
            { "name": "cursor", "in": "query", "required": false, "description": "`next_cursor` of the previous page.", "schema": { "type": "string", "format": "date-time" } },
            super::paths::version_param(),
        ],
        "responses": responses,
        "security": [{}, { "bearer": [] }],
    })
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    schemas.insert(
        "Reviewer".into(),
        json!({
            "type": "object",
            "description": "A medical reviewer as they were when they reviewed.",
            "required": ["slug", "name", "credentials"],
            "properties": {
                "slug": { "type": "string", "description": "The author's slug." },
                "name": { "type": "string" },
                "credentials": { "type": ["string", "null"] },
            },
        }),
    );
    schemas.insert(
        "Review".into(),
        json!({
            "type": "object",
            "required": ["reviewed_at", "note", "version", "reviewer"],
            "properties": {
                "reviewed_at": { "type": "string", "format": "date-time" },
                "note": { "type": ["string", "null"] },
                "version": { "type": ["integer", "null"], "description": "The item's version the review made (null for reviews recorded before reviews made versions)." },
                "reviewer": { "oneOf": [schema_ref("Reviewer"), { "type": "null" }] },
                "draft": { "type": "boolean", "const": true, "description": "Present on a review of the item's draft, pending its publication (only keys with `preview` see these)." },
            },
        }),
    );
    schemas.insert(
        "ReviewPage".into(),
        json!({
            "type": "object", "required": ["data", "page"],
            "properties": { "data": { "type": "array", "items": schema_ref("Review") }, "page": schema_ref("PageInfo") },
        }),
    );
}
