//! API keys in GraphQL (admin scope): `apiKeys`, and `createApiKey`, `updateApiKey`,
//! `rotateApiKey`, `revokeApiKey`: the same administration as `/v1/keys` and `salve keys`.

use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::{Error, Name, Value};

use super::RequestData;
use super::catalog::Catalog;
use super::errors::gql_error;
use super::values::camel;
use crate::domain::Scopes;
use crate::domain::key_lifetime::Overlap;
use crate::domain::rate_limit::RateQuota;
use crate::error::AppError;
use crate::service::keys::{KeyAdmin, KeyChange, KeyInfo, NewKey};

/// ApiKey fields: (snake_case name, type, description).
const KEY_FIELDS: [(&str, &str, &str); 11] = [
    ("name", "String!", "Unique name of the key."),
    (
        "prefix",
        "String!",
        "Public start of the key, to recognise it.",
    ),
    ("scopes", "[String!]!", "What the key may do."),
    ("status", "String!", "`active`, `expired` or `revoked`."),
    ("created_at", "DateTime!", "When the key was created."),
    (
        "expires_at",
        "DateTime",
        "After this instant the key is refused.",
    ),
    (
        "last_used_at",
        "DateTime",
        "When the key was last used (recorded about once a minute).",
    ),
    (
        "rotated_at",
        "DateTime",
        "When its secret was last replaced.",
    ),
    (
        "previous_secret_expires_at",
        "DateTime",
        "Until when the secret the last rotation replaced is still accepted.",
    ),
    ("revoked_at", "DateTime", "When the key was revoked."),
    (
        "rate_limit",
        "String",
        "The key's own rate limit (`N/<seconds>s`); null: its class's.",
    ),
];

fn type_ref(spec: &str) -> TypeRef {
    match spec {
        "String!" => TypeRef::named_nn(TypeRef::STRING),
        "[String!]!" => TypeRef::named_nn_list_nn(TypeRef::STRING),
        "DateTime!" => TypeRef::named_nn("DateTime"),
        "String" => TypeRef::named(TypeRef::STRING),
        _ => TypeRef::named("DateTime"),
    }
}

/// A field read from the parent object (an `ApiKey` or `IssuedApiKey` value).
pub(super) fn parent_field(name: &str, ty: TypeRef, description: &str) -> Field {
    let key = name.to_owned();
    Field::new(name, ty, move |ctx| {
        let value = match ctx.parent_value.as_value() {
            Some(Value::Object(map)) => map.get(key.as_str()).cloned(),
            _ => None,
        };
        FieldFuture::from_value(value.filter(|v| *v != Value::Null))
    })
    .description(description)
}

pub fn types() -> Vec<Object> {
    let mut key = Object::new("ApiKey").description("An API key (never its secret).");
    for (name, ty, description) in KEY_FIELDS {
        key = key.field(parent_field(&camel(name), type_ref(ty), description));
    }
    let issued = Object::new("IssuedApiKey")
        .description("A key with the secret just issued: shown in this response only.")
        .field(parent_field("key", TypeRef::named_nn("ApiKey"), "The key."))
        .field(parent_field(
            "secret",
            TypeRef::named_nn(TypeRef::STRING),
            "The secret: send it as `Authorization: Bearer <secret>`.",
        ));
    vec![key, issued]
}

pub fn inputs() -> Vec<InputObject> {
    vec![
        InputObject::new("CreateApiKeyInput")
            .field(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)))
            .field(InputValue::new(
                "scopes",
                TypeRef::named_nn_list_nn(TypeRef::STRING),
            ))
            .field(InputValue::new("expiresAt", TypeRef::named("DateTime")))
            .field(
                InputValue::new("rateLimit", TypeRef::named(TypeRef::STRING))
                    .description("The key's own rate limit, e.g. `600/1m`."),
            ),
    ]
}

/// A serializable record as a GraphQL object value, its fields in camelCase (nested
/// JSON, such as a webhook payload, stays as it is).
pub(super) fn camel_value(record: &impl serde::Serialize) -> Result<Value, Error> {
    let json = serde_json::to_value(record)?;
    let mut out = async_graphql::indexmap::IndexMap::new();
    for (key, value) in json.as_object().into_iter().flatten() {
        out.insert(Name::new(camel(key)), Value::from_json(value.clone())?);
    }
    Ok(Value::Object(out))
}

fn key_value(info: &KeyInfo) -> Result<Value, Error> {
    camel_value(info)
}

fn issued_value(issued: &NewKey) -> Result<Value, Error> {
    let mut out = async_graphql::indexmap::IndexMap::new();
    out.insert(Name::new("key"), key_value(&issued.info)?);
    out.insert(Name::new("secret"), Value::from(issued.secret.clone()));
    Ok(Value::Object(out))
}

pub(super) fn invalid(pointer: &str, detail: impl Into<String>) -> Error {
    gql_error(&AppError::invalid_field(pointer, detail))
}

fn admin(data: &RequestData) -> Result<KeyAdmin<'_>, Error> {
    let state = &data.state;
    KeyAdmin::for_caller(
        &state.db,
        &state.key_usage,
        &data.caller,
        data.request_id.as_deref(),
    )
    .map_err(|e| gql_error(&e))
}

