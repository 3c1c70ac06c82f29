//! The `Mutation` root: the REST writes one for one (`createTechnique`,
//! `updateTechnique`, `deleteTechnique`, `setTechniqueLinks`, `submitTechnique`,
//! `publishTechnique`, `unpublishTechnique`, `archiveTechnique`,
//! `restoreTechniqueRevision`, `recordArticleReview`), each calling the same
//! `service::editing` function as its REST twin. Concurrency uses `expectedVersion`
//! where REST uses `If-Match`.

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Object,
    ResolverContext, TypeRef,
};
use async_graphql::{Error, Value};
use serde_json::{Map, Value as Json};

use super::RequestData;
use super::catalog::Catalog;
use super::errors::gql_error;
use super::values::{Item, camel, enum_type_name, stored_value, type_name};
use crate::domain::docs::a;
use crate::domain::docs::field_description;
use crate::domain::{Collection, FieldKind};
use crate::service::editing::document::{link_relations, server_fields};
use crate::service::editing::workflow::Transition;
use crate::service::editing::{Editor, Precondition, Written};

pub(super) fn editor(data: &RequestData) -> Editor<'_> {
    crate::api::request::editor(&data.state, &data.caller, data.request_id.as_deref())
}

pub(super) fn written<'a>(
    result: crate::error::Result<Written>,
) -> Result<Option<FieldValue<'a>>, Error> {
    match result {
        Ok(written) => Ok(Some(FieldValue::owned_any(Item::new(
            written.collection,
            written.item,
        )))),
        Err(e) => Err(gql_error(&e)),
    }
}

pub(super) fn slug_arg(ctx: &ResolverContext<'_>) -> Result<String, Error> {
    Ok(ctx.args.try_get("slug")?.string()?.to_owned())
}

pub(super) fn expected_version(ctx: &ResolverContext<'_>) -> Result<Precondition, Error> {
    Ok(Precondition::Version(
        ctx.args.try_get("expectedVersion")?.i64()?,
    ))
}

pub(super) fn slug_input() -> InputValue {
    InputValue::new("slug", TypeRef::named_nn(TypeRef::STRING))
}

pub(super) fn version_input() -> InputValue {
    InputValue::new("expectedVersion", TypeRef::named_nn(TypeRef::INT)).description(
        "The version the change is based on; a stale one is refused with PRECONDITION_FAILED.",
    )
}

/// GraphQL input (camelCase, enum names) → the service's JSON document (snake_case,
/// stored values). Absent fields stay absent; explicit nulls stay null (merge patch).
fn document(collection: Collection, input: &Value) -> Map<String, Json> {
    let mut out = Map::new();
    let Value::Object(fields) = input else {
        return out;
    };
    for (name, value) in fields {
        let snake = collection
            .fields()
            .iter()
            .map(|f| f.name)
            .chain(link_relations(collection).iter().map(|r| r.name))
            .chain(["slug"])
            .find(|n| camel(n) == name.as_str())
            .unwrap_or(name.as_str());
        let enum_field = collection
            .field(snake)
            .is_some_and(|f| matches!(f.kind, FieldKind::Enum(_)));
        let json = match value {
            // Variables carry enum values as strings; GraphQL has checked them already.
            Value::Enum(e) if enum_field => Json::String(stored_value(e.as_str())),
            Value::String(s) if enum_field => Json::String(stored_value(s)),
            other => other.clone().into_json().unwrap_or(Json::Null),
        };
        let json = if collection.field(snake).is_none() && snake != "slug" {
            super::evidence::stored_links(json)
        } else {
            json
        };
        out.insert(snake.to_owned(), json);
    }
    out
}

