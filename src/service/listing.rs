//! List queries: filters, full-text search, keyset pagination over any whitelisted sort,
//! counts and includes — for every collection, shared by REST and GraphQL.

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult};
use serde_json::Value as Json;

use crate::domain::Collection;
use crate::domain::cursor::{Cursor, CursorCodec};
use crate::domain::filters::Filter;
use crate::domain::listing::{ListParams, SortKey, SortValue};
use crate::error::{AppError, Result};
use crate::service::Visibility;
use crate::service::content::retain_fields;
use crate::service::fulltext::SearchSql;
use crate::service::item::{ItemObject, ItemSelect, item_id};
use crate::service::keyset::{self, KeyKind, OrderKey};
use crate::service::sql::SqlBuilder;
use crate::service::syndication;
use crate::service::{include, references_store};

mod conditions;

use conditions::{Columns, push_conditions};

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<ItemObject>,
    pub next_cursor: Option<String>,
    pub limit: u32,
    pub total: Option<i64>,
    /// The cursor after each item, when `edge_cursors` was asked for.
    pub cursors: Vec<String>,
    /// Cache tags: the items shown, the items filtered by, and the collection's lists.
    pub tags: Vec<String>,
}

/// A key rows are ordered by (a sort field, or the search relevance) and where its value
/// is read from a result row.
#[derive(Debug, Clone)]
struct ListKey {
    order: OrderKey,
    output: KeyOutput,
}

