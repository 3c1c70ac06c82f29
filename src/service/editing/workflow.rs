//! The editorial workflow (`draft → in_review → published → archived`, and back to
//! `draft` for corrections), what blocks a publication or a deletion, and recording a
//! medical review.

use sea_orm::ConnectionTrait;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::blockers::publish_blockers;
use super::document::{Document, escape};
use super::{Editor, Precondition, Written, audit, check_precondition, current, now};
use crate::domain::validate::parse_timestamp;
use crate::domain::webhook::EventType;
use crate::domain::{Collection, Scope, Slug, Status};
use crate::error::{AppError, FieldError, Result};
use crate::service::sql::SqlBuilder;
use crate::service::webhooks::ItemRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Submit,
    Publish,
    Unpublish,
    Archive,
}

impl Transition {
    pub const ALL: [Transition; 4] = [
        Transition::Submit,
        Transition::Publish,
        Transition::Unpublish,
        Transition::Archive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::Publish => "publish",
            Transition::Unpublish => "unpublish",
            Transition::Archive => "archive",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// `write` submits drafts for review; everything that changes what readers see
    /// needs `publish`.
    pub fn scope(self) -> Scope {
        match self {
            Transition::Submit => Scope::Write,
            _ => Scope::Publish,
        }
    }

    /// The statuses the step starts from.
    pub fn from(self) -> &'static [Status] {
        use Status::{Archived, Draft, InReview, Published};
        match self {
            Transition::Submit => &[Draft],
            Transition::Publish => &[Draft, InReview],
            Transition::Unpublish => &[InReview, Published, Archived],
            Transition::Archive => &[Draft, InReview, Published],
        }
    }

    /// The status the step leads to.
    pub fn to(self) -> Status {
        match self {
            Transition::Submit => Status::InReview,
            Transition::Publish => Status::Published,
            Transition::Unpublish => Status::Draft,
            Transition::Archive => Status::Archived,
        }
    }

    /// The webhook event the step causes.
    pub fn event(self) -> EventType {
        match self {
            Transition::Submit => EventType::ItemSubmitted,
            Transition::Publish => EventType::ItemPublished,
            Transition::Unpublish => EventType::ItemUnpublished,
            Transition::Archive => EventType::ItemArchived,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Transition::Submit => "Submits a draft for review (`draft → in_review`).",
            Transition::Publish => {
                "Publishes (`draft | in_review → published`); refused with the list of \
                 blockers while a reference or cited citation is unpublished, or an article \
                 has no medical reviewer. Sets `published_at` on first publication and, for \
                 reviewed collections, `next_review_due` when it has none."
            }
            Transition::Unpublish => {
                "Takes an item back to `draft` for corrections (from in_review, published or \
                 archived); readers stop seeing it at once."
            }
            Transition::Archive => "Archives (`→ archived`); readers stop seeing it.",
        }
    }
}

