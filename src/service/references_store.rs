//! Reading and refreshing the stored references of citations.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::Value as Json;
use uuid::Uuid;

use super::references::{FORMATTER_VERSION, columns};
use crate::domain::Collection;
use crate::domain::listing::IncludeNode;
use crate::domain::reference_style::CitationStyle;
use crate::error::Result;
use crate::service::item::{ItemObject, ItemSelect, item_id, reference_key};
use crate::service::sql::SqlBuilder;

/// How many rows one refresh statement reads.
const REFRESH_BATCH: u64 = 200;

/// Adds `formatted: {text, html}` in `style` to every citation among `items` (of
/// `collection`) and the citations `include` embeds in them. A citation read with its
/// reference (its [`FieldSet`](crate::service::item::FieldSet) in `style`) has it moved
/// to `formatted`; the others' are read in one statement.
pub async fn attach(
    db: &DatabaseConnection,
    style: CitationStyle,
    collection: Collection,
    items: &mut [ItemObject],
    include: &[IncludeNode],
) -> Result<()> {
    let key = reference_key(style);
    let mut missing = Vec::new();
    for item in items.iter_mut() {
        if collection == Collection::Citations {
            match item.remove(key) {
                Some(reference) => {
                    item.insert("formatted", reference);
                }
                None => missing.extend(item_id(item)),
            }
        }
        for node in include {
            if let Some(embedded) = item.get_mut(node.relation.name) {
                take(node, embedded, key, &mut missing);
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort_unstable();
    missing.dedup();
    let found: HashMap<String, Json> = stored(db, &missing, style)
        .await?
        .into_iter()
        .map(|(id, reference)| (id.to_string(), reference))
        .collect();
    for item in items.iter_mut() {
        if collection == Collection::Citations
            && !item.contains_key("formatted")
            && let Some(Json::String(id)) = item.get("id")
        {
            let reference = found.get(id).cloned().unwrap_or(Json::Null);
            item.insert("formatted", reference);
        }
        for node in include {
            if let Some(embedded) = item.get_mut(node.relation.name) {
                put(node, embedded, &found);
            }
        }
    }
    Ok(())
}

fn embedded_objects(value: &mut Json) -> Vec<&mut serde_json::Map<String, Json>> {
    match value {
        Json::Array(list) => list.iter_mut().filter_map(Json::as_object_mut).collect(),
        Json::Object(one) => vec![one],
        _ => Vec::new(),
    }
}

/// Moves each embedded citation's reference read with it from `key` to `formatted`, and
/// notes the ids of those read without.
fn take(node: &IncludeNode, embedded: &mut Json, key: &str, missing: &mut Vec<Uuid>) {
    for object in embedded_objects(embedded) {
        if node.relation.to == Collection::Citations {
            match object.remove(key) {
                Some(reference) => {
                    object.insert("formatted".into(), reference);
                }
                None => missing.extend(
                    object
                        .get("id")
                        .and_then(Json::as_str)
                        .and_then(|id| Uuid::parse_str(id).ok()),
                ),
            }
        }
        for child in &node.children {
            if let Some(below) = object.get_mut(child.relation.name) {
                take(child, below, key, missing);
            }
        }
    }
}

/// Adds `formatted` from `found` to each embedded citation still without it.
fn put(node: &IncludeNode, embedded: &mut Json, found: &HashMap<String, Json>) {
    for object in embedded_objects(embedded) {
        if node.relation.to == Collection::Citations && !object.contains_key("formatted") {
            let id = object.get("id").and_then(Json::as_str).unwrap_or_default();
            let reference = found.get(id).cloned().unwrap_or(Json::Null);
            object.insert("formatted".into(), reference);
        }
        for child in &node.children {
            if let Some(below) = object.get_mut(child.relation.name) {
                put(child, below, found);
            }
        }
    }
}

/// Formats again every citation an older formatter made (or none yet, after the
/// migration that added references). Idempotent, and safe beside writes and other
/// instances: a row is rewritten only if its version is still the one read.
pub async fn refresh(db: &DatabaseConnection) -> Result<u64> {
    let backend = db.get_database_backend();
    let select = ItemSelect::stored(Collection::Citations, backend);
    let mut total = 0;
    loop {
        let mut sql = SqlBuilder::new(backend);
        select.push_select(&mut sql);
        sql.push(" WHERE t.formatted_with <> ")
            .bind(FORMATTER_VERSION)
            .push(&format!(" ORDER BY t.id LIMIT {REFRESH_BATCH}"));
        let rows = db.query_all_raw(sql.build()).await?;
        let mut rewritten = 0;
        for row in &rows {
            let item = select.object(row, true)?;
            let (Some(id), Some(version)) = (item_id(&item), item.get("version").cloned()) else {
                continue;
            };
            let mut sql = SqlBuilder::new(backend);
            sql.push("UPDATE citations SET ");
            for (n, (column, value)) in columns(&|f| item.get(f)).into_iter().enumerate() {
                sql.push(if n == 0 { "" } else { ", " });
                sql.push(column).push(" = ").bind(value);
            }
            sql.push(" WHERE id = ")
                .bind(id)
                .push(" AND version = ")
                .bind(version.as_i64());
            rewritten += db.execute_raw(sql.build()).await?.rows_affected();
        }
        total += rewritten;
        // A row rewritten meanwhile by a write is fresh already; stop when a whole
        // batch changed nothing.
        if (rows.len() as u64) < REFRESH_BATCH || rewritten == 0 {
            break;
        }
    }
    if total > 0 {
        tracing::info!(
            rows = total,
            version = FORMATTER_VERSION,
            "formatted citations again"
        );
    }
    Ok(total)
}

/// The stored references in `style` of the citations `ids`, as `{text, html}` by id.
/// The style's two strings are taken out of the stored object in SQL: the other styles
/// are never read or parsed.
pub async fn stored(
    db: &DatabaseConnection,
    ids: &[Uuid],
    style: CitationStyle,
) -> Result<HashMap<Uuid, Json>> {
    let backend = db.get_database_backend();
    // The style's name is one of the enum's own, never a client's text.
    let part = |part: &str| match backend {
        DbBackend::Postgres => format!("formatted -> '{}' ->> '{part}'", style.as_str()),
        _ => format!("json_extract(formatted, '$.{}.{part}')", style.as_str()),
    };
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let mut sql = SqlBuilder::new(backend);
        sql.push(&format!(
            "SELECT id, {} AS text, {} AS html FROM citations WHERE id IN ",
            part("text"),
            part("html")
        ))
        .bind_list(chunk.iter().copied());
        for row in db.query_all_raw(sql.build()).await? {
            let id: Uuid = row.try_get("", "id")?;
            let text: Option<String> = row.try_get("", "text")?;
            let html: Option<String> = row.try_get("", "html")?;
            let reference = match (text, html) {
                (Some(text), Some(html)) => serde_json::json!({ "text": text, "html": html }),
                _ => Json::Null,
            };
            found.insert(id, reference);
        }
    }
    Ok(found)
}
