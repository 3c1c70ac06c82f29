//! `reviews.ndjson`: the medical review history of reviewed items, one review per line
//! (`{collection, item, reviewed_at, reviewer, reviewer_name, reviewer_credentials, note,
//! version}`, and `draft: true` for a review of the item's draft), ordered by collection,
//! item and date; an item has one review per instant.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::Value as Json;
use uuid::Uuid;

use super::import::{ImportResult, Importer, RowFile};
use crate::domain::Collection;
use crate::domain::validate::{check_note, parse_timestamp};
use crate::error::Result;
use crate::service::item::timestamp;
use crate::service::sql::SqlBuilder;

pub const FILE: &str = "reviews.ndjson";

/// Longest reviewer name or credentials kept with a review.
const MAX_NAME: usize = 500;
const EXPORT_BATCH: u64 = 1000;

/// Writes every review through `write`, returning how many.
pub(super) async fn export(
    txn: &DatabaseTransaction,
    mut write: impl FnMut(&BTreeMap<&str, Json>) -> Result<()>,
) -> Result<u64> {
    let mut total = 0;
    for collection in Collection::ALL.into_iter().filter(|c| c.reviewable()) {
        let mut after: Option<(String, DateTime<Utc>)> = None;
        loop {
            let mut sql = SqlBuilder::new(txn.get_database_backend());
            sql.push(&format!(
                "SELECT t.slug AS item, r.reviewed_at, r.note, r.version, r.reviewer_name, \
                 r.reviewer_credentials, r.draft, a.slug AS reviewer FROM reviews r \
                 JOIN {} t ON t.id = r.item_id LEFT JOIN authors a ON a.id = r.reviewer_id \
                 WHERE r.collection = ",
                collection.table()
            ))
            .bind(collection.as_str());
            if let Some((item, at)) = after.take() {
                sql.push(" AND (t.slug > ")
                    .bind(item.clone())
                    .push(" OR (t.slug = ")
                    .bind(item)
                    .push(" AND r.reviewed_at > ")
                    .bind(at)
                    .push("))");
            }
            sql.push(&format!(
                " ORDER BY t.slug, r.reviewed_at LIMIT {EXPORT_BATCH}"
            ));
            let rows = txn.query_all_raw(sql.build()).await?;
            for row in &rows {
                let text = |column: &str| -> Result<Json> {
                    Ok(row
                        .try_get::<Option<String>>("", column)?
                        .map_or(Json::Null, Json::String))
                };
                let mut line = BTreeMap::new();
                line.insert("collection", Json::from(collection.as_str()));
                line.insert("item", text("item")?);
                line.insert("reviewed_at", timestamp(row.try_get("", "reviewed_at")?));
                line.insert("reviewer", text("reviewer")?);
                line.insert("reviewer_name", text("reviewer_name")?);
                line.insert("reviewer_credentials", text("reviewer_credentials")?);
                line.insert("note", text("note")?);
                let version: Option<i64> = row.try_get("", "version")?;
                line.insert("version", version.map_or(Json::Null, Json::from));
                if row.try_get::<bool>("", "draft")? {
                    line.insert("draft", Json::Bool(true));
                }
                write(&line)?;
            }
            total += rows.len() as u64;
            if (rows.len() as u64) < EXPORT_BATCH {
                break;
            }
            let last = rows.last().map(|r| -> Result<_> {
                Ok((r.try_get("", "item")?, r.try_get("", "reviewed_at")?))
            });
            after = last.transpose()?;
        }
    }
    Ok(total)
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Line {
    collection: String,
    item: String,
    reviewed_at: String,
    reviewer: Option<String>,
    reviewer_name: String,
    reviewer_credentials: Option<String>,
    note: Option<String>,
    version: Option<i64>,
    /// A review of the item's draft (which the import must hold).
    #[serde(default)]
    draft: bool,
}

/// A line checked against the file's rules and the database.
pub(super) struct Checked {
    collection: Collection,
    item: Uuid,
    reviewed_at: DateTime<Utc>,
    reviewer: Option<Uuid>,
    line: Line,
}

/// The review history file, read after the items its reviews name.
pub(super) struct Reviews;

impl RowFile for Reviews {
    const FILE: &'static str = FILE;
    const DUPLICATE: &'static str = "the item already has a review at this reviewed_at";
    type Line = Line;
    type Checked = Checked;
    type Key = (Collection, Uuid, DateTime<Utc>);

    async fn check(importer: &Importer<'_>, line: Line) -> ImportResult<Result<Checked, String>> {
        importer.check_review(line).await
    }

    fn key(checked: &Checked) -> Self::Key {
        (checked.collection, checked.item, checked.reviewed_at)
    }

    async fn store(importer: &Importer<'_>, checked: &Checked) -> ImportResult<bool> {
        importer.store_review(checked).await
    }
}

impl Importer<'_> {
    async fn check_review(&self, line: Line) -> ImportResult<Result<Checked, String>> {
        let Some(collection) = Collection::parse(&line.collection).filter(|c| c.reviewable())
        else {
            return Ok(Err(format!(
                "collection: {:?} is not a reviewed collection",
                line.collection
            )));
        };
        let reviewed_at = match parse_timestamp(&line.reviewed_at) {
            Ok(at) => at,
            Err(e) => return Ok(Err(format!("reviewed_at: {e}"))),
        };
        let name = line.reviewer_name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Ok(Err(format!(
                "reviewer_name: must be 1 to {MAX_NAME} characters"
            )));
        }
        if let Some(credentials) = &line.reviewer_credentials
            && credentials.chars().count() > MAX_NAME
        {
            return Ok(Err(format!(
                "reviewer_credentials: must be at most {MAX_NAME} characters"
            )));
        }
        if let Some(Err(e)) = line.note.as_deref().map(check_note) {
            return Ok(Err(format!("note: {e}")));
        }
        if line.version.is_some_and(|v| v < 1) {
            return Ok(Err("version: must be 1 or more".into()));
        }
        let Some(item) = self.id_of(collection, &line.item).await? else {
            return Ok(Err(format!(
                "item: no {} {:?}",
                collection.singular(),
                line.item
            )));
        };
        if line.draft && !self.has_draft(item).await? {
            return Ok(Err(format!(
                "draft: the {} {:?} has no draft in drafts.ndjson to have been reviewed",
                collection.singular(),
                line.item
            )));
        }
        let reviewer = match &line.reviewer {
            Some(slug) => match self.id_of(Collection::Authors, slug).await? {
                Some(id) => Some(id),
                None => return Ok(Err(format!("reviewer: no author {slug:?}"))),
            },
            None => None,
        };
        Ok(Ok(Checked {
            collection,
            item,
            reviewed_at,
            reviewer,
            line,
        }))
    }

    async fn id_of(&self, collection: Collection, slug: &str) -> ImportResult<Option<Uuid>> {
        let mut sql = SqlBuilder::new(self.backend);
        sql.push(&format!(
            "SELECT id FROM {} WHERE slug = ",
            collection.table()
        ))
        .bind(slug.to_owned());
        let row = self.txn.query_one_raw(sql.build()).await?;
        Ok(row.map(|r| r.try_get("", "id")).transpose()?)
    }

    async fn has_draft(&self, item: Uuid) -> ImportResult<bool> {
        let mut sql = SqlBuilder::new(self.backend);
        sql.push("SELECT 1 AS found FROM drafts WHERE item_id = ")
            .bind(item);
        Ok(self.txn.query_one_raw(sql.build()).await?.is_some())
    }

    /// Adds or changes the review; false when it was already as the file says.
    async fn store_review(&self, review: &Checked) -> ImportResult<bool> {
        let line = &review.line;
        let mut sql = SqlBuilder::new(self.backend);
        sql.push(
            "SELECT reviewer_id, reviewer_name, reviewer_credentials, note, version, draft \
             FROM reviews WHERE collection = ",
        )
        .bind(review.collection.as_str())
        .push(" AND item_id = ")
        .bind(review.item)
        .push(" AND reviewed_at = ")
        .bind(review.reviewed_at);
        let stored = self.txn.query_one_raw(sql.build()).await?;
        let name = line.reviewer_name.trim().to_owned();
        let mut sql = SqlBuilder::new(self.backend);
        match stored {
            Some(row) => {
                let same = row.try_get::<Option<Uuid>>("", "reviewer_id")? == review.reviewer
                    && row.try_get::<String>("", "reviewer_name")? == name
                    && row.try_get::<Option<String>>("", "reviewer_credentials")?
                        == line.reviewer_credentials
                    && row.try_get::<Option<String>>("", "note")? == line.note
                    && row.try_get::<Option<i64>>("", "version")? == line.version
                    && row.try_get::<bool>("", "draft")? == line.draft;
                if same {
                    return Ok(false);
                }
                sql.push("UPDATE reviews SET reviewer_id = ")
                    .bind(review.reviewer)
                    .push(", reviewer_name = ")
                    .bind(name)
                    .push(", reviewer_credentials = ")
                    .bind(line.reviewer_credentials.clone())
                    .push(", note = ")
                    .bind(line.note.clone())
                    .push(", version = ")
                    .bind(line.version)
                    .push(", draft = ")
                    .bind(line.draft)
                    .push(" WHERE collection = ")
                    .bind(review.collection.as_str())
                    .push(" AND item_id = ")
                    .bind(review.item)
                    .push(" AND reviewed_at = ")
                    .bind(review.reviewed_at);
            }
            None => {
                sql.push(
                    "INSERT INTO reviews (id, collection, item_id, reviewer_id, \
                     reviewer_name, reviewer_credentials, reviewed_at, note, version, \
                     recorded_at, draft) VALUES (",
                )
                .bind(Uuid::new_v4())
                .push(", ")
                .bind(review.collection.as_str())
                .push(", ")
                .bind(review.item)
                .push(", ")
                .bind(review.reviewer)
                .push(", ")
                .bind(name)
                .push(", ")
                .bind(line.reviewer_credentials.clone())
                .push(", ")
                .bind(review.reviewed_at)
                .push(", ")
                .bind(line.note.clone())
                .push(", ")
                .bind(line.version)
                .push(", ")
                .bind(super::now())
                .push(", ")
                .bind(line.draft)
                .push(")");
            }
        }
        self.txn.execute_raw(sql.build()).await?;
        Ok(true)
    }
}
