//! Medical review history: every review recorded of an item (who, with the name and
//! credentials they had then; when; the note; the version it made). The history of a
//! published item is public: it is how a reader sees who vouched for what they read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};
use serde::Serialize;
use uuid::Uuid;

use super::Visibility;
use super::cache::item_tag;
use super::sql::SqlBuilder;
use crate::domain::{Collection, PageSize, Status};
use crate::error::{AppError, Result};

/// One review, as readers get it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub reviewed_at: String,
    pub note: Option<String>,
    /// The item's version the review made (none for reviews recorded before reviews
    /// made versions).
    pub version: Option<i64>,
    /// Null when the reviewer is no longer an author the reader may see.
    pub reviewer: Option<Reviewer>,
    /// A review of the item's draft, pending its publication (shown to preview readers
    /// only); left out of REST histories when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
}

/// Who reviewed, as they were when they reviewed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reviewer {
    pub slug: String,
    pub name: String,
    pub credentials: Option<String>,
}

/// A review about to be recorded.
pub struct NewReview<'a> {
    pub collection: Collection,
    pub item: Uuid,
    pub reviewer: Uuid,
    pub reviewed_at: DateTime<Utc>,
    pub note: Option<&'a str>,
    pub version: i64,
    pub recorded_at: DateTime<Utc>,
    /// A review of the item's draft: out of its history until the draft is published.
    pub draft: bool,
}

/// Records `review`, with the reviewer's name and credentials as they are now. An item
/// has one review per instant: a second at the same `reviewed_at` is refused (409).
pub async fn record(conn: &impl ConnectionTrait, review: &NewReview<'_>) -> Result<()> {
    let backend = conn.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT 1 AS found FROM reviews WHERE collection = ")
        .bind(review.collection.as_str())
        .push(" AND item_id = ")
        .bind(review.item)
        .push(" AND reviewed_at = ")
        .bind(review.reviewed_at);
    if conn.query_one_raw(sql.build()).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "a review of this {} at {} is already recorded",
            review.collection.singular(),
            super::item::timestamp(Some(review.reviewed_at))
                .as_str()
                .unwrap_or_default()
        )));
    }
    let mut sql = SqlBuilder::new(backend);
    sql.push(
        "INSERT INTO reviews (id, collection, item_id, reviewer_id, reviewer_name, \
         reviewer_credentials, reviewed_at, note, version, recorded_at, draft) SELECT ",
    )
    .bind(Uuid::new_v4())
    .push(", ")
    .bind(review.collection.as_str())
    .push(", ")
    .bind(review.item)
    .push(", a.id, a.name, a.credentials, ")
    .bind(review.reviewed_at)
    .push(", ")
    .bind(review.note.map(str::to_owned))
    .push(", ")
    .bind(review.version)
    .push(", ")
    .bind(review.recorded_at)
    .push(", ")
    .bind(review.draft)
    .push(" FROM authors a WHERE a.id = ")
    .bind(review.reviewer);
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

/// Deletes an item's reviews (with the item, for good).
pub async fn forget(conn: &impl ConnectionTrait, collection: Collection, item: Uuid) -> Result<()> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("DELETE FROM reviews WHERE collection = ")
        .bind(collection.as_str())
        .push(" AND item_id = ")
        .bind(item);
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

/// Makes the reviews of an item's draft reviews of the item (its draft is being written
/// over it): the latest one's date, if there were any.
pub async fn publish_draft_reviews(
    conn: &impl ConnectionTrait,
    item: Uuid,
) -> Result<Option<DateTime<Utc>>> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("UPDATE reviews SET draft = ")
        .bind(false)
        .push(" WHERE item_id = ")
        .bind(item)
        .push(" AND draft = ")
        .bind(true)
        .push(" RETURNING reviewed_at");
    let mut latest: Option<DateTime<Utc>> = None;
    for row in conn.query_all_raw(sql.build()).await? {
        let at: DateTime<Utc> = row.try_get("", "reviewed_at")?;
        latest = latest.max(Some(at));
    }
    Ok(latest)
}

