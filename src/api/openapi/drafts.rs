//! A published item's draft: `POST …/{slug}/discard` drops it, `GET …/{slug}/draft/diff`
//! compares it with the published version. Edits, `submit` and `publish` of a published
//! item reach its draft through the usual operations.

use serde_json::{Map, Value, json};

use super::schemas::schema_ref;
use super::writes::{
    CONFLICT, NO_PRECONDITION, NOT_FOUND, STALE, add, if_match, item_response, ok, op, slug_param,
    write_responses,
};
use crate::domain::Collection;
use crate::domain::docs::a;

pub fn add_paths(paths: &mut Map<String, Value>) {
    for collection in Collection::ALL {
        let item = format!("/v1/{collection}/{{slug}}");
        add(
            paths,
            format!("{item}/discard"),
            "post",
            discard_op(collection),
        );
        add(
            paths,
            format!("{item}/draft/diff"),
            "get",
            diff_op(collection),
        );
    }
}

fn discard_op(collection: Collection) -> Value {
    let one = collection.singular();
    op(
        collection.as_str(),
        format!("discard_{one}_draft"),
        format!("Discard the draft of {}", a(one)),
        "Drops the draft of a published item (readers saw none of it); 409 when it has \
         none. Needs the draft's ETag (`If-Match`, from a preview GET).",
        "write",
        vec![slug_param(), if_match()],
        None,
        write_responses(
            ok(
                "200",
                item_response(
                    collection,
                    "The item as editors now see it: the published version.",
                ),
            ),
            &[NOT_FOUND, CONFLICT, STALE, NO_PRECONDITION],
        ),
    )
}

fn diff_op(collection: Collection) -> Value {
    let one = collection.singular();
    op(
        collection.as_str(),
        format!("diff_{one}_draft"),
        format!("Compare the draft of {} with its published version", a(one)),
        "The fields and link sets the draft changes; 404 when the item has no draft.",
        "preview",
        vec![slug_param()],
        None,
        write_responses(
            ok(
                "200",
                json!({
                    "description": "The changes.",
                    "content": { "application/json": { "schema": schema_ref("DraftDiffDocument") } },
                }),
            ),
            &[NOT_FOUND],
        ),
    )
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    schemas.insert("DraftDiffDocument".into(), json!({
        "type": "object", "required": ["data"],
        "properties": { "data": {
            "type": "object",
            "required": ["published_version", "draft_version", "draft_status", "changes"],
            "properties": {
                "published_version": { "type": "integer", "description": "The version readers see." },
                "draft_version": { "type": "integer" },
                "draft_status": { "type": "string", "enum": ["draft", "in_review"] },
                "changes": { "type": "array", "items": {
                    "type": "object", "required": ["pointer", "before", "after"],
                    "properties": { "pointer": { "type": "string" }, "before": {}, "after": {} },
                } },
            },
        } },
    }));
}
