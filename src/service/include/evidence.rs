//! The citations behind embedded claims, as the citation objects readers get everywhere
//! else: the link rows read only the slugs the reader may see, and one statement for the
//! whole answer turns them into objects.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Map, Value as Json};

use crate::domain::Collection;
use crate::domain::rich_text::TextFormat;
use crate::error::Result;
use crate::service::Visibility;
use crate::service::item::{ItemObject, ItemSelect};
use crate::service::sql::SqlBuilder;

/// Replaces the slugs in every `link.evidence.citations` among `items` (at any depth) by
/// the citations' objects, in order; a citation withdrawn meanwhile is left out.
pub async fn resolve(
    db: &DatabaseConnection,
    visibility: Visibility,
    format: TextFormat,
    items: &mut [ItemObject],
) -> Result<()> {
    let mut slugs = BTreeSet::new();
    for value in items.iter().flat_map(|item| item.values()) {
        walk(value, &mut |cited| {
            slugs.extend(cited.iter().filter_map(Json::as_str).map(str::to_owned));
        });
    }
    if slugs.is_empty() {
        return Ok(());
    }
    let found = read(db, visibility, format, &slugs).await?;
    for value in items.iter_mut().flat_map(|item| item.values_mut()) {
        walk_mut(value, &mut |cited| {
            *cited = cited
                .iter()
                .filter_map(|slug| found.get(slug.as_str()?).cloned())
                .collect();
        });
    }
    Ok(())
}

/// The citations' objects of an embedded item's claim (after [`resolve`]).
pub fn cited(object: &Map<String, Json>) -> impl Iterator<Item = &Map<String, Json>> {
    list(object)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object)
}

/// [`cited`], to change them.
pub fn cited_mut(object: &mut Map<String, Json>) -> impl Iterator<Item = &mut Map<String, Json>> {
    list_mut(object)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object_mut)
}

fn list(object: &Map<String, Json>) -> Option<&Vec<Json>> {
    object
        .get("link")?
        .get("evidence")?
        .get("citations")?
        .as_array()
}

fn list_mut(object: &mut Map<String, Json>) -> Option<&mut Vec<Json>> {
    object
        .get_mut("link")?
        .get_mut("evidence")?
        .get_mut("citations")?
        .as_array_mut()
}

/// Calls `found` with every claim's citation list under `value`.
fn walk(value: &Json, found: &mut impl FnMut(&Vec<Json>)) {
    match value {
        Json::Array(many) => many.iter().for_each(|v| walk(v, found)),
        Json::Object(object) => {
            if let Some(cited) = list(object) {
                found(cited);
            }
            object.values().for_each(|v| walk(v, found));
        }
        _ => {}
    }
}

fn walk_mut(value: &mut Json, found: &mut impl FnMut(&mut Vec<Json>)) {
    match value {
        Json::Array(many) => many.iter_mut().for_each(|v| walk_mut(v, found)),
        Json::Object(object) => {
            if let Some(cited) = list_mut(object) {
                found(cited);
            }
            object.values_mut().for_each(|v| walk_mut(v, found));
        }
        _ => {}
    }
}

/// The citations `slugs` the caller may see, as objects, by slug.
async fn read(
    db: &DatabaseConnection,
    visibility: Visibility,
    format: TextFormat,
    slugs: &BTreeSet<String>,
) -> Result<HashMap<String, Json>> {
    let backend = db.get_database_backend();
    let select = ItemSelect::formatted(Collection::Citations, visibility, backend, format);
    let mut found = HashMap::with_capacity(slugs.len());
    let slugs: Vec<&String> = slugs.iter().collect();
    for chunk in slugs.chunks(1000) {
        let mut sql = SqlBuilder::new(backend);
        select.push_select(&mut sql);
        sql.push(" WHERE t.slug IN ")
            .bind_list(chunk.iter().map(|s| s.to_string()));
        sql.push(&format!(" AND {}", visibility.status_filter("t")));
        for row in db.query_all_raw(sql.build()).await? {
            let object = select.object(&row, true)?;
            let slug = object
                .get("slug")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned();
            let object: Map<String, Json> =
                object.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            found.insert(slug, Json::Object(object));
        }
    }
    Ok(found)
}
