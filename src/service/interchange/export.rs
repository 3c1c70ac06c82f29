//! `salve export`: every item and link as canonical NDJSON (sorted keys, every field
//! present with null for absent values, rows ordered by slug; items with their creation
//! and update times and version, so a restore reproduces them), read in keyset batches
//! from one consistent snapshot so memory stays flat.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    IsolationLevel, TransactionTrait,
};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::model::file_links;
use crate::domain::{Collection, LinkSpec};
use crate::error::{AppError, Result};
use crate::service::item::ItemSelect;
use crate::service::link_rows::LinkRows;
use crate::service::sql::SqlBuilder;
use crate::service::{Visibility, claims};

const EXPORT_BATCH: u64 = 1000;

/// Writes `<collection>.ndjson` and `<link>.ndjson` into `dir`; returns (file, rows).
pub async fn export(db: &DatabaseConnection, dir: &Path) -> Result<Vec<(String, u64)>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::bad_request(format!("cannot create {}: {e}", dir.display())))?;
    let backend = db.get_database_backend();
    let (isolation, access) = match backend {
        DbBackend::Postgres => (
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        ),
        _ => (None, None),
    };
    let txn = db.begin_with_config(isolation, access).await?;
    let mut written = Vec::new();
    for collection in Collection::ALL {
        let file = format!("{collection}.ndjson");
        let rows = write_file(dir, &file, async |out| {
            export_items(&txn, collection, out).await
        })
        .await?;
        written.push((file, rows));
    }
    for link in file_links() {
        let file = format!("{}.ndjson", link.table);
        let rows = write_file(dir, &file, async |out| export_links(&txn, link, out).await).await?;
        written.push((file, rows));
    }
    let file = super::reviews::FILE;
    let rows = write_file(dir, file, async |out| {
        super::reviews::export(&txn, |line| write_row(out, line)).await
    })
    .await?;
    written.push((file.to_owned(), rows));
    let file = super::drafts::FILE;
    let rows = write_file(dir, file, async |out| {
        super::drafts::export(&txn, |line| write_row(out, line)).await
    })
    .await?;
    written.push((file.to_owned(), rows));
    let file = super::terms::FILE;
    let rows = write_file(dir, file, async |out| {
        let terms = crate::service::syndication::terms(&txn).await?;
        // Keys sorted, as in every other file.
        let terms = serde_json::to_value(&terms).map_err(AppError::internal)?;
        serde_json::to_writer(&mut *out, &terms).map_err(AppError::internal)?;
        out.write_all(b"\n").map_err(AppError::internal)?;
        Ok(1)
    })
    .await?;
    written.push((file.to_owned(), rows));
    txn.commit().await?;
    Ok(written)
}

type Out = std::io::BufWriter<std::fs::File>;

/// Writes to a temporary file renamed into place, so a failed export never leaves a
/// truncated file behind.
async fn write_file(
    dir: &Path,
    file: &str,
    fill: impl AsyncFnOnce(&mut Out) -> Result<u64>,
) -> Result<u64> {
    let io = |e: std::io::Error| AppError::internal(anyhow::anyhow!("writing {file}: {e}"));
    let target = dir.join(file);
    let partial = dir.join(format!(".{file}.partial"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).map_err(io)?);
    let rows = fill(&mut out).await?;
    out.flush().map_err(io)?;
    drop(out);
    std::fs::rename(&partial, &target).map_err(io)?;
    Ok(rows)
}

fn write_row(out: &mut Out, row: &BTreeMap<&str, Json>) -> Result<()> {
    serde_json::to_writer(&mut *out, row).map_err(AppError::internal)?;
    out.write_all(b"\n").map_err(AppError::internal)
}

