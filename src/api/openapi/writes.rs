//! Write, workflow, revision and admin operations of the document, generated from the
//! same tables that mount the routes. Every one names the scope it needs in
//! `x-required-scope` (the scope-matrix test calls each operation as each kind of caller).

use serde_json::{Map, Value, json};

use super::paths::problem;
use super::schemas::{schema_name, schema_ref};
use crate::domain::Collection;
use crate::domain::docs::a;
use crate::domain::relations::Relation;
use crate::service::editing::document::link_relations;
use crate::service::editing::workflow::Transition;

fn item_headers() -> Value {
    json!({
        "ETag": { "description": "The new version's ETag: send it as `If-Match` next time.", "schema": { "type": "string" } },
    })
}

pub(super) fn item_response(collection: Collection, description: &str) -> Value {
    json!({
        "description": description,
        "headers": item_headers(),
        "content": { "application/json": { "schema": schema_ref(&format!("{}Document", schema_name(collection))) } },
    })
}

pub(super) fn if_match() -> Value {
    json!({
        "name": "If-Match", "in": "header", "required": false,
        "description": "The item's current ETag (from GET or the previous write). Required: \
            428 without it, 412 when the item has changed since.",
        "schema": { "type": "string" },
    })
}

pub(super) fn slug_param() -> Value {
    json!({
        "name": "slug", "in": "path", "required": true,
        "schema": { "type": "string", "maxLength": 120 },
    })
}

fn number_param() -> Value {
    json!({
        "name": "number", "in": "path", "required": true,
        "description": "Revision number (1 is the creation).",
        "schema": { "type": "integer", "minimum": 1 },
    })
}

/// Error responses shared by every write, as `components.responses` (status, name,
/// description).
const SHARED: [(&str, &str, &str); 11] = [
    (
        "400",
        "BadRequest",
        "Malformed JSON or an invalid parameter.",
    ),
    (
        "401",
        "Unauthorized",
        "No API key, or it is unknown, expired or revoked.",
    ),
    (
        "403",
        "Forbidden",
        "The API key lacks the scope this operation needs (for edits of non-drafts: `publish`).",
    ),
    (
        "404",
        "NotFound",
        "No item (or revision) with this slug (or number).",
    ),
    (
        "409",
        "Conflict",
        "Not allowed from the item's current status, blocked (`errors` lists the blockers), or an Idempotency-Key still in flight.",
    ),
    (
        "412",
        "Stale",
        "`If-Match` is not the item's current ETag: GET it and retry.",
    ),
    ("413", "PayloadTooLarge", "The body is too large."),
    ("415", "UnsupportedMediaType", "The body is not JSON."),
    (
        "422",
        "Invalid",
        "The body breaks a rule; `errors` lists every violation with a JSON pointer.",
    ),
    ("428", "PreconditionRequired", "`If-Match` is missing."),
    (
        "503",
        "Unavailable",
        "The database is unavailable; retry after `Retry-After` seconds.",
    ),
];

pub fn add_responses(responses: &mut Map<String, Value>) {
    for (_, name, description) in SHARED {
        responses.insert(name.into(), problem(description));
    }
}

/// `ok` plus the shared error responses: the common ones and the `extra` status codes.
pub(super) fn write_responses(mut ok: Map<String, Value>, extra: &[&str]) -> Value {
    for (code, name, _) in SHARED {
        if ["400", "401", "403", "413", "415", "503"].contains(&code) || extra.contains(&code) {
            ok.insert(
                code.into(),
                json!({ "$ref": format!("#/components/responses/{name}") }),
            );
        }
    }
    Value::Object(ok)
}

pub(super) const VALIDATION: &str = "422";
pub(super) const NOT_FOUND: &str = "404";
pub(super) const STALE: &str = "412";
pub(super) const NO_PRECONDITION: &str = "428";
pub(super) const CONFLICT: &str = "409";

