//! The `Query` root: item lookups, filtered and sorted connections, search and `node`,
//! all on the service layer REST uses (same parsing, visibility and pagination).

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, TypeRef,
};
use async_graphql::{Error, Value};
use uuid::Uuid;

use super::catalog::Catalog;
use super::errors::{coded, gql_error, page_size};
use super::values::{Item, camel, enum_type_name, stored_value, type_name};
use super::{RequestData, prefetch};
use crate::domain::filters::{FilterInput, FilterKind, FilterValue, filter_params};
use crate::domain::gtin::Gtin;
use crate::domain::listing::{
    ItemParams, ListParams, SearchParams, SearchTerms, sort_fields, sort_keys,
};
use crate::domain::rich_text::TextFormat;
use crate::domain::{Collection, PageSize, bad};
use crate::error::{AppError, codes};
use crate::service::content::{self, ItemKey};
use crate::service::{listing, search};

/// One page of a connection as resolvers see it.
pub struct ConnectionPage {
    pub edges: Vec<Edge>,
    pub has_next: bool,
    pub has_previous: bool,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
}

pub struct Edge {
    pub cursor: Option<String>,
    pub item: Item,
}

pub struct SearchPage {
    pub hits: Vec<(f64, Item)>,
    pub has_previous: bool,
    pub next_cursor: Option<String>,
}

pub fn query(catalog: &mut Catalog) -> Object {
    let mut query = Object::new("Query")
        .description("Published health content (drafts too for keys with the preview scope).");
    for collection in Collection::ALL {
        let name = type_name(collection);
        query =
            query.field(
                Field::new(collection.singular(), TypeRef::named(&name), move |ctx| {
                    FieldFuture::new(async move {
                        let slug = ctx.args.try_get("slug")?.string()?.to_owned();
                        // Tagged even when nothing is found: publishing it must reach this answer
                        // (a slug that cannot exist has no answer to reach, and no tag).
                        if ItemKey::Slug(&slug).can_exist() {
                            ctx.data::<RequestData>()?.note_tags(&[
                                crate::service::cache::item_tag(collection.singular(), &slug),
                            ]);
                        }
                        lookup(&ctx, collection, ItemKey::Slug(&slug)).await
                    })
                })
                .description(format!(
                    "The {} with this slug; null when there is none the caller may see.",
                    collection.singular()
                ))
                .argument(InputValue::new("slug", TypeRef::named_nn(TypeRef::STRING))),
            );
        catalog.add("Query", collection.singular(), &name, None);
        query = query.field(connection_field(collection));
        catalog.add(
            "Query",
            &camel(collection.as_str()),
            &format!("{name}Connection"),
            Some(PageSize::DEFAULT),
        );
    }
    query = query.field(
        Field::new("productBySku", TypeRef::named("Product"), |ctx| {
            FieldFuture::new(async move {
                let sku = ctx.args.try_get("sku")?.string()?.to_owned();
                ctx.data::<RequestData>()?
                    .note_tags(&[crate::service::cache::list_tag(
                        Collection::Products.as_str(),
                    )]);
                lookup(&ctx, Collection::Products, ItemKey::Sku(&sku)).await
            })
        })
        .description(
            "The product with this SKU: the call a storefront makes from its product page.",
        )
        .argument(InputValue::new("sku", TypeRef::named_nn(TypeRef::STRING))),
    );
    catalog.add("Query", "productBySku", "Product", None);
    query = query.field(
        Field::new("productByGtin", TypeRef::named("Product"), |ctx| {
            FieldFuture::new(async move {
                let given = ctx.args.try_get("gtin")?.string()?;
                let gtin = Gtin::parse(given).map_err(|e| gql_error(&bad("gtin", e)))?;
                ctx.data::<RequestData>()?
                    .note_tags(&[crate::service::cache::list_tag(
                        Collection::Products.as_str(),
                    )]);
                lookup(&ctx, Collection::Products, ItemKey::Gtin(gtin.padded())).await
            })
        })
        .description(
            "The product with this GTIN (retail barcode), given as GTIN-8, -12, -13 or -14: \
             the forms of one number find the same product.",
        )
        .argument(InputValue::new("gtin", TypeRef::named_nn(TypeRef::STRING))),
    );
    catalog.add("Query", "productByGtin", "Product", None);
    query = query.field(super::syndication::query_field());
    query = query.field(super::keys::query_field(catalog));
    for field in super::webhooks::query_fields(catalog)
        .into_iter()
        .chain(super::history::query_fields(catalog))
        .chain(super::drafts::query_fields(catalog))
    {
        query = query.field(field);
    }
    catalog.add("Query", "syndicationTerms", "SyndicationTerms", None);
    query = query.field(search_field());
    catalog.add("Query", "search", "SearchResults", Some(PageSize::DEFAULT));
    query = query.field(
        Field::new("node", TypeRef::named("Node"), |ctx| {
            FieldFuture::new(async move { node(&ctx).await })
        })
        .description("Any item by its id (ids are unique across collections).")
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
    );
    catalog.add("Query", "node", "Node", None);
    query
}

