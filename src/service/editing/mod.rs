//! Writes: create, patch, link sets, delete, the editorial workflow, medical review,
//! revisions and the audit log — one set of functions that REST and GraphQL both call.
//!
//! Concurrency: every change names the version it was based on (an `If-Match` ETag or a
//! GraphQL `expectedVersion`); the row is updated `WHERE version = <that version>`, so of
//! concurrent writers based on one version exactly one wins and the rest get 412. Each
//! operation is one transaction: the item, its links, its revision and its audit entry
//! are written together or not at all.

pub mod audit;
pub mod blockers;
pub mod document;
mod draft_flow;
pub mod drafts;
pub mod history;
pub mod idempotency;
mod links;
pub mod resolve;
pub mod schedule;
pub mod terms;
pub mod workflow;
pub mod write;

use std::ops::Deref;

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::MutexGuard;

use crate::domain::relations::RelationKind;
use crate::domain::webhook::EventType;
use crate::domain::{Collection, FieldKind, Scope, Status};
use crate::error::{AppError, Result};
use crate::service::Caller;
use crate::service::cache::{ReadCache, item_tag, list_tag};
use crate::service::item::ItemObject;
use crate::service::sql::SqlBuilder;
use crate::service::webhooks::{self, Event, ItemRef};
use document::Current;

pub use crate::db::WriteGate;

/// A write transaction, holding its place in the [`WriteGate`] (SQLite) until it ends.
pub struct WriteTxn<'a> {
    txn: DatabaseTransaction,
    _turn: Option<MutexGuard<'a, ()>>,
}

impl Deref for WriteTxn<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn<'_> {
    pub async fn commit(self) -> Result<()> {
        Ok(self.txn.commit().await?)
    }
}

/// Who writes, from which request, under which editorial settings.
#[derive(Clone, Copy)]
pub struct Editor<'a> {
    pub db: &'a DatabaseConnection,
    pub gate: &'a WriteGate,
    /// This instance's read cache, invalidated when a write commits (other instances
    /// learn of it through `service::changes`).
    pub cache: &'a ReadCache,
    pub caller: &'a Caller,
    pub request_id: Option<&'a str>,
    pub review: crate::config::ReviewSettings,
}

/// The version a write is based on.
#[derive(Debug, Clone)]
pub enum Precondition {
    /// The `If-Match` header as sent (one or more strong ETags).
    IfMatch(Option<String>),
    /// GraphQL `expectedVersion`.
    Version(i64),
}

/// The item after a successful write, as a preview reader gets it, with its ETag.
#[derive(Debug, Clone)]
pub struct Written {
    pub collection: Collection,
    pub item: ItemObject,
    pub etag: String,
}

pub fn now() -> DateTime<Utc> {
    crate::service::interchange::now()
}

impl Editor<'_> {
    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the connection takes
    /// the write lock (waiting its turn through the busy timeout) before it runs anything.
    /// With `BEGIN DEFERRED`, a create's first statement (its INSERT) was seen failing at
    /// once with SQLITE_BUSY, no wait, while another connection wrote an idempotency
    /// claim: a sporadic 503 on concurrent creates (1 test run in ~50; 0 in 200 since).
    pub(crate) async fn begin(&self) -> Result<WriteTxn<'_>> {
        if self.db.get_database_backend() != DbBackend::Sqlite {
            let txn = self.db.begin().await?;
            return Ok(WriteTxn { txn, _turn: None });
        }
        let turn = self.gate.turn().await;
        let txn = self
            .gate
            .connection()
            .unwrap_or(self.db)
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        Ok(WriteTxn {
            txn,
            _turn: Some(turn),
        })
    }

    /// On SQLite, checks before queueing for the write lock what fails without it (no
    /// such item, not allowed, stale `If-Match`), so doomed requests never take a turn;
    /// the transaction checks again. (PostgreSQL writers do not queue: no need.)
    pub(crate) async fn precheck(
        &self,
        collection: Collection,
        slug: &str,
        precondition: &Precondition,
        editing: bool,
    ) -> Result<()> {
        if self.db.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let stored = current(self.db, collection, slug).await?;
        if editing {
            self.require_edit(stored.editing_status())?;
        }
        check_precondition(precondition, &stored)
    }

    /// Commits `txn` with `stale` recorded in it for the other instances and the
    /// webhook message of what happened (`kind`, to `item`), then drops the stale entries
    /// of this instance's cache: the next read here sees the write.
    pub(crate) async fn finish(
        &self,
        txn: WriteTxn<'_>,
        stale: &[String],
        kind: EventType,
        item: Option<ItemRef<'_>>,
    ) -> Result<()> {
        crate::service::changes::record(&*txn, stale).await?;
        let event = Event {
            kind,
            item,
            actor: self.actor(),
            request_id: self.request_id,
        };
        let queued = webhooks::outbox::record(&*txn, &event, stale).await?;
        txn.commit().await?;
        self.cache.invalidate(stale.iter().map(String::as_str));
        if queued {
            webhooks::wake();
        }
        Ok(())
    }

    pub fn actor(&self) -> Option<&str> {
        self.caller.key_name.as_deref()
    }

    /// Editing content needs `write` while the item (or its draft) is a draft, and while
    /// it is published (the edit starts a draft readers do not see); once it is in review
    /// or archived, changes skip review, so they need `publish`.
    pub fn require_edit(&self, status: Status) -> Result<()> {
        self.caller.require(Scope::Write)?;
        let open = matches!(status, Status::Draft | Status::Published);
        if !open && !self.caller.scopes.contains(Scope::Publish) {
            return Err(AppError::Forbidden(format!(
                "the item is {status}; editing it needs the `publish` scope (or unpublish it \
                 to a draft first)"
            )));
        }
        Ok(())
    }
}

