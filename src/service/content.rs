//! Reading content items, with the visibility rule applied to the item and to every
//! reference it carries.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::listing::{IncludeNode, ItemParams};
use crate::domain::text::{TextKind, check_controls};
use crate::domain::{Collection, FieldKind, Slug};
use crate::error::{AppError, Result};
use crate::service::Visibility;
use crate::service::item::{FieldSet, ItemObject, ItemSelect};
use crate::service::sql::SqlBuilder;
use crate::service::syndication;
use crate::service::{include, references_store};

/// How a single item is looked up.
#[derive(Debug, Clone, Copy)]
pub enum ItemKey<'a> {
    Slug(&'a str),
    /// Products only.
    Sku(&'a str),
    /// Products only: a GTIN in its 14-digit form ([`crate::domain::gtin::Gtin::padded`]).
    Gtin(&'a str),
}

impl<'a> ItemKey<'a> {
    /// The unique column the key names, and its value.
    pub fn column(self) -> (&'static str, &'a str) {
        match self {
            ItemKey::Slug(slug) => ("slug", slug),
            ItemKey::Sku(sku) => ("sku", sku),
            ItemKey::Gtin(gtin) => ("gtin14", gtin),
        }
    }

    /// False for a key no item can have (a malformed slug, an absurd length): not found
    /// without asking the database.
    pub fn can_exist(self) -> bool {
        let (column, value) = self.column();
        value.len() <= 200
            && check_controls(value, TextKind::Line).is_ok()
            && (column != "slug" || Slug::parse(value).is_ok())
    }
}

/// One item with its includes, if the caller may see it.
pub async fn get_item(
    db: &DatabaseConnection,
    visibility: Visibility,
    collection: Collection,
    key: ItemKey<'_>,
    params: &ItemParams,
) -> Result<ItemObject> {
    Ok(get_item_tagged(db, visibility, collection, key, params)
        .await?
        .0)
}

/// [`get_item`] with the cache tags of what the response shows.
pub async fn get_item_tagged(
    db: &DatabaseConnection,
    visibility: Visibility,
    collection: Collection,
    key: ItemKey<'_>,
    params: &ItemParams,
) -> Result<(ItemObject, Vec<String>)> {
    let (column, value) = key.column();
    let not_found = || {
        AppError::NotFound(format!(
            "no {} with {column} {value:?}",
            collection.singular()
        ))
    };
    if !key.can_exist() {
        return Err(not_found());
    }
    let mut items = if params.include.is_empty() {
        let select = syndication::read_with(
            ItemSelect::formatted(
                collection,
                visibility,
                db.get_database_backend(),
                params.format,
                params.style,
            ),
            params.syndication.as_ref(),
        );
        let mut sql = SqlBuilder::new(db.get_database_backend());
        select.push_select(&mut sql);
        sql.push(&format!(" WHERE t.{column} = "))
            .bind(value.to_owned());
        sql.push(&format!(" AND {}", visibility.status_filter("t")));
        let row = db.query_one_raw(sql.build()).await?.ok_or_else(not_found)?;
        vec![select.object(&row, true)?]
    } else {
        // The item and its first include level in one statement: a storefront's
        // product-page request is one round trip to the database, not two.
        let root = include::RootLookup {
            collection,
            column,
            value,
            fields: FieldSet::ALL
                .in_format(params.format)
                .in_style(params.style),
        };
        let item = include::load_with_item(db, visibility, root, &params.include).await?;
        let mut items = vec![item.ok_or_else(not_found)?];
        if let Some(source) = &params.syndication {
            syndication::attach(db, collection, &mut items, source).await?;
        }
        items
    };
    let mut tags = std::collections::BTreeSet::new();
    if params.syndication.is_some() {
        tags.insert(syndication::TAG.to_owned());
    }
    collect_tags(collection, &items, &params.include, &mut tags);
    if let Some(style) = params.style {
        references_store::attach(db, style, collection, &mut items, &params.include).await?;
    }
    for item in &mut items {
        retain_fields(item, params.fields.as_deref(), &params.include);
    }
    let item = items.pop().ok_or_else(not_found)?;
    Ok((item, tags.into_iter().collect()))
}

/// Any item by id, whatever its collection (ids are UUIDs, unique across collections):
/// one statement finds the collection, one reads the item.
pub async fn find_by_id(
    db: &DatabaseConnection,
    visibility: Visibility,
    id: Uuid,
) -> Result<Option<(Collection, ItemObject)>> {
    let backend = db.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    for (n, collection) in Collection::ALL.iter().enumerate() {
        if n > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!(
            "SELECT '{collection}' AS kind FROM {} t WHERE t.id = ",
            collection.table()
        ))
        .bind(id);
        sql.push(&format!(" AND {}", visibility.status_filter("t")));
    }
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    let kind: String = row.try_get("", "kind")?;
    let collection = Collection::parse(&kind)
        .ok_or_else(|| AppError::internal_msg(format!("unknown collection {kind}")))?;
    let select = ItemSelect::new(collection, visibility, backend);
    let mut sql = SqlBuilder::new(backend);
    select.push_select(&mut sql);
    sql.push(" WHERE t.id = ").bind(id);
    let row = db.query_one_raw(sql.build()).await?;
    row.map(|row| Ok((collection, select.object(&row, true)?)))
        .transpose()
}

/// Applies a sparse fieldset, keeping requested includes and the reference a `style`
/// asked for.
pub fn retain_fields(item: &mut ItemObject, fields: Option<&[String]>, include: &[IncludeNode]) {
    if let Some(fields) = fields {
        item.retain(|key, _| {
            fields.iter().any(|f| f == key)
                || include.iter().any(|n| n.relation.name == *key)
                || *key == "formatted"
        });
    }
}

/// Adds the cache tags of `items` (of `collection`) to `tags`: each item, each item it
/// references, and everything embedded through `include`, recursively.
pub fn collect_tags(
    collection: Collection,
    items: &[ItemObject],
    include: &[IncludeNode],
    tags: &mut std::collections::BTreeSet<String>,
) {
    for item in items {
        tag_item(collection, &|key| item.get(key), include, tags);
    }
}

fn tag_item<'a>(
    collection: Collection,
    get: &dyn Fn(&str) -> Option<&'a Json>,
    include: &[IncludeNode],
    tags: &mut std::collections::BTreeSet<String>,
) {
    use crate::service::cache::item_tag;
    if let Some(Json::String(slug)) = get("slug") {
        tags.insert(item_tag(collection.singular(), slug));
    }
    for field in collection.fields() {
        match (field.kind, get(field.name)) {
            (FieldKind::Reference(target), Some(Json::String(slug))) => {
                tags.insert(item_tag(target.singular(), slug));
            }
            (FieldKind::Statistics, Some(Json::Array(list))) if !list.is_empty() => {
                tags.insert(crate::service::cache::CITED_BY_STATISTICS.to_owned());
            }
            _ => {}
        }
    }
    // A claim's evidence lists the citations the reader may see: any citation's change
    // can show or hide one.
    if get("link")
        .and_then(|link| link.get("evidence"))
        .is_some_and(|e| !e.is_null())
    {
        tags.insert(crate::service::cache::CITED_BY_STATISTICS.to_owned());
    }
    for node in include {
        let children: Vec<&serde_json::Map<String, Json>> = match get(node.relation.name) {
            Some(Json::Array(list)) => list.iter().filter_map(Json::as_object).collect(),
            Some(Json::Object(map)) => vec![map],
            _ => vec![],
        };
        for child in children {
            tag_item(
                node.relation.to,
                &|key| child.get(key),
                &node.children,
                tags,
            );
        }
    }
}
