//! Drafts of published items. While an item is published, edits go to its draft (at most
//! one): the whole editable document, with its own status (`draft` or `in_review`) and
//! version. Readers keep the published row; preview readers see the draft over it
//! (`ItemSelect`); publishing writes the draft over the row, discarding drops it.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::document::Document;
use crate::domain::validate::parse_timestamp;
use crate::domain::{Collection, Status};
use crate::error::{AppError, Result};
use crate::service::item::DraftRow;
use crate::service::sql::SqlBuilder;

/// An item's draft as stored.
#[derive(Debug, Clone)]
pub struct Draft {
    pub status: Status,
    pub version: i64,
    pub document: Document,
    pub updated_at: DateTime<Utc>,
}

impl Draft {
    /// The draft read with its item (`ItemSelect::stored_with_draft`).
    pub fn from_row(row: DraftRow) -> Result<Self> {
        Ok(Draft {
            status: super::document::stored_status(&row.status)?,
            version: row.version,
            updated_at: row
                .updated_at
                .ok_or_else(|| AppError::internal_msg("a draft without updated_at".into()))?,
            document: row.document,
        })
    }

    pub fn row(&self) -> DraftRow {
        DraftRow {
            document: self.document.clone(),
            status: self.status.as_str().to_owned(),
            version: self.version,
            updated_at: Some(self.updated_at),
        }
    }
}

/// A draft to write: `replaces` is the version of the draft it replaces (none: a new
/// draft).
pub struct NewDraft<'a> {
    pub collection: Collection,
    pub id: Uuid,
    pub document: &'a Document,
    pub status: Status,
    pub version: i64,
    pub replaces: Option<i64>,
    pub actor: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Writes a draft; 412 when another write replaced (or created) it meanwhile.
pub async fn save(conn: &impl ConnectionTrait, draft: &NewDraft<'_>) -> Result<()> {
    let backend = conn.get_database_backend();
    let publish_at = publish_at(draft.document);
    let mut sql = SqlBuilder::new(backend);
    match draft.replaces {
        None => {
            sql.push(
                "INSERT INTO drafts (item_id, collection, status, document, version, \
                 publish_at, created_at, updated_at, actor) VALUES (",
            );
            sql.bind(draft.id).push(", ");
            sql.bind(draft.collection.as_str()).push(", ");
            sql.bind(draft.status.as_str()).push(", ");
            sql.bind(Json::Object(draft.document.clone())).push(", ");
            sql.bind(draft.version).push(", ");
            sql.bind(publish_at).push(", ");
            sql.bind(draft.at).push(", ").bind(draft.at).push(", ");
            sql.bind(draft.actor.map(str::to_owned))
                .push(") ON CONFLICT DO NOTHING");
        }
        Some(previous) => {
            sql.push("UPDATE drafts SET status = ")
                .bind(draft.status.as_str());
            sql.push(", document = ")
                .bind(Json::Object(draft.document.clone()));
            sql.push(", version = ").bind(draft.version);
            sql.push(", publish_at = ").bind(publish_at);
            sql.push(", updated_at = ").bind(draft.at);
            sql.push(", actor = ").bind(draft.actor.map(str::to_owned));
            sql.push(" WHERE item_id = ").bind(draft.id);
            sql.push(" AND version = ").bind(previous);
        }
    }
    if conn.execute_raw(sql.build()).await?.rows_affected() != 1 {
        return Err(AppError::PreconditionFailed(
            "the draft changed while this write was applied; GET it again".into(),
        ));
    }
    Ok(())
}

/// Sets one field of the draft `draft` of `(collection, id)` as its next version (a write
/// to the item that its draft must follow); 412 when the draft changed meanwhile.
pub async fn set_field(
    conn: &impl ConnectionTrait,
    (collection, id): (Collection, Uuid),
    draft: &Draft,
    (field, value): (&str, Json),
    actor: Option<&str>,
) -> Result<()> {
    let mut document = draft.document.clone();
    document.insert(field.to_owned(), value);
    let next = NewDraft {
        collection,
        id,
        document: &document,
        status: draft.status,
        version: draft.version + 1,
        replaces: Some(draft.version),
        actor,
        at: super::now(),
    };
    save(conn, &next).await
}

/// Drops the draft of `id` read at `version`; 412 when it changed meanwhile.
pub async fn remove(conn: &impl ConnectionTrait, id: Uuid, version: i64) -> Result<()> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("DELETE FROM drafts WHERE item_id = ")
        .bind(id)
        .push(" AND version = ")
        .bind(version);
    if conn.execute_raw(sql.build()).await?.rows_affected() != 1 {
        return Err(AppError::PreconditionFailed(
            "the draft changed meanwhile; GET it again".into(),
        ));
    }
    Ok(())
}

/// Drops the draft of `id`, whatever its version (the item is deleted).
pub async fn forget(conn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("DELETE FROM drafts WHERE item_id = ").bind(id);
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

fn publish_at(document: &Map<String, Json>) -> Option<DateTime<Utc>> {
    document
        .get("publish_at")
        .and_then(Json::as_str)
        .and_then(|text| parse_timestamp(text).ok())
}
