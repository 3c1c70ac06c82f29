//! Webhooks in GraphQL (admin scope): `webhookEndpoints`, `webhookDeliveries`, and the
//! mutations to register, change, rotate, delete and replay, the same administration as
//! `/v1/webhooks`.

use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::{Error, Name, Value};

mod mutations;

pub use mutations::mutation_fields;

use super::RequestData;
use super::catalog::Catalog;
use super::errors::gql_error;
use super::keys::{camel_value, invalid, parent_field};
use crate::domain::PageSize;
use crate::service::webhooks::deliveries::DeliveryStatus;
use crate::service::webhooks::endpoints::Issued;
use crate::service::webhooks::{DeliveryFilter, WebhookAdmin, url_policy};

const STRING: &str = TypeRef::STRING;

/// (name, type, non-null, list, description) of `WebhookEndpoint`'s fields.
const ENDPOINT_FIELDS: [(&str, &str, bool, bool, &str); 12] = [
    ("id", TypeRef::ID, true, false, "The endpoint's id."),
    ("url", STRING, true, false, "Where deliveries are POSTed."),
    ("description", STRING, false, false, "A note for admins."),
    ("events", STRING, true, true, "The event types delivered."),
    (
        "collections",
        STRING,
        false,
        true,
        "Only events about (or shown on) items of these collections; null: all.",
    ),
    (
        "enabled",
        TypeRef::BOOLEAN,
        true,
        false,
        "Whether events are recorded and delivered.",
    ),
    (
        "disabledReason",
        STRING,
        false,
        false,
        "Why the endpoint was disabled.",
    ),
    (
        "disabledAt",
        "DateTime",
        false,
        false,
        "When it was disabled.",
    ),
    (
        "lastSuccessAt",
        "DateTime",
        false,
        false,
        "When a delivery last succeeded (to within 5 s).",
    ),
    (
        "lastFailureAt",
        "DateTime",
        false,
        false,
        "When an attempt last failed (to within 5 s).",
    ),
    (
        "previousSecretExpiresAt",
        "DateTime",
        false,
        false,
        "Until when deliveries are also signed with the replaced secret.",
    ),
    (
        "createdAt",
        "DateTime",
        true,
        false,
        "When it was registered.",
    ),
];

const DELIVERY_FIELDS: [(&str, &str, bool, &str); 12] = [
    ("id", TypeRef::ID, true, "The delivery's id."),
    (
        "messageId",
        STRING,
        true,
        "The `webhook-id` of every attempt and replay.",
    ),
    ("eventType", STRING, true, "The event type."),
    (
        "status",
        STRING,
        true,
        "`pending`, `succeeded` or `failed` (retries exhausted).",
    ),
    ("attempts", TypeRef::INT, true, "Attempts made."),
    (
        "nextAttemptAt",
        "DateTime",
        false,
        "When the next attempt is due (pending only).",
    ),
    (
        "lastAttemptAt",
        "DateTime",
        false,
        "When the last attempt started.",
    ),
    (
        "lastStatus",
        TypeRef::INT,
        false,
        "The HTTP status of the last answer.",
    ),
    (
        "lastError",
        STRING,
        false,
        "What went wrong in the last attempt.",
    ),
    ("deliveredAt", "DateTime", false, "When it succeeded."),
    (
        "createdAt",
        "DateTime",
        true,
        "When the event was recorded.",
    ),
    ("payload", "JSON", true, "The body every attempt sends."),
];

fn type_ref(name: &str, non_null: bool, list: bool) -> TypeRef {
    match (non_null, list) {
        (true, true) => TypeRef::named_nn_list_nn(name),
        (false, true) => TypeRef::named_nn_list(name),
        (true, false) => TypeRef::named_nn(name),
        (false, false) => TypeRef::named(name),
    }
}

pub fn types() -> Vec<Object> {
    let mut endpoint = Object::new("WebhookEndpoint")
        .description("A webhook endpoint (never its signing secret).");
    for (name, ty, non_null, list, description) in ENDPOINT_FIELDS {
        endpoint = endpoint.field(parent_field(
            name,
            type_ref(ty, non_null, list),
            description,
        ));
    }
    endpoint = endpoint.field(parent_field(
        "updatedAt",
        TypeRef::named_nn("DateTime"),
        "When it last changed.",
    ));
    let mut delivery =
        Object::new("WebhookDelivery").description("One event's delivery to one endpoint.");
    for (name, ty, non_null, description) in DELIVERY_FIELDS {
        delivery = delivery.field(parent_field(
            name,
            type_ref(ty, non_null, false),
            description,
        ));
    }
    let page = Object::new("WebhookDeliveryPage")
        .description("Deliveries, newest first.")
        .field(parent_field(
            "data",
            TypeRef::named_nn_list_nn("WebhookDelivery"),
            "The deliveries.",
        ))
        .field(parent_field(
            "nextBefore",
            TypeRef::named(STRING),
            "Pass as `before` for older ones; null on the last page.",
        ));
    let issued = Object::new("IssuedWebhookEndpoint")
        .description(
            "An endpoint with the signing secret just issued: shown in this response only.",
        )
        .field(parent_field(
            "endpoint",
            TypeRef::named_nn("WebhookEndpoint"),
            "The endpoint.",
        ))
        .field(parent_field(
            "secret",
            TypeRef::named_nn(STRING),
            "The signing secret (`whsec_…`).",
        ));
    vec![endpoint, delivery, page, issued]
}

