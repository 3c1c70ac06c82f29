//! The audit log: who did what to which item, when, from which request. Written in the
//! same transaction as the change it records; readable by admin keys.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use serde_json::Value as Json;
use uuid::Uuid;

use super::{Editor, now};
use crate::domain::{Collection, PageSize, Scope};
use crate::error::Result;
use crate::service::Caller;
use crate::service::item::timestamp;
use crate::service::sql::SqlBuilder;

#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &impl ConnectionTrait,
    editor: &Editor<'_>,
    action: &str,
    collection: Collection,
    item_id: Option<Uuid>,
    slug: &str,
    detail: Json,
) -> Result<()> {
    record_raw(
        conn,
        editor.actor(),
        editor.request_id,
        action,
        Some(collection.as_str()),
        item_id,
        Some(slug),
        detail,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn record_raw(
    conn: &impl ConnectionTrait,
    actor: Option<&str>,
    request_id: Option<&str>,
    action: &str,
    collection: Option<&str>,
    item_id: Option<Uuid>,
    slug: Option<&str>,
    detail: Json,
) -> Result<()> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push(
        "INSERT INTO audit_log (id, at, actor, action, collection, item_id, slug, request_id, \
         detail) VALUES (",
    );
    sql.bind(Uuid::now_v7()).push(", ").bind(now()).push(", ");
    sql.bind(actor.map(str::to_owned)).push(", ");
    sql.bind(action.to_owned()).push(", ");
    sql.bind(collection.map(str::to_owned)).push(", ");
    sql.bind(item_id).push(", ");
    sql.bind(slug.map(str::to_owned)).push(", ");
    sql.bind(request_id.map(str::to_owned)).push(", ");
    sql.bind(detail).push(")");
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: Json,
    /// The API key name, or null for the CLI.
    pub actor: Option<String>,
    /// `create`, `update`, `submit`, `publish`, `unpublish`, `archive`, `restore`,
    /// `review`, `delete`, `key.create`, `key.revoke`.
    pub action: String,
    pub collection: Option<String>,
    pub item_id: Option<String>,
    pub slug: Option<String>,
    pub request_id: Option<String>,
    pub detail: Json,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub collection: Option<Collection>,
    pub slug: Option<String>,
    pub action: Option<String>,
    pub limit: PageSize,
    /// The id of the last entry of the previous page.
    pub before: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub page: AuditCursor,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditCursor {
    pub next_cursor: Option<String>,
    pub limit: u32,
}

/// Newest first, keyset-paginated by id (UUIDv7 ids are time-ordered).
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    query: &AuditQuery,
) -> Result<AuditPage> {
    caller.require(Scope::Admin)?;
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(
        "SELECT id, at, actor, action, collection, item_id, slug, request_id, detail \
         FROM audit_log WHERE 1 = 1",
    );
    if let Some(collection) = query.collection {
        sql.push(" AND collection = ")
            .bind(collection.as_str().to_owned());
    }
    if let Some(slug) = &query.slug {
        sql.push(" AND slug = ").bind(slug.clone());
    }
    if let Some(action) = &query.action {
        sql.push(" AND action = ").bind(action.clone());
    }
    if let Some(before) = query.before {
        sql.push(" AND id < ").bind(before);
    }
    sql.push(" ORDER BY id DESC LIMIT ")
        .bind(i64::from(query.limit.get()) + 1);
    let mut data = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        let id: Uuid = row.try_get("", "id")?;
        let item_id: Option<Uuid> = row.try_get("", "item_id")?;
        data.push(AuditEntry {
            id: id.to_string(),
            at: timestamp(row.try_get("", "at")?),
            actor: row.try_get("", "actor")?,
            action: row.try_get("", "action")?,
            collection: row.try_get("", "collection")?,
            item_id: item_id.map(|i| i.to_string()),
            slug: row.try_get("", "slug")?,
            request_id: row.try_get("", "request_id")?,
            detail: row.try_get("", "detail")?,
        });
    }
    let more = data.len() > query.limit.get() as usize;
    data.truncate(query.limit.get() as usize);
    Ok(AuditPage {
        page: AuditCursor {
            next_cursor: more.then(|| data.last().map(|e| e.id.clone())).flatten(),
            limit: query.limit.get(),
        },
        data,
    })
}
