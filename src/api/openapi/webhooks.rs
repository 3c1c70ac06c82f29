//! Webhook operations of the document (admin): endpoints, deliveries, replays, and the
//! message every delivery carries (`webhooks` of OpenAPI 3.1, one per event type).

use serde_json::{Map, Value, json};

use super::admin::{admin_op, query};
use super::schemas::schema_ref;
use crate::domain::Collection;
use crate::domain::webhook::{EventType, MAX_URL};

const BODY_ERRORS: [(&str, &str); 2] = [
    ("413", "The body is too large."),
    ("415", "The body is not JSON."),
];

fn id_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string", "format": "uuid" } })
}

pub fn add_paths(paths: &mut Map<String, Value>) {
    let invalid = (
        "422",
        "A URL that is not https, not public or not a URL; an unknown event type or collection.",
    );
    let missing = ("404", "No endpoint with this id.");
    let full = ("409", "The deployment has the most endpoints it may have.");
    let mut create_errors = vec![invalid, full];
    create_errors.extend(BODY_ERRORS);
    paths.insert("/v1/webhooks".into(), json!({
        "get": admin_op("list_webhooks", "List webhook endpoints (never their secrets)", vec![], None, ("200", "Every endpoint.", Some("WebhookEndpointList")), &[]),
        "post": admin_op(
            "create_webhook",
            "Register a webhook endpoint; its signing secret is in this response only",
            vec![],
            Some("WebhookEndpointInput"),
            ("201", "The endpoint, with its secret in `secret`.", Some("NewWebhookEndpointDocument")),
            &create_errors,
        ),
    }));
    let id = id_param("id", "The endpoint's id.");
    let mut update_errors = vec![missing, invalid];
    update_errors.extend(BODY_ERRORS);
    paths.insert("/v1/webhooks/{id}".into(), json!({
        "get": admin_op("get_webhook", "Read a webhook endpoint", vec![id.clone()], None, ("200", "The endpoint.", Some("WebhookEndpointDocument")), &[missing]),
        "patch": admin_op(
            "update_webhook",
            "Change a webhook endpoint; `enabled: true` re-enables a disabled one",
            vec![id.clone()],
            Some("WebhookEndpointUpdate"),
            ("200", "The endpoint.", Some("WebhookEndpointDocument")),
            &update_errors,
        ),
        "delete": admin_op("delete_webhook", "Delete a webhook endpoint and its deliveries", vec![id.clone()], None, ("200", "The deleted endpoint.", Some("WebhookEndpointDocument")), &[missing]),
    }));
    let mut rotate_errors = vec![missing, ("422", "An overlap outside 0 to 604800 seconds.")];
    rotate_errors.extend(BODY_ERRORS);
    let mut rotate = admin_op(
        "rotate_webhook_secret",
        "Replace an endpoint's signing secret; deliveries carry both signatures until the overlap ends",
        vec![id.clone()],
        Some("KeyRotation"),
        (
            "200",
            "The endpoint, with its new secret in `secret`.",
            Some("NewWebhookEndpointDocument"),
        ),
        &rotate_errors,
    );
    rotate["requestBody"]["required"] = json!(false);
    paths.insert(
        "/v1/webhooks/{id}/rotate-secret".into(),
        json!({ "post": rotate }),
    );
    paths.insert("/v1/webhooks/{id}/deliveries".into(), json!({
        "get": admin_op(
            "list_webhook_deliveries",
            "List an endpoint's deliveries, newest first",
            vec![
                id.clone(),
                query("status", json!({ "type": "string", "enum": ["pending", "succeeded", "failed"] })),
                query("limit", json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 })),
                query("before", json!({ "type": "string", "format": "uuid", "description": "The previous page's `next_before`." })),
            ],
            None,
            ("200", "Deliveries.", Some("WebhookDeliveryPage")),
            &[missing],
        ),
    }));
    paths.insert(
        "/v1/webhooks/{id}/deliveries/{delivery}/replay".into(),
        json!({
            "post": admin_op(
                "replay_webhook_delivery",
                "Send a delivery again, with the same `webhook-id` and a fresh retry schedule",
                vec![id, id_param("delivery", "The delivery's id.")],
                None,
                ("202", "The delivery, due now.", Some("WebhookDeliveryDocument")),
                &[("404", "No such endpoint, or no such delivery to it.")],
            ),
        }),
    );
}

