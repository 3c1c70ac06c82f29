//! The workflow of a published item's draft: edits write the draft (readers keep the
//! published row), `submit` puts it in review, `publish` writes it over the row (with the
//! publication's blockers), `unpublish` and `archive` keep its content on the item they
//! take offline, and `discard` drops it.

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};

use super::document::{self, Current, Document, document_of, load_links};
use super::drafts::{self, Draft, NewDraft};
use super::links::write_links;
use super::resolve::resolve;
use super::workflow::Transition;
use super::write::{slug_of, stored_slug};
use super::{Editor, Precondition, Written, audit, check_precondition, current, history, now};
use crate::domain::webhook::EventType;
use crate::domain::{Collection, Scope, Status};
use crate::error::{AppError, Result};
use crate::service::reviews;
use crate::service::sql::SqlBuilder;
use crate::service::webhooks::ItemRef;

/// 412 unless the row of `stored` is still at the version read (locked until the end
/// of the transaction on PostgreSQL; SQLite's write transaction holds the database).
async fn row_unchanged(
    txn: &impl ConnectionTrait,
    collection: Collection,
    stored: &Current,
) -> Result<()> {
    let backend = txn.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    sql.push(&format!(
        "SELECT version FROM {} WHERE id = ",
        collection.table()
    ))
    .bind(stored.id);
    if backend == sea_orm::DbBackend::Postgres {
        sql.push(" FOR UPDATE");
    }
    let version: Option<i64> = match txn.query_one_raw(sql.build()).await? {
        Some(row) => Some(row.try_get("", "version")?),
        None => None,
    };
    if version != Some(stored.row_version) {
        return Err(AppError::PreconditionFailed(
            "the item changed while this write was applied; GET it again".into(),
        ));
    }
    Ok(())
}

/// How a step on a draft ends: its audit entry and the event of the item it leaves.
struct End<'a> {
    action: &'a str,
    detail: Json,
    slug: &'a str,
    status: Status,
    version: i64,
    event: EventType,
    stale: &'a [String],
}

