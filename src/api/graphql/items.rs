//! Object types of the content collections, generated from the content model: every
//! field of PRODUCT.md §1 and every relation in both directions, with descriptions.

use async_graphql::context::SelectionField;
use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::{Error, Value};

use super::RequestData;
use super::catalog::Catalog;
use super::errors::{gql_error, page_size};
use super::loader::{JsonLdKey, RelationKey, RenditionKey};
use super::references;
use super::values::{
    Item, camel, enum_type_name, enum_value, field_value, is_camel_of, relation_field_name,
    stored_value, type_name,
};
use crate::domain::docs::{collection_description, field_description, relation_description};
use crate::domain::evidence::Certainty;
use crate::domain::model::{COMMON_FIELDS, STATUSES};
use crate::domain::relations::{Relation, RelationKind, relations};
use crate::domain::rich_text::TextFormat;
use crate::domain::{Collection, FieldKind, PageSize};
use crate::service::item::FieldSet;

/// The GraphQL type of a model field.
fn field_type(collection: Collection, name: &str, kind: FieldKind, required: bool) -> TypeRef {
    let named = match kind {
        FieldKind::Text | FieldKind::Markdown(_) | FieldKind::Reference(_) => {
            TypeRef::STRING.to_owned()
        }
        FieldKind::Integer => TypeRef::INT.to_owned(),
        FieldKind::Enum(_) if name == "status" => "Status".to_owned(),
        FieldKind::Enum(_) => enum_type_name(collection, name),
        FieldKind::Timestamp => "DateTime".to_owned(),
        FieldKind::StringList => return TypeRef::named_nn_list_nn(TypeRef::STRING),
        FieldKind::Statistics => return TypeRef::named_nn_list_nn("Statistic"),
        FieldKind::Names { .. } => return TypeRef::named_nn_list_nn("PersonName"),
    };
    if name == "id" {
        return TypeRef::named_nn(TypeRef::ID);
    }
    if required {
        TypeRef::named_nn(named)
    } else {
        TypeRef::named(named)
    }
}

/// (name, kind, required) of the fields every item has.
fn common_fields() -> Vec<(&'static str, FieldKind, bool)> {
    COMMON_FIELDS
        .iter()
        .map(|&name| match name {
            "status" => (name, FieldKind::Enum(STATUSES), true),
            "published_at" => (name, FieldKind::Timestamp, false),
            "created_at" | "updated_at" => (name, FieldKind::Timestamp, true),
            "version" => (name, FieldKind::Integer, true),
            _ => (name, FieldKind::Text, true),
        })
        .collect()
}

/// Enum types of the collection's enumerated fields.
pub fn enums(collection: Collection) -> Vec<Enum> {
    collection
        .fields()
        .iter()
        .filter_map(|field| match field.kind {
            FieldKind::Enum(values) => Some(
                Enum::new(enum_type_name(collection, field.name))
                    .description(field_description(collection, field.name))
                    .items(values.iter().map(|v| enum_value(v))),
            ),
            _ => None,
        })
        .collect()
}

fn scalar_field(
    collection: Collection,
    name: &'static str,
    kind: FieldKind,
    required: bool,
) -> Field {
    Field::new(
        camel(name),
        field_type(collection, name, kind, required),
        move |ctx| {
            let value = ctx
                .parent_value
                .downcast_ref::<Item>()
                .map(|item| field_value(kind, item.object.get(name)));
            FieldFuture::from_value(value)
        },
    )
    .description(field_description(collection, name))
}

/// A Markdown field with its `format` argument. Renditions other than the stored Markdown
/// are read in batches (one statement per field and format of an execution step).
fn markdown_field(collection: Collection, name: &'static str) -> Field {
    Field::new(camel(name), TypeRef::named(TypeRef::STRING), move |ctx| {
        FieldFuture::new(async move {
            let item = ctx.parent_value.try_downcast_ref::<Item>()?;
            let format = match ctx.args.get("format") {
                Some(value) => TextFormat::parse(&value.enum_name()?.to_lowercase())
                    .map_err(|e| gql_error(&e))?,
                None => TextFormat::Markdown,
            };
            let stored = item.object.get(name).and_then(|v| v.as_str());
            let value = match (format, stored, item.id()) {
                (_, None, _) => None,
                (TextFormat::Markdown, Some(markdown), _) => Some(markdown.to_owned()),
                (_, Some(_), id) => {
                    let id = id.ok_or_else(|| Error::new("an item without an id"))?;
                    let key = RenditionKey {
                        collection,
                        field: name,
                        format,
                        id,
                    };
                    let data = ctx.data::<RequestData>()?;
                    data.loader.load_one(key).await.map_err(|e| gql_error(&e))?
                }
            };
            Ok(value.map(|v| FieldValue::value(Value::String(v))))
        })
    })
    .argument(
        InputValue::new("format", TypeRef::named_nn("TextFormat"))
            .default_value(Value::Enum(async_graphql::Name::new("MARKDOWN")))
            .description("The form to return (default: the stored Markdown)."),
    )
    .description(field_description(collection, name))
}