#[derive(Debug, Clone, Copy)]
enum KeyOutput {
    Field(&'static str),
    Relevance,
}

const RELEVANCE: &str = "relevance";

pub async fn list(
    db: &DatabaseConnection,
    codec: &CursorCodec,
    visibility: Visibility,
    collection: Collection,
    params: &ListParams,
) -> Result<Page> {
    let backend = db.get_database_backend();
    let search = match &params.search {
        Some(terms) => Some(SearchSql::for_reader(db, visibility, collection, terms).await?),
        None => None,
    };
    let fingerprint = fingerprint(collection, visibility, params);
    let cursor = decode_cursor(codec, &fingerprint, params)?;
    let select = syndication::read_with(
        ItemSelect::formatted(collection, visibility, backend, params.format, params.style),
        params.syndication.as_ref(),
    );
    let columns = Columns::new(collection, visibility, backend);
    let mut sql = SqlBuilder::new(backend);
    let alias = match &search {
        // Searches rank in a subquery, so keyset conditions can name the score. It
        // carries only the ids and sort keys of the matches (hundreds for a common
        // word); the page's rows are read after the LIMIT.
        Some(search) => {
            let mut keys = vec!["t.id".to_owned()];
            for key in &params.sort {
                let column = key.field.column;
                keys.push(format!("{} AS {column}", columns.expr(column)));
            }
            sql.push(&format!(
                "SELECT {}, hits.{RELEVANCE} FROM (SELECT * FROM (SELECT {}, ",
                select.columns,
                keys.join(", "),
            ));
            search.push_score(&mut sql);
            sql.push(&format!(" AS {RELEVANCE} FROM "));
            search.push_scored_from(&mut sql);
            sql.push(columns.join());
            push_conditions(&mut sql, columns, params, Some(search));
            sql.push(") hits WHERE 1 = 1");
            "hits"
        }
        None => {
            sql.push(&format!(
                "SELECT {} FROM {} t{}",
                select.columns,
                collection.table(),
                select.joins
            ));
            push_conditions(&mut sql, columns, params, None);
            "t"
        }
    };
    let keys = order_keys(&params.sort, search.is_some(), alias, columns);
    let orders: Vec<OrderKey> = keys.iter().map(|k| k.order.clone()).collect();
    let id_expr = format!("{alias}.id");
    if let Some(cursor) = &cursor {
        sql.push(" AND ");
        keyset::push_after(&mut sql, &orders, &cursor.keys, cursor.id, &id_expr)?;
    }
    let order = keyset::order_by(&orders, &id_expr);
    sql.push(&format!(
        " ORDER BY {order} LIMIT {}",
        params.limit.get() + 1
    ));
    if search.is_some() {
        sql.push(&format!(
            ") hits JOIN {} t ON t.id = hits.id{} ORDER BY {order}",
            collection.table(),
            select.joins
        ));
    }

    let rows = db.query_all_raw(sql.build()).await?;
    let has_more = rows.len() > params.limit.get() as usize;
    let rows = &rows[..rows.len().min(params.limit.get() as usize)];
    let mut items = rows
        .iter()
        .map(|row| select.object(row, true))
        .collect::<Result<Vec<_>>>()?;
    let cursor_after = |row: &QueryResult, item: &ItemObject| -> Result<String> {
        Ok(codec.encode(&Cursor {
            keys: keys
                .iter()
                .map(|k| key_value(k, row, item))
                .collect::<Result<_>>()?,
            id: item_id(item).ok_or_else(|| AppError::internal_msg("item without id".into()))?,
            query: fingerprint.clone(),
        }))
    };
    let cursors = if params.edge_cursors {
        rows.iter()
            .zip(&items)
            .map(|(row, item)| cursor_after(row, item))
            .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let next_cursor = match (has_more, rows.last(), items.last()) {
        (true, Some(row), Some(item)) => Some(cursor_after(row, item)?),
        _ => None,
    };
    let total = if params.count {
        Some(count(db, collection, visibility, params, search.as_ref()).await?)
    } else {
        None
    };
    let rendering = include::Rendering {
        format: params.format,
        style: params.style,
    };
    include::load(db, visibility, rendering, &params.include, &mut items).await?;
    let tags = page_tags(collection, params, &items);
    if let Some(style) = params.style {
        references_store::attach(db, style, collection, &mut items, &params.include).await?;
    }
    for item in &mut items {
        retain_fields(item, params.fields.as_deref(), &params.include);
    }
    Ok(Page {
        tags,
        items,
        next_cursor,
        limit: params.limit.get(),
        total,
        cursors,
    })
}

/// The request's cursor, checked against the query it was made for.
fn decode_cursor(
    codec: &CursorCodec,
    fingerprint: &str,
    params: &ListParams,
) -> Result<Option<Cursor>> {
    // Its keys are checked against the sort where they are bound (`keyset::push_after`).
    params
        .cursor
        .as_deref()
        .map(|text| codec.decode(text, fingerprint))
        .transpose()
        .map_err(|e| AppError::invalid_parameter(format!("cursor: {e}")))
}

/// Cache tags of a page: the collection's list, every item shown, and the items named
/// by relation filters.
fn page_tags(collection: Collection, params: &ListParams, items: &[ItemObject]) -> Vec<String> {
    let mut tags = std::collections::BTreeSet::new();
    if params.syndication.is_some() {
        tags.insert(syndication::TAG.to_owned());
    }
    tags.insert(crate::service::cache::list_tag(collection.as_str()));
    for filter in &params.filters {
        if let Filter::Related { relation, slug, .. } = filter {
            tags.insert(crate::service::cache::item_tag(
                relation.to.singular(),
                slug,
            ));
        }
    }
    crate::service::content::collect_tags(collection, items, &params.include, &mut tags);
    tags.into_iter().collect()
}

async fn count(
    db: &DatabaseConnection,
    collection: Collection,
    visibility: Visibility,
    params: &ListParams,
    search: Option<&SearchSql>,
) -> Result<i64> {
    let backend = db.get_database_backend();
    let columns = Columns::new(collection, visibility, backend);
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT COUNT(*) AS n FROM ");
    match search {
        Some(search) => search.push_from(&mut sql),
        None => {
            sql.push(&format!("{} t", collection.table()));
        }
    }
    sql.push(columns.join());
    push_conditions(&mut sql, columns, params, search);
    let row = db.query_one_raw(sql.build()).await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// The query a cursor belongs to: a cursor is only valid for the same collection,
/// visibility, filters, search and sort.
fn fingerprint(collection: Collection, visibility: Visibility, params: &ListParams) -> String {
    crate::domain::cursor::fingerprint(&format!(
        "{collection}|{visibility:?}|{:?}|{:?}|{:?}",
        params.filters, params.search, params.sort
    ))
}

fn order_keys(sort: &[SortKey], searching: bool, alias: &str, columns: Columns) -> Vec<ListKey> {
    if sort.is_empty() && searching {
        return vec![ListKey {
            order: OrderKey {
                expr: format!("{alias}.{RELEVANCE}"),
                descending: true,
                nullable: false,
                kind: KeyKind::Real,
            },
            output: KeyOutput::Relevance,
        }];
    }
    sort.iter()
        .map(|key| ListKey {
            order: OrderKey {
                expr: match searching {
                    true => format!("{alias}.{}", key.field.column),
                    false => columns.expr(key.field.column),
                },
                descending: key.descending,
                nullable: key.field.nullable,
                kind: match key.field.value {
                    SortValue::Text => KeyKind::Text,
                    SortValue::Integer => KeyKind::Integer,
                    SortValue::Timestamp => KeyKind::Timestamp,
                },
            },
            output: KeyOutput::Field(key.field.name),
        })
        .collect()
}

/// The value of an order key in a result row, as stored in a cursor.
fn key_value(key: &ListKey, row: &QueryResult, item: &ItemObject) -> Result<Json> {
    Ok(match key.output {
        KeyOutput::Field(name) => item.get(name).cloned().unwrap_or(Json::Null),
        KeyOutput::Relevance => Json::from(row.try_get::<f64>("", RELEVANCE)?),
    })
}
