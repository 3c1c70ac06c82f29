//! `include=` expansion: one SQL statement per level of the include tree, whatever the
//! number of parent rows or of relations on the level (no N+1). Included items obey the
//! same visibility rule as top-level ones.

mod batch;
mod branch;

use std::collections::HashMap;

use sea_orm::DatabaseConnection;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

pub use batch::{ChildQuery, RootLookup, children_of_many, item_with_children};

use crate::config::DEFAULT_LINK_ROW_BUDGET;
use crate::domain::listing::IncludeNode;
use crate::domain::reference_style::CitationStyle;
use crate::domain::rich_text::TextFormat;
use crate::error::Result;
use crate::service::Visibility;
use crate::service::claims::WorkForm;
use crate::service::item::{FieldSet, ItemObject, item_id};

/// Expands `nodes` into every item of `items`, in place: one statement per level of the
/// include tree, whatever its width.
pub async fn load(
    db: &DatabaseConnection,
    visibility: Visibility,
    rendering: Rendering,
    nodes: &[IncludeNode],
    items: &mut [ItemObject],
) -> Result<()> {
    if nodes.is_empty() || items.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = items.iter().filter_map(item_id).collect();
    let level = nodes.iter().map(|node| (node, ids.clone())).collect();
    let found = load_level(db, visibility, rendering, level).await?;
    for (node, mut children) in nodes.iter().zip(found) {
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

/// How embedded items are written: their Markdown fields in `format`, and the works
/// behind their claims with references in `style`, if one is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Rendering {
    pub format: TextFormat,
    pub style: Option<CitationStyle>,
}

/// Children grouped by parent id.
pub type ChildrenByParent = HashMap<Uuid, Vec<ItemObject>>;
type BoxedLoad<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<Vec<ChildrenByParent>>> + Send + 'a>>;

/// The item `root` names, if the caller may see it, with `nodes` expanded into it: its
/// lookup and the first level of the include tree are one statement, then one statement
/// per level below. Embedded items are written as the root's fields are (format, style).
pub async fn load_with_item(
    db: &DatabaseConnection,
    visibility: Visibility,
    root: RootLookup<'_>,
    nodes: &[IncludeNode],
) -> Result<Option<ItemObject>> {
    let rendering = Rendering {
        format: root.fields.format(),
        style: root.fields.style(),
    };
    let queries: Vec<ChildQuery> = nodes
        .iter()
        .map(|node| child_query(node, &[], rendering))
        .collect();
    let Some((mut item, found)) =
        batch::item_with_children(db, visibility, DEFAULT_LINK_ROW_BUDGET, &root, &queries).await?
    else {
        return Ok(None);
    };
    let level: Vec<&IncludeNode> = nodes.iter().collect();
    let found = expand_below(db, visibility, rendering, &level, found).await?;
    let id = item_id(&item);
    for (node, mut children) in nodes.iter().zip(found) {
        let found = id.and_then(|id| children.remove(&id)).unwrap_or_default();
        item.insert(node.relation.name, embed(node, found));
    }
    Ok(Some(item))
}

fn child_query<'a>(
    node: &IncludeNode,
    parents: &'a [Uuid],
    rendering: Rendering,
) -> ChildQuery<'a> {
    ChildQuery {
        relation: node.relation,
        parents,
        per_parent: None,
        fields: FieldSet::ALL
            .in_format(rendering.format)
            .in_style(rendering.style),
        min_certainty: node.min_certainty,
        works: WorkForm::Served,
    }
}

/// The children of each (node, parents) pair of one level, grouped by parent, with the
/// levels below expanded into them: one statement for the level, then one per level below.
fn load_level<'a>(
    db: &'a DatabaseConnection,
    visibility: Visibility,
    rendering: Rendering,
    level: Vec<(&'a IncludeNode, Vec<Uuid>)>,
) -> BoxedLoad<'a> {
    Box::pin(async move {
        let queries: Vec<ChildQuery> = level
            .iter()
            .map(|(node, parents)| child_query(node, parents, rendering))
            .collect();
        let found = children_of_many(db, visibility, DEFAULT_LINK_ROW_BUDGET, &queries).await?;
        let nodes: Vec<&IncludeNode> = level.iter().map(|(node, _)| *node).collect();
        expand_below(db, visibility, rendering, &nodes, found).await
    })
}

/// Expands the levels below `nodes` into `found` (the children loaded for each node).
async fn expand_below(
    db: &DatabaseConnection,
    visibility: Visibility,
    rendering: Rendering,
    nodes: &[&IncludeNode],
    mut found: Vec<ChildrenByParent>,
) -> Result<Vec<ChildrenByParent>> {
    let mut below = Vec::new();
    let mut owners = Vec::new();
    for (owner, (node, children)) in nodes.iter().zip(&found).enumerate() {
        if node.children.is_empty() {
            continue;
        }
        let mut ids: Vec<Uuid> = children.values().flatten().filter_map(item_id).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            continue;
        }
        for grandchild in &node.children {
            below.push((grandchild, ids.clone()));
            owners.push(owner);
        }
    }
    if below.is_empty() {
        return Ok(found);
    }
    let grandchildren: Vec<&IncludeNode> = below.iter().map(|(node, _)| *node).collect();
    let loaded = load_level(db, visibility, rendering, below).await?;
    for ((grandchild, by_child), owner) in grandchildren.into_iter().zip(loaded).zip(owners) {
        // The same child may appear under several parents: each copy gets them.
        for object in found[owner].values_mut().flatten() {
            let found = item_id(object)
                .and_then(|id| by_child.get(&id).cloned())
                .unwrap_or_default();
            object.insert(grandchild.relation.name, embed(grandchild, found));
        }
    }
    Ok(found)
}