/// `jsonLd`: the item as schema.org JSON-LD, as REST serves it for
/// `Accept: application/ld+json`.
fn json_ld_field(collection: Collection) -> Field {
    Field::new("jsonLd", TypeRef::named_nn("JSON"), move |ctx| {
        FieldFuture::new(async move {
            let item = ctx.parent_value.try_downcast_ref::<Item>()?;
            let id = crate::service::item::item_id(&item.object)
                .ok_or_else(|| Error::new("an item without an id"))?;
            let data = ctx.data::<RequestData>()?;
            let key = JsonLdKey { collection, id };
            let found = data.loader.load_one(key).await.map_err(|e| gql_error(&e))?;
            let Some(found) = found else {
                return Ok(None);
            };
            let (document, tags) = found.as_ref();
            data.note_tags(tags);
            let document = document.clone();
            Ok(Some(FieldValue::value(Value::from_json(document)?)))
        })
    })
    .description(
        "The item as schema.org JSON-LD (the most specific type, with the related items it \
         shows), as REST answers `Accept: application/ld+json`.",
    )
}

/// The object type of a collection, and the `<Type>Link` edge type of links to it.
pub fn object_types(collection: Collection, catalog: &mut Catalog) -> Vec<Object> {
    let name = type_name(collection);
    let mut object = Object::new(&name)
        .description(collection_description(collection))
        .implement("Node");
    for (field, kind, required) in common_fields() {
        object = object.field(scalar_field(collection, field, kind, required));
    }
    for field in collection.fields() {
        if matches!(field.kind, FieldKind::Reference(_)) {
            continue; // exposed as the relation of the same name
        }
        if matches!(field.kind, FieldKind::Markdown(_)) {
            object = object.field(markdown_field(collection, field.name));
            continue;
        }
        object = object.field(scalar_field(
            collection,
            field.name,
            field.kind,
            field.required,
        ));
    }
    object = object
        .field(json_ld_field(collection))
        .field(super::syndication::item_field(collection));
    if collection == Collection::Citations {
        object = object.field(super::references::field());
    }
    if collection.reviewable() {
        object = object
            .field(super::reviews::status_field())
            .field(super::reviews::item_field(collection, catalog));
    }
    for relation in relations(collection) {
        object = object.field(relation_field(relation, false, catalog));
        if matches!(relation.kind, RelationKind::Link { .. }) {
            object = object.field(relation_field(relation, true, catalog));
        }
    }
    let target = name.clone();
    let link = Object::new(format!("{name}Link"))
        .description(format!(
            "A {} reached through a link, with the link's own data.",
            collection.singular()
        ))
        .field(
            Field::new("note", TypeRef::named(TypeRef::STRING), |ctx| {
                let note = ctx.parent_value.downcast_ref::<Item>().and_then(|item| {
                    item.object
                        .get("link")
                        .and_then(|link| link.get("note"))
                        .and_then(|note| note.as_str())
                        .map(|note| Value::String(note.to_owned()))
                });
                FieldFuture::from_value(note)
            })
            .description("Editorial note on the link, e.g. how the technique helps."),
        )
        .field(
            Field::new("node", TypeRef::named_nn(&target), |ctx| {
                FieldFuture::Value(
                    ctx.parent_value
                        .downcast_ref::<Item>()
                        .map(|item| FieldValue::borrowed_any(item)),
                )
            })
            .description("The linked item."),
        );
    catalog.add(&format!("{name}Link"), "node", &name, None);
    let claims = crate::domain::model::LINKS
        .iter()
        .any(|l| l.claim.is_some() && (l.left == collection || l.right == collection));
    let link = if claims {
        catalog.add(&format!("{name}Link"), "evidence", "Evidence", None);
        link.field(super::evidence::link_field())
    } else {
        link
    };
    vec![object, link]
}

