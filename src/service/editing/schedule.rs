//! Scheduled publishing: `publish_at` and `unpublish_at` on any item. Setting them needs
//! the `publish` scope and a time to come. The scheduler (`service::scheduler`) takes each
//! step when it is due as the item's own workflow step (the same blockers, events and
//! cache invalidation); a refused step is kept on the item (`schedule_error`) and in the
//! audit log, never dropped silently.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Map, Value as Json, json};

use super::workflow::Transition;
use super::{Editor, audit, current, now};
use crate::domain::validate::parse_timestamp;
use crate::domain::webhook::EventType;
use crate::domain::{Collection, Scope, Status};
use crate::error::{FieldError, Result};
use crate::service::Caller;
use crate::service::cache::{item_tag, list_tag};
use crate::service::sql::SqlBuilder;
use crate::service::webhooks::ItemRef;

/// The schedule fields and the step each one takes.
pub const STEPS: [(&str, Transition); 2] = [
    ("publish_at", Transition::Publish),
    ("unpublish_at", Transition::Unpublish),
];

/// The statuses a scheduled step is due from.
fn due_from(step: Transition) -> &'static [Status] {
    match step {
        Transition::Publish => &[Status::Draft, Status::InReview],
        _ => &[Status::Published],
    }
}

fn timestamp(document: &Map<String, Json>, field: &str) -> Option<DateTime<Utc>> {
    document
        .get(field)
        .and_then(Json::as_str)
        .and_then(|text| parse_timestamp(text).ok())
}

/// The rules of the schedule fields a write body sets: the `publish` scope (a schedule
/// publishes later what the caller could publish now) and times to come.
pub fn check_body(
    caller: &Caller,
    body: &Map<String, Json>,
    errors: &mut Vec<FieldError>,
) -> Result<()> {
    if !STEPS.iter().any(|(field, _)| body.contains_key(*field)) {
        return Ok(());
    }
    caller.require(Scope::Publish)?;
    for (field, _) in STEPS {
        if timestamp(body, field).is_some_and(|at| at <= now()) {
            errors.push(FieldError::new(
                format!("/{field}"),
                "is in the past; a scheduled step needs a time to come",
            ));
        }
    }
    Ok(())
}

/// The rule across a whole document: an item is unpublished after it is published.
pub fn check_document(document: &Map<String, Json>, errors: &mut Vec<FieldError>) {
    if let (Some(publish), Some(unpublish)) = (
        timestamp(document, "publish_at"),
        timestamp(document, "unpublish_at"),
    ) && unpublish <= publish
    {
        errors.push(FieldError::new("/unpublish_at", "must be after publish_at"));
    }
}

/// A scheduled step that is due.
#[derive(Debug, Clone)]
pub struct Due {
    pub collection: Collection,
    pub slug: String,
    pub version: i64,
    pub field: &'static str,
    pub step: Transition,
    pub at: DateTime<Utc>,
}

/// Scheduled steps due now, earliest first, at most `limit`: one statement over every
/// collection (each branch reads the schedule column's index).
pub async fn due(db: &DatabaseConnection, limit: u32) -> Result<Vec<Due>> {
    let at = now();
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push(crate::db::BACKGROUND);
    let mut first = true;
    for collection in Collection::ALL {
        for (n, (field, step)) in STEPS.iter().enumerate() {
            let statuses: Vec<String> = due_from(*step)
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            sql.push(if first { "" } else { " UNION ALL " });
            first = false;
            // An item with a draft is named at the draft's version, as editors see it.
            sql.push(&format!(
                "SELECT '{collection}' AS collection, slug, COALESCE((SELECT d.version FROM \
                 drafts d WHERE d.item_id = t.id), version) AS version, {n} AS step, {field} \
                 AS at FROM {} t WHERE {field} <= ",
                collection.table()
            ))
            .bind(at)
            .push(&format!(" AND status IN ({})", statuses.join(", ")));
        }
        // A published item's draft due for publication.
        sql.push(&format!(
            " UNION ALL SELECT '{collection}' AS collection, t.slug, d.version, 0 AS step, \
             d.publish_at AS at FROM drafts d JOIN {} t ON t.id = d.item_id WHERE \
             d.collection = '{collection}' AND d.publish_at <= ",
            collection.table()
        ))
        .bind(at);
    }
    sql.push(&format!(" ORDER BY at LIMIT {limit}"));
    let mut found = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        let name: String = row.try_get("", "collection")?;
        let Some(collection) = Collection::parse(&name) else {
            continue;
        };
        let step: i32 = row.try_get("", "step")?;
        let (field, step) = STEPS[usize::from(step == 1)];
        found.push(Due {
            collection,
            slug: row.try_get("", "slug")?,
            version: row.try_get("", "version")?,
            field,
            step,
            at: row.try_get("", "at")?,
        });
    }
    Ok(found)
}

