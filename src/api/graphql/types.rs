//! Shared GraphQL types: connections and edges, page info, search hits, `Node`, scalars
//! and enums that are not tied to one collection.

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, Interface, InterfaceField, Object, Scalar, TypeRef, Union,
};

use super::catalog::Catalog;
use super::root::{ConnectionPage, Edge, SearchPage};
use super::values::{Item, type_name};
use crate::domain::Collection;
use crate::domain::model::STATUSES;
use crate::domain::rich_text::TextFormat;

pub fn scalars() -> Vec<Scalar> {
    vec![
        Scalar::new("DateTime")
            .description("An RFC 3339 timestamp in UTC, e.g. `2026-03-01T09:30:00Z`.")
            .specified_by_url("https://datatracker.ietf.org/doc/html/rfc3339"),
        Scalar::new("JSON")
            .description("A JSON value (here: a schema.org JSON-LD document).")
            .specified_by_url("https://www.rfc-editor.org/rfc/rfc8259"),
    ]
}

pub fn enums() -> Vec<Enum> {
    vec![
        Enum::new("Status")
            .description("Editorial status of an item.")
            .items(STATUSES.iter().map(|s| s.to_uppercase())),
        Enum::new("TextFormat")
            .description(
                "The form of a Markdown field: `MARKDOWN` as stored, `HTML` rendered and \
                 sanitised (no script, event handler or `javascript:` URL; links \
                 `rel=\"noopener noreferrer nofollow\"`; images over https only), `TEXT` plain \
                 text for previews.",
            )
            .items(TextFormat::NAMES.iter().map(|s| s.to_uppercase())),
        Enum::new("ContentType")
            .description("The type of a content item.")
            .items(Collection::ALL.iter().map(|c| c.singular().to_uppercase())),
    ]
}

pub fn node_interface() -> Interface {
    Interface::new("Node")
        .description("An item with a globally unique id, fetchable with `node(id:)`.")
        .field(
            InterfaceField::new("id", TypeRef::named_nn(TypeRef::ID))
                .description("Stable identifier (a UUID, unique across every collection)."),
        )
}

/// A field read from the parent when the parent is a plain GraphQL object value.
pub(super) fn value_field(name: &'static str, ty: TypeRef, description: &'static str) -> Field {
    Field::new(name, ty, move |ctx| {
        let value = ctx.parent_value.as_value().and_then(|v| match v {
            Value::Object(map) => map.get(name).cloned(),
            _ => None,
        });
        FieldFuture::from_value(value)
    })
    .description(description)
}

/// `{family, given, literal}`: a citation's author.
pub fn person_name() -> Object {
    Object::new("PersonName")
        .description("A person (family, and given when known) or a body (literal alone).")
        .field(value_field(
            "family",
            TypeRef::named(TypeRef::STRING),
            "Family name.",
        ))
        .field(value_field(
            "given",
            TypeRef::named(TypeRef::STRING),
            "Given names or initials.",
        ))
        .field(value_field(
            "literal",
            TypeRef::named(TypeRef::STRING),
            "A body's name (a working group, an organisation), whole.",
        ))
}

/// `{label, value, unit, year, citation}` of a condition.
pub fn statistic() -> Object {
    let field = value_field;
    Object::new("Statistic")
        .description("A figure about a condition, backed by a citation.")
        .field(field(
            "label",
            TypeRef::named_nn(TypeRef::STRING),
            "What is measured.",
        ))
        .field(field(
            "value",
            TypeRef::named_nn(TypeRef::FLOAT),
            "The figure.",
        ))
        .field(field(
            "unit",
            TypeRef::named(TypeRef::STRING),
            "Unit, e.g. \"%\".",
        ))
        .field(field(
            "year",
            TypeRef::named(TypeRef::INT),
            "Year the figure refers to.",
        ))
        .field(field(
            "citation",
            TypeRef::named(TypeRef::STRING),
            "Slug of the citation backing the figure.",
        ))
}

pub fn page_info() -> Object {
    let field = value_field;
    Object::new("PageInfo")
        .description("Where a page sits in its list (Relay cursor connections).")
        .field(field(
            "hasNextPage",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            "More items follow.",
        ))
        .field(field(
            "hasPreviousPage",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            "True when this page was asked for with `after`.",
        ))
        .field(field(
            "startCursor",
            TypeRef::named(TypeRef::STRING),
            "Cursor of the first item.",
        ))
        .field(field(
            "endCursor",
            TypeRef::named(TypeRef::STRING),
            "Cursor of the last item: pass it as `after` for the next page.",
        ))
}

fn page_info_value(
    has_next: bool,
    has_previous: bool,
    start: Option<&str>,
    end: Option<&str>,
) -> FieldValue<'static> {
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let mut map = async_graphql::indexmap::IndexMap::new();
    map.insert(
        async_graphql::Name::new("hasNextPage"),
        Value::Boolean(has_next),
    );
    map.insert(
        async_graphql::Name::new("hasPreviousPage"),
        Value::Boolean(has_previous),
    );
    map.insert(async_graphql::Name::new("startCursor"), text(start));
    map.insert(async_graphql::Name::new("endCursor"), text(end));
    FieldValue::value(Value::Object(map))
}