/// `Technique.benefits(first)` (or `benefitsLinks` with `edges`), loaded in batches.
fn relation_field(relation: Relation, edges: bool, catalog: &mut Catalog) -> Field {
    let target = type_name(relation.to);
    let to_one = relation.is_to_one();
    let name = relation_field_name(relation, edges && !to_one);
    let (ty, element) = if to_one {
        (TypeRef::named(&target), target.clone())
    } else if edges {
        let link = format!("{target}Link");
        (TypeRef::named_nn_list_nn(&link), link)
    } else {
        (TypeRef::named_nn_list_nn(&target), target.clone())
    };
    let owner = type_name(relation.from);
    catalog.add(
        &owner,
        &name,
        &element,
        (!to_one).then_some(PageSize::RELATION_DEFAULT),
    );
    let mut field = Field::new(name, ty, move |ctx| {
        FieldFuture::new(async move { resolve_relation(&ctx, relation, edges).await })
    });
    field = if edges {
        field.description(format!(
            "{} Each entry carries the link's note.",
            relation_description(&relation)
        ))
    } else {
        field.description(relation_description(&relation))
    };
    if relation.makes_claims() {
        field = field.argument(
            InputValue::new("minCertainty", TypeRef::named("Certainty"))
                .description("Only the claims whose evidence is at least this certain."),
        );
    }
    if !to_one {
        field = field.argument(
            InputValue::new("first", TypeRef::named(TypeRef::INT))
                .default_value(Value::from(PageSize::RELATION_DEFAULT.get()))
                .description(format!("At most this many items (1 to {}).", PageSize::MAX)),
        );
    }
    field
}

async fn resolve_relation<'a>(
    ctx: &ResolverContext<'a>,
    relation: Relation,
    edges: bool,
) -> Result<Option<FieldValue<'a>>, Error> {
    let item = ctx.parent_value.try_downcast_ref::<Item>()?;
    let data = ctx.data::<RequestData>()?;
    let first = if relation.is_to_one() {
        1
    } else {
        page_size(&ctx.args, PageSize::RELATION_DEFAULT)?.get()
    };
    let Some(parent) = item.id() else {
        return Ok(None);
    };
    let min_certainty = match ctx.args.get("minCertainty") {
        Some(value) if !value.is_null() => {
            let name = value.enum_name()?;
            Some(Certainty::parse(&stored_value(name)).ok_or("unknown certainty")?)
        }
        _ => None,
    };
    let key = RelationKey {
        from: relation.from,
        relation: relation.name,
        first,
        parent,
        fields: selected_fields(ctx.field(), relation.to, edges),
        min_certainty,
    };
    let children = match data.prefetched.get(&key) {
        Some(children) => children,
        None => data
            .loader
            .load_one(key)
            .await
            .map_err(|e| gql_error(&e))?
            .unwrap_or_default(),
    };
    let to = relation.to;
    data.note_items(to, children.iter().map(|c| &**c));
    let wrap = |object: &std::sync::Arc<_>| {
        FieldValue::owned_any(Item {
            collection: to,
            object: std::sync::Arc::clone(object),
        })
    };
    if relation.is_to_one() {
        return Ok(children.first().map(wrap));
    }
    Ok(Some(FieldValue::list(children.iter().map(wrap))))
}

/// The fields of `collection` that the relation field's selection (through `node` for
/// link entries, and through fragments) shows.
pub(super) fn selected_fields(
    field: SelectionField<'_>,
    collection: Collection,
    edges: bool,
) -> FieldSet {
    let mut shown = Vec::new();
    // Where `formatted(style:)` may be asked: on the items, or (link entries) on the
    // citations behind a claim, which the link rows read.
    let mut cited = Vec::new();
    for child in field.selection_set() {
        if !edges {
            shown.push(child);
        } else if child.name() == "node" {
            shown.extend(child.selection_set());
        } else if child.name() == "evidence" {
            for citations in child.selection_set().filter(|f| f.name() == "citations") {
                cited.extend(citations.selection_set());
            }
        }
    }
    let names: Vec<&str> = shown.iter().map(|f| f.name()).collect();
    // An item's terms depend on its own canonical page.
    let terms = names.contains(&"syndication");
    // The first style asked for is read with the citation; any other, by its loader.
    let style = shown
        .iter()
        .chain(&cited)
        .filter(|f| f.name() == "formatted")
        .find_map(|f| references::style_argument(*f));
    FieldSet::matching(collection, |field| {
        names.iter().any(|name| is_camel_of(name, field)) || (terms && field == "canonical_url")
    })
    .in_style(style)
}