async fn lookup<'a>(
    ctx: &ResolverContext<'a>,
    collection: Collection,
    key: ItemKey<'_>,
) -> Result<Option<FieldValue<'a>>, Error> {
    let data = ctx.data::<RequestData>()?;
    let (column, value) = key.column();
    if key.can_exist()
        && let Some(found) =
            prefetch::item_with_relations(data, ctx.field(), collection, column, value).await
    {
        let object = found.map_err(|e| gql_error(&e))?;
        return Ok(object.map(|object| {
            data.note_items(collection, [&object]);
            FieldValue::owned_any(Item::new(collection, object))
        }));
    }
    match content::get_item(
        &data.state.db,
        data.visibility,
        collection,
        key,
        &ItemParams::default(),
    )
    .await
    {
        Ok(object) => {
            data.note_items(collection, [&object]);
            Ok(Some(FieldValue::owned_any(Item::new(collection, object))))
        }
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(gql_error(&e)),
    }
}

async fn node<'a>(ctx: &ResolverContext<'a>) -> Result<Option<FieldValue<'a>>, Error> {
    let data = ctx.data::<RequestData>()?;
    let text = ctx.args.try_get("id")?.string()?;
    let id = Uuid::parse_str(text).map_err(|_| {
        coded(
            &codes::INVALID_PARAMETER,
            format!("id: {text:?} is not a valid id"),
        )
    })?;
    let found = content::find_by_id(&data.state.db, data.visibility, id)
        .await
        .map_err(|e| gql_error(&e))?;
    if found.is_none() {
        let lists: Vec<String> = Collection::ALL
            .iter()
            .map(|c| crate::service::cache::list_tag(c.as_str()))
            .collect();
        data.note_tags(&lists);
    }
    Ok(found.map(|(collection, object)| {
        data.note_items(collection, [&object]);
        FieldValue::owned_any(Item::new(collection, object)).with_type(type_name(collection))
    }))
}

fn connection_field(collection: Collection) -> Field {
    let name = type_name(collection);
    let field = Field::new(
        camel(collection.as_str()),
        TypeRef::named_nn(format!("{name}Connection")),
        move |ctx| FieldFuture::new(async move { list(&ctx, collection).await }),
    )
    .description(format!(
        "A page of {}: filtered, sorted (stable, ties broken by id), searchable with `q`.",
        collection.as_str()
    ));
    page_arguments(field)
    .argument(InputValue::new("filter", TypeRef::named(format!("{name}Filter"))))
    .argument(
        InputValue::new("sort", TypeRef::named_nn_list(format!("{name}Sort")))
            .description("Sort keys in order (at most 3). Default: by name or title; by relevance with `q`."),
    )
    .argument(
        InputValue::new("q", TypeRef::named(TypeRef::STRING)).description(
            "Full-text search with stemming; `word*` matches prefixes. Ranked by relevance unless `sort` is given.",
        ),
    )
}