/// Checks `precondition` against the stored item.
pub fn check_precondition(precondition: &Precondition, current: &Current) -> Result<()> {
    match precondition {
        Precondition::Version(expected) if *expected == current.version => Ok(()),
        Precondition::Version(expected) => Err(AppError::PreconditionFailed(format!(
            "expectedVersion is {expected} but the item is at version {}",
            current.version
        ))),
        Precondition::IfMatch(None) => Err(AppError::PreconditionRequired(
            "this write needs `If-Match` with the item's current ETag (from GET)".into(),
        )),
        Precondition::IfMatch(Some(header)) if header.trim().is_empty() => {
            Err(AppError::PreconditionRequired(
                "`If-Match` is empty: send the item's current ETag (from GET)".into(),
            ))
        }
        Precondition::IfMatch(Some(header)) => {
            let etag = &current.etag;
            let tags: Vec<&str> = header.split(',').map(str::trim).collect();
            if tags.contains(&"*") {
                return Err(AppError::PreconditionRequired(
                    "`If-Match: *` is not accepted: send the item's current ETag".into(),
                ));
            }
            if tags.iter().any(|tag| tag == etag) {
                Ok(())
            } else {
                Err(AppError::PreconditionFailed(
                    "the item changed since that ETag was issued; GET it again and reapply \
                     the change"
                        .into(),
                ))
            }
        }
    }
}

pub(crate) fn not_found(collection: Collection, slug: &str) -> AppError {
    AppError::NotFound(format!("no {} with slug {slug:?}", collection.singular()))
}

/// Reads the stored item inside `txn`, or 404.
pub(crate) async fn current(
    txn: &impl ConnectionTrait,
    collection: Collection,
    slug: &str,
) -> Result<Current> {
    document::load_current(txn, collection, slug)
        .await?
        .ok_or_else(|| not_found(collection, slug))
}

/// Ends `sql`, an `UPDATE <table> SET …` of the item `id` read at `version`, and runs it:
/// the version moves on, only if no other write moved it meanwhile (else 412, naming
/// `what` was being applied).
pub(crate) async fn update_at_version(
    txn: &impl ConnectionTrait,
    sql: SqlBuilder,
    id: uuid::Uuid,
    version: i64,
    what: &str,
) -> Result<()> {
    update_to_version(txn, sql, id, version, version + 1, what).await
}

/// [`update_at_version`] to version `to` (publishing a draft moves the item past it).
pub(crate) async fn update_to_version(
    txn: &impl ConnectionTrait,
    mut sql: SqlBuilder,
    id: uuid::Uuid,
    version: i64,
    to: i64,
    what: &str,
) -> Result<()> {
    sql.push(", version = ")
        .bind(to)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND version = ")
        .bind(version);
    if txn.execute_raw(sql.build()).await?.rows_affected() != 1 {
        return Err(AppError::PreconditionFailed(format!(
            "the item changed while {what} was applied; GET it again"
        )));
    }
    Ok(())
}

/// The item as a preview reader now gets it (after commit); `slug` is its stored slug.
pub(crate) async fn written(
    db: &DatabaseConnection,
    collection: Collection,
    slug: &str,
) -> Result<Written> {
    let current = current(db, collection, slug).await?;
    Ok(Written {
        collection,
        etag: current.etag,
        item: current.shown,
    })
}

/// What a change from `before` to `after` makes stale in the read cache: the item (under
/// both slugs), every item it links to or references in either version (a cached
/// neighbour shows it, or should start to), and the lists of its collection.
pub fn stale_tags(
    collection: Collection,
    before: &document::Document,
    after: &document::Document,
) -> Vec<String> {
    use serde_json::Value as Json;
    let mut tags = std::collections::BTreeSet::new();
    tags.insert(list_tag(collection.as_str()));
    if collection == Collection::Citations {
        tags.insert(crate::service::cache::CITED_BY_STATISTICS.to_owned());
    }
    for doc in [before, after] {
        if let Some(slug) = doc.get("slug").and_then(Json::as_str) {
            tags.insert(item_tag(collection.singular(), slug));
        }
        for field in collection.fields() {
            if let (FieldKind::Reference(target), Some(Json::String(slug))) =
                (field.kind, doc.get(field.name))
            {
                tags.insert(item_tag(target.singular(), slug));
            }
        }
        for relation in document::link_relations(collection) {
            debug_assert!(matches!(relation.kind, RelationKind::Link { .. }));
            let linked = doc.get(relation.name).and_then(Json::as_array);
            for entry in linked.into_iter().flatten() {
                let slug = entry
                    .get("slug")
                    .and_then(Json::as_str)
                    .or_else(|| entry.as_str());
                if let Some(slug) = slug {
                    tags.insert(item_tag(relation.to.singular(), slug));
                }
            }
        }
    }
    tags.into_iter().collect()
}