async fn export_items(
    txn: &DatabaseTransaction,
    collection: Collection,
    out: &mut Out,
) -> Result<u64> {
    let select = ItemSelect::stored(collection, txn.get_database_backend());
    let mut after: Option<String> = None;
    let mut total = 0;
    loop {
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        select.push_select(&mut sql);
        if let Some(last) = after.take() {
            sql.push(" WHERE t.slug > ").bind(last);
        }
        sql.push(&format!(" ORDER BY t.slug LIMIT {EXPORT_BATCH}"));
        let rows = txn.query_all_raw(sql.build()).await?;
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.try_get("", "id"))
            .collect::<Result<_, _>>()?;
        let mut inline: Vec<(&str, HashMap<Uuid, Vec<Json>>)> = Vec::new();
        for link in collection.inline_links() {
            inline.push((
                link.inline.unwrap_or_default(),
                inline_links(txn, link, &ids).await?,
            ));
        }
        for (row, id) in rows.iter().zip(&ids) {
            let mut object = select.object(row, true)?;
            // Derived from the reviewer: not part of the interchange rows.
            object.remove(crate::service::item::REVIEW_STATUS);
            for (key, lists) in &mut inline {
                object.insert(key, Json::Array(lists.remove(id).unwrap_or_default()));
            }
            write_row(out, &object)?;
        }
        total += rows.len() as u64;
        if (rows.len() as u64) < EXPORT_BATCH {
            return Ok(total);
        }
        after = rows.last().map(|r| r.try_get("", "slug")).transpose()?;
    }
}

/// The inline link lists of a batch of items, in editorial order.
async fn inline_links(
    txn: &DatabaseTransaction,
    link: &LinkSpec,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Json>>> {
    let mut lists: HashMap<Uuid, Vec<Json>> = HashMap::new();
    if ids.is_empty() {
        return Ok(lists);
    }
    let mut sql = SqlBuilder::new(txn.get_database_backend());
    sql.push(&format!(
        "SELECT l.{left} AS owner, r.slug AS slug, l.note AS note FROM {table} l JOIN {right} r \
         ON r.id = l.{rc} WHERE l.{left} IN ",
        left = link.left_column,
        table = link.table,
        right = link.right.table(),
        rc = link.right_column,
    ));
    sql.bind_list(ids.iter().copied());
    sql.push(" ORDER BY l.position, r.slug");
    for row in txn.query_all_raw(sql.build()).await? {
        let owner: Uuid = row.try_get("", "owner")?;
        let slug: String = row.try_get("", "slug")?;
        // A slug alone unless the link has a note, as files without notes were written.
        let entry = match row.try_get::<Option<String>>("", "note")? {
            Some(note) => serde_json::json!({ "note": note, "slug": slug }),
            None => Json::String(slug),
        };
        lists.entry(owner).or_default().push(entry);
    }
    Ok(lists)
}

async fn export_links(txn: &DatabaseTransaction, link: &LinkSpec, out: &mut Out) -> Result<u64> {
    let backend = txn.get_database_backend();
    let (left_key, right_key) = (link.left_key(), link.right_key());
    let mut after: Option<(String, String)> = None;
    let mut total = 0;
    loop {
        let mut sql = SqlBuilder::new(backend);
        sql.push(&format!(
            "SELECT a.slug AS left_slug, b.slug AS right_slug, l.note, l.position, {evidence} \
             FROM {table} l \
             JOIN {lt} a ON a.id = l.{lc} JOIN {rt} b ON b.id = l.{rc}",
            evidence = claims::columns(
                Some(link),
                LinkRows::Stored,
                Visibility::All,
                backend,
                claims::Cited::Slugs,
            ),
            table = link.table,
            lt = link.left.table(),
            lc = link.left_column,
            rt = link.right.table(),
            rc = link.right_column,
        ));
        if let Some((left, right)) = after.take() {
            sql.push(" WHERE (a.slug, b.slug) > (")
                .bind(left)
                .push(", ")
                .bind(right)
                .push(")");
        }
        sql.push(&format!(" ORDER BY a.slug, b.slug LIMIT {EXPORT_BATCH}"));
        let rows = txn.query_all_raw(sql.build()).await?;
        for row in &rows {
            let mut object = BTreeMap::new();
            object.insert(left_key, Json::String(row.try_get("", "left_slug")?));
            object.insert(right_key, Json::String(row.try_get("", "right_slug")?));
            object.insert(
                "note",
                row.try_get::<Option<String>>("", "note")?
                    .map_or(Json::Null, Json::String),
            );
            let position: i32 = row.try_get("", "position")?;
            object.insert("position", Json::from(position));
            if link.claim.is_some() {
                let evidence = claims::stored(row)?;
                object.insert("evidence", evidence.map_or(Json::Null, |e| e.to_json()));
            }
            write_row(out, &object)?;
        }
        total += rows.len() as u64;
        if (rows.len() as u64) < EXPORT_BATCH {
            return Ok(total);
        }
        let last = rows.last().map(|r| -> Result<(String, String)> {
            Ok((r.try_get("", "left_slug")?, r.try_get("", "right_slug")?))
        });
        after = last.transpose()?;
    }
}
