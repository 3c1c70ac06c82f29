//! Syndication terms in GraphQL: `syndication` on every item type, `syndicationTerms` to
//! read the deployment's terms and `updateSyndicationTerms` (admin) to replace them.

use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, TypeRef,
};
use async_graphql::{Error, Name, Value};
use serde_json::{Map, Value as Json};

use super::RequestData;
use super::errors::gql_error;
use super::values::{Item, camel};
use crate::domain::Collection;
use crate::domain::syndication::{DEPLOYMENT_TERMS, ITEM_TERMS, Terms};
use crate::service::syndication::{self, Subject};

/// `snake_case` JSON → a GraphQL object with `camelCase` keys.
fn camel_object(json: &Json) -> Value {
    let mut out = async_graphql::indexmap::IndexMap::new();
    for (key, value) in json.as_object().into_iter().flatten() {
        let value = value
            .as_str()
            .map_or(Value::Null, |s| Value::String(s.to_owned()));
        out.insert(Name::new(camel(key)), value);
    }
    Value::Object(out)
}

fn string_fields(mut object: Object, terms: &[(&'static str, &'static str)]) -> Object {
    for &(name, description) in terms {
        let key = camel(name);
        let field = Field::new(key.clone(), TypeRef::named(TypeRef::STRING), move |ctx| {
            let value = match ctx.parent_value.as_value() {
                Some(Value::Object(map)) => map.get(key.as_str()).cloned(),
                _ => None,
            };
            FieldFuture::from_value(value)
        });
        object = object.field(field.description(description));
    }
    object
}

pub fn types() -> Vec<Object> {
    vec![
        string_fields(
            Object::new("Syndication").description(
                "What a storefront owes when it shows an item: the terms that apply to it \
                 (the publisher's own for its articles), null where not set.",
            ),
            &ITEM_TERMS,
        ),
        string_fields(
            Object::new("SyndicationTerms")
                .description("The deployment's syndication terms, edited by admins."),
            &DEPLOYMENT_TERMS,
        ),
    ]
}

pub fn input() -> InputObject {
    let mut input = InputObject::new("SyndicationTermsInput")
        .description("Every term; an absent or null one is cleared.");
    for (name, description) in DEPLOYMENT_TERMS {
        input = input.field(
            InputValue::new(camel(name), TypeRef::named(TypeRef::STRING)).description(description),
        );
    }
    input
}

fn terms_value(terms: &Terms) -> Result<Value, Error> {
    Ok(camel_object(&serde_json::to_value(terms)?))
}

/// `syndication` on an item type.
pub fn item_field(collection: Collection) -> Field {
    Field::new(
        "syndication",
        TypeRef::named_nn("Syndication"),
        move |ctx| {
            FieldFuture::new(async move {
                let item = ctx.parent_value.try_downcast_ref::<Item>()?;
                let data = ctx.data::<RequestData>()?;
                data.note_tags(&[syndication::TAG.to_owned()]);
                if let Some(found) = item.object.get(syndication::KEY) {
                    return Ok(Some(FieldValue::value(camel_object(found))));
                }
                let subject = Subject::of(collection, &item.object);
                let found = data
                    .loader
                    .load_one(subject)
                    .await
                    .map_err(|e| gql_error(&e))?
                    .unwrap_or_default();
                Ok(Some(FieldValue::value(camel_object(
                    &serde_json::to_value(found)?,
                ))))
            })
        },
    )
    .description(
        "The terms a storefront showing this item follows: licence, attribution, logo, \
         canonical page and medical disclaimer.",
    )
}

pub fn query_field() -> Field {
    Field::new(
        "syndicationTerms",
        TypeRef::named_nn("SyndicationTerms"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                data.note_tags(&[syndication::TAG.to_owned()]);
                let terms = syndication::terms(&data.state.db)
                    .await
                    .map_err(|e| gql_error(&e))?;
                Ok(Some(FieldValue::value(terms_value(&terms)?)))
            })
        },
    )
    .description("The deployment's syndication terms.")
}

pub fn mutation_field() -> Field {
    Field::new(
        "updateSyndicationTerms",
        TypeRef::named_nn("SyndicationTerms"),
        |ctx| {
            FieldFuture::new(async move {
                let data = ctx.data::<RequestData>()?;
                let input = ctx.args.try_get("input")?;
                let mut fields = Map::new();
                if let Ok(object) = input.object() {
                    for (name, _) in DEPLOYMENT_TERMS {
                        if let Some(value) = object.get(&camel(name)) {
                            let value = value
                                .string()
                                .ok()
                                .map_or(Json::Null, |s| Json::String(s.into()));
                            fields.insert(name.to_owned(), value);
                        }
                    }
                }
                let terms: Terms = serde_json::from_value(Json::Object(fields))?;
                let editor = crate::api::request::editor(
                    &data.state,
                    &data.caller,
                    data.request_id.as_deref(),
                );
                let terms = editor
                    .update_syndication(terms)
                    .await
                    .map_err(|e| gql_error(&e))?;
                Ok(Some(FieldValue::value(terms_value(&terms)?)))
            })
        },
    )
    .argument(InputValue::new(
        "input",
        TypeRef::named_nn("SyndicationTermsInput"),
    ))
    .description("Replaces the deployment's syndication terms (admin scope).")
}