/// The message every delivery POSTs, once per event type (OpenAPI 3.1 `webhooks`).
pub fn webhooks() -> Value {
    let mut out = Map::new();
    for event in EventType::ALL {
        out.insert(event.as_str().into(), json!({
            "post": {
                "operationId": format!("webhook_{}", event.as_str().replace('.', "_")),
                "summary": format!("`{event}`"),
                "description": "Signed as Standard Webhooks v1: `webhook-signature` holds `v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">` under the endpoint's secret (two while a rotation's overlap lasts). A 2xx answer acknowledges it; anything else, or no answer within the timeout, is retried with the same `webhook-id`.",
                "tags": ["admin"],
                "parameters": [
                    { "name": "webhook-id", "in": "header", "required": true, "schema": { "type": "string" }, "description": "The message id: the same on every attempt and replay." },
                    { "name": "webhook-timestamp", "in": "header", "required": true, "schema": { "type": "string" }, "description": "Seconds since the Unix epoch when this attempt was signed." },
                ],
                "security": [{ "webhookSignature": [] }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("WebhookMessage") } } },
                "responses": { "204": { "description": "Received." } },
            }
        }));
    }
    Value::Object(out)
}

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    let instant = |description: &str| json!({ "type": ["string", "null"], "format": "date-time", "description": description });
    let events = json!({ "type": "array", "minItems": 1, "items": { "type": "string", "enum": EventType::ALL.map(EventType::as_str) } });
    let collection_names: Vec<&str> = Collection::ALL.iter().map(|c| c.as_str()).collect();
    let collections = json!({ "type": ["array", "null"], "minItems": 1, "items": { "type": "string", "enum": collection_names }, "description": "Only events about (or shown on) items of these collections; null: every collection." });
    let url = json!({ "type": "string", "format": "uri", "maxLength": MAX_URL, "description": "https, on a public host (unless the deployment allows http or private addresses)." });
    let description = json!({ "type": ["string", "null"], "maxLength": 500 });
    let endpoint = json!({
        "type": "object",
        "required": ["id", "url", "description", "events", "collections", "enabled", "disabled_reason", "disabled_at", "last_success_at", "last_failure_at", "previous_secret_expires_at", "created_at", "updated_at"],
        "properties": {
            "id": { "type": "string", "format": "uuid" },
            "url": { "type": "string" },
            "description": { "type": ["string", "null"] },
            "events": { "type": "array", "items": { "type": "string" } },
            "collections": { "type": ["array", "null"], "items": { "type": "string" } },
            "enabled": { "type": "boolean" },
            "disabled_reason": { "type": ["string", "null"] },
            "disabled_at": instant("When it was disabled."),
            "last_success_at": instant("When a delivery last succeeded (to within 5 s)."),
            "last_failure_at": instant("When an attempt last failed (to within 5 s)."),
            "previous_secret_expires_at": instant("Until when deliveries are also signed with the replaced secret."),
            "created_at": { "type": "string", "format": "date-time" },
            "updated_at": { "type": "string", "format": "date-time" },
        },
    });
    let mut issued = endpoint.clone();
    issued["properties"]["secret"] =
        json!({ "type": "string", "description": "The signing secret (`whsec_…`): shown once." });
    if let Some(required) = issued["required"].as_array_mut() {
        required.push(json!("secret"));
    }
    let document = |schema: Value| json!({ "type": "object", "required": ["data"], "properties": { "data": schema } });
    schemas.insert("WebhookEndpoint".into(), endpoint);
    schemas.insert("WebhookEndpointList".into(), json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("WebhookEndpoint") } } }));
    schemas.insert(
        "WebhookEndpointDocument".into(),
        document(schema_ref("WebhookEndpoint")),
    );
    schemas.insert("NewWebhookEndpointDocument".into(), document(issued));
    schemas.insert("WebhookEndpointInput".into(), json!({
        "type": "object", "additionalProperties": false, "required": ["url", "events"],
        "properties": { "url": url, "events": events, "collections": collections, "description": description },
    }));
    schemas.insert("WebhookEndpointUpdate".into(), json!({
        "type": "object", "additionalProperties": false,
        "properties": { "url": url, "events": events, "collections": collections, "description": description, "enabled": { "type": "boolean" } },
    }));
    let delivery = json!({
        "type": "object",
        "required": ["id", "message_id", "event_type", "status", "attempts", "next_attempt_at", "last_attempt_at", "last_status", "last_error", "delivered_at", "created_at", "payload"],
        "properties": {
            "id": { "type": "string", "format": "uuid" },
            "message_id": { "type": "string", "description": "The `webhook-id` of every attempt and replay." },
            "event_type": { "type": "string" },
            "status": { "type": "string", "enum": ["pending", "succeeded", "failed"] },
            "attempts": { "type": "integer", "minimum": 0 },
            "next_attempt_at": instant("When the next attempt is due (pending deliveries only)."),
            "last_attempt_at": instant("When the last attempt started."),
            "last_status": { "type": ["integer", "null"], "description": "The HTTP status of the last answer." },
            "last_error": { "type": ["string", "null"] },
            "delivered_at": instant("When it succeeded."),
            "created_at": { "type": "string", "format": "date-time" },
            "payload": schema_ref("WebhookMessage"),
        },
    });
    schemas.insert("WebhookDelivery".into(), delivery);
    schemas.insert(
        "WebhookDeliveryDocument".into(),
        document(schema_ref("WebhookDelivery")),
    );
    schemas.insert("WebhookDeliveryPage".into(), json!({
        "type": "object", "required": ["data", "next_before"],
        "properties": { "data": { "type": "array", "items": schema_ref("WebhookDelivery") }, "next_before": { "type": ["string", "null"], "format": "uuid" } },
    }));
    schemas.insert("WebhookMessage".into(), json!({
        "type": "object", "required": ["type", "timestamp", "data"],
        "properties": {
            "type": { "type": "string", "enum": EventType::ALL.map(EventType::as_str) },
            "timestamp": { "type": "string", "format": "date-time" },
            "data": {
                "type": "object", "required": ["actor", "request_id", "surrogate_keys", "affected"],
                "properties": {
                    "collection": { "type": "string" },
                    "id": { "type": "string", "format": "uuid" },
                    "slug": { "type": "string" },
                    "status": { "type": "string" },
                    "version": { "type": "integer" },
                    "url": { "type": "string", "description": "The item's REST path." },
                    "actor": { "type": ["string", "null"], "description": "The API key's name; null for the command line." },
                    "request_id": { "type": ["string", "null"] },
                    "surrogate_keys": { "type": "array", "items": { "type": "string" }, "description": "What the change made stale, as in `Surrogate-Key` (`*`: everything), with the coarse keys (`technique`) that responses too large to name every key carry." },
                    "affected": { "type": "array", "items": { "type": "object", "required": ["collection", "slug"], "properties": { "collection": { "type": "string" }, "slug": { "type": "string" } } }, "description": "Other items whose responses show the change." },
                },
            },
        },
    }));
}