fn input_type(field_kind: FieldKind, collection: Collection, name: &str) -> TypeRef {
    match field_kind {
        FieldKind::Text
        | FieldKind::Markdown(_)
        | FieldKind::Reference(_)
        | FieldKind::Timestamp => TypeRef::named(TypeRef::STRING),
        FieldKind::Integer => TypeRef::named(TypeRef::INT),
        FieldKind::Enum(_) => TypeRef::named(enum_type_name(collection, name)),
        FieldKind::StringList => TypeRef::named_nn_list(TypeRef::STRING),
        FieldKind::Statistics => TypeRef::named_nn_list("StatisticInput"),
        FieldKind::Names { .. } => TypeRef::named_nn_list("PersonNameInput"),
    }
}

/// `TechniqueInput` (create) or `TechniquePatch` (update: every field optional).
fn input_object(collection: Collection, patch: bool) -> InputObject {
    let name = type_name(collection);
    let mut input = InputObject::new(format!("{name}{}", if patch { "Patch" } else { "Input" }))
        .description(if patch {
            format!(
                "Changes to {}: given fields are set, `null` clears, given link sets are replaced.",
                a(collection.singular())
            )
        } else {
            format!("A new {} (created as a draft).", collection.singular())
        });
    let slug = if patch {
        TypeRef::named(TypeRef::STRING)
    } else {
        TypeRef::named_nn(TypeRef::STRING)
    };
    input = input.field(InputValue::new("slug", slug).description("Unique slug (`a-z0-9-`)."));
    for field in collection.fields() {
        if server_fields(collection).contains(&field.name) {
            continue;
        }
        let mut ty = input_type(field.kind, collection, field.name);
        if field.required && !patch {
            ty = TypeRef::NonNull(Box::new(ty));
        }
        input = input.field(
            InputValue::new(camel(field.name), ty)
                .description(field_description(collection, field.name)),
        );
    }
    for relation in link_relations(collection) {
        input = input.field(
            InputValue::new(camel(relation.name), TypeRef::named_nn_list("LinkInput"))
                .description(format!("The linked {}, in order.", relation.to.as_str())),
        );
    }
    input
}

fn link_set_enum(collection: Collection) -> Enum {
    let mut e = Enum::new(format!("{}LinkSet", type_name(collection)))
        .description(format!("The link sets of {}.", a(collection.singular())));
    for relation in link_relations(collection) {
        e = e.item(EnumItem::new(relation.name.to_uppercase()));
    }
    e
}

