//! Admin operations of the document: API keys and the audit log.

use serde_json::{Map, Value, json};

use super::paths::problem;
use super::schemas::schema_ref;
use crate::domain::Scope;

pub(super) fn admin_op(
    id: &str,
    summary: &str,
    params: Vec<Value>,
    body: Option<&str>,
    ok: (&str, &str, Option<&str>),
    extra: &[(&str, &str)],
) -> Value {
    let (code, description, schema) = ok;
    let mut responses = Map::new();
    responses.insert(code.into(), match schema {
        Some(schema) => json!({ "description": description, "content": { "application/json": { "schema": schema_ref(schema) } } }),
        None => json!({ "description": description }),
    });
    for (code, description) in [
        ("400", "An invalid parameter or malformed JSON."),
        ("401", "No API key, or it is unknown, expired or revoked."),
        ("403", "The API key lacks the `admin` scope."),
        (
            "503",
            "The database is unavailable; retry after `Retry-After` seconds.",
        ),
    ]
    .iter()
    .chain(extra)
    {
        responses.insert((*code).into(), problem(description));
    }
    let mut op = json!({
        "tags": ["admin"],
        "operationId": id,
        "summary": summary,
        "description": "Needs the `admin` scope.",
        "x-required-scope": "admin",
        "parameters": params,
        "responses": responses,
        "security": [{ "bearer": [] }],
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema_ref(schema) } } });
    }
    op
}

pub(super) fn query(name: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema })
}