/// The filter input of a collection: the REST filters under camelCase names.
pub fn filter_input(collection: Collection) -> InputObject {
    let mut input =
        InputObject::new(format!("{}Filter", type_name(collection))).description(format!(
            "Filters of {}; all given conditions must hold.",
            collection.as_str()
        ));
    for param in filter_params(collection) {
        let (ty, description) = match &param.kind {
            FilterKind::OneOf { column, .. } => {
                let enum_name = if *column == "status" {
                    "Status".to_owned()
                } else {
                    enum_type_name(collection, column)
                };
                (
                    TypeRef::named_nn_list(enum_name),
                    "Any of these values.".to_owned(),
                )
            }
            FilterKind::Text { .. } => (
                TypeRef::named_nn_list(TypeRef::STRING),
                "Any of these exact values.".to_owned(),
            ),
            FilterKind::Exactly { .. } => (TypeRef::named(TypeRef::INT), "Exactly.".to_owned()),
            FilterKind::AtLeast { .. } => (TypeRef::named(TypeRef::INT), "At least.".to_owned()),
            FilterKind::AtMost { .. } => (TypeRef::named(TypeRef::INT), "At most.".to_owned()),
            FilterKind::Related(relation) => (
                TypeRef::named(TypeRef::STRING),
                format!("Linked to the {} with this slug.", relation.to.singular()),
            ),
            FilterKind::ReviewOverdue { .. } => (
                TypeRef::named(TypeRef::STRING),
                "`overdue`: the next medical review date has passed.".to_owned(),
            ),
            FilterKind::DueWithin { .. } => (
                TypeRef::named(TypeRef::STRING),
                "A number of days such as `30d`: the next medical review is due within it \
                 (overdue included)."
                    .to_owned(),
            ),
        };
        input = input.field(InputValue::new(camel(&param.name), ty).description(description));
    }
    input
}

/// `NAME_ASC`, `NAME_DESC`, … for each sortable field.
pub fn sort_enum(collection: Collection) -> Enum {
    let mut sort = Enum::new(format!("{}Sort", type_name(collection)))
        .description(format!("Sort keys of {}.", collection.as_str()));
    for field in sort_fields(collection) {
        let upper = field.name.to_uppercase();
        sort = sort
            .item(format!("{upper}_ASC"))
            .item(format!("{upper}_DESC"));
    }
    sort
}

/// A list field's arguments as the typed parameters REST reads from its query string (the
/// same rules check both).
fn list_params(ctx: &ResolverContext<'_>, collection: Collection) -> Result<ListParams, Error> {
    let invalid = |e: AppError| gql_error(&e);
    let mut params = ListParams::new(collection);
    params.limit = page_size(&ctx.args, PageSize::DEFAULT)?;
    if let Some(after) = ctx.args.get("after").filter(|v| !v.is_null()) {
        params.cursor = Some(after.string()?.to_owned());
    }
    let mut names = Vec::new();
    if let Some(sort) = ctx.args.get("sort").filter(|v| !v.is_null()) {
        for key in sort.list()?.iter() {
            let name = key.enum_name()?;
            let (field, dir) = name.rsplit_once('_').unwrap_or((name, "ASC"));
            names.push((field.to_lowercase(), dir == "DESC"));
        }
    }
    // An empty list sorts as no list: by relevance when searching.
    let explicit_sort = !names.is_empty();
    if explicit_sort {
        let keys: Vec<(&str, bool)> = names.iter().map(|(f, d)| (f.as_str(), *d)).collect();
        params.sort = sort_keys(collection, &keys).map_err(invalid)?;
    }
    if let Some(q) = ctx.args.get("q").filter(|v| !v.is_null()) {
        let terms = SearchTerms::parse(q.string()?).map_err(invalid)?;
        params.search(terms, explicit_sort);
    }
    let Some(filter) = ctx.args.get("filter").filter(|v| !v.is_null()) else {
        return Ok(params);
    };
    let filter = filter.object()?;
    for param in filter_params(collection) {
        let Some(value) = filter.get(&camel(&param.name)).filter(|v| !v.is_null()) else {
            continue;
        };
        let filters = match param.kind.input() {
            FilterInput::List => {
                let mut values = Vec::new();
                for v in value.list()?.iter() {
                    values.push(match param.kind {
                        FilterKind::OneOf { .. } => stored_value(v.enum_name()?),
                        _ => v.string()?.to_owned(),
                    });
                }
                param.filters(FilterValue::List(
                    values.iter().map(String::as_str).collect(),
                ))
            }
            FilterInput::Integer => param.filters(FilterValue::Integer(value.i64()?)),
            FilterInput::Text => param.filters(FilterValue::Text(value.string()?)),
        };
        params.filters.extend(filters.map_err(invalid)?);
    }
    Ok(params)
}

