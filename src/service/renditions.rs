//! The stored renditions of Markdown fields: made on every write that changes the field,
//! read instead of the Markdown when a reader asks for another format, and made again for
//! rows an older renderer made (at startup, before anything is served).

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use uuid::Uuid;

use crate::domain::model::Renditions;
use crate::domain::rich_text::{self, RENDERER_VERSION, TextFormat};
use crate::domain::{Collection, Field, FieldKind};
use crate::error::Result;
use crate::service::sql::{SqlBuilder, column};

/// The column recording which renderer version made a row's renditions.
pub const RENDERED_WITH: &str = "rendered_with";

/// How many rows one refresh statement reads.
const REFRESH_BATCH: u64 = 200;

/// The collection's Markdown fields, with their rendition columns.
pub fn markdown_fields(
    collection: Collection,
) -> impl Iterator<Item = (&'static Field, Renditions)> {
    collection
        .fields()
        .iter()
        .filter_map(|field| match field.kind {
            FieldKind::Markdown(renditions) => Some((field, renditions)),
            _ => None,
        })
}

/// The column a Markdown field is read from in `format`.
pub fn column_for(field: &Field, renditions: Renditions, format: TextFormat) -> &'static str {
    match format {
        TextFormat::Markdown => field.column,
        TextFormat::Html => renditions.html,
        TextFormat::Text => renditions.text,
    }
}

/// `(column, value)` of both renditions of `markdown` (null for null).
pub fn rendered_columns(
    renditions: Renditions,
    markdown: Option<&str>,
) -> [(&'static str, Value); 2] {
    let rendered = markdown.map(rich_text::render);
    let (html, text) = rendered.map_or((None, None), |r| (Some(r.html), Some(r.text)));
    [
        (renditions.html, Value::from(html)),
        (renditions.text, Value::from(text)),
    ]
}

/// The `rendered_with` column's value for a write that rendered every Markdown field.
pub fn rendered_with() -> (&'static str, Value) {
    (RENDERED_WITH, Value::from(RENDERER_VERSION))
}

/// One Markdown field of some items, in `format`: id → value (absent for null).
pub async fn load(
    db: &impl ConnectionTrait,
    collection: Collection,
    field: &Field,
    format: TextFormat,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, String>> {
    let FieldKind::Markdown(renditions) = field.kind else {
        return Ok(HashMap::new());
    };
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut sql = SqlBuilder::new(db.get_database_backend());
        sql.push(&format!(
            "SELECT id, {} FROM {} WHERE id IN ",
            column_for(field, renditions, format),
            collection.table()
        ))
        .bind_list(chunk.iter().copied());
        for row in db.query_all_raw(sql.build()).await? {
            if let Some(value) = column::<String>(&row, 1)? {
                out.insert(row.try_get_by_index::<Uuid>(0)?, value);
            }
        }
    }
    Ok(out)
}

/// Renders again every row an older renderer made (or none yet, after the migration that
/// added renditions). Idempotent, and safe beside writes and other instances: a row is
/// rewritten only if its version is still the one read.
pub async fn refresh(db: &DatabaseConnection) -> Result<u64> {
    let mut total = 0;
    for collection in Collection::ALL {
        let fields: Vec<_> = markdown_fields(collection).collect();
        if fields.is_empty() {
            continue;
        }
        loop {
            let done = refresh_batch(db, collection, &fields).await?;
            total += done.rewritten;
            if done.read < REFRESH_BATCH {
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(
            rows = total,
            version = RENDERER_VERSION,
            "rendered Markdown fields again"
        );
    }
    Ok(total)
}

struct Batch {
    read: u64,
    rewritten: u64,
}

async fn refresh_batch(
    db: &DatabaseConnection,
    collection: Collection,
    fields: &[(&'static Field, Renditions)],
) -> Result<Batch> {
    let backend = db.get_database_backend();
    let sources: Vec<&str> = fields.iter().map(|(f, _)| f.column).collect();
    let mut sql = SqlBuilder::new(backend);
    sql.push(&format!(
        "SELECT id, version, {} FROM {} WHERE {RENDERED_WITH} <> ",
        sources.join(", "),
        collection.table()
    ))
    .bind(RENDERER_VERSION)
    .push(&format!(" ORDER BY id LIMIT {REFRESH_BATCH}"));
    let rows = db.query_all_raw(sql.build()).await?;
    let mut rewritten = 0;
    for row in &rows {
        let id: Uuid = row.try_get_by_index(0)?;
        let version: i64 = row.try_get_by_index(1)?;
        let mut sql = SqlBuilder::new(backend);
        sql.push(&format!("UPDATE {} SET ", collection.table()));
        for (n, (_, renditions)) in fields.iter().enumerate() {
            let markdown = column::<String>(row, 2 + n)?;
            for (column, value) in rendered_columns(*renditions, markdown.as_deref()) {
                sql.push(column).push(" = ").bind(value).push(", ");
            }
        }
        let (column, value) = rendered_with();
        sql.push(column).push(" = ").bind(value);
        sql.push(" WHERE id = ")
            .bind(id)
            .push(" AND version = ")
            .bind(version);
        rewritten += db.execute_raw(sql.build()).await?.rows_affected();
    }
    // A row rewritten meanwhile by a write already carries fresh renditions; one that
    // still differs would be read again, so stop when a whole batch changed nothing.
    let read = if rewritten == 0 { 0 } else { rows.len() as u64 };
    Ok(Batch { read, rewritten })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migration_stores_renditions_for_every_markdown_field() {
        let mut model: Vec<(&str, &str)> = Collection::ALL
            .iter()
            .flat_map(|c| markdown_fields(*c).map(move |(f, _)| (c.table(), f.column)))
            .collect();
        let mut migrated = migration::RENDERED.to_vec();
        model.sort_unstable();
        migrated.sort_unstable();
        assert_eq!(model, migrated);
        for collection in Collection::ALL {
            for (field, renditions) in markdown_fields(collection) {
                assert_eq!(renditions.html, format!("{}_html", field.column));
                assert_eq!(renditions.text, format!("{}_text", field.column));
            }
        }
    }
}