pub fn inputs() -> Vec<InputObject> {
    let strings = || TypeRef::named_nn_list(STRING);
    vec![
        InputObject::new("CreateWebhookEndpointInput")
            .field(InputValue::new("url", TypeRef::named_nn(STRING)))
            .field(InputValue::new("events", TypeRef::named_nn_list_nn(STRING)))
            .field(InputValue::new("collections", strings()))
            .field(InputValue::new("description", TypeRef::named(STRING))),
        InputObject::new("UpdateWebhookEndpointInput")
            .field(InputValue::new("url", TypeRef::named(STRING)))
            .field(InputValue::new("events", strings()))
            .field(InputValue::new("collections", strings()).description("null: every collection."))
            .field(InputValue::new("description", TypeRef::named(STRING)))
            .field(InputValue::new("enabled", TypeRef::named(TypeRef::BOOLEAN))),
    ]
}

fn admin(data: &RequestData) -> Result<WebhookAdmin<'_>, Error> {
    let state = &data.state;
    let policy = url_policy(&state.settings.serve.webhooks);
    WebhookAdmin::for_caller(&state.db, policy, &data.caller, data.request_id.as_deref())
        .map_err(|e| gql_error(&e))
}

fn issued_value(issued: &Issued) -> Result<Value, Error> {
    let mut out = async_graphql::indexmap::IndexMap::new();
    out.insert(Name::new("endpoint"), camel_value(&issued.info)?);
    out.insert(Name::new("secret"), Value::from(issued.secret.clone()));
    Ok(Value::Object(out))
}

fn string_list(value: async_graphql::dynamic::ValueAccessor<'_>) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for item in value.list()?.iter() {
        out.push(item.string()?.to_owned());
    }
    Ok(out)
}

fn arg(ctx: &ResolverContext<'_>, name: &str) -> Result<String, Error> {
    Ok(ctx.args.try_get(name)?.string()?.to_owned())
}

fn value(v: Value) -> Result<Option<FieldValue<'static>>, Error> {
    Ok(Some(FieldValue::value(v)))
}

pub fn query_fields(catalog: &mut Catalog) -> Vec<Field> {
    catalog.add("Query", "webhookEndpoints", "WebhookEndpoint", None);
    catalog.add("Query", "webhookDeliveries", "WebhookDeliveryPage", None);
    catalog.add(
        "WebhookDeliveryPage",
        "data",
        "WebhookDelivery",
        Some(PageSize::DEFAULT),
    );
    let endpoints = Field::new(
        "webhookEndpoints",
        TypeRef::named_nn_list_nn("WebhookEndpoint"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let list = admin(data)?.list().await.map_err(|e| gql_error(&e))?;
                let values = list
                    .iter()
                    .map(camel_value)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(FieldValue::list(
                    values.into_iter().map(FieldValue::value),
                )))
            })
        },
    )
    .description("Every webhook endpoint (admin scope).");
    let deliveries = Field::new(
        "webhookDeliveries",
        TypeRef::named_nn("WebhookDeliveryPage"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let endpoint = arg(&ctx, "endpoint")?;
                let status = match ctx.args.get("status") {
                    Some(v) if !v.is_null() => {
                        Some(DeliveryStatus::parse(v.string()?).map_err(|e| gql_error(&e))?)
                    }
                    _ => None,
                };
                let limit = match ctx.args.get("first") {
                    Some(v) if !v.is_null() => PageSize::new(v.i64()?).map_err(|_| {
                        invalid("/first", format!("must be 1 to {}", PageSize::MAX))
                    })?,
                    _ => PageSize::DEFAULT,
                };
                let before = match ctx.args.get("before") {
                    Some(v) if !v.is_null() => Some(v.string()?.to_owned()),
                    _ => None,
                };
                let filter = DeliveryFilter {
                    status,
                    limit,
                    before,
                };
                let page = admin(data)?
                    .deliveries(&endpoint, &filter)
                    .await
                    .map_err(|e| gql_error(&e))?;
                let mut out = async_graphql::indexmap::IndexMap::new();
                let rows = page
                    .data
                    .iter()
                    .map(camel_value)
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(Name::new("data"), Value::List(rows));
                out.insert(
                    Name::new("nextBefore"),
                    page.next_before.map(Value::from).unwrap_or(Value::Null),
                );
                value(Value::Object(out))
            })
        },
    )
    .argument(InputValue::new("endpoint", TypeRef::named_nn(TypeRef::ID)))
    .argument(
        InputValue::new("status", TypeRef::named(STRING))
            .description("`pending`, `succeeded` or `failed`."),
    )
    .argument(InputValue::new("first", TypeRef::named(TypeRef::INT)))
    .argument(InputValue::new("before", TypeRef::named(STRING)))
    .description("An endpoint's deliveries, newest first (admin scope).");
    vec![endpoints, deliveries]
}
