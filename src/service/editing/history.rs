//! Revisions: a full snapshot of the editable document after every content write,
//! numbered per item from 1; listed, read, compared and restored (a restore is itself a
//! new revision). Workflow steps change no content and are in the audit log instead.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::document::{Document, link_relations};
use super::{Editor, Precondition, Written, check_precondition, current, now};
use crate::domain::{Collection, PageSize, Scope, Status};
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::item::timestamp;
use crate::service::sql::SqlBuilder;

#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &impl ConnectionTrait,
    editor: &Editor<'_>,
    collection: Collection,
    item_id: Uuid,
    document: &Document,
    status: Status,
    version: i64,
    summary: &str,
) -> Result<()> {
    let snapshot = json!({ "status": status, "version": version, "document": document });
    insert(conn, editor, collection, item_id, snapshot, summary).await
}

/// Records a write to the draft of a published item: a revision of the draft, marked so.
pub async fn record_draft(
    conn: &impl ConnectionTrait,
    editor: &Editor<'_>,
    collection: Collection,
    item_id: Uuid,
    draft: &super::drafts::NewDraft<'_>,
    summary: &str,
) -> Result<()> {
    let snapshot = json!({
        "status": draft.status,
        "version": draft.version,
        "document": draft.document,
        "draft": true,
    });
    insert(conn, editor, collection, item_id, snapshot, summary).await
}

async fn insert(
    conn: &impl ConnectionTrait,
    editor: &Editor<'_>,
    collection: Collection,
    item_id: Uuid,
    snapshot: Json,
    summary: &str,
) -> Result<()> {
    // The next number is computed by the insert itself: one statement under the write lock.
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push(
        "INSERT INTO revisions (item_id, number, collection, snapshot, actor, summary, \
         request_id, created_at) SELECT ",
    );
    sql.bind(item_id)
        .push(", COALESCE(MAX(number), 0) + 1, ")
        .bind(collection.as_str().to_owned())
        .push(", ");
    sql.bind(snapshot).push(", ");
    sql.bind(editor.actor().map(str::to_owned)).push(", ");
    sql.bind(summary.to_owned()).push(", ");
    sql.bind(editor.request_id.map(str::to_owned)).push(", ");
    sql.bind(now())
        .push(" FROM revisions WHERE item_id = ")
        .bind(item_id);
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub number: i64,
    /// The item's version this revision produced.
    pub version: i64,
    /// The item's status when the revision was written (its draft's, for a draft).
    pub status: String,
    /// Whether the revision is of the draft of a published item (readers did not see it).
    pub draft: bool,
    pub created_at: Json,
    /// The API key that wrote it.
    pub actor: Option<String>,
    pub summary: String,
    pub request_id: Option<String>,
    /// The full editable document (only on a single revision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Json>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// JSON pointer into the document.
    pub pointer: String,
    pub before: Json,
    pub after: Json,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Diff {
    pub from: i64,
    pub to: i64,
    pub changes: Vec<Change>,
}

async fn item_id(db: &DatabaseConnection, collection: Collection, slug: &str) -> Result<Uuid> {
    Ok(current(db, collection, slug).await?.id)
}

fn revision(row: &sea_orm::QueryResult, with_document: bool) -> Result<Revision> {
    let snapshot: Json = row.try_get("", "snapshot")?;
    Ok(Revision {
        number: row.try_get("", "number")?,
        version: snapshot.get("version").and_then(Json::as_i64).unwrap_or(0),
        status: snapshot
            .get("status")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        draft: snapshot
            .get("draft")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        created_at: timestamp(row.try_get("", "created_at")?),
        actor: row.try_get("", "actor")?,
        summary: row.try_get("", "summary")?,
        request_id: row.try_get("", "request_id")?,
        document: with_document.then(|| snapshot.get("document").cloned().unwrap_or(Json::Null)),
    })
}

const COLUMNS: &str = "number, snapshot, created_at, actor, summary, request_id";

/// Newest first; `before` is the number of the last revision of the previous page.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    collection: Collection,
    slug: &str,
    limit: PageSize,
    before: Option<i64>,
) -> Result<(Vec<Revision>, Option<i64>)> {
    caller.require(Scope::Preview)?;
    let id = item_id(db, collection, slug).await?;
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(&format!("SELECT {COLUMNS} FROM revisions WHERE item_id = "))
        .bind(id);
    if let Some(before) = before {
        sql.push(" AND number < ").bind(before);
    }
    sql.push(" ORDER BY number DESC LIMIT ")
        .bind(i64::from(limit.get()) + 1);
    let mut out = db
        .query_all_raw(sql.build())
        .await?
        .iter()
        .map(|row| revision(row, false))
        .collect::<Result<Vec<_>>>()?;
    let more = out.len() > limit.get() as usize;
    out.truncate(limit.get() as usize);
    let next = more.then(|| out.last().map(|r| r.number)).flatten();
    Ok((out, next))
}

