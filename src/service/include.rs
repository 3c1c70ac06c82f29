//! `include=` expansion: one SQL statement per include node, whatever the number of parent
//! rows (no N+1). Included items obey the same visibility rule as top-level ones.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::domain::listing::{IncludeNode, sort_fields};
use crate::domain::relations::{Relation, RelationKind};
use crate::error::Result;
use crate::service::Visibility;
use crate::service::content::{FieldSet, ItemObject, ItemSelect, item_id};
use crate::service::sql::SqlBuilder;

/// Expands `nodes` into every item of `items`, in place.
pub async fn load(
    db: &DatabaseConnection,
    visibility: Visibility,
    nodes: &[IncludeNode],
    items: &mut [ItemObject],
) -> Result<()> {
    if nodes.is_empty() || items.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = items.iter().filter_map(item_id).collect();
    for node in nodes {
        let mut children = load_node(db, visibility, node, &ids).await?;
        for item in items.iter_mut() {
            let found = item_id(item)
                .and_then(|id| children.remove(&id))
                .unwrap_or_default();
            item.insert(node.relation.name, embed(node, found));
        }
    }
    Ok(())
}

/// A to-one relation embeds an object or null; the others a list.
fn embed(node: &IncludeNode, found: Vec<ItemObject>) -> Json {
    if node.relation.is_to_one() {
        found.into_iter().next().map_or(Json::Null, to_json)
    } else {
        Json::Array(found.into_iter().map(to_json).collect())
    }
}

fn to_json(item: ItemObject) -> Json {
    Json::Object(
        item.into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

/// Where a child's own columns start in a [`children`] row, after parent_id and link_note.
const CHILD_COLUMNS_AT: usize = 2;

/// Children grouped by parent id.
pub type ChildrenByParent = HashMap<Uuid, Vec<ItemObject>>;
type BoxedLoad<'a> = std::pin::Pin<Box<dyn Future<Output = Result<ChildrenByParent>> + Send + 'a>>;

/// Children of `parents` through `node.relation`, grouped by parent, with their own
/// includes expanded (one statement per level).
fn load_node<'a>(
    db: &'a DatabaseConnection,
    visibility: Visibility,
    node: &'a IncludeNode,
    parents: &'a [Uuid],
) -> BoxedLoad<'a> {
    Box::pin(async move {
        let mut grouped =
            children(db, visibility, node.relation, parents, None, FieldSet::ALL).await?;
        if node.children.is_empty() {
            return Ok(grouped);
        }
        let mut ids: Vec<Uuid> = grouped.values().flatten().filter_map(item_id).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(grouped);
        }
        for grandchild in &node.children {
            // The same child may appear under several parents: each copy gets them.
            let by_child = load_node(db, visibility, grandchild, &ids).await?;
            for object in grouped.values_mut().flatten() {
                let found = item_id(object)
                    .and_then(|id| by_child.get(&id).cloned())
                    .unwrap_or_default();
                object.insert(grandchild.relation.name, embed(grandchild, found));
            }
        }
        Ok(grouped)
    })
}

/// One level of a relation for many parents in one statement: the visible children of
/// each parent, in editorial order, at most `per_parent` each. Items reached through a
/// link carry `link: {note}`. REST includes and GraphQL fields both load through here.
pub async fn children(
    db: &DatabaseConnection,
    visibility: Visibility,
    relation: Relation,
    parents: &[Uuid],
    per_parent: Option<u32>,
    fields: FieldSet,
) -> Result<ChildrenByParent> {
    let mut grouped = ChildrenByParent::new();
    if parents.is_empty() {
        return Ok(grouped);
    }
    let child = ItemSelect::projected(relation.to, visibility, fields);
    let table = relation.to.table();
    let order = sort_fields(relation.to)[0].column;
    let (parent_expr, note, from, order_within) = match relation.kind {
        RelationKind::Link {
            link,
            parent_column,
            child_column,
        } => (
            format!("l.{parent_column}"),
            "l.note",
            format!("{} l JOIN {table} t ON t.id = l.{child_column}", link.table),
            format!("l.position, t.{order}, t.id"),
        ),
        RelationKind::ToOne { column } => (
            "p.id".to_owned(),
            "NULL",
            format!(
                "{} p JOIN {table} t ON t.id = p.{column}",
                relation.from.table()
            ),
            "t.id".to_owned(),
        ),
        RelationKind::ToMany { column } => (
            format!("t.{column}"),
            "NULL",
            format!("{table} t"),
            format!("t.{order}, t.id"),
        ),
    };
    let mut sql = SqlBuilder::new(db.get_database_backend());
    let select = format!(
        "SELECT {parent_expr} AS parent_id, {note} AS link_note, {}",
        child.columns
    );
    match per_parent {
        // A window numbers each parent's children so one statement can cap them all.
        Some(_) => sql.push(&format!(
            "SELECT * FROM ({select}, ROW_NUMBER() OVER (PARTITION BY {parent_expr} \
             ORDER BY {order_within}) AS rn FROM {from}{} WHERE {parent_expr} IN ",
            child.joins
        )),
        None => sql.push(&format!(
            "{select} FROM {from}{} WHERE {parent_expr} IN ",
            child.joins
        )),
    };
    sql.bind_list(parents.iter().copied());
    sql.push(&format!(" AND {}", visibility.status_filter("t")));
    match per_parent {
        Some(limit) => sql.push(&format!(
            ") w WHERE w.rn <= {limit} ORDER BY w.parent_id, w.rn"
        )),
        None => sql.push(&format!(" ORDER BY {parent_expr}, {order_within}")),
    };
    let is_link = matches!(relation.kind, RelationKind::Link { .. });
    for row in db.query_all_raw(sql.build()).await? {
        // Columns: parent_id, link_note, then the child's own (see `select` above).
        let parent: Uuid = row.try_get_by_index(0)?;
        let mut object = child.object_at(&row, CHILD_COLUMNS_AT, true)?;
        if is_link {
            let note: Option<String> = row.try_get_by_index(1)?;
            let mut link = Map::new();
            link.insert("note".into(), note.map_or(Json::Null, Json::String));
            object.insert("link", Json::Object(link));
        }
        grouped.entry(parent).or_default().push(object);
    }
    Ok(grouped)
}