async fn list<'a>(
    ctx: &ResolverContext<'a>,
    collection: Collection,
) -> Result<Option<FieldValue<'a>>, Error> {
    let data = ctx.data::<RequestData>()?;
    let mut params = list_params(ctx, collection)?;
    let look = ctx.look_ahead();
    params.count = look.field("totalCount").exists();
    params.edge_cursors = look.field("edges").field("cursor").exists()
        || look.field("pageInfo").field("startCursor").exists()
        || look.field("pageInfo").field("endCursor").exists();
    let page = listing::list(
        &data.state.db,
        &data.state.cursors,
        data.visibility,
        collection,
        &params,
    )
    .await
    .map_err(|e| gql_error(&e))?;
    data.note_tags(&page.tags);
    let mut cursors = page.cursors.into_iter();
    let edges = page
        .items
        .into_iter()
        .map(|object| Edge {
            cursor: cursors.next(),
            item: Item::new(collection, object),
        })
        .collect();
    Ok(Some(FieldValue::owned_any(ConnectionPage {
        edges,
        has_next: page.next_cursor.is_some(),
        has_previous: params.cursor.is_some(),
        next_cursor: page.next_cursor,
        total: page.total,
    })))
}

fn search_field() -> Field {
    let field = Field::new("search", TypeRef::named_nn("SearchResults"), |ctx| {
        FieldFuture::new(async move { run_search(&ctx).await })
    })
    .description(
        "Full-text search across collections, best first; each hit says its type and score.",
    )
    .argument(
        InputValue::new("q", TypeRef::named_nn(TypeRef::STRING))
            .description("Words to find (stemmed); `word*` matches prefixes."),
    )
    .argument(
        InputValue::new("types", TypeRef::named_nn_list("ContentType"))
            .description("Only these types (default: every searchable type)."),
    );
    page_arguments(field)
}

/// `first` and `after` of a paginated field.
fn page_arguments(field: Field) -> Field {
    field
        .argument(
            InputValue::new("first", TypeRef::named(TypeRef::INT))
                .default_value(Value::from(PageSize::DEFAULT.get()))
                .description("Page size, 1 to 100."),
        )
        .argument(
            InputValue::new("after", TypeRef::named(TypeRef::STRING))
                .description("The `endCursor` of the previous page."),
        )
}

async fn run_search<'a>(ctx: &ResolverContext<'a>) -> Result<Option<FieldValue<'a>>, Error> {
    let data = ctx.data::<RequestData>()?;
    let q = ctx.args.try_get("q")?.string()?;
    let terms = SearchTerms::parse(q).map_err(|e| gql_error(&e))?;
    let mut requested = Vec::new();
    if let Some(given) = ctx.args.get("types").filter(|v| !v.is_null()) {
        for name in given.list()?.iter() {
            let name = name.enum_name()?.to_lowercase();
            let collection = Collection::ALL
                .into_iter()
                .find(|c| c.singular() == name)
                .ok_or_else(|| search::not_searchable(&name))
                .map_err(|e| gql_error(&e))?;
            requested.push(collection);
        }
    }
    let types = search::search_types(&requested).map_err(|e| gql_error(&e))?;
    let first = page_size(&ctx.args, PageSize::DEFAULT)?;
    let after = ctx
        .args
        .get("after")
        .filter(|v| !v.is_null())
        .map(|v| v.string().map(str::to_owned))
        .transpose()?;
    let params = SearchParams {
        terms,
        types,
        limit: first,
        cursor: after,
        format: TextFormat::Markdown,
        // The `syndication` field resolves them when asked.
        syndication: None,
        style: None,
    };
    let page = search::search(
        &data.state.db,
        &data.state.cursors,
        data.visibility,
        &params,
    )
    .await
    .map_err(|e| gql_error(&e))?;
    data.note_tags(&page.tags);
    Ok(Some(FieldValue::owned_any(SearchPage {
        hits: page
            .hits
            .into_iter()
            .map(|hit| (hit.score, Item::new(hit.collection, hit.item)))
            .collect(),
        has_previous: params.cursor.is_some(),
        next_cursor: page.next_cursor,
    })))
}