pub async fn get(
    db: &DatabaseConnection,
    caller: &Caller,
    collection: Collection,
    slug: &str,
    number: i64,
) -> Result<Revision> {
    caller.require(Scope::Preview)?;
    let id = item_id(db, collection, slug).await?;
    load(db, id, number, slug).await
}

async fn load(conn: &impl ConnectionTrait, id: Uuid, number: i64, slug: &str) -> Result<Revision> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push(&format!("SELECT {COLUMNS} FROM revisions WHERE item_id = "))
        .bind(id)
        .push(" AND number = ")
        .bind(number);
    let row = conn
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{slug:?} has no revision {number}")))?;
    revision(&row, true)
}

/// What changed from revision `from` (default: the one before) to revision `to`.
pub async fn diff(
    db: &DatabaseConnection,
    caller: &Caller,
    collection: Collection,
    slug: &str,
    to: i64,
    from: Option<i64>,
) -> Result<Diff> {
    caller.require(Scope::Preview)?;
    let id = item_id(db, collection, slug).await?;
    let from = from.unwrap_or(to - 1);
    let after = load(db, id, to, slug).await?.document.unwrap_or(Json::Null);
    let before = if from == 0 {
        Json::Object(Default::default())
    } else {
        load(db, id, from, slug)
            .await?
            .document
            .unwrap_or(Json::Null)
    };
    Ok(Diff {
        from,
        to,
        changes: changes(&before, &after),
    })
}

/// What the draft of a published item changes, against the published version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DraftDiff {
    /// The version readers see.
    pub published_version: i64,
    /// The draft's version.
    pub draft_version: i64,
    /// The draft's status: `draft` or `in_review`.
    pub draft_status: String,
    pub changes: Vec<Change>,
}

/// The draft of `slug` against its published version; 404 when it has no draft.
pub async fn draft_diff(
    db: &DatabaseConnection,
    caller: &Caller,
    collection: Collection,
    slug: &str,
) -> Result<DraftDiff> {
    caller.require(Scope::Preview)?;
    let stored = current(db, collection, slug).await?;
    let Some(draft) = &stored.draft else {
        return Err(AppError::NotFound(format!(
            "the {} {slug:?} has no draft",
            collection.singular()
        )));
    };
    let links = super::document::load_links(db, collection, stored.id).await?;
    let published = super::document::document_of(collection, &stored.stored, links);
    Ok(DraftDiff {
        published_version: stored.row_version,
        draft_version: draft.version,
        draft_status: draft.status.as_str().to_owned(),
        changes: changes(
            &Json::Object(published),
            &Json::Object(draft.document.clone()),
        ),
    })
}

/// Top-level changes between two documents (fields are compared whole: a changed list
/// or link set is one change).
pub fn changes(before: &Json, after: &Json) -> Vec<Change> {
    let empty = serde_json::Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| Change {
            pointer: format!("/{}", super::document::escape(k)),
            before: before.get(k).cloned().unwrap_or(Json::Null),
            after: after.get(k).cloned().unwrap_or(Json::Null),
        })
        .collect()
}

impl Editor<'_> {
    /// Writes revision `number`'s document back as a new version (and a new revision).
    pub async fn restore(
        &self,
        collection: Collection,
        slug: &str,
        number: i64,
        precondition: &Precondition,
    ) -> Result<Written> {
        self.caller.require(Scope::Write)?;
        let stored = current(self.db, collection, slug).await?;
        self.require_edit(stored.editing_status())?;
        check_precondition(precondition, &stored)?;
        let revision = load(self.db, stored.id, number, slug).await?;
        let Some(Json::Object(after)) = revision.document else {
            return Err(AppError::internal_msg(format!(
                "revision {number} of {slug:?} has no document"
            )));
        };
        let before = super::document::editable(self.db, collection, &stored).await?;
        let changed: Vec<String> = link_relations(collection)
            .iter()
            .map(|r| r.name.to_owned())
            .collect();
        let summary = format!("restore revision {number}");
        self.replace(collection, stored, before, after, &changed, &summary)
            .await
    }
}
