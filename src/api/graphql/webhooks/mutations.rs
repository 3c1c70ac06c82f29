//! The webhook mutations: register, change, rotate the secret, delete, replay.

use async_graphql::Error;
use async_graphql::dynamic::{Field, FieldFuture, InputValue, TypeRef};

use super::{admin, arg, issued_value, string_list, value};
use crate::api::graphql::RequestData;
use crate::api::graphql::catalog::Catalog;
use crate::api::graphql::errors::gql_error;
use crate::api::graphql::keys::{camel_value, invalid};
use crate::domain::key_lifetime::Overlap;
use crate::service::webhooks::{EndpointChange, NewEndpoint};

pub fn mutation_fields(catalog: &mut Catalog) -> Vec<Field> {
    for (name, ty) in [
        ("createWebhookEndpoint", "IssuedWebhookEndpoint"),
        ("updateWebhookEndpoint", "WebhookEndpoint"),
        ("rotateWebhookSecret", "IssuedWebhookEndpoint"),
        ("deleteWebhookEndpoint", "WebhookEndpoint"),
        ("replayWebhookDelivery", "WebhookDelivery"),
    ] {
        catalog.add("Mutation", name, ty, None);
    }
    vec![create(), update(), rotate(), delete(), replay()]
}

fn create() -> Field {
    Field::new(
        "createWebhookEndpoint",
        TypeRef::named_nn("IssuedWebhookEndpoint"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let admin = admin(data)?;
                let input = ctx.args.try_get("input")?.object()?;
                let new = NewEndpoint {
                    url: input.try_get("url")?.string()?.to_owned(),
                    events: string_list(input.try_get("events")?)?,
                    collections: match input.get("collections") {
                        Some(v) if !v.is_null() => Some(string_list(v)?),
                        _ => None,
                    },
                    description: match input.get("description") {
                        Some(v) if !v.is_null() => Some(v.string()?.to_owned()),
                        _ => None,
                    },
                };
                let issued = admin.create(new).await.map_err(|e| gql_error(&e))?;
                value(issued_value(&issued)?)
            })
        },
    )
    .argument(InputValue::new(
        "input",
        TypeRef::named_nn("CreateWebhookEndpointInput"),
    ))
    .description(
        "Registers a webhook endpoint; its signing secret is in this response only (admin scope).",
    )
}

fn update() -> Field {
    Field::new(
        "updateWebhookEndpoint",
        TypeRef::named_nn("WebhookEndpoint"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let admin = admin(data)?;
                let id = arg(&ctx, "id")?;
                let input = ctx.args.try_get("input")?.object()?;
                let text = |name: &str| -> Result<Option<Option<String>>, Error> {
                    Ok(match input.get(name) {
                        None => None,
                        Some(v) if v.is_null() => Some(None),
                        Some(v) => Some(Some(v.string()?.to_owned())),
                    })
                };
                let change = EndpointChange {
                    url: text("url")?.flatten(),
                    events: match input.get("events") {
                        Some(v) if !v.is_null() => Some(string_list(v)?),
                        _ => None,
                    },
                    collections: match input.get("collections") {
                        None => None,
                        Some(v) if v.is_null() => Some(None),
                        Some(v) => Some(Some(string_list(v)?)),
                    },
                    description: text("description")?,
                    enabled: match input.get("enabled") {
                        Some(v) if !v.is_null() => Some(v.boolean()?),
                        _ => None,
                    },
                };
                let endpoint = admin.update(&id, change).await.map_err(|e| gql_error(&e))?;
                value(camel_value(&endpoint)?)
            })
        },
    )
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
    .argument(InputValue::new(
        "input",
        TypeRef::named_nn("UpdateWebhookEndpointInput"),
    ))
    .description("Changes an endpoint; `enabled: true` re-enables a disabled one (admin scope).")
}

fn rotate() -> Field {
    Field::new("rotateWebhookSecret", TypeRef::named_nn("IssuedWebhookEndpoint"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let admin = admin(data)?;
            let id = arg(&ctx, "id")?;
            let overlap = match ctx.args.get("overlapSeconds") {
                Some(v) if !v.is_null() => Overlap::from_seconds(v.i64()?)
                    .map_err(|e| invalid("/overlapSeconds", e))?,
                _ => Overlap::DEFAULT,
            };
            let issued = admin.rotate_secret(&id, overlap).await.map_err(|e| gql_error(&e))?;
            value(issued_value(&issued)?)
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
    .argument(
        InputValue::new("overlapSeconds", TypeRef::named(TypeRef::INT))
            .description("How long deliveries are also signed with the replaced secret: 0 to 604800 (default 3600)."),
    )
    .description("Issues a new signing secret, shown in this response only (admin scope).")
}

fn delete() -> Field {
    Field::new(
        "deleteWebhookEndpoint",
        TypeRef::named_nn("WebhookEndpoint"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let id = arg(&ctx, "id")?;
                let endpoint = admin(data)?.delete(&id).await.map_err(|e| gql_error(&e))?;
                value(camel_value(&endpoint)?)
            })
        },
    )
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
    .description("Deletes an endpoint and its deliveries (admin scope).")
}

fn replay() -> Field {
    Field::new(
        "replayWebhookDelivery",
        TypeRef::named_nn("WebhookDelivery"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let endpoint = arg(&ctx, "endpoint")?;
                let delivery = arg(&ctx, "delivery")?;
                let replayed = admin(data)?
                    .replay(&endpoint, &delivery)
                    .await
                    .map_err(|e| gql_error(&e))?;
                value(camel_value(&replayed)?)
            })
        },
    )
    .argument(InputValue::new("endpoint", TypeRef::named_nn(TypeRef::ID)))
    .argument(InputValue::new("delivery", TypeRef::named_nn(TypeRef::ID)))
    .description("Sends a delivery again with the same `webhook-id` (admin scope).")
}