pub fn add_paths(paths: &mut Map<String, Value>) {
    paths.insert("/v1/keys".into(), json!({
        "get": admin_op("list_keys", "List API keys (never their secrets)", vec![], None, ("200", "Every key.", Some("KeyList")), &[]),
        "post": admin_op(
            "create_key",
            "Create an API key; the secret is in this response only",
            vec![],
            Some("KeyInput"),
            ("201", "The new key, with its secret in `key`.", Some("NewKeyDocument")),
            &[("409", "A key with this name exists."), ("413", "The body is too large."), ("415", "The body is not JSON."), ("422", "Invalid name or scopes.")],
        ),
    }));
    let name = json!({ "name": "name", "in": "path", "required": true, "schema": { "type": "string", "maxLength": 100 } });
    let missing = ("404", "No key with this name.");
    let revoked = ("409", "The key is revoked (or, to rotate, expired).");
    paths.insert("/v1/keys/{name}".into(), json!({
        "get": admin_op("get_key", "Read an API key (never its secret)", vec![name.clone()], None, ("200", "The key.", Some("KeyDocument")), &[missing]),
        "patch": admin_op(
            "update_key",
            "Change an API key's expiry (set or remove it)",
            vec![name.clone()],
            Some("KeyUpdate"),
            ("200", "The key.", Some("KeyDocument")),
            &[missing, revoked, ("413", "The body is too large."), ("415", "The body is not JSON."), ("422", "An expiry that is not a future date-time.")],
        ),
        "delete": admin_op(
            "revoke_key",
            "Revoke an API key; requests with it get 401 from then on",
            vec![name.clone()],
            None,
            ("200", "The revoked key.", Some("KeyDocument")),
            &[missing],
        ),
    }));
    let mut rotate = admin_op(
        "rotate_key",
        "Replace an API key's secret; the old one works until the overlap ends",
        vec![name],
        Some("KeyRotation"),
        (
            "200",
            "The key, with its new secret in `key`.",
            Some("NewKeyDocument"),
        ),
        &[
            missing,
            revoked,
            ("413", "The body is too large."),
            ("415", "The body is not JSON."),
            ("422", "An overlap outside 0 to 604800 seconds."),
        ],
    );
    rotate["requestBody"]["required"] = json!(false);
    paths.insert("/v1/keys/{name}/rotate".into(), json!({ "post": rotate }));
    paths.insert("/v1/audit".into(), json!({
        "get": admin_op(
            "list_audit",
            "Read the audit log, newest first",
            vec![
                query("collection", json!({ "type": "string", "enum": crate::domain::Collection::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() })),
                query("slug", json!({ "type": "string" })),
                query("action", json!({ "type": "string" })),
                query("limit", json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 })),
                query("cursor", json!({ "type": "string", "format": "uuid" })),
            ],
            None,
            ("200", "Entries.", Some("AuditPage")),
            &[],
        ),
    }));
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let scopes = json!({ "type": "array", "items": { "type": "string", "enum": names } });
    let instant = |description: &str| json!({ "type": ["string", "null"], "format": "date-time", "description": description });
    let key = json!({
        "type": "object",
        "required": ["name", "prefix", "scopes", "status", "created_at", "expires_at", "last_used_at", "rotated_at", "previous_secret_expires_at", "revoked_at", "rate_limit"],
        "properties": {
            "name": { "type": "string" },
            "prefix": { "type": "string", "description": "Public start of the key, to recognise it." },
            "scopes": scopes,
            "status": { "type": "string", "enum": ["active", "expired", "revoked"] },
            "created_at": { "type": "string", "format": "date-time" },
            "expires_at": instant("After this instant the key is refused."),
            "last_used_at": instant("When the key was last used (recorded about once a minute)."),
            "rotated_at": instant("When its secret was last replaced."),
            "previous_secret_expires_at": instant("Until when the secret the last rotation replaced is still accepted."),
            "revoked_at": instant("When the key was revoked."),
            "rate_limit": { "type": ["string", "null"], "description": "The key's own rate limit (`N/<seconds>s`); null: its scope's." },
        },
    });
    let mut new_key = key.clone();
    new_key["properties"]["key"] =
        json!({ "type": "string", "description": "The secret: shown once." });
    schemas.insert("Key".into(), key);
    schemas.insert("KeyList".into(), json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("Key") } } }));
    schemas.insert("KeyDocument".into(), json!({ "type": "object", "required": ["data"], "properties": { "data": schema_ref("Key") } }));
    schemas.insert(
        "NewKeyDocument".into(),
        json!({ "type": "object", "required": ["data"], "properties": { "data": new_key } }),
    );
    schemas.insert("KeyInput".into(), json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "scopes"],
        "properties": {
            "name": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$" },
            "scopes": { "type": "array", "minItems": 1, "items": { "type": "string", "enum": names } },
            "expires_at": { "type": ["string", "null"], "format": "date-time", "description": "A future instant after which the key is refused." },
            "rate_limit": { "type": ["string", "null"], "pattern": "^[0-9]{1,8}/[0-9]{1,5}[smhd]$", "description": "The key's own rate limit, `N/<window>` (e.g. `600/1m`); null: its scope's." },
        },
    }));
    schemas.insert("KeyUpdate".into(), json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "expires_at": { "type": ["string", "null"], "format": "date-time", "description": "A future instant, or null to remove the expiry." },
            "rate_limit": { "type": ["string", "null"], "pattern": "^[0-9]{1,8}/[0-9]{1,5}[smhd]$", "description": "The key's own rate limit, `N/<window>` (e.g. `600/1m`); null: its scope's." },
        },
    }));
    schemas.insert("KeyRotation".into(), json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "overlap_seconds": { "type": "integer", "minimum": 0, "maximum": 604800, "default": 3600, "description": "How long the replaced secret stays valid." },
        },
    }));
    schemas.insert("AuditEntry".into(), json!({
        "type": "object",
        "required": ["id", "at", "action", "detail"],
        "properties": {
            "id": { "type": "string", "format": "uuid" },
            "at": { "type": "string", "format": "date-time" },
            "actor": { "type": ["string", "null"], "description": "API key name; null for the CLI." },
            "action": { "type": "string" },
            "collection": { "type": ["string", "null"] },
            "item_id": { "type": ["string", "null"] },
            "slug": { "type": ["string", "null"] },
            "request_id": { "type": ["string", "null"] },
            "detail": { "type": "object" },
        },
    }));
    schemas.insert("AuditPage".into(), json!({
        "type": "object", "required": ["data", "page"],
        "properties": { "data": { "type": "array", "items": schema_ref("AuditEntry") }, "page": schema_ref("PageInfo") },
    }));
}