/// Drops the reviews of an item's draft, with the draft (the audit log keeps them).
pub async fn discard_draft_reviews(conn: &impl ConnectionTrait, item: Uuid) -> Result<()> {
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("DELETE FROM reviews WHERE item_id = ")
        .bind(item)
        .push(" AND draft = ")
        .bind(true);
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

/// A page of an item's history, newest review first.
pub struct History {
    pub reviews: Vec<Review>,
    /// The `reviewed_at` to pass as `cursor` for the next page.
    pub next: Option<String>,
    /// When the item last changed (a review changes it).
    pub updated_at: Option<DateTime<Utc>>,
    /// The item and every reviewer named (a reviewer's publication shows them).
    pub tags: Vec<String>,
}

const COLUMNS: &str = "r.item_id, r.reviewed_at, r.note, r.version, r.draft, r.reviewer_name, \
     r.reviewer_credentials, a.slug AS reviewer_slug, a.status AS reviewer_status";

/// Keeps the reviews of drafts out of a history, except for preview readers.
fn push_shown(sql: &mut SqlBuilder, visibility: Visibility) {
    if visibility == Visibility::PublishedOnly {
        sql.push(" AND r.draft = ").bind(false);
    }
}

/// The history of the item `slug`, if the caller may see the item: `limit` reviews
/// reviewed before `before` (a previous page's cursor), newest first.
pub async fn history(
    conn: &impl ConnectionTrait,
    visibility: Visibility,
    collection: Collection,
    slug: &str,
    limit: PageSize,
    before: Option<DateTime<Utc>>,
) -> Result<History> {
    let not_found = || AppError::NotFound(format!("no {} {slug:?}", collection.singular()));
    let backend = conn.get_database_backend();
    if !collection.reviewable() {
        return Err(not_found());
    }
    let mut sql = SqlBuilder::new(backend);
    sql.push(&format!(
        "SELECT id, status, updated_at FROM {} WHERE slug = ",
        collection.table()
    ))
    .bind(slug.to_owned());
    let item = conn
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(not_found)?;
    if !visibility.can_see(stored_status(&item.try_get::<String>("", "status")?)?) {
        return Err(not_found());
    }
    let id: Uuid = item.try_get("", "id")?;
    let mut sql = SqlBuilder::new(backend);
    sql.push(&format!(
        "SELECT {COLUMNS} FROM reviews r LEFT JOIN authors a ON a.id = r.reviewer_id \
         WHERE r.collection = "
    ))
    .bind(collection.as_str())
    .push(" AND r.item_id = ")
    .bind(id);
    push_shown(&mut sql, visibility);
    if let Some(before) = before {
        sql.push(" AND r.reviewed_at < ").bind(before);
    }
    sql.push(&format!(
        " ORDER BY r.reviewed_at DESC LIMIT {}",
        limit.get() + 1
    ));
    let rows = conn.query_all_raw(sql.build()).await?;
    let mut tags = vec![item_tag(collection.singular(), slug)];
    let mut reviews = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows.iter().take(limit.get() as usize) {
        reviewer_tag(row, &mut tags)?;
        reviews.push(review_of(row, visibility)?);
        last = Some(row.try_get::<DateTime<Utc>>("", "reviewed_at")?);
    }
    let more = rows.len() > limit.get() as usize;
    Ok(History {
        reviews,
        next: last
            .filter(|_| more)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        updated_at: item.try_get("", "updated_at")?,
        tags,
    })
}

/// The histories of items the caller was shown, newest review first, each with the tags
/// of the reviewers it names (a reviewer's publication shows them).
pub async fn histories(
    conn: &impl ConnectionTrait,
    visibility: Visibility,
    collection: Collection,
    items: &[Uuid],
) -> Result<HashMap<Uuid, (Vec<Review>, Vec<String>)>> {
    let mut found: HashMap<Uuid, (Vec<Review>, Vec<String>)> = HashMap::new();
    if items.is_empty() {
        return Ok(found);
    }
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push(&format!(
        "SELECT {COLUMNS} FROM reviews r LEFT JOIN authors a ON a.id = r.reviewer_id \
         WHERE r.collection = "
    ))
    .bind(collection.as_str())
    .push(" AND r.item_id IN ")
    .bind_list(items.iter().copied());
    push_shown(&mut sql, visibility);
    sql.push(" ORDER BY r.item_id, r.reviewed_at DESC");
    for row in conn.query_all_raw(sql.build()).await? {
        let item: Uuid = row.try_get("", "item_id")?;
        let (reviews, tags) = found.entry(item).or_default();
        reviewer_tag(&row, tags)?;
        reviews.push(review_of(&row, visibility)?);
    }
    Ok(found)
}

fn reviewer_tag(row: &QueryResult, tags: &mut Vec<String>) -> Result<()> {
    if let Some(slug) = row.try_get::<Option<String>>("", "reviewer_slug")? {
        let tag = item_tag(Collection::Authors.singular(), &slug);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(())
}

fn review_of(row: &QueryResult, visibility: Visibility) -> Result<Review> {
    let slug: Option<String> = row.try_get("", "reviewer_slug")?;
    let status: Option<String> = row.try_get("", "reviewer_status")?;
    let visible = match status {
        Some(status) => visibility.can_see(stored_status(&status)?),
        None => false,
    };
    let reviewer = match slug.filter(|_| visible) {
        Some(slug) => Some(Reviewer {
            slug,
            name: row.try_get("", "reviewer_name")?,
            credentials: row.try_get("", "reviewer_credentials")?,
        }),
        None => None,
    };
    let reviewed_at: DateTime<Utc> = row.try_get("", "reviewed_at")?;
    Ok(Review {
        reviewed_at: reviewed_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        note: row.try_get("", "note")?,
        version: row.try_get("", "version")?,
        reviewer,
        draft: row.try_get("", "draft")?,
    })
}

/// A status read from the database (its check constraint admits only these).
fn stored_status(text: &str) -> Result<Status> {
    Status::parse(text).ok_or_else(|| AppError::internal_msg(format!("stored status {text:?}")))
}