/// `<Type>Connection` and `<Type>Edge` of a collection.
pub fn connection_types(collection: Collection, catalog: &mut Catalog) -> Vec<Object> {
    let name = type_name(collection);
    let connection = format!("{name}Connection");
    let edge = format!("{name}Edge");
    catalog.add(&connection, "edges", &edge, None);
    catalog.add(&connection, "nodes", &name, None);
    catalog.add(&connection, "pageInfo", "PageInfo", None);
    catalog.add(&edge, "node", &name, None);
    vec![
        Object::new(&connection)
            .description(format!("A page of {}.", collection.as_str()))
            .field(
                Field::new("edges", TypeRef::named_nn_list_nn(&edge), |ctx| {
                    let page = ctx.parent_value.downcast_ref::<ConnectionPage>();
                    FieldFuture::Value(page.map(|p| {
                        FieldValue::list(p.edges.iter().map(|e| FieldValue::borrowed_any(e)))
                    }))
                })
                .description("The items of the page with their cursors."),
            )
            .field(
                Field::new("nodes", TypeRef::named_nn_list_nn(&name), |ctx| {
                    let page = ctx.parent_value.downcast_ref::<ConnectionPage>();
                    FieldFuture::Value(page.map(|p| {
                        FieldValue::list(p.edges.iter().map(|e| FieldValue::borrowed_any(&e.item)))
                    }))
                })
                .description("The items of the page, without cursors."),
            )
            .field(
                Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |ctx| {
                    let page = ctx.parent_value.downcast_ref::<ConnectionPage>();
                    FieldFuture::Value(page.map(|p| {
                        let start = p.edges.first().and_then(|e| e.cursor.as_deref());
                        let end = p
                            .edges
                            .last()
                            .and_then(|e| e.cursor.as_deref())
                            .or(p.next_cursor.as_deref());
                        page_info_value(p.has_next, p.has_previous, start, end)
                    }))
                })
                .description("Pagination state."),
            )
            .field(
                Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), |ctx| {
                    let page = ctx.parent_value.downcast_ref::<ConnectionPage>();
                    FieldFuture::from_value(page.and_then(|p| p.total).map(Value::from))
                })
                .description(
                    "Items matching the filters, over all pages (counted only when asked for).",
                ),
            ),
        Object::new(&edge)
            .description(format!(
                "A {} in a page, with its cursor.",
                collection.singular()
            ))
            .field(
                Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), |ctx| {
                    let edge = ctx.parent_value.downcast_ref::<Edge>();
                    FieldFuture::from_value(edge.and_then(|e| e.cursor.clone()).map(Value::String))
                })
                .description("Opaque cursor: pass it as `after` to continue after this item."),
            )
            .field(
                Field::new("node", TypeRef::named_nn(&name), |ctx| {
                    let edge = ctx.parent_value.downcast_ref::<Edge>();
                    FieldFuture::Value(edge.map(|e| FieldValue::borrowed_any(&e.item)))
                })
                .description("The item."),
            ),
    ]
}

/// `SearchResults`, `SearchHit` and the `SearchResult` union.
pub fn search_types(catalog: &mut Catalog) -> (Vec<Object>, Union) {
    let mut union = Union::new("SearchResult").description("Any content item.");
    for collection in Collection::ALL {
        union = union.possible_type(type_name(collection));
    }
    catalog.add("SearchResults", "hits", "SearchHit", None);
    catalog.add("SearchResults", "pageInfo", "PageInfo", None);
    catalog.add("SearchHit", "item", "SearchResult", None);
    let results =
        Object::new("SearchResults")
            .description("A page of search hits, best first.")
            .field(
                Field::new("hits", TypeRef::named_nn_list_nn("SearchHit"), |ctx| {
                    let page = ctx.parent_value.downcast_ref::<SearchPage>();
                    FieldFuture::Value(page.map(|p| {
                        FieldValue::list(p.hits.iter().map(|h| FieldValue::borrowed_any(h)))
                    }))
                })
                .description("The hits."),
            )
            .field(
                Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |ctx| {
                    let page = ctx.parent_value.downcast_ref::<SearchPage>();
                    FieldFuture::Value(page.map(|p| {
                        page_info_value(
                            p.next_cursor.is_some(),
                            p.has_previous,
                            None,
                            p.next_cursor.as_deref(),
                        )
                    }))
                })
                .description("Pagination state; `endCursor` continues after the last hit."),
            );
    let hit = Object::new("SearchHit")
        .description("One search hit.")
        .field(
            Field::new("score", TypeRef::named_nn(TypeRef::FLOAT), |ctx| {
                let hit = ctx.parent_value.downcast_ref::<(f64, Item)>();
                FieldFuture::from_value(hit.map(|(score, _)| Value::from(*score)))
            })
            .description("Relevance; higher is better."),
        )
        .field(
            Field::new("type", TypeRef::named_nn("ContentType"), |ctx| {
                let hit = ctx.parent_value.downcast_ref::<(f64, Item)>();
                FieldFuture::from_value(hit.map(|(_, item)| {
                    Value::Enum(async_graphql::Name::new(
                        item.collection.singular().to_uppercase(),
                    ))
                }))
            })
            .description("The type of the item."),
        )
        .field(
            Field::new("item", TypeRef::named_nn("SearchResult"), |ctx| {
                let hit = ctx.parent_value.downcast_ref::<(f64, Item)>();
                FieldFuture::Value(hit.map(|(_, item)| {
                    FieldValue::borrowed_any(item).with_type(type_name(item.collection))
                }))
            })
            .description("The item found."),
        );
    (vec![results, hit], union)
}