impl Editor<'_> {
    pub async fn transition(
        &self,
        collection: Collection,
        slug: &str,
        step: Transition,
        precondition: &Precondition,
    ) -> Result<Written> {
        self.caller.require(step.scope())?;
        self.precheck(collection, slug, precondition, false).await?;
        let txn = self.begin().await?;
        let stored = current(&*txn, collection, slug).await?;
        check_precondition(precondition, &stored)?;
        if let Some(draft) = stored.draft.clone() {
            return self
                .step_with_draft(txn, collection, stored, draft, step)
                .await;
        }
        if !step.from().contains(&stored.status) {
            return Err(AppError::Conflict(format!(
                "cannot {} {} {}; allowed from: {}",
                step.name(),
                crate::domain::docs::a(stored.status.as_str()),
                collection.singular(),
                step.from()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if step == Transition::Publish {
            let blockers =
                publish_blockers(&txn, collection, &stored, self.review.medical_review).await?;
            if !blockers.is_empty() {
                return Err(AppError::Blocked(
                    format!(
                        "the {} cannot be published yet: {} blocker(s)",
                        collection.singular(),
                        blockers.len()
                    ),
                    blockers,
                ));
            }
        }
        let at = now();
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!("UPDATE {} SET status = ", collection.table()))
            .bind(step.to().as_str());
        sql.push(", updated_at = ").bind(at);
        sql.push(super::schedule::cleared_by(step));
        if step == Transition::Publish {
            sql.push(", published_at = COALESCE(published_at, ")
                .bind(at)
                .push(")");
            if collection.reviewable() {
                let due = at + chrono::Duration::days(i64::from(self.review.review_interval_days));
                sql.push(", next_review_due = COALESCE(next_review_due, ")
                    .bind(due)
                    .push(")");
            }
        }
        super::update_at_version(&*txn, sql, stored.id, stored.version, "this step").await?;
        let links = super::document::load_links(&*txn, collection, stored.id).await?;
        let document = super::document::document_of(collection, &stored.item, links);
        let detail =
            json!({ "from": stored.status, "to": step.to(), "version": stored.version + 1 });
        audit::record(
            &*txn,
            self,
            step.name(),
            collection,
            Some(stored.id),
            slug,
            detail,
        )
        .await?;
        let stale = super::stale_tags(collection, &document, &document);
        let item = ItemRef {
            collection,
            id: stored.id,
            slug,
            status: step.to(),
            version: stored.version + 1,
        };
        self.finish(txn, &stale, step.event(), Some(item)).await?;
        super::written(self.db, collection, slug).await
    }

    /// Records a medical review of a reviewable item: reviewer, date, and the next due
    /// date (date + the review interval), kept in the item's review history with the
    /// reviewer's name and credentials as they are now. The content is untouched; the
    /// item's version and `updated_at` move, so `Last-Modified`, ETags and caches
    /// downstream see the review.
    pub async fn record_review(
        &self,
        collection: Collection,
        slug: &str,
        body: Document,
    ) -> Result<Written> {
        self.caller.require(Scope::Publish)?;
        if !collection.reviewable() {
            return Err(AppError::NotFound(format!(
                "{collection} are not medically reviewed"
            )));
        }
        let mut errors = Vec::new();
        let (reviewed_at, note) = review_fields(&body, &mut errors);
        let txn = self.begin().await?;
        let stored = current(&*txn, collection, slug).await?;
        let reviewer_slug = match body.get("reviewer") {
            Some(Json::String(s)) => Some(s.clone()),
            None | Some(Json::Null) => stored
                .item
                .get("reviewer")
                .and_then(Json::as_str)
                .map(str::to_owned),
            Some(_) => {
                errors.push(FieldError::new(
                    "/reviewer",
                    "must be the slug of an author",
                ));
                None
            }
        };
        let reviewer = match &reviewer_slug {
            Some(slug) => medical_reviewer(&*txn, slug, &mut errors).await?,
            None => {
                errors.push(FieldError::new(
                    "/reviewer",
                    format!(
                        "is required: the {} has no reviewer yet",
                        collection.singular()
                    ),
                ));
                None
            }
        };
        let (Some(reviewed_at), Some(reviewer), true) = (reviewed_at, reviewer, errors.is_empty())
        else {
            return Err(AppError::Validation(errors));
        };
        let due = reviewed_at + chrono::Duration::days(i64::from(self.review.review_interval_days));
        let at = now();
        let (version, status) = match &stored.draft {
            // A review of the draft's text: the draft names the reviewer; the item's dates
            // and public history take the review when the draft is published.
            Some(draft) => {
                let field = ("reviewer", Json::from(reviewer_slug.clone()));
                let item = (collection, stored.id);
                super::drafts::set_field(&*txn, item, draft, field, self.actor()).await?;
                (draft.version + 1, draft.status)
            }
            None => {
                let mut sql = SqlBuilder::new(txn.get_database_backend());
                sql.push(&format!("UPDATE {} SET reviewer_id = ", collection.table()))
                    .bind(reviewer);
                sql.push(", last_reviewed_at = ").bind(reviewed_at);
                sql.push(", next_review_due = ").bind(due);
                sql.push(", updated_at = ").bind(at);
                let what = "the review";
                super::update_at_version(&*txn, sql, stored.id, stored.row_version, what).await?;
                (stored.row_version + 1, stored.status)
            }
        };
        let on_draft = stored.draft.is_some();
        let review = crate::service::reviews::NewReview {
            collection,
            item: stored.id,
            reviewer,
            reviewed_at,
            note: note.as_deref(),
            version,
            recorded_at: at,
            draft: on_draft,
        };
        crate::service::reviews::record(&*txn, &review).await?;
        let detail = json!({
            "reviewer": reviewer_slug,
            "reviewed_at": crate::service::item::timestamp(Some(reviewed_at)),
            "next_review_due": crate::service::item::timestamp(Some(due)),
            "note": note,
            "version": version,
            "draft": on_draft,
        });
        audit::record(
            &*txn,
            self,
            "review",
            collection,
            Some(stored.id),
            slug,
            detail,
        )
        .await?;
        let mut tags = Vec::new();
        if !on_draft {
            tags.push(crate::service::cache::item_tag(collection.singular(), slug));
            tags.push(crate::service::cache::list_tag(collection.as_str()));
            let reviewers = [
                stored.item.get("reviewer").and_then(Json::as_str),
                reviewer_slug.as_deref(),
            ];
            for reviewer in reviewers.into_iter().flatten() {
                tags.push(crate::service::cache::item_tag("author", reviewer));
            }
        }
        let item = ItemRef {
            collection,
            id: stored.id,
            slug,
            status,
            version,
        };
        let event = match on_draft {
            true => EventType::DraftUpdated,
            false => EventType::ReviewRecorded,
        };
        self.finish(txn, &tags, event, Some(item)).await?;
        super::written(self.db, collection, slug).await
    }
}

/// The review body's own fields: unknown keys, the review date (now when absent; not in
/// the future) and the note. Problems go to `errors`.
fn review_fields(
    body: &Document,
    errors: &mut Vec<FieldError>,
) -> (Option<chrono::DateTime<chrono::Utc>>, Option<String>) {
    for key in body.keys() {
        if !["reviewer", "reviewed_at", "note"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                format!("/{}", escape(key)),
                "is not a review field (reviewer, reviewed_at, note)",
            ));
        }
    }
    let reviewed_at = match body.get("reviewed_at") {
        None | Some(Json::Null) => Some(now()),
        Some(Json::String(text)) => match parse_timestamp(text) {
            Ok(at) if at <= now() + chrono::Duration::minutes(5) => Some(at),
            Ok(_) => {
                errors.push(FieldError::new("/reviewed_at", "is in the future"));
                None
            }
            Err(e) => {
                errors.push(FieldError::new("/reviewed_at", e));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("/reviewed_at", "must be a timestamp"));
            None
        }
    };
    let note = match body.get("note") {
        None | Some(Json::Null) => None,
        Some(Json::String(n)) => match crate::domain::validate::check_note(n) {
            Ok(()) => Some(n.clone()),
            Err(e) => {
                errors.push(FieldError::new("/note", e));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(
                "/note",
                format!(
                    "must be a string of at most {} characters",
                    crate::domain::validate::MAX_NOTE
                ),
            ));
            None
        }
    };
    (reviewed_at, note)
}

/// The id of the author `slug` names, if it exists and has credentials (a medical reviewer
/// needs them). Problems go to `errors`.
async fn medical_reviewer(
    conn: &impl ConnectionTrait,
    slug: &str,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Uuid>> {
    if Slug::parse(slug).is_err() {
        errors.push(FieldError::new(
            "/reviewer",
            format!("{slug:?} is not a slug"),
        ));
        return Ok(None);
    }
    let mut sql = SqlBuilder::new(conn.get_database_backend());
    sql.push("SELECT id, credentials FROM authors WHERE slug = ")
        .bind(slug.to_owned());
    let Some(row) = conn.query_one_raw(sql.build()).await? else {
        errors.push(FieldError::new(
            "/reviewer",
            format!("unknown author {slug:?}"),
        ));
        return Ok(None);
    };
    let credentials: Option<String> = row.try_get("", "credentials")?;
    if credentials.as_deref().is_none_or(str::is_empty) {
        errors.push(FieldError::new(
            "/reviewer",
            format!("{slug:?} has no credentials; a medical reviewer needs them"),
        ));
    }
    Ok(Some(row.try_get::<Uuid>("", "id")?))
}