#[allow(clippy::too_many_arguments)]
pub(super) fn op(
    tag: &str,
    id: String,
    summary: String,
    description: &str,
    scope: &str,
    params: Vec<Value>,
    body: Option<Value>,
    responses: Value,
) -> Value {
    let mut op = json!({
        "tags": [tag],
        "operationId": id,
        "summary": summary,
        "description": format!("{description}\n\nNeeds the `{scope}` scope."),
        "x-required-scope": scope,
        "parameters": params,
        "responses": responses,
        "security": [{ "bearer": [] }],
    });
    if let Some(schema) = body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": schema } } });
    }
    op
}

pub(super) fn add(paths: &mut Map<String, Value>, path: String, method: &str, operation: Value) {
    let item = paths.entry(path).or_insert_with(|| json!({}));
    item[method] = operation;
}

pub(super) fn ok(code: &str, response: Value) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(code.into(), response);
    map
}

pub fn add_paths(paths: &mut Map<String, Value>) {
    for collection in Collection::ALL {
        let base = format!("/v1/{collection}");
        let item = format!("{base}/{{slug}}");
        add(paths, base, "post", create_op(collection));
        add(paths, item.clone(), "patch", update_op(collection));
        add(paths, item.clone(), "delete", delete_op(collection));
        for relation in link_relations(collection) {
            let path = format!("{item}/{}", relation.name);
            add(paths, path, "put", links_op(collection, &relation));
        }
        for step in Transition::ALL {
            let path = format!("{item}/{}", step.name());
            add(paths, path, "post", transition_op(collection, step));
        }
        add_revision_paths(paths, collection, &item);
    }
    super::reviews::add_paths(paths);
    super::drafts::add_paths(paths);
    super::admin::add_paths(paths);
}

/// `POST /v1/{collection}`.
fn create_op(collection: Collection) -> Value {
    let (tag, one, name) = (
        collection.as_str(),
        collection.singular(),
        schema_name(collection),
    );
    op(
        tag,
        format!("create_{one}"),
        format!("Create {} (as a draft)", a(one)),
        "Creates a draft. Link sets may be given inline. With `Idempotency-Key`, a retry \
     of the same request gets the first response again (kept 24 h).",
        "write",
        vec![json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "A unique key per logical request (1-255 visible ASCII characters).",
            "schema": { "type": "string", "minLength": 1, "maxLength": 255 },
        })],
        Some(schema_ref(&format!("{name}Input"))),
        write_responses(
            ok(
                "201",
                item_response(collection, "Created; `Location` names the new item."),
            ),
            &[CONFLICT, VALIDATION],
        ),
    )
}

/// `PATCH /v1/{collection}/{slug}`.
fn update_op(collection: Collection) -> Value {
    let (tag, one, name) = (
        collection.as_str(),
        collection.singular(),
        schema_name(collection),
    );
    let mut patch = op(
        tag,
        format!("update_{one}"),
        format!("Change {} (JSON merge patch)", a(one)),
        "RFC 7396 merge patch: fields present are set, `null` clears, link sets given are \
         replaced. Drafts need `write`; items in review, published or archived need \
         `publish`.",
        "write",
        vec![slug_param(), if_match()],
        None,
        write_responses(
            ok("200", item_response(collection, "The changed item.")),
            &[NOT_FOUND, STALE, VALIDATION, NO_PRECONDITION],
        ),
    );
    patch["requestBody"] = json!({ "required": true, "content": {
        "application/merge-patch+json": { "schema": schema_ref(&format!("{name}Patch")) },
        "application/json": { "schema": schema_ref(&format!("{name}Patch")) },
    } });
    patch
}

/// `DELETE /v1/{collection}/{slug}`.
fn delete_op(collection: Collection) -> Value {
    let (tag, one) = (collection.as_str(), collection.singular());
    let mut delete_responses = ok("200", item_response(collection, "Archived."));
    delete_responses.insert(
        "204".into(),
        json!({ "description": "Deleted for good (`hard=true`)." }),
    );
    op(
        tag,
        format!("delete_{one}"),
        format!("Archive {}, or delete it for good", a(one)),
        "Archives the item. `hard=true` (admin scope) deletes it, refused (409, with the \
     blockers) while published items link to it unless `cascade=links`.",
        "publish",
        vec![
            slug_param(),
            if_match(),
            json!({ "name": "hard", "in": "query", "required": false, "schema": { "type": "boolean", "default": false } }),
            json!({ "name": "cascade", "in": "query", "required": false, "schema": { "type": "string", "enum": ["links"] } }),
        ],
        None,
        write_responses(
            delete_responses,
            &[NOT_FOUND, CONFLICT, STALE, NO_PRECONDITION],
        ),
    )
}