impl Editor<'_> {
    /// Records `end` in the audit log and commits `txn` with its event: the item as
    /// editors now read it.
    async fn end(
        &self,
        txn: super::WriteTxn<'_>,
        collection: Collection,
        id: uuid::Uuid,
        end: End<'_>,
    ) -> Result<Written> {
        let (slug, detail) = (end.slug, end.detail);
        audit::record(&*txn, self, end.action, collection, Some(id), slug, detail).await?;
        let item = ItemRef {
            collection,
            id,
            slug,
            status: end.status,
            version: end.version,
        };
        self.finish(txn, end.stale, end.event, Some(item)).await?;
        super::written(self.db, collection, slug).await
    }

    /// Stores `after` as the draft of the published item `stored` (whose editable
    /// document is `before`): checked as any edit is, invisible to readers, so nothing
    /// they read is invalidated.
    pub(super) async fn replace_draft(
        &self,
        collection: Collection,
        stored: Current,
        before: Document,
        mut after: Document,
        action: &str,
    ) -> Result<Written> {
        self.check_edit(collection, stored.id, &before, &mut after)
            .await?;
        let slug = stored_slug(&stored);
        if after == before {
            return super::written(self.db, collection, &slug).await;
        }
        let txn = self.begin().await?;
        let draft = NewDraft {
            collection,
            id: stored.id,
            document: &after,
            status: stored.draft.as_ref().map_or(Status::Draft, |d| d.status),
            version: stored.version + 1,
            replaces: stored.draft.as_ref().map(|d| d.version),
            actor: self.actor(),
            at: now(),
        };
        if draft.replaces.is_none() {
            // The draft starts from the row as read: it may not have moved meanwhile.
            row_unchanged(&*txn, collection, &stored).await?;
        }
        drafts::save(&*txn, &draft).await?;
        let keys: Vec<&str> = after
            .keys()
            .filter(|k| before.get(*k) != after.get(*k))
            .map(String::as_str)
            .collect();
        let summary = match action {
            "update" => format!("draft: updated {}", keys.join(", ")),
            other => format!("draft: {other}: {}", keys.join(", ")),
        };
        history::record_draft(&*txn, self, collection, stored.id, &draft, &summary).await?;
        let detail = json!({ "changed": keys, "version": draft.version, "draft": true });
        let action = action.split(' ').next().unwrap_or("update");
        let end = End {
            action,
            detail,
            slug: &slug,
            status: draft.status,
            version: draft.version,
            event: EventType::DraftUpdated,
            stale: &[],
        };
        self.end(txn, collection, stored.id, end).await
    }

    /// Drops the draft of a published item; readers saw nothing of it, editors see the
    /// published version again.
    pub async fn discard(
        &self,
        collection: Collection,
        slug: &str,
        precondition: &Precondition,
    ) -> Result<Written> {
        self.caller.require(Scope::Write)?;
        self.precheck(collection, slug, precondition, false).await?;
        let txn = self.begin().await?;
        let stored = current(&*txn, collection, slug).await?;
        check_precondition(precondition, &stored)?;
        let Some(draft) = &stored.draft else {
            return Err(AppError::Conflict(format!(
                "the {} {slug:?} has no draft to discard",
                collection.singular()
            )));
        };
        reviews::discard_draft_reviews(&*txn, stored.id).await?;
        drafts::remove(&*txn, stored.id, draft.version).await?;
        let end = End {
            action: "discard",
            detail: json!({ "version": draft.version, "draft": true }),
            slug,
            status: stored.status,
            version: stored.row_version,
            event: EventType::DraftDiscarded,
            stale: &[],
        };
        self.end(txn, collection, stored.id, end).await
    }

    /// Takes `step` on a published item that has a draft, inside `txn`, and ends it.
    pub(super) async fn step_with_draft(
        &self,
        txn: super::WriteTxn<'_>,
        collection: Collection,
        stored: Current,
        draft: Draft,
        step: Transition,
    ) -> Result<Written> {
        if step == Transition::Submit {
            return self.submit_draft(txn, collection, &stored, draft).await;
        }
        if step == Transition::Publish {
            let blockers = super::blockers::publish_blockers(
                &txn,
                collection,
                &stored,
                self.review.medical_review,
            )
            .await?;
            if !blockers.is_empty() {
                return Err(AppError::Blocked(
                    format!(
                        "the draft of the {} cannot be published yet: {} blocker(s)",
                        collection.singular(),
                        blockers.len()
                    ),
                    blockers,
                ));
            }
        }
        let links = load_links(&*txn, collection, stored.id).await?;
        let before = document_of(collection, &stored.stored, links);
        let mut after = draft.document.clone();
        // The step fulfils its schedule (`schedule::cleared_by`), here in the document
        // (every column of which is written).
        let fulfilled = match step {
            Transition::Publish => "publish_at",
            _ => "unpublish_at",
        };
        after.insert(fulfilled.into(), Json::Null);
        let differs = document::differing(collection, &before, &after);
        let resolved =
            match resolve(&*txn, collection, &after, Some(stored.id), Some(&differs)).await? {
                Ok(resolved) => resolved,
                Err(found) => return Err(AppError::Validation(found)),
            };
        let to = step.to();
        let at = now();
        let version = stored.version.max(stored.row_version) + 1;
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!("UPDATE {} SET ", collection.table()));
        for (column, value) in resolved.columns.iter().cloned() {
            sql.push(column).push(" = ").bind(value).push(", ");
        }
        sql.push("status = ").bind(to.as_str());
        sql.push(", updated_at = ").bind(at);
        if step == Transition::Publish {
            sql.push(", schedule_error = NULL");
        }
        // The draft's text becomes the item's, and so do the reviews of it.
        if let Some(latest) = reviews::publish_draft_reviews(&*txn, stored.id).await? {
            let interval = i64::from(self.review.review_interval_days);
            let due = latest + chrono::Duration::days(interval);
            let newer = "WHEN last_reviewed_at IS NULL OR last_reviewed_at < ";
            sql.push(&format!(", next_review_due = CASE {newer}"))
                .bind(latest)
                .push(" THEN ")
                .bind(due)
                .push(" ELSE next_review_due END");
            sql.push(&format!(", last_reviewed_at = CASE {newer}"))
                .bind(latest)
                .push(" THEN ")
                .bind(latest)
                .push(" ELSE last_reviewed_at END");
        }
        super::update_to_version(
            &*txn,
            sql,
            stored.id,
            stored.row_version,
            version,
            "this step",
        )
        .await?;
        let changed: Vec<String> = differs.iter().map(|name| (*name).to_owned()).collect();
        write_links(&txn, stored.id, &resolved, Some(&changed)).await?;
        drafts::remove(&*txn, stored.id, draft.version).await?;
        let mut keys: Vec<&str> = differs.iter().copied().collect();
        keys.sort_unstable();
        let summary = format!("{} draft: {}", step.name(), keys.join(", "));
        history::record(
            &*txn, self, collection, stored.id, &after, to, version, &summary,
        )
        .await?;
        let stale = super::stale_tags(collection, &before, &after);
        let end = End {
            action: step.name(),
            detail: json!({ "from": draft.status, "to": to, "version": version, "draft": true }),
            slug: &slug_of(&after),
            status: to,
            version,
            event: step.event(),
            stale: &stale,
        };
        self.end(txn, collection, stored.id, end).await
    }

    /// `submit` of a draft: it goes into review (readers still see the published item).
    async fn submit_draft(
        &self,
        txn: super::WriteTxn<'_>,
        collection: Collection,
        stored: &Current,
        draft: Draft,
    ) -> Result<Written> {
        let slug = stored_slug(stored);
        if draft.status != Status::Draft {
            return Err(AppError::Conflict(format!(
                "the draft of the {} is already in review",
                collection.singular()
            )));
        }
        let next = NewDraft {
            collection,
            id: stored.id,
            document: &draft.document,
            status: Status::InReview,
            version: draft.version + 1,
            replaces: Some(draft.version),
            actor: self.actor(),
            at: now(),
        };
        drafts::save(&*txn, &next).await?;
        let detail = json!({ "from": Status::Draft, "to": Status::InReview,
                             "version": next.version, "draft": true });
        let end = End {
            action: "submit",
            detail,
            slug: &slug,
            status: Status::InReview,
            version: next.version,
            event: EventType::ItemSubmitted,
            stale: &[],
        };
        self.end(txn, collection, stored.id, end).await
    }
}