fn datetime(value: &Value, pointer: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    match value {
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| invalid(pointer, "must be an RFC 3339 date-time")),
        _ => Err(invalid(pointer, "must be an RFC 3339 date-time")),
    }
}

/// `rateLimit`: absent (no change), null (the class's limit) or a quota.
fn rate_limit_arg(
    value: Option<async_graphql::dynamic::ValueAccessor<'_>>,
) -> Result<Option<Option<RateQuota>>, Error> {
    match value {
        None => Ok(None),
        Some(value) if value.is_null() => Ok(Some(None)),
        Some(value) => RateQuota::parse(value.string()?)
            .map(|q| Some(Some(q)))
            .map_err(|e| invalid("/rateLimit", e)),
    }
}

fn name_arg(ctx: &ResolverContext<'_>) -> Result<String, Error> {
    Ok(ctx.args.try_get("name")?.string()?.to_owned())
}

pub fn query_field(catalog: &mut Catalog) -> Field {
    catalog.add("Query", "apiKeys", "ApiKey", None);
    Field::new("apiKeys", TypeRef::named_nn_list_nn("ApiKey"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let keys = admin(data)?.list().await.map_err(|e| gql_error(&e))?;
            let values = keys.iter().map(key_value).collect::<Result<Vec<_>, _>>()?;
            Ok(Some(FieldValue::list(
                values.into_iter().map(FieldValue::value),
            )))
        })
    })
    .description("Every API key, by name (admin scope).")
}

pub fn mutation_fields(catalog: &mut Catalog) -> Vec<Field> {
    for (name, ty) in [
        ("createApiKey", "IssuedApiKey"),
        ("rotateApiKey", "IssuedApiKey"),
        ("updateApiKey", "ApiKey"),
        ("revokeApiKey", "ApiKey"),
    ] {
        catalog.add("Mutation", name, ty, None);
    }
    vec![create(), update(), rotate(), revoke()]
}

fn create() -> Field {
    Field::new("createApiKey", TypeRef::named_nn("IssuedApiKey"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let admin = admin(data)?;
            let input = ctx.args.try_get("input")?.object()?;
            let name = input.try_get("name")?.string()?.to_owned();
            let mut names = Vec::new();
            for scope in input.try_get("scopes")?.list()?.iter() {
                names.push(scope.string()?.to_owned());
            }
            let scopes = Scopes::parse_list(&names.join(",")).map_err(|e| invalid("/scopes", e))?;
            let expires_at = match input.get("expiresAt") {
                Some(value) if !value.is_null() => Some(datetime(value.as_value(), "/expiresAt")?),
                _ => None,
            };
            let limit = rate_limit_arg(input.get("rateLimit"))?.flatten();
            let issued = admin
                .create(&name, &scopes, expires_at, limit)
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(issued_value(&issued)?)))
        })
    })
    .argument(InputValue::new(
        "input",
        TypeRef::named_nn("CreateApiKeyInput"),
    ))
    .description("Creates an API key; its secret is in this response only (admin scope).")
}

fn update() -> Field {
    Field::new("updateApiKey", TypeRef::named_nn("ApiKey"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let admin = admin(data)?;
            let name = name_arg(&ctx)?;
            let expires_at = match ctx.args.get("expiresAt") {
                None => None,
                Some(value) if value.is_null() => Some(None),
                Some(value) => Some(Some(datetime(value.as_value(), "/expiresAt")?)),
            };
            let rate_limit = rate_limit_arg(ctx.args.get("rateLimit"))?;
            let change = KeyChange {
                expires_at,
                rate_limit,
            };
            let key = admin
                .update(&name, &change)
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(key_value(&key)?)))
        })
    })
    .argument(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)))
    .argument(InputValue::new("expiresAt", TypeRef::named("DateTime")))
    .argument(InputValue::new(
        "rateLimit",
        TypeRef::named(TypeRef::STRING),
    ))
    .description(
        "Sets a key's expiry or its own rate limit (e.g. `600/1m`); null removes either \
         (admin scope).",
    )
}

fn rotate() -> Field {
    Field::new("rotateApiKey", TypeRef::named_nn("IssuedApiKey"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let admin = admin(data)?;
            let name = name_arg(&ctx)?;
            let overlap = match ctx.args.get("overlapSeconds") {
                Some(value) if !value.is_null() => Overlap::from_seconds(value.i64()?)
                    .map_err(|e| invalid("/overlapSeconds", e))?,
                _ => Overlap::DEFAULT,
            };
            let issued = admin
                .rotate(&name, overlap)
                .await
                .map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(issued_value(&issued)?)))
        })
    })
    .argument(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)))
    .argument(
        InputValue::new("overlapSeconds", TypeRef::named(TypeRef::INT))
            .description("How long the replaced secret stays valid: 0 to 604800 (default 3600)."),
    )
    .description(
        "Issues a new secret for a key, shown in this response only; the replaced one keeps \
         working for the overlap (admin scope).",
    )
}

fn revoke() -> Field {
    Field::new("revokeApiKey", TypeRef::named_nn("ApiKey"), |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let admin = admin(data)?;
            let name = name_arg(&ctx)?;
            let key = admin.revoke(&name).await.map_err(|e| gql_error(&e))?;
            Ok(Some(FieldValue::value(key_value(&key)?)))
        })
    })
    .argument(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING)))
    .description("Revokes a key: requests with it get 401 from then on (admin scope).")
}
