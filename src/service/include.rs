//! `include=` expansion: one SQL statement per include node, whatever the number of parent
//! rows (no N+1). Included items obey the same visibility rule as top-level ones.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::domain::listing::{IncludeNode, sort_fields};
use crate::domain::relations::RelationKind;
use crate::error::Result;
use crate::service::Visibility;
use crate::service::content::{ItemObject, ItemSelect, item_id};
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

/// Children grouped by parent id.
type ChildrenByParent = HashMap<Uuid, Vec<ItemObject>>;
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
        let relation = node.relation;
        let child = ItemSelect::new(relation.to, visibility);
        let table = relation.to.table();
        let order = sort_fields(relation.to)[0].column;
        let mut sql = SqlBuilder::new(db.get_database_backend());
        let (extra, from, order_by) = match relation.kind {
            RelationKind::Link {
                link,
                parent_column,
                child_column,
            } => (
                format!("l.{parent_column} AS parent_id, l.note AS link_note"),
                format!("{} l JOIN {table} t ON t.id = l.{child_column}", link.table),
                format!("l.{parent_column}, l.position, t.{order}, t.id"),
            ),
            RelationKind::ToOne { column } => (
                "p.id AS parent_id, NULL AS link_note".to_owned(),
                format!(
                    "{} p JOIN {table} t ON t.id = p.{column}",
                    relation.from.table()
                ),
                "p.id".to_owned(),
            ),
            RelationKind::ToMany { column } => (
                format!("t.{column} AS parent_id, NULL AS link_note"),
                format!("{table} t"),
                format!("t.{column}, t.{order}, t.id"),
            ),
        };
        let parent_alias = match relation.kind {
            RelationKind::Link { parent_column, .. } => format!("l.{parent_column}"),
            RelationKind::ToOne { .. } => "p.id".to_owned(),
            RelationKind::ToMany { column } => format!("t.{column}"),
        };
        sql.push(&format!(
            "SELECT {extra}, {} FROM {from}{} WHERE {parent_alias} IN ",
            child.columns, child.joins
        ));
        sql.bind_list(parents.iter().copied());
        sql.push(&format!(
            " AND {} ORDER BY {order_by}",
            visibility.status_filter("t")
        ));
        let rows = db.query_all_raw(sql.build()).await?;

        let mut grouped: HashMap<Uuid, Vec<ItemObject>> = HashMap::new();
        let mut children = Vec::with_capacity(rows.len());
        for row in &rows {
            let parent: Uuid = row.try_get("", "parent_id")?;
            let mut object = child.object(row, true)?;
            if matches!(relation.kind, RelationKind::Link { .. }) {
                let note: Option<String> = row.try_get("", "link_note")?;
                let mut link = Map::new();
                link.insert("note".into(), note.map_or(Json::Null, Json::String));
                object.insert("link", Json::Object(link));
            }
            children.push((parent, object));
        }
        if !node.children.is_empty() && !children.is_empty() {
            let mut ids: Vec<Uuid> = children.iter().filter_map(|(_, c)| item_id(c)).collect();
            ids.sort();
            ids.dedup();
            for grandchild in &node.children {
                // The same child may appear under several parents: each copy gets them.
                let by_child = load_node(db, visibility, grandchild, &ids).await?;
                for (_, object) in children.iter_mut() {
                    let found = item_id(object)
                        .and_then(|id| by_child.get(&id).cloned())
                        .unwrap_or_default();
                    object.insert(grandchild.relation.name, embed(grandchild, found));
                }
            }
        }
        for (parent, object) in children {
            grouped.entry(parent).or_default().push(object);
        }
        Ok(grouped)
    })
}
