//! `evidence` on link entries that are claims (`conditionsLinks { evidence { … } }`): the
//! `Evidence` type, its enums and `EvidenceInput`.

use std::sync::Arc;

use async_graphql::context::SelectionField;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, TypeRef,
};
use async_graphql::{Name, Value};
use serde_json::{Map, Value as Json};

use super::RequestData;
use super::catalog::Catalog;
use super::errors::gql_error;
use super::items::selected_fields;
use super::loader::CitationSlug;
use super::references::style_argument;
use super::values::{Item, enum_value, stored_value};
use crate::domain::Collection;
use crate::domain::evidence::{Certainty, Direction};
use crate::service::claims::{self, brief_citation};
use crate::service::item::{ItemObject, reference_key};

/// A claim's evidence as the include read it (`link.evidence`).
struct Evidence(Map<String, Json>);

pub fn enums() -> Vec<Enum> {
    let certainty = Certainty::NAMES.iter().fold(
        Enum::new("Certainty").description("GRADE certainty of the evidence, strongest first."),
        |e, name| e.item(EnumItem::new(enum_value(name))),
    );
    let direction = Direction::NAMES.iter().fold(
        Enum::new("EvidenceDirection").description("Which way the evidence points."),
        |e, name| e.item(EnumItem::new(enum_value(name))),
    );
    vec![certainty, direction]
}

pub fn input() -> InputObject {
    InputObject::new("EvidenceInput")
        .description(
            "The evidence behind a claim. A certainty above VERY_LOW needs at least one citation.",
        )
        .field(InputValue::new("certainty", TypeRef::named_nn("Certainty")))
        .field(
            InputValue::new("level", TypeRef::named(TypeRef::INT))
                .description("OCEBM 2011 level of evidence, 1 (strongest) to 5."),
        )
        .field(
            InputValue::new("direction", TypeRef::named("EvidenceDirection"))
                .description("Default BENEFIT."),
        )
        .field(InputValue::new("summary", TypeRef::named(TypeRef::STRING)))
        .field(
            InputValue::new("citations", TypeRef::named_list_nn(TypeRef::STRING))
                .description("Slugs of the citations behind the claim, in order."),
        )
}

/// A link set as GraphQL gives it, with the evidence's enum names as stored.
pub fn stored_links(mut links: Json) -> Json {
    for entry in links.as_array_mut().into_iter().flatten() {
        let Some(Json::Object(evidence)) = entry.get_mut("evidence") else {
            continue;
        };
        for key in ["certainty", "direction"] {
            if let Some(Json::String(name)) = evidence.get_mut(key) {
                *name = stored_value(name);
            }
        }
    }
    links
}

fn scalar(name: &'static str, ty: TypeRef, enumerated: bool) -> Field {
    Field::new(name, ty, move |ctx| {
        let value = ctx
            .parent_value
            .downcast_ref::<Evidence>()
            .and_then(|e| e.0.get(name))
            .map(|value| match value {
                Json::String(s) if enumerated => Value::Enum(Name::new(enum_value(s))),
                other => Value::from_json(other.clone()).unwrap_or(Value::Null),
            })
            .filter(|value| *value != Value::Null);
        FieldFuture::from_value(value)
    })
}

pub fn object(catalog: &mut Catalog) -> Object {
    catalog.add("Evidence", "citations", "Citation", None);
    Object::new("Evidence")
        .description("The evidence behind a claim.")
        .field(scalar("certainty", TypeRef::named_nn("Certainty"), true))
        .field(
            scalar("level", TypeRef::named(TypeRef::INT), false)
                .description("OCEBM 2011 level of evidence, 1 (strongest) to 5."),
        )
        .field(scalar(
            "direction",
            TypeRef::named_nn("EvidenceDirection"),
            true,
        ))
        .field(scalar("summary", TypeRef::named(TypeRef::STRING), false))
        .field(
            scalar("statement", TypeRef::named_nn(TypeRef::STRING), false).description(
                "The claim in plain language, worded for its certainty as GRADE summaries \
                 word it (\"probably\" when moderate, \"may\" when low, \"it is very \
                 uncertain whether\" when very low).",
            ),
        )
        .field(
            Field::new("citations", TypeRef::named_nn_list_nn("Citation"), |ctx| {
                FieldFuture::new(async move {
                    let evidence = ctx.parent_value.try_downcast_ref::<Evidence>()?;
                    let data = ctx.data::<RequestData>()?;
                    let works: Vec<&Map<String, Json>> = evidence
                        .0
                        .get("citations")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_object)
                        .collect();
                    let items = match in_brief(ctx.field(), &works) {
                        true => works.iter().map(|w| Arc::new(brief_citation(w))).collect(),
                        false => by_slug(data, ctx.field(), &works).await?,
                    };
                    data.note_items(Collection::Citations, items.iter().map(|i| &**i));
                    Ok(Some(FieldValue::list(items.into_iter().map(|object| {
                        FieldValue::owned_any(Item {
                            collection: Collection::Citations,
                            object,
                        })
                    }))))
                })
            })
            .description("The citations behind the claim that the caller may see, in order."),
        )
}

/// Whether the works as the link rows read them hold every field `field` selects: then
/// they serve as the citations, with no other statement.
fn in_brief(field: SelectionField<'_>, works: &[&Map<String, Json>]) -> bool {
    let Some(first) = works.first() else {
        return true;
    };
    field.selection_set().all(|f| match f.name() {
        "__typename" => true,
        "formatted" => style_argument(f).is_some_and(|s| first.contains_key(reference_key(s))),
        name => claims::in_brief(name),
    })
}

/// The citations the works name, read again with the fields `field` selects.
async fn by_slug(
    data: &RequestData,
    field: SelectionField<'_>,
    works: &[&Map<String, Json>],
) -> Result<Vec<Arc<ItemObject>>, async_graphql::Error> {
    let fields = selected_fields(field, Collection::Citations, false);
    let slugs: Vec<CitationSlug> = works
        .iter()
        .filter_map(|work| work.get("slug")?.as_str())
        .map(|slug| CitationSlug {
            slug: slug.to_owned(),
            fields,
        })
        .collect();
    let found = data
        .loader
        .load_many(slugs.iter().cloned())
        .await
        .map_err(|e| gql_error(&e))?;
    Ok(slugs.iter().filter_map(|s| found.get(s).cloned()).collect())
}

/// `evidence` on a link entry: null unless the link is a claim with evidence.
pub fn link_field() -> Field {
    Field::new("evidence", TypeRef::named("Evidence"), |ctx| {
        let evidence = ctx
            .parent_value
            .downcast_ref::<Item>()
            .and_then(|item| item.object.get("link"))
            .and_then(|link| link.get("evidence"))
            .and_then(Json::as_object)
            .map(|map| FieldValue::owned_any(Evidence(map.clone())));
        FieldFuture::Value(evidence)
    })
    .description(
        "On a claim (a technique helps with a condition, a technique brings a benefit): the \
         evidence behind it, or null.",
    )
}