impl Editor<'_> {
    /// Keeps a refused scheduled step on the item: the schedule is cleared and
    /// `schedule_error` says what blocked it (a new version, so editors and caches see
    /// it), with an audit entry listing the blockers.
    pub async fn refuse_schedule(&self, due: &Due, blockers: &[FieldError]) -> Result<()> {
        let txn = self.begin().await?;
        let stored = current(&*txn, due.collection, &due.slug).await?;
        if stored.version != due.version {
            return Ok(()); // changed meanwhile: the next round reads it again
        }
        let reasons: Vec<String> = blockers
            .iter()
            .map(|b| format!("{}: {}", b.pointer, b.detail))
            .collect();
        let when = crate::service::item::timestamp(Some(due.at));
        let error = format!(
            "the {} scheduled for {} was refused: {}",
            due.step.name(),
            when.as_str().unwrap_or_default(),
            reasons.join("; ")
        );
        let at = now();
        let mut sql = SqlBuilder::new(txn.get_database_backend());
        sql.push(&format!("UPDATE {} SET ", due.collection.table()));
        if let Some(draft) = stored.draft.as_ref().filter(|_| due.field == "publish_at") {
            // The draft keeps what it schedules; the refusal is cleared from it.
            let item = (due.collection, stored.id);
            let field = (due.field, Json::Null);
            super::drafts::set_field(&*txn, item, draft, field, self.actor()).await?;
        } else {
            sql.push(&format!("{} = NULL, ", due.field));
        }
        sql.push("schedule_error = ").bind(error.clone());
        sql.push(", updated_at = ").bind(at);
        let version = stored.row_version + 1;
        super::update_at_version(&*txn, sql, stored.id, stored.row_version, "the schedule").await?;
        let detail = json!({
            "step": due.step.name(),
            "at": when,
            "blockers": blockers,
            "version": version,
        });
        audit::record(
            &*txn,
            self,
            "schedule.refused",
            due.collection,
            Some(stored.id),
            &due.slug,
            detail,
        )
        .await?;
        let tags = [
            item_tag(due.collection.singular(), &due.slug),
            list_tag(due.collection.as_str()),
        ];
        let item = ItemRef {
            collection: due.collection,
            id: stored.id,
            slug: &due.slug,
            status: stored.status,
            version,
        };
        tracing::warn!(collection = %due.collection, slug = %due.slug, %error, "scheduled step refused");
        self.finish(txn, &tags, EventType::ItemUpdated, Some(item))
            .await
    }
}

/// What a scheduled step clears when it is taken, by hand or by the scheduler: the
/// schedule it fulfils (and, for a publication, any earlier refusal).
pub fn cleared_by(step: Transition) -> &'static str {
    match step {
        Transition::Publish => ", publish_at = NULL, schedule_error = NULL",
        Transition::Unpublish | Transition::Archive => ", unpublish_at = NULL",
        Transition::Submit => "",
    }
}