/// `PUT /v1/{collection}/{slug}/{link set}`.
fn links_op(collection: Collection, link_set: &Relation) -> Value {
    let (tag, one) = (collection.as_str(), collection.singular());
    let relation = link_set.name;
    op(
        tag,
        format!("replace_{one}_{}", relation),
        format!("Replace the {} of {}", relation, a(one)),
        "Replaces the whole link set, in the given order.",
        "write",
        vec![slug_param(), if_match()],
        Some(schema_ref(link_set.link_list_schema())),
        write_responses(
            ok(
                "200",
                item_response(collection, "The item, with its new version."),
            ),
            &[NOT_FOUND, STALE, VALIDATION, NO_PRECONDITION],
        ),
    )
}

/// `POST /v1/{collection}/{slug}/{step}`.
fn transition_op(collection: Collection, step: Transition) -> Value {
    let (tag, one) = (collection.as_str(), collection.singular());
    op(
        tag,
        format!("{}_{one}", step.name()),
        format!("{} {}", capitalized(step.name()), a(one)),
        step.description(),
        step.scope().as_str(),
        vec![slug_param(), if_match()],
        None,
        write_responses(
            ok(
                "200",
                item_response(collection, "The item in its new status."),
            ),
            &[NOT_FOUND, CONFLICT, STALE, NO_PRECONDITION],
        ),
    )
}

fn add_revision_paths(paths: &mut Map<String, Value>, collection: Collection, item: &str) {
    let (tag, one) = (collection.as_str(), collection.singular());
    let json_ok = |schema: &str, description: &str| {
        ok(
            "200",
            json!({ "description": description, "content": { "application/json": { "schema": schema_ref(schema) } } }),
        )
    };
    let read_errors = [NOT_FOUND];
    add(
        paths,
        format!("{item}/revisions"),
        "get",
        op(
            tag,
            format!("list_{one}_revisions"),
            format!("List the revisions of {}", a(one)),
            "Newest first.",
            "preview",
            vec![
                slug_param(),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 } }),
                json!({ "name": "cursor", "in": "query", "required": false, "schema": { "type": "string" } }),
            ],
            None,
            write_responses(
                json_ok("RevisionPage", "Revisions, without their documents."),
                &read_errors,
            ),
        ),
    );
    add(
        paths,
        format!("{item}/revisions/{{number}}"),
        "get",
        op(
            tag,
            format!("get_{one}_revision"),
            format!("Get one revision of {}", a(one)),
            "With the full document.",
            "preview",
            vec![slug_param(), number_param()],
            None,
            write_responses(json_ok("RevisionDocument", "The revision."), &read_errors),
        ),
    );
    add(
        paths,
        format!("{item}/revisions/{{number}}/diff"),
        "get",
        op(
            tag,
            format!("diff_{one}_revisions"),
            format!("Compare two revisions of {}", a(one)),
            "What changed from revision `from` (default: the previous one; 0 = nothing) to this one.",
            "preview",
            vec![
                slug_param(),
                number_param(),
                json!({ "name": "from", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } }),
            ],
            None,
            write_responses(json_ok("DiffDocument", "The changes."), &read_errors),
        ),
    );
    add(
        paths,
        format!("{item}/revisions/{{number}}/restore"),
        "post",
        op(
            tag,
            format!("restore_{one}_revision"),
            format!("Restore a revision of {}", a(one)),
            "Writes the revision's document back as a new version and a new revision.",
            "write",
            vec![slug_param(), number_param(), if_match()],
            None,
            write_responses(
                ok("200", item_response(collection, "The item as restored.")),
                &[NOT_FOUND, STALE, VALIDATION, NO_PRECONDITION],
            ),
        ),
    );
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