/// Shared input types: `LinkInput`, `StatisticInput`.
pub fn shared_inputs() -> Vec<InputObject> {
    vec![
        InputObject::new("LinkInput")
            .description("One linked item, by slug, with the link's optional note.")
            .field(InputValue::new("slug", TypeRef::named_nn(TypeRef::STRING)))
            .field(InputValue::new("note", TypeRef::named(TypeRef::STRING)))
            .field(
                InputValue::new("evidence", TypeRef::named("EvidenceInput")).description(
                    "On a claim (a technique helps with a condition, a technique brings a \
                 benefit): the evidence behind it.",
                ),
            ),
        InputObject::new("PersonNameInput")
            .description("A person (family, and given when known) or a body (literal alone).")
            .field(InputValue::new("family", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("given", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("literal", TypeRef::named(TypeRef::STRING))),
        InputObject::new("StatisticInput")
            .description("A figure about a condition, backed by a citation.")
            .field(InputValue::new("label", TypeRef::named_nn(TypeRef::STRING)))
            .field(InputValue::new("value", TypeRef::named_nn(TypeRef::FLOAT)))
            .field(InputValue::new("unit", TypeRef::named(TypeRef::STRING)))
            .field(InputValue::new("year", TypeRef::named(TypeRef::INT)))
            .field(InputValue::new("citation", TypeRef::named(TypeRef::STRING))),
    ]
}

/// Input objects and enums the mutations of `collection` use.
pub fn types(collection: Collection) -> (Vec<InputObject>, Option<Enum>) {
    let inputs = vec![
        input_object(collection, false),
        input_object(collection, true),
    ];
    let links = (!link_relations(collection).is_empty()).then(|| link_set_enum(collection));
    (inputs, links)
}

/// Every field a collection adds to `Mutation`: (field name, field).
fn collection_fields(collection: Collection) -> Vec<(String, Field)> {
    let name = type_name(collection);
    let mut fields = Vec::new();
    let mut add = |field_name: String, build: &dyn Fn(&str) -> Field| {
        let field = build(&field_name);
        fields.push((field_name, field));
    };
    add(format!("create{name}"), &|f| {
        create_field(collection, &name, f)
    });
    add(format!("update{name}"), &|f| {
        update_field(collection, &name, f)
    });
    add(format!("delete{name}"), &|f| {
        delete_field(collection, &name, f)
    });
    if !link_relations(collection).is_empty() {
        add(format!("set{name}Links"), &|f| {
            set_links_field(collection, &name, f)
        });
    }
    for step in Transition::ALL {
        add(format!("{}{name}", step.name()), &|f| {
            transition_field(collection, &name, f, step)
        });
    }
    add(format!("restore{name}Revision"), &|f| {
        restore_field(collection, &name, f)
    });
    add(format!("discard{name}Draft"), &|f| {
        super::drafts::discard_field(collection, &name, f)
    });
    fields
}

pub fn mutation(catalog: &mut Catalog) -> Object {
    let mut mutation = Object::new("Mutation").description(
        "Editing: the REST writes one for one, with `expectedVersion` for `If-Match`. Needs \
         an API key with the write scope (publish for publishing, admin for hard deletes).",
    );
    for collection in Collection::ALL {
        let name = type_name(collection);
        for (field_name, field) in collection_fields(collection) {
            catalog.add("Mutation", &field_name, &name, None);
            mutation = mutation.field(field);
        }
    }
    catalog.add(
        "Mutation",
        "updateSyndicationTerms",
        "SyndicationTerms",
        None,
    );
    mutation = mutation.field(super::syndication::mutation_field());
    for field in super::keys::mutation_fields(catalog)
        .into_iter()
        .chain(super::webhooks::mutation_fields(catalog))
    {
        mutation = mutation.field(field);
    }
    for collection in Collection::ALL.into_iter().filter(|c| c.reviewable()) {
        let name = type_name(collection);
        let field_name = format!("record{name}Review");
        catalog.add("Mutation", &field_name, &name, None);
        mutation = mutation.field(record_review_field(collection, &name, &field_name));
    }
    mutation
}

/// `create{Type}`: a new draft.
fn create_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let input = document(collection, ctx.args.try_get("input")?.as_value());
            written(editor(data).create(collection, input).await)
        })
    })
    .description(format!("Creates a draft {}.", collection.singular()))
    .argument(InputValue::new(
        "input",
        TypeRef::named_nn(format!("{name}Input")),
    ))
}

/// `update{Type}`: a merge patch.
fn update_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let patch = document(collection, ctx.args.try_get("patch")?.as_value());
            let (slug, expected) = (slug_arg(&ctx)?, expected_version(&ctx)?);
            written(
                editor(data)
                    .update(collection, &slug, patch, &expected)
                    .await,
            )
        })
    })
    .description(format!(
        "Changes {} (merge patch). Drafts need write; other statuses publish.",
        a(collection.singular())
    ))
    .argument(slug_input())
    .argument(version_input())
    .argument(InputValue::new(
        "patch",
        TypeRef::named_nn(format!("{name}Patch")),
    ))
}

/// `delete{Type}`: archive, or a hard delete.
fn delete_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (slug, expected) = (slug_arg(&ctx)?, expected_version(&ctx)?);
            let flag = |name: &str| {
                ctx.args
                    .get(name)
                    .map(|v| v.boolean())
                    .transpose()
                    .map(|v| v.unwrap_or(false))
            };
            let (hard, cascade) = (flag("hard")?, flag("cascadeLinks")?);
            if hard {
                editor(data)
                    .hard_delete(collection, &slug, cascade, &expected)
                    .await
                    .map_err(|e| gql_error(&e))?;
                return Ok(None);
            }
            written(
                editor(data)
                    .transition(collection, &slug, Transition::Archive, &expected)
                    .await,
            )
        })
    })
    .description(format!(
        "Archives {} (publish scope); `hard: true` deletes it for good (admin) and \
         returns null.",
        a(collection.singular())
    ))
    .argument(slug_input())
    .argument(version_input())
    .argument(InputValue::new("hard", TypeRef::named(TypeRef::BOOLEAN)))
    .argument(InputValue::new(
        "cascadeLinks",
        TypeRef::named(TypeRef::BOOLEAN),
    ))
}

/// `set{Type}Links`: one link set, replaced in order.
fn set_links_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (slug, expected) = (slug_arg(&ctx)?, expected_version(&ctx)?);
            let relation = ctx.args.try_get("relation")?.enum_name()?.to_lowercase();
            let links = ctx
                .args
                .try_get("links")?
                .as_value()
                .clone()
                .into_json()
                .unwrap_or(Json::Null);
            let links = super::evidence::stored_links(links);
            written(
                editor(data)
                    .replace_links(collection, &slug, &relation, links, &expected)
                    .await,
            )
        })
    })
    .description(format!(
        "Replaces one link set of {}, in order.",
        a(collection.singular())
    ))
    .argument(slug_input())
    .argument(version_input())
    .argument(InputValue::new(
        "relation",
        TypeRef::named_nn(format!("{name}LinkSet")),
    ))
    .argument(InputValue::new(
        "links",
        TypeRef::named_nn_list_nn("LinkInput"),
    ))
}

/// `{step}{Type}`: one workflow step.
fn transition_field(
    collection: Collection,
    name: &str,
    field_name: &str,
    step: Transition,
) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (slug, expected) = (slug_arg(&ctx)?, expected_version(&ctx)?);
            written(
                editor(data)
                    .transition(collection, &slug, step, &expected)
                    .await,
            )
        })
    })
    .description(step.description())
    .argument(slug_input())
    .argument(version_input())
}

/// `restore{Type}Revision`: a revision written back as a new version.
fn restore_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let (slug, expected) = (slug_arg(&ctx)?, expected_version(&ctx)?);
            let number = ctx.args.try_get("number")?.i64()?;
            written(
                editor(data)
                    .restore(collection, &slug, number, &expected)
                    .await,
            )
        })
    })
    .description("Writes a revision's document back as a new version.")
    .argument(slug_input())
    .argument(version_input())
    .argument(InputValue::new("number", TypeRef::named_nn(TypeRef::INT)))
}

/// `record{Type}Review`: a medical review of an item.
fn record_review_field(collection: Collection, name: &str, field_name: &str) -> Field {
    Field::new(field_name, TypeRef::named_nn(name), move |ctx| {
        FieldFuture::new(async move {
            let data = ctx.data::<RequestData>()?;
            let slug = slug_arg(&ctx)?;
            let mut review = Map::new();
            for (arg, key) in [
                ("reviewer", "reviewer"),
                ("reviewedAt", "reviewed_at"),
                ("note", "note"),
            ] {
                if let Some(value) = ctx.args.get(arg) {
                    review.insert(
                        key.into(),
                        value.as_value().clone().into_json().unwrap_or(Json::Null),
                    );
                }
            }
            written(editor(data).record_review(collection, &slug, review).await)
        })
    })
    .description(
        "Records a medical review: reviewer, date and next due date, kept in the item's \
         `reviews`. The content is unchanged; the version and `updatedAt` move.",
    )
    .argument(slug_input())
    .argument(InputValue::new("reviewer", TypeRef::named(TypeRef::STRING)))
    .argument(InputValue::new("reviewedAt", TypeRef::named("DateTime")))
    .argument(InputValue::new("note", TypeRef::named(TypeRef::STRING)))
}
